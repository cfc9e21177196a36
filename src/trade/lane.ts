/**
 * One operator's lane: it owns the operator's nonce and its extrinsics in flight.
 *
 * - The next nonce starts from the chain (and what the journal says is still in flight) and only
 *   moves forward; a nonce is signed again only with the same calls, after its extrinsic is proven
 *   dead (mortal era over and not on chain).
 * - Every extrinsic is journaled before it is submitted, then followed: the watch is the fast path
 *   (InBlock frees the slot, Finalized resolves it); when the watch is lost (socket dropped,
 *   Invalid/Dropped/Usurped, 1012/1013, no answer, the deadline) the lane reads the chain: landed →
 *   wait for finality; nonce taken by another extrinsic → its calls go back to the queue; in the
 *   pool → keep waiting; neither and still valid → the very same bytes again; era over → signed again.
 * - Submission errors are classified (errors.ts): 1010 stale → nonce re-read, calls signed again
 *   once; 1014 → the earlier extrinsic with that nonce is still pooled: wait for it; fatal → fail.
 */
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { IKeyringPair } from '@polkadot/types/types'
import type { TradeCall } from './actions.js'
import { blake2AsHex } from '@polkadot/util-crypto'
import type { ChainConnection } from '../common/chain.js'
import type { Logger } from '../common/logger.js'
import { withDeadline, type ChainView } from './chain-view.js'
import { classifySubmitError } from './errors.js'
import type { Journal, TxRecord, TxResult } from './journal.js'
import { fastSigner } from './signer.js'

/** One call waiting to be sent, with what it belongs to. */
export interface LaneItem {
  jobId: string
  index: number
  call: TradeCall
  kind: string
  bytes: number
  /** The call's weight, once asked (batch-cut.ts). */
  weight?: { refTime: bigint; proofSize: bigint }
}

export interface LaneBatch {
  pid: string
  /** Proxied pools: the real account. */
  real?: string
  items: LaneItem[]
  /** Times these calls were signed and never executed. */
  attempts: number
  /** Calls of the pool still waiting after this batch was cut (logs). */
  left?: number
}

/** Where batches come from (the trader's per-pool queues). */
export interface BatchSource {
  /** `full`: only a pool that has a whole batch waiting (a batch prepared ahead is never a short one). */
  take(lane: OperatorLane, opts?: { full?: boolean }): Promise<LaneBatch | undefined>
}

export interface LaneOptions {
  concurrency: number
  eraPeriod: number
  /** No watch news for this long: read the chain. */
  txTimeoutMs: number
  /** Batches whose calls never executed this many times fail. */
  maxAttempts: number
}

export interface LaneDeps {
  conn: ChainConnection
  chain: ChainView
  journal: Journal
  logger: Logger
  source: BatchSource
  /** Final outcome of an extrinsic (landed, returned, failed), with the batch when it was sent here. */
  onResolved(rec: TxRecord, result: TxResult, batch: LaneBatch | undefined): void
  /** Progress of the jobs of a batch (in a block). */
  onInBlock(rec: TxRecord): void
}

const FILLER_BACKOFF_MS = 2000
/** A prepared extrinsic whose era has fewer blocks left than this is signed anew before it goes. */
const HELD_ERA_MARGIN = 8

type FlightState = 'new' | 'pool' | 'inBlock' | 'lost' | 'waitNonce'

interface Flight {
  rec: TxRecord
  batch?: LaneBatch
  state: FlightState
  inBlock?: { hash: string; number: number }
  checkAt: number
  submissions: number
  unwatch?: () => Promise<void>
  busy: boolean
  /** 1010 stale already handled once for these calls. */
  restaled?: boolean
  /** Watch statuses received (one may arrive before the submission's answer). */
  news: number
  /** Signed and journaled ahead, not submitted yet: it goes the moment a slot frees. */
  held?: boolean
}

