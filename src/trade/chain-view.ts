/**
 * What the trader reads from the parachain: the best and finalized heads (followed by
 * subscription), an account's nonce, where an extrinsic landed, its events turned into per-call
 * outcomes, and the chain's per-extrinsic size and weight limits.
 */
import type { ApiPromise } from '@polkadot/api'
import type { EventRecord, DispatchError } from '@polkadot/types/interfaces'
import type { TradeCall } from './actions.js'
import type { Vec } from '@polkadot/types'
import { blake2AsHex } from '@polkadot/util-crypto'
import type { ChainConnection } from '../common/chain.js'
import { TimeoutError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import type { TxItemOutcome, TxResult } from './journal.js'
import type { ExtrinsicLimits } from './batch-cut.js'

interface HeaderJson { number: string | number; parentHash: string }
interface Weight2 { refTime: { toBigInt(): bigint }; proofSize: { toBigInt(): bigint } }

export interface Heads {
  best: number
  finalized: number
  /** Hash of the finalized head (era birth). */
  finalizedHash?: string
}

/** Largest extrinsic: bytes, ref time, proof size. */
export type Limits = ExtrinsicLimits

export interface ChainView {
  readonly heads: Heads
  start(): Promise<void>
  stop(): Promise<void>
  api(): Promise<ApiPromise>
  /** Nonce of `address` in the best block's state. */
  accountNonce(address: string): Promise<number>
  /** The node's next index for `address` (counts its pool). */
  nextIndex(address: string): Promise<number>
  /** Whether the node's pool holds the extrinsic `hex`. */
  inPool(hex: string): Promise<boolean>
  /** The canonical hash at `n`. */
  hashAt(n: number): Promise<string | undefined>
  /** Where the extrinsic `hash` is, scanning canonical blocks `from`..`to`. */
  find(hash: string, from: number, to: number): Promise<{ blockHash: string; number: number } | undefined>
  /** Per-call outcomes of extrinsic `hash` in block `blockHash` (undefined: it is not in that block). */
  outcomes(blockHash: string, hash: string, calls: number, proxied: boolean): Promise<TxResult | undefined>
  limits(): Promise<Limits>
  /** Weight of one call of this kind (asked once per kind). */
  weightOf(call: TradeCall, signer: string): Promise<{ refTime: bigint; proofSize: bigint }>
}

/** `p`, or a TimeoutError after `ms` (for @polkadot/api calls, which have no deadline of their own). */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(t))
}

/** `section.Name: docs` of a dispatch error, as upstream's resolveDispatchError. */
export function describeDispatchError(api: ApiPromise, err: DispatchError): string {
  if (err.isModule) {
    try {
      const m = api.registry.findMetaError(err.asModule)
      const docs = m.docs.join(' ').trim()
      return docs ? `${m.section}.${m.name}: ${docs}` : `${m.section}.${m.name}`
    } catch {
      // fall through to the plain form
    }
  }
  return err.toString()
}

