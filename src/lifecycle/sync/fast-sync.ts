/**
 * Fast sync's state source (prb v3's LoadChainState, prb-v3.md): the full para state at block n,
 * read from the para node (PHALA_CHAIN_ENDPOINT, an archive node: state_getPairs) and SCALE-encoded
 * as pRuntime's ChainState.encoded_state. One read per block number serves every worker that loads
 * the same block; only the newest state is kept (it can be large).
 */
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
 * SCALE Vec<(Vec<u8>, Vec<u8>)> of hex pairs, written directly into one buffer (the type registry
 * built a codec object per key and value: a tenth of a second for a devnet state, far more for a
 * real one of millions of keys).
 */
export function encodeStoragePairs(pairs: ReadonlyArray<readonly [string, string]>): Uint8Array {
  let size = compactSize(pairs.length)
  for (const [k, v] of pairs) {
    for (const hex of [k, v]) {
      if (typeof hex !== 'string' || !hex.startsWith('0x') || hex.length % 2 !== 0) throw notHex(hex)
      const n = (hex.length - 2) / 2
      size += compactSize(n) + n
    }
  }
  const out = Buffer.allocUnsafe(size)
  let at = writeCompact(out, 0, pairs.length)
  for (const [k, v] of pairs) {
    for (const hex of [k, v]) {
      const n = (hex.length - 2) / 2
      at = writeCompact(out, at, n)
      // Buffer.write stops at the first character that is not hex: fewer bytes than expected
      if (out.write(hex.slice(2), at, n, 'hex') !== n) throw notHex(hex)
      at += n
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

function notHex(v: unknown): Error {
  return new Error(`the para node answered state_getPairs with a value that is not hex: ${String(v).slice(0, 20)}`)
}

function compactSize(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : n < 2 ** 30 ? 4 : 5
}

/** SCALE Compact<u32> of `n` at `at`; returns the offset after it. */
function writeCompact(b: Buffer, at: number, n: number): number {
  if (n < 1 << 6) {
    b[at] = n << 2
    return at + 1
  }
  if (n < 1 << 14) {
    b.writeUInt16LE((n << 2) | 1, at)
    return at + 2
  }
  if (n < 2 ** 30) {
    b.writeUInt32LE(n * 4 + 2, at)
    return at + 4
  }
  b[at] = 3
  b.writeUInt32LE(n, at + 1)
  return at + 5
}