export class OperatorLane {
  readonly address: string
  readonly pair: KeyringPair
  /** The pair signing through the wasm sr25519 signer (signer.ts). */
  readonly #signer: IKeyringPair
  readonly #o: LaneOptions
  readonly #d: LaneDeps
  readonly #log: Logger
  readonly #flights = new Map<number, Flight>()
  #next = -1
  /**
   * Nonces below #next that no extrinsic will take: the node refused theirs outright (never pooled)
   * or it expired unexecuted too often. Later nonces in flight wait for them (future in the pool),
   * so the next batch takes the lowest, or a filler (an empty forceBatch) when no call waits.
   * Value: the pool the nonce was cut for (the filler's journal record names it).
   */
  readonly #gaps = new Map<number, string>()
  #fillerAfter = 0
  #ready?: Promise<void>
  #pumping = false
  #stopped = false
  sentCount = 0

  constructor(pair: KeyringPair, o: LaneOptions, d: LaneDeps) {
    this.pair = pair
    this.#signer = fastSigner(pair)
    this.address = pair.address
    this.#o = o
    this.#d = d
    this.#log = d.logger.child({ operator: pair.address })
    d.conn.events.on('disconnected', this.#onDisconnect)
  }

  get inFlight(): number {
    return this.#flights.size
  }

  /** The nonce the next extrinsic takes; -1 until the lane has read the chain (metrics). */
  get nextNonce(): number {
    return this.#next
  }

  /** Slots taken: extrinsics submitted and not in a block yet. */
  get busySlots(): number {
    let n = 0
    for (const f of this.#flights.values()) if (f.state !== 'inBlock' && !f.held) n++
    return n
  }

  /** Load what the journal says is in flight and the chain's nonce (once). */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      const [open, onChain, pooled] = await Promise.all([
        this.#d.journal.open(this.address), this.#d.chain.accountNonce(this.address), this.#d.chain.nextIndex(this.address),
      ])
      for (const rec of open) this.#flights.set(rec.nonce, { rec, state: 'lost', checkAt: 0, submissions: 1, busy: false, news: 0 })
      const maxOpen = open.length ? open[open.length - 1]!.nonce + 1 : 0
      this.#next = Math.max(onChain, pooled, maxOpen)
      // A nonce below an open extrinsic that nothing holds (its extrinsic failed in a previous run): a gap.
      for (let n = onChain; n < maxOpen; n++) if (!this.#flights.has(n)) this.#gaps.set(n, open[0]!.pid)
      if (open.length) this.#log.info({ open: open.map((r) => r.nonce), next: this.#next }, `operator ${this.address}: ${open.length} extrinsic(s) of a previous run still open; reading the chain before sending more`)
    })()
    this.#ready.catch(() => (this.#ready = undefined))
    return this.#ready
  }

  /** Whether the journal holds this lane's extrinsic at `nonce` in flight here. */
  has(nonce: number): boolean {
    return this.#flights.has(nonce)
  }

