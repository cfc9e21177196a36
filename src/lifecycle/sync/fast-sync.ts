/**
 * Fast sync's state source (prb v3's LoadChainState, prb-v3.md): the full para state at block n,
 * read from the para node (PHALA_CHAIN_ENDPOINT, an archive node: state_getPairs) and SCALE-encoded
 * as pRuntime's ChainState.encoded_state. One read per block number serves every worker that loads
 * the same block; only the newest state is kept (it can be large).
 */
import { compactToU8a } from '@polkadot/util'
import { createChainConnection, type ChainConnection } from '../../common/chain.js'
import type { Logger } from '../../common/logger.js'

export interface ChainStateSource {
  /** SCALE Vec<(key, value)> of the para state at block `n`. */
  stateAt(n: number): Promise<Uint8Array>
  stop(): Promise<void>
}

export function createChainStateSource(endpoint: string, logger: Logger): ChainStateSource {
  let conn: ChainConnection | undefined
  let last: { n: number; state: Promise<Uint8Array> } | undefined
  const connection = (): ChainConnection => {
    if (!conn) {
      conn = createChainConnection({ url: endpoint, name: 'para', callTimeoutMs: 120_000 }, { logger })
      conn.start()
    }
    return conn
  }
  const read = async (n: number): Promise<Uint8Array> => {
    const c = connection()
    const hash = await c.rpc<string | null>('chain_getBlockHash', [n])
    if (!hash) throw new Error(`the para node at ${endpoint} has no block ${n}`)
    const pairs = await c.rpc<Array<[string, string]>>('state_getPairs', ['0x', hash])
    logger.info({ block: n, keys: pairs.length }, 'para state read for fast sync')
    return encodeStoragePairs(pairs)
  }
  return {
    stateAt(n) {
      if (last?.n !== n) {
        const state = read(n)
        last = { n, state }
        state.catch(() => {
          if (last?.state === state) last = undefined
        })
      }
      return last.state
    },
    async stop() {
      await conn?.stop()
    },
  }
}

/**
 * SCALE Vec<(Vec<u8>, Vec<u8>)> of hex pairs, written directly (the type registry built a codec
 * object per key and value: a tenth of a second for a devnet state, far more for a real one).
 */
export function encodeStoragePairs(pairs: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const parts: Uint8Array[] = [compactToU8a(pairs.length)]
  let size = parts[0]!.length
  for (const [k, v] of pairs) {
    for (const hex of [k, v]) {
      if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`the para node answered state_getPairs with a value that is not hex: ${hex.slice(0, 20)}`)
      const bytes = Buffer.from(hex.slice(2), 'hex')
      const len = compactToU8a(bytes.length)
      parts.push(len, bytes)
      size += len.length + bytes.length
    }
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
