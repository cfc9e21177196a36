/**
 * Fast sync's state source (prb v3's LoadChainState, prb-v3.md): the full para state at block n,
 * read from the para node (PHALA_CHAIN_ENDPOINT, an archive node: state_getPairs) and SCALE-encoded
 * as pRuntime's ChainState.encoded_state. One read per block number serves every worker that loads
 * the same block; only the newest state is kept (it can be large).
 */
import { hexToU8a } from '@polkadot/util'
import { createChainConnection, type ChainConnection } from '../../common/chain.js'
import { encodeStorageState } from '../../common/bridge-types.js'
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
    return encodeStorageState(pairs.map(([k, v]) => [hexToU8a(k), hexToU8a(v)]))
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