  /** Follow an open journal record this lane does not hold yet (read from the chain first). */
  adopt(rec: TxRecord): void {
    if (this.#flights.has(rec.nonce) || rec.result) return
    this.#flights.set(rec.nonce, { rec, state: 'lost', checkAt: 0, submissions: 1, busy: false, news: 0 })
    this.#next = Math.max(this.#next, rec.nonce + 1)
  }

  /**
   * Send as many batches as there are free slots; with every slot taken and a whole batch waiting,
   * prepare the next one (cut, signed, journaled) so it goes the moment a slot frees: between one
   * extrinsic's InBlock and the next block there is only the submission left to do.
   */
  async pump(): Promise<void> {
    if (this.#stopped) return
    if (this.#pumping) {
      this.#pumpAgain = true
      return
    }
    this.#pumping = true
    try {
      await this.ready()
      do {
        this.#pumpAgain = false
        await this.#fill()
      } while (this.#pumpAgain && !this.#stopped)
    } catch (err) {
      this.#log.warn({ err }, 'sending a batch failed; retrying on the next tick')
    } finally {
      this.#pumping = false
    }
  }

  #pumpAgain = false

  async #fill(): Promise<void> {
    for (;;) {
      if (this.#stopped) return
      const held = [...this.#flights.values()].find((f) => f.held)
      if (held && this.busySlots < this.#o.concurrency) {
        await this.#submitHeld(held)
        continue
      }
      // A gap below an extrinsic in flight is filled even with every slot taken: that extrinsic waits for it.
      if (!held && this.busySlots >= this.#o.concurrency && this.#blockingGap() === undefined) {
        const t0 = performance.now()
        const next = await withDeadline(this.#d.source.take(this, { full: true }), 120_000, 'forming a batch')
        if (!next) return
        await this.#send(next, this.#claimNonce(), performance.now() - t0, true)
        continue
      }
      if (this.busySlots >= this.#o.concurrency && this.#blockingGap() === undefined) return
      {
        const t0 = performance.now()
        let batch = await withDeadline(this.#d.source.take(this), 120_000, 'forming a batch')
        if (!batch) {
          const gap = this.#blockingGap()
          // One filler at a time, and not again soon after one was refused (an operator with no funds).
          if (gap === undefined || Date.now() < this.#fillerAfter) return
          this.#fillerAfter = Date.now() + FILLER_BACKOFF_MS
          this.#log.info({ nonce: gap }, `operator ${this.address}: nonce ${gap} is free below extrinsics in flight and no call waits; sending an empty forceBatch with it so they can land`)
          batch = { pid: this.#gaps.get(gap)!, items: [], attempts: 0 }
        }
        await this.#send(batch, this.#claimNonce(), performance.now() - t0)
        if (batch.items.length === 0) return
      }
    }
  }

  async #submitHeld(f: Flight): Promise<void> {
    f.busy = true
    try {
      // Held while its era ran low (the lane waited long for a slot): the same calls, same nonce, a fresh era.
      if (this.#d.chain.heads.best + HELD_ERA_MARGIN >= f.rec.birth + f.rec.period) await this.#resign(f)
      f.rec.sentAt = Date.now()
      this.#log.debug({ nonce: f.rec.nonce, calls: f.rec.items.length, pid: f.rec.pid, hash: f.rec.hash, prepared: true }, 'sending an extrinsic')
      await this.#submit(f)
    } finally {
      f.busy = false
    }
  }

  /** Sign the flight's calls again with its nonce and a new era (its old bytes can no longer land). */
  async #resign(f: Flight): Promise<void> {
    const rec = f.rec
    const s = await this.#sign(rec.callHex, rec.nonce)
    this.#log.info({ nonce: rec.nonce, old: rec.hash, hash: s.hash }, 'signing the same calls again with their nonce and a new era')
    Object.assign(rec, { hex: s.hex, hash: s.hash, birth: s.birth, sentAt: Date.now() })
    await this.#d.journal.put(rec)
    await this.#d.journal.logSent({ a: this.address, n: rec.nonce, h: s.hash, c: blake2AsHex(rec.callHex, 256) })
    f.submissions = 0
  }

  /** The lowest free nonce, else the next one. */
  #claimNonce(): number {
    if (this.#gaps.size === 0) return this.#next++
    const n = Math.min(...this.#gaps.keys())
    this.#gaps.delete(n)
    return n
  }

  /** The lowest gap that an extrinsic in flight waits for (a nonce above it). */
  #blockingGap(): number | undefined {
    if (this.#gaps.size === 0) return undefined
    const n = Math.min(...this.#gaps.keys())
    for (const k of this.#flights.keys()) if (k > n) return n
    return undefined
  }

  /** The extrinsic at `nonce` will never execute and its nonce is unused on chain: the next batch takes it. */
  #freeNonce(nonce: number, pid: string): void {
    if (nonce === this.#next - 1 && ![...this.#flights.keys()].some((k) => k > nonce)) this.#next = nonce
    else if (nonce < this.#next) this.#gaps.set(nonce, pid)
  }

  /** Periodic work: follow flights whose watch is lost or overdue. */
  async tick(): Promise<void> {
    if (this.#stopped || !this.#ready) return
    await this.#probe().catch((err: unknown) => this.#log.debug({ err }, 'reading the operator nonce failed'))
    const now = Date.now()
    const due = [...this.#flights.values()].filter((f) => !f.busy && f.checkAt <= now && f.state !== 'new')
    for (const f of due.sort((a, b) => a.rec.nonce - b.rec.nonce)) {
      f.busy = true
      try {
        await withDeadline(this.#check(f), 120_000, `following nonce ${f.rec.nonce}`)
      } catch (err) {
        f.checkAt = Date.now() + 1000
        this.#log.debug({ err, nonce: f.rec.nonce }, 'reading the chain for an extrinsic failed; again soon')
      } finally {
        f.busy = false
      }
    }
    void this.pump()
  }

  /**
   * A watch can miss statuses (a node may send them before the subscription id; polkadot.js keeps
   * only the last early one): once a second, the operator's nonce tells whether a watched extrinsic
   * that reported nothing has landed; then it is read from the chain at once instead of at the deadline.
   */
  async #probe(): Promise<void> {
    const quiet = [...this.#flights.values()].filter((f) => (f.state === 'pool' || f.state === 'new') && !f.busy && Date.now() - f.rec.sentAt > 1000)
    if (quiet.length === 0 || Date.now() - this.#probedAt < 1000) return
    this.#probedAt = Date.now()
    const onChain = await this.#d.chain.accountNonce(this.address)
    for (const f of quiet) if (f.rec.nonce < onChain) f.checkAt = 0
  }

  #probedAt = 0

  stop(): void {
    this.#stopped = true
    this.#d.conn.events.off('disconnected', this.#onDisconnect)
    for (const f of this.#flights.values()) void f.unwatch?.().catch(() => undefined)
  }

  #onDisconnect = (): void => {
    // Watches do not survive a socket: the provider never re-creates author_ subscriptions.
    for (const f of this.#flights.values()) {
      f.unwatch = undefined
      if (f.state === 'pool' || f.state === 'new') f.state = 'lost'
      f.checkAt = Math.min(f.checkAt, Date.now() + 500)
    }
  }

  async #sign(callHex: string, nonce: number): Promise<{ hex: string; hash: string; birth: number }> {
    const api = await this.#d.chain.api()
    const heads = this.#d.chain.heads
    const birth = heads.finalized
    const blockHash = heads.finalizedHash ?? api.genesisHash.toHex()
    const call = api.createType('Call', callHex)
    const xt = api.tx(call)
    xt.sign(this.#signer, {
      nonce, blockHash, genesisHash: api.genesisHash, era: api.createType('ExtrinsicEra', { current: birth, period: this.#o.eraPeriod }),
      runtimeVersion: api.runtimeVersion, signedExtensions: api.registry.signedExtensions,
    } as never)
    const hex = xt.toHex()
    return { hex, hash: blake2AsHex(hex, 256), birth }
  }

  /** forceBatch(calls), wrapped in proxy(real, None, …) for a proxied pool (upstream A.6). */
  callOf(api: ApiPromise, batch: LaneBatch): string {
    const fb = api.tx.utility.forceBatch(batch.items.map((i) => i.call))
    return (batch.real ? api.tx.proxy.proxy(batch.real, null, fb) : fb).method.toHex()
  }

  async #send(batch: LaneBatch, nonce: number, takeMs: number, hold = false): Promise<void> {
    const t0 = performance.now()
    const api = await this.#d.chain.api()
    const callHex = this.callOf(api, batch)
    const t1 = performance.now()
    const s = await this.#sign(callHex, nonce)
    const t2 = performance.now()
    const rec: TxRecord = {
      address: this.address, nonce, pid: batch.pid, hash: s.hash, hex: s.hex, callHex, birth: s.birth, period: this.#o.eraPeriod,
      items: batch.items.map((i) => [i.jobId, i.index, i.kind]), sentAt: Date.now(),
    }
    const f: Flight = { rec, batch, state: 'new', checkAt: Date.now() + this.#o.txTimeoutMs, submissions: 0, busy: true, news: 0 }
    this.#flights.set(nonce, f)
    // The record must be stored before the submission; the sent log (an audit trail) goes along with it.
    await Promise.all([this.#d.journal.put(rec), this.#d.journal.logSent({ a: this.address, n: nonce, h: s.hash, c: blake2AsHex(callHex, 256) })])
    this.sentCount++
    // Where the time between two batches goes (the bench's lane timings): forming, encoding, signing, journaling.
    const ms = { take: Math.round(takeMs), encode: Math.round(t1 - t0), sign: Math.round(t2 - t1), journal: Math.round(performance.now() - t2) }
    if (hold) {
      f.held = true
      f.busy = false
      this.#log.debug({ nonce, calls: batch.items.length, left: batch.left, pid: batch.pid, hash: s.hash, ms }, 'prepared an extrinsic; it goes when a slot frees')
      return
    }
    this.#log.debug({ nonce, calls: batch.items.length, left: batch.left, pid: batch.pid, hash: s.hash, ms }, 'sending an extrinsic')
    try {
      await this.#submit(f)
    } finally {
      f.busy = false
    }
  }

  async #submit(f: Flight): Promise<void> {
    f.held = false
    f.submissions++
    const rec = f.rec
    const seen = f.news
    try {
      f.unwatch = await this.#d.conn.subscribe<unknown>({
        method: 'author_submitAndWatchExtrinsic', unsubscribe: 'author_unwatchExtrinsic', notification: 'author_extrinsicUpdate', params: [rec.hex],
      }, (st) => this.#onStatus(f, st), { timeoutMs: 30_000 })
      // A status that came with the answer (dropped, invalid: 'lost', to be read on chain) stands.
      if (f.state === 'new' || (f.state === 'lost' && f.news === seen)) f.state = 'pool'
      if (f.state !== 'lost') f.checkAt = Date.now() + this.#o.txTimeoutMs
    } catch (err) {
      const kind = classifySubmitError(err)
      this.#log.debug({ err, nonce: rec.nonce, kind }, 'submission refused')
      switch (kind) {
        case 'stale':
          if (f.submissions === 1 && !f.restaled) return this.#restale(f, err)
          f.state = 'lost'
          f.checkAt = 0
          return
        case 'occupied':
          f.state = 'waitNonce'
          f.checkAt = Date.now() + 2000
          return
        case 'banned':
          f.state = 'lost'
          f.checkAt = Date.now() + 5000
          return
        case 'known':
        case 'transport':
          f.state = 'lost'
          f.checkAt = Date.now() + 1000
          return
        case 'fatal':
          // Refused outright: it is not in the pool and can never land, so its nonce is free again.
          this.#freeNonce(rec.nonce, rec.pid)
          return this.#resolve(f, { kind: 'failed', reason: `the node refused the extrinsic of operator ${this.address} (nonce ${rec.nonce}): ${(err as Error).message}; check the operator's balance and the pool's operator key` })
      }
    }
  }

  /** 1010 stale on fresh bytes: our nonce is behind the chain. Re-read it; the calls go once more, signed anew. */
  async #restale(f: Flight, err: unknown): Promise<void> {
    const onChain = await this.#d.chain.nextIndex(this.address)
    this.#log.warn({ err, nonce: f.rec.nonce, chainNext: onChain }, `operator ${this.address}: nonce ${f.rec.nonce} is outdated (is the account used elsewhere?); re-reading it and sending the calls again`)
    this.#next = Math.max(this.#next, onChain)
    for (const n of this.#gaps.keys()) if (n < onChain) this.#gaps.delete(n)
    await this.#resolve(f, { kind: 'returned', reason: `nonce ${f.rec.nonce} was outdated` })
  }

  #onStatus(f: Flight, st: unknown): void {
    this.#log.trace({ nonce: f.rec.nonce, st }, 'watch status')
    if (!this.#flights.has(f.rec.nonce) || this.#flights.get(f.rec.nonce) !== f) return
    f.news++
    if (typeof st === 'string') {
      if (st === 'future' || st === 'ready') {
        if (f.state !== 'inBlock') f.state = 'pool'
        return
      }
      // dropped / invalid: find out on chain what became of it.
      f.state = 'lost'
      f.checkAt = Date.now()
      void this.tick()
      return
    }
    const o = st as Record<string, string>
    if (o.inBlock) {
      f.state = 'inBlock'
      f.inBlock = { hash: o.inBlock, number: -1 }
      this.#d.onInBlock(f.rec)
      void this.pump()
    } else if (o.retracted) {
      f.state = 'pool'
      f.inBlock = undefined
    } else if (o.finalized) {
      const hash = o.finalized
      f.busy = true
      void this.#finalize(f, hash).catch((err: unknown) => {
        this.#log.debug({ err }, 'reading a finalized extrinsic failed; reading the chain again')
        f.state = 'lost'
        f.checkAt = Date.now() + 500
      }).finally(() => (f.busy = false))
    } else if (o.usurped || o.finalityTimeout) {
      f.state = 'lost'
      f.checkAt = Date.now()
    }
  }

  async #finalize(f: Flight, blockHash: string): Promise<void> {
    const result = await this.#d.chain.outcomes(blockHash, f.rec.hash, f.rec.items.length, this.#isProxied(f))
    if (!result) {
      f.state = 'lost'
      f.checkAt = Date.now()
      return
    }
    await this.#resolve(f, result)
  }

  #isProxied(f: Flight): boolean {
    return f.batch ? f.batch.real !== undefined : f.rec.callHex.startsWith('0x0500')
  }

  async #resolve(f: Flight, result: TxResult): Promise<void> {
    if (this.#flights.get(f.rec.nonce) !== f) return
    this.#log.debug({ nonce: f.rec.nonce, kind: result.kind }, 'extrinsic resolved')
    this.#flights.delete(f.rec.nonce)
    void f.unwatch?.().catch(() => undefined)
    await this.#d.journal.resolve(f.rec, result)
    this.#d.onResolved(f.rec, result, f.batch)
    void this.pump()
  }

  /** Find out on chain what became of an extrinsic whose watch is lost or overdue. */
  async #check(f: Flight): Promise<void> {
    const rec = f.rec
    this.#log.debug({ nonce: rec.nonce, state: f.state, submissions: f.submissions }, 'reading the chain for an extrinsic')
    const chain = this.#d.chain
    const heads = chain.heads
    if (f.state === 'inBlock' && f.inBlock && f.inBlock.number >= 0 && heads.finalized >= f.inBlock.number) {
      const canonical = await chain.hashAt(f.inBlock.number)
      if (canonical === f.inBlock.hash) return this.#finalize(f, f.inBlock.hash)
      // Retracted: its block is not the finalized one; read the chain afresh.
      f.inBlock = undefined
      f.state = 'lost'
    }
    const onChain = await chain.accountNonce(this.address)
    if (onChain > rec.nonce) {
      const found = await chain.find(rec.hash, rec.birth, heads.best)
      if (found) {
        if (found.number <= heads.finalized) return this.#finalize(f, found.blockHash)
        f.state = 'inBlock'
        f.inBlock = { hash: found.blockHash, number: found.number }
        f.checkAt = Date.now() + 500
        return
      }
      if (f.state === 'waitNonce') {
        // The extrinsic that held this nonce in the pool (1014) landed: ours never can.
        return this.#resolve(f, { kind: 'returned', reason: `nonce ${rec.nonce} was taken by an earlier extrinsic still in the pool` })
      }
      this.#next = Math.max(this.#next, onChain)
      for (const n of this.#gaps.keys()) if (n < onChain) this.#gaps.delete(n)
      return this.#resolve(f, { kind: 'returned', reason: `nonce ${rec.nonce} was used by another extrinsic of ${this.address}` })
    }
    if (f.state === 'waitNonce') {
      f.checkAt = Date.now() + 2000
      return
    }
    const eraOver = heads.best + 1 >= rec.birth + rec.period
    if (eraOver) {
      if (f.batch) f.batch.attempts++
      const attempts = f.batch?.attempts ?? 1
      if (attempts >= this.#o.maxAttempts) {
        // Its era is over and it is not on chain: its nonce is free; the next batch takes it.
        this.#freeNonce(rec.nonce, rec.pid)
        return this.#resolve(f, { kind: 'failed', reason: `not included on chain after ${attempts} mortal eras of ${rec.period} blocks (operator ${this.address}, nonce ${rec.nonce}); the node keeps dropping it: check the node's transaction pool and the operator's balance` })
      }
      // Dead for sure (expired unincluded): the same calls, same nonce, a new era.
      await this.#resign(f)
      return this.#submit(f)
    }
    if (await chain.inPool(rec.hex)) {
      f.state = f.state === 'lost' && !f.unwatch ? 'lost' : 'pool'
      f.checkAt = Date.now() + (f.unwatch ? this.#o.txTimeoutMs : 1000)
      return
    }
    // Neither landed nor pooled and still valid: the very same bytes again.
    return this.#submit(f)
  }
}