export function createChainView(deps: { conn: ChainConnection; logger: Logger }): ChainView {
  const { conn } = deps
  const heads: Heads = { best: 0, finalized: 0 }
  const unsubs: Array<() => Promise<void>> = []
  const weights = new Map<string, Promise<{ refTime: bigint; proofSize: bigint }>>()
  let limits: Promise<Limits> | undefined

  const num = (h: HeaderJson): number => (typeof h.number === 'number' ? h.number : parseInt(h.number, 16))

  return {
    heads,
    async start() {
      const api = await conn.api()
      unsubs.push(await conn.subscribe<HeaderJson>({ method: 'chain_subscribeNewHeads', unsubscribe: 'chain_unsubscribeNewHeads', notification: 'chain_newHead' }, (h) => {
        heads.best = Math.max(heads.best, num(h))
      }))
      unsubs.push(await conn.subscribe<HeaderJson>({ method: 'chain_subscribeFinalizedHeads', unsubscribe: 'chain_unsubscribeFinalizedHeads', notification: 'chain_finalizedHead' }, (h) => {
        const n = num(h)
        if (n < heads.finalized) return
        heads.finalized = n
        heads.finalizedHash = api.registry.createType('Header', h).hash.toHex()
        heads.best = Math.max(heads.best, n)
      }))
      if (!heads.finalizedHash) {
        const fh = await conn.rpc<string>('chain_getFinalizedHead')
        const h = await conn.rpc<HeaderJson>('chain_getHeader', [fh])
        if (num(h) >= heads.finalized) {
          heads.finalized = num(h)
          heads.finalizedHash = fh
        }
        heads.best = Math.max(heads.best, heads.finalized)
      }
    },
    async stop() {
      await Promise.all(unsubs.map((u) => u().catch(() => undefined)))
    },
    api: () => withDeadline(conn.api(), 120_000, 'the parachain API'),
    async accountNonce(address) {
      // Raw RPC (with the connection's deadline): an api.query made while the socket is down can wait forever.
      const api = await conn.api()
      const raw = await conn.rpc<string | null>('state_getStorage', [api.query.system.account.key(address)])
      if (!raw) return 0
      return (api.registry.createType('FrameSystemAccountInfo', raw) as unknown as { nonce: { toNumber(): number } }).nonce.toNumber()
    },
    async nextIndex(address) {
      return Number(await conn.rpc<number>('system_accountNextIndex', [address]))
    },
    async inPool(hex) {
      const pending = await conn.rpc<string[]>('author_pendingExtrinsics')
      const want = hex.toLowerCase()
      return pending.some((p) => p.toLowerCase() === want)
    },
    async hashAt(n) {
      return (await conn.rpc<string | null>('chain_getBlockHash', [n])) ?? undefined
    },
    async find(hash, from, to) {
      const numbers: number[] = []
      for (let n = Math.max(1, from); n <= to; n++) numbers.push(n)
      // Newest first: a resubmission lands late; blocks are fetched in parallel chunks.
      numbers.reverse()
      for (let i = 0; i < numbers.length; i += 16) {
        const chunk = numbers.slice(i, i + 16)
        const found = await Promise.all(chunk.map(async (n) => {
          const bh = await conn.rpc<string | null>('chain_getBlockHash', [n])
          if (!bh) return undefined
          const b = await conn.rpc<{ block: { extrinsics: string[] } } | null>('chain_getBlock', [bh])
          return b?.block.extrinsics.some((x) => blake2AsHex(x, 256) === hash) ? { blockHash: bh, number: n } : undefined
        }))
        const hit = found.find((f) => f)
        if (hit) return hit
      }
      return undefined
    },
    async outcomes(blockHash, hash, calls, proxied) {
      const api = await conn.api()
      const [block, raw] = await Promise.all([
        conn.rpc<{ block: { header: HeaderJson; extrinsics: string[] } } | null>('chain_getBlock', [blockHash]),
        conn.rpc<string | null>('state_getStorage', [api.query.system.events.key(), blockHash]),
      ])
      if (!block) return undefined
      const index = block.block.extrinsics.findIndex((x) => blake2AsHex(x, 256) === hash)
      if (index < 0) return undefined
      const number = num(block.block.header)
      const records = api.registry.createType('Vec<FrameSystemEventRecord>', raw ?? '0x00') as unknown as Vec<EventRecord>
      const mine = records.filter((r) => r.phase.isApplyExtrinsic && r.phase.asApplyExtrinsic.toNumber() === index).map((r) => r.event)
      const all = (reason: string): TxResult => ({ kind: 'landed', blockHash, blockNumber: number, items: Array.from({ length: calls }, () => ({ ok: false, error: reason })) })
      const failed = mine.find((e) => e.section === 'system' && e.method === 'ExtrinsicFailed')
      if (failed) return all(describeDispatchError(api, failed.data[0] as DispatchError))
      if (proxied) {
        const ex = mine.find((e) => e.section === 'proxy' && e.method === 'ProxyExecuted')
        if (!ex) return all('proxy.ProxyExecuted missing: the proxied batch did not run')
        const result = ex.data[0] as unknown as { isErr: boolean; asErr: DispatchError }
        if (result.isErr) return all(describeDispatchError(api, result.asErr))
      }
      const done = mine.some((e) => e.section === 'utility' && (e.method === 'BatchCompleted' || e.method === 'BatchCompletedWithErrors'))
      if (!done) return all('Batch failed with no reason!')
      const items: TxItemOutcome[] = []
      for (const e of mine) {
        if (e.section !== 'utility') continue
        if (e.method === 'ItemCompleted') items.push({ ok: true })
        else if (e.method === 'ItemFailed') items.push({ ok: false, error: describeDispatchError(api, e.data[0] as DispatchError) })
      }
      if (items.length !== calls) return all(`the batch reported ${items.length} item results for ${calls} calls`)
      return { kind: 'landed', blockHash, blockNumber: number, items }
    },
    limits() {
      limits ??= (async () => {
        const api = await conn.api()
        const c = api.consts.system as unknown as {
          blockLength: { max: { normal: { toNumber(): number } } }
          blockWeights: { perClass: { normal: { maxExtrinsic: { isSome: boolean; unwrap(): Weight2 } } }; maxBlock: Weight2 }
        }
        const maxBytes = c.blockLength.max.normal.toNumber()
        const me = c.blockWeights.perClass.normal.maxExtrinsic
        const w = me.isSome ? me.unwrap() : c.blockWeights.maxBlock
        return { maxBytes, maxRefTime: w.refTime.toBigInt(), maxProofSize: w.proofSize.toBigInt() }
      })()
      limits.catch(() => (limits = undefined))
      return limits
    },
    weightOf(call, signer) {
      const kind = `${call.section}.${call.method}`
      let w = weights.get(kind)
      if (!w) {
        w = (async () => {
          const api = await conn.api()
          const info = await withDeadline(api.tx(api.createType('Call', call.toHex())).paymentInfo(signer), 30_000, `payment info of ${kind}`)
          return { refTime: info.weight.refTime.toBigInt(), proofSize: info.weight.proofSize.toBigInt() }
        })()
        weights.set(kind, w)
        w.catch(() => weights.delete(kind))
      }
      return w
    },
  }
}
