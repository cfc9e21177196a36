/**
 * The para chain's transaction pool, as Substrate's: validity from the runtime, ready and future
 * queues by provides/requires tags, replacement by priority, watch statuses
 * (future, ready, inBlock, retracted, finalized, usurped, dropped, invalid) and the JSON-RPC errors of
 * chain.md §8.
 */
import { decodeAddress } from '@polkadot/util-crypto'
import { u8aToHex } from '@polkadot/util'
import type { ChainContext, ExtrinsicResult, ParaRuntime, RpcErrorShape, StateView, TxValidity } from '../runtime-api.js'
import { RpcError } from './rpc-error.js'
import type { SubSink } from './rpc-server.js'

export interface PoolTx {
  hash: string
  hex: string
  provides: string[]
  requires: string[]
  priority: number
  signer: string
  nonce: number
  status: 'ready' | 'future'
  seq: number
  watchers: SubSink[]
}

export interface PoolDeps {
  runtime: ParaRuntime
  /** State and context of the current best para block. */
  best(): { state: StateView; ctx: ChainContext }
}

const MAX_READY = 8192
const MAX_FUTURE = 1024
const BAN_MS = 30 * 60 * 1000

/** Signer as a lower-case hex public key, whatever address form the runtime or a client uses. */
export function normalizeSigner(s: string): string {
  try {
    return u8aToHex(decodeAddress(s))
  } catch {
    return s.toLowerCase()
  }
}

function rpcError(e: RpcErrorShape): RpcError {
  return new RpcError(e.code, e.message, e.data)
}

export class TxPool {
  readonly #deps: PoolDeps
  readonly #txs = new Map<string, PoolTx>()
  readonly #banned = new Map<string, number>()
  /** Included tx watchers waiting for finality, by para block number. */
  readonly #awaitingFinality = new Map<number, { hash: string; watchers: SubSink[] }[]>()
  #seq = 0

  constructor(deps: PoolDeps) {
    this.#deps = deps
  }

  get size(): number {
    return this.#txs.size
  }

  pending(): PoolTx[] {
    return [...this.#txs.values()].sort((a, b) => a.seq - b.seq)
  }

  #validate(hex: string): TxValidity {
    const { state, ctx } = this.#deps.best()
    try {
      return this.#deps.runtime.validateTransaction(state, ctx, hex)
    } catch (e) {
      // A runtime that throws on some input must not take the pool down: answer as the node's verification error.
      return { ok: false, error: { code: 1002, message: `Verification Error: ${String((e as Error)?.message ?? e)}` } }
    }
  }

  /** Validate and import; returns the pool entry. Throws the node's RpcError on rejection. */
  submit(hex: string): PoolTx {
    const v = this.#validate(hex)
    if (!v.ok) throw rpcError(v.error)
    if (this.#txs.has(v.hash)) throw new RpcError(1013, 'Transaction Already Imported', v.hash)
    const bannedUntil = this.#banned.get(v.hash)
    if (bannedUntil !== undefined && bannedUntil > Date.now()) throw new RpcError(1012, 'Transaction is temporarily banned')
    if (v.provides.length === 0) throw new RpcError(1019, 'No tags provided')
    // Same tag already provided by a pool tx: replace only with a strictly higher priority.
    const clashing = [...this.#txs.values()].filter((t) => t.provides.some((p) => v.provides.includes(p)))
    for (const old of clashing) {
      if (old.priority >= v.priority) {
        throw new RpcError(1014, `Priority is too low: (${old.priority} vs ${v.priority})`,
          'The transaction has too low priority to replace another transaction already in the pool.')
      }
    }
    const tx: PoolTx = {
      hash: v.hash, hex: hex.toLowerCase(), provides: v.provides, requires: v.requires, priority: v.priority,
      signer: normalizeSigner(v.signer), nonce: v.nonce, status: 'future', seq: this.#seq++, watchers: [],
    }
    const counts = this.#counts()
    if (counts.ready >= MAX_READY && counts.future >= MAX_FUTURE) {
      throw new RpcError(1016, 'Immediately Dropped', "The transaction couldn't enter the pool because of the limit")
    }
    for (const old of clashing) this.#remove(old, { usurped: v.hash })
    this.#txs.set(tx.hash, tx)
    this.#promote()
    if (tx.status === 'future' && counts.future >= MAX_FUTURE) {
      this.#txs.delete(tx.hash)
      throw new RpcError(1016, 'Immediately Dropped', "The transaction couldn't enter the pool because of the limit")
    }
    return tx
  }

  /** Attach a watcher: it gets the current status now and every later one. */
  watch(tx: PoolTx, sink: SubSink): () => void {
    tx.watchers.push(sink)
    sink.emit(tx.status)
    return () => {
      const i = tx.watchers.indexOf(sink)
      if (i >= 0) tx.watchers.splice(i, 1)
    }
  }

  /** Ready transactions in an order that satisfies their requires tags. */
  readyForBlock(): string[] {
    const ready = this.pending().filter((t) => t.status === 'ready')
    const poolProvided = new Set(ready.flatMap((t) => t.provides))
    const done = new Set<string>()
    const out: string[] = []
    let progress = true
    const left = [...ready]
    while (left.length && progress) {
      progress = false
      for (let i = 0; i < left.length; i++) {
        const t = left[i]!
        if (t.requires.every((r) => !poolProvided.has(r) || done.has(r))) {
          out.push(t.hex)
          for (const p of t.provides) done.add(p)
          left.splice(i--, 1)
          progress = true
        }
      }
    }
    return out
  }

  /** After a block: included txs go to inBlock, dropped ones to invalid, the rest is revalidated. */
  onBlock(blockNumber: number, blockHash: string, included: ExtrinsicResult[], dropped: { hash: string; error: RpcErrorShape }[]): void {
    const waiting: { hash: string; watchers: SubSink[] }[] = []
    for (const r of included) {
      const tx = this.#txs.get(r.hash)
      if (!tx) continue
      this.#txs.delete(tx.hash)
      this.#banned.set(tx.hash, Date.now() + BAN_MS)
      for (const w of tx.watchers) w.emit({ inBlock: blockHash })
      waiting.push({ hash: tx.hash, watchers: tx.watchers })
    }
    if (waiting.length) this.#awaitingFinality.set(blockNumber, waiting)
    for (const d of dropped) {
      const tx = this.#txs.get(d.hash)
      if (tx) this.#remove(tx, 'invalid')
    }
    // Revalidate what is left against the new best state.
    for (const tx of this.pending()) {
      const v = this.#validate(tx.hex)
      if (!v.ok) {
        this.#remove(tx, 'invalid')
        continue
      }
      tx.provides = v.provides
      tx.requires = v.requires
      tx.priority = v.priority
    }
    this.#promote()
    for (const [k, until] of this.#banned) if (until <= Date.now()) this.#banned.delete(k)
  }

  /**
   * Para block `number` (`hash`) was retracted by a fork: its transactions go back to the pool, each
   * watcher told `retracted`; they are revalidated against the new best state.
   */
  onRetracted(number: number, hash: string, txHexes: string[]): void {
    const waiting = this.#awaitingFinality.get(number) ?? []
    this.#awaitingFinality.delete(number)
    const watchersOf = new Map(waiting.map((w) => [w.hash, w.watchers]))
    for (const hex of txHexes) {
      const v = this.#validate(hex)
      const watchers = v.ok ? watchersOf.get(v.hash) ?? [] : []
      for (const w of watchers) w.emit({ retracted: hash })
      if (!v.ok) continue
      this.#banned.delete(v.hash)
      if (this.#txs.has(v.hash)) continue
      this.#txs.set(v.hash, {
        hash: v.hash, hex: hex.toLowerCase(), provides: v.provides, requires: v.requires, priority: v.priority,
        signer: normalizeSigner(v.signer), nonce: v.nonce, status: 'future', seq: this.#seq++, watchers,
      })
    }
    this.#promote()
  }

  /** Para block `n` (and all before it) is final: tell the watchers and end their subscriptions. */
  onFinalized(n: number, hashOf: (n: number) => string): void {
    for (const [num, list] of this.#awaitingFinality) {
      if (num > n) continue
      this.#awaitingFinality.delete(num)
      for (const { watchers } of list) {
        for (const w of watchers) {
          w.emit({ finalized: hashOf(num) })
          w.close()
        }
      }
    }
  }

  /** Next nonce of `address` counting the pool's consecutive transactions after the on-chain nonce. */
  nextIndex(address: string, onChain: number): number {
    const who = normalizeSigner(address)
    const nonces = new Set([...this.#txs.values()].filter((t) => t.signer === who).map((t) => t.nonce))
    let n = onChain
    while (nonces.has(n)) n++
    return n
  }

  /** Whether a ready tx provides `tag` (pha_getMqNextSequence). */
  readyProvides(tag: string): boolean {
    for (const t of this.#txs.values()) if (t.status === 'ready' && t.provides.includes(tag)) return true
    return false
  }

  /** Remove everything, telling the watchers the txs were dropped (devnet stop). */
  clear(): void {
    for (const tx of [...this.#txs.values()]) this.#remove(tx, 'dropped')
  }

  #counts(): { ready: number; future: number } {
    let ready = 0
    for (const t of this.#txs.values()) if (t.status === 'ready') ready++
    return { ready, future: this.#txs.size - ready }
  }

  #remove(tx: PoolTx, status: unknown): void {
    this.#txs.delete(tx.hash)
    for (const w of tx.watchers) {
      w.emit(status)
      w.close()
    }
  }

  /** Recompute ready/future: ready when every required tag is provided by a ready tx (or on chain). */
  #promote(): void {
    const all = this.pending()
    const provided = new Map<string, PoolTx>()
    for (const t of all) for (const p of t.provides) provided.set(p, t)
    const ready = new Set<PoolTx>()
    let changed = true
    while (changed) {
      changed = false
      for (const t of all) {
        if (ready.has(t)) continue
        // A tag no pool tx provides is assumed satisfied on chain only when the runtime did not ask for it:
        // runtimes list in `requires` just the tags missing on chain, so a missing provider means future.
        if (t.requires.every((r) => provided.has(r) && ready.has(provided.get(r)!))) {
          ready.add(t)
          changed = true
        }
      }
    }
    for (const t of all) {
      const status = ready.has(t) ? 'ready' : 'future'
      if (t.status !== status) {
        t.status = status
        for (const w of t.watchers) w.emit(status)
      }
    }
  }
}
