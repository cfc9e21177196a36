/**
 * One worker's sync loop (upstream-lifecycle.md §7.7, with prb's error handling). Its session:
 * GetInfo → InitRuntime with the genesis when pRuntime is empty → [fast sync: LoadChainState before
 * any header, as prb v3; the relay headers still all follow, the para headers from the loaded block] → header ranges and block batches from the repository, following the heights
 * pRuntime answers, one request in flight → at the tip, wait for the data providers to move.
 *
 * Any error ends the session and starts a new one after a backoff, which re-reads pRuntime's
 * heights first, so nothing is terminal and a worker is always fed from where it stands:
 *   unreachable pRuntime     S_ERROR with "Notice: worker unresponsive!" (upstream's S_ERROR after 6
 *                            GetInfo failures, but left by itself), backoff 1 s .. 30 s;
 *   hung pRuntime at the tip a request unanswered after LIVENESS_PROBE_AFTER_MS gets a GetInfo probe
 *                            (PHALA_PRPC_REQUEST_TIMEOUT); no answer either: the request is given up
 *                            and the pRuntime is unreachable (above), instead of holding S_ACTIVE
 *                            until PHALA_BLOB_REQUEST_TIMEOUT (150 s), which stays the deadline of a
 *                            request that a live pRuntime is busy with;
 *   rejected payload         resume at pRuntime's heights; from the 3rd rejection in a row its own
 *                            message is the status's last message;
 *   no data provider         wait, another one is used as soon as it answers;
 *   pRuntime restarted empty initialised again ("restartedEmpty" event).
 */
import type { Logger } from '../../common/logger.js'
import { ScaleReader } from '../../common/grandpa.js'
import { AbortedError, backoffDelay, sleep } from '../../common/retry.js'
import type { WorkerReport, WorkerStatusName, WorkerView } from '../contract.js'
import type { DataProviders } from './datasource.js'
import { NoDataProviderError } from './datasource.js'
import type { ChainStateSource } from './fast-sync.js'
import { PruntimeRejectedError, PruntimeUnreachableError, type PhactoryInfo, type PruntimeClient } from './pruntime.js'
import type { PreparedRequest, Repository } from './repository.js'

/** What a worker tells the engine (and through it the chain steps of #14). */
export type SyncWorkerEvent =
  | { type: 'status'; uuid: string; from: WorkerStatusName; to: WorkerStatusName }
  | { type: 'initialized'; uuid: string; publicKey: string }
  | { type: 'publicKey'; uuid: string; publicKey: string }
  | { type: 'synched'; uuid: string; blocknum: number }
  | { type: 'restartedEmpty'; uuid: string }
  | { type: 'fastSync'; uuid: string; ok: boolean; block: number; message?: string }

export interface SyncWorkerContext {
  client: PruntimeClient
  dps: DataProviders
  repo: Repository
  logger: Logger
  emit: (e: SyncWorkerEvent) => void
  devSkipRa: boolean
  fastSync?: { source: ChainStateSource; minBlocks: number }
  retryMinMs: number
  retryMaxMs: number
  infoRefreshMs: number
  /** Deadline of the liveness probe (PHALA_PRPC_REQUEST_TIMEOUT); none when undefined. */
  livenessProbeMs?: number
  /** Called with the request just sent and the time it took (metrics, the benchmark). */
  onRequest?: (r: PreparedRequest, ms: number) => void
}

const DEBUG_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0))
const REJECTIONS_BEFORE_REPORT = 3
/**
 * At the tip a request carries a block or two and pRuntime answers in milliseconds; one still open
 * after this long gets a liveness probe. (pRuntime answers GetInfo after the request it is busy
 * with, so the probe is only sent at the tip, never during a catch-up's long dispatches.)
 */
export const LIVENESS_PROBE_AFTER_MS = 2000

class RestartedEmpty extends Error {}

/** The block of a StateRootMismatch in pRuntime's message ("StateRootMismatch { block: 5, .." or the devnet's "block=5"). */
function mismatchBlock(message: string): number | undefined {
  const m = /StateRootMismatch\W+block\W+(\d+)/.exec(message)
  return m ? Number(m[1]) : undefined
}

/** The 32-byte account InitRuntime names: the proxied owner when set, else the operator. */
function operatorBytes(w: WorkerView): Uint8Array | undefined {
  const hex = w.pool.operatorPublicKey
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) return undefined
  return Buffer.from(hex.slice(2), 'hex')
}

export class SyncWorker {
  view: WorkerView
  readonly #ctx: SyncWorkerContext
  readonly #log: Logger
  #status: WorkerStatusName = 'S_IDLE'
  #info: PhactoryInfo | undefined
  #message = ''
  #initialized = false
  #everInitialized = false
  #synched = false
  #publicKey = ''
  #heights = { headernum: 0, paraHeadernum: 0, blocknum: 0 }
  #abort: AbortController | undefined
  #loop: Promise<void> | undefined
  #rejections = 0
  #lastError = ''
  #fastSyncDone = false
  /** The para block whose state this worker's pRuntime loaded (pRuntime checks it at the next dispatch). */
  #loadedAt: number | undefined
  /** How this worker's history was brought in, for the status ('' until decided). */
  #fastSyncOutcome = ''
  #requests = 0
  #workerAccountId = ''
  #sessionInfoJson = ''
  #infoJson: { of: PhactoryInfo | undefined; json: string } | undefined

  constructor(view: WorkerView, ctx: SyncWorkerContext) {
    this.view = view
    this.#ctx = ctx
    this.#log = ctx.logger
  }

  get running(): boolean {
    return this.#loop !== undefined
  }

  get status(): WorkerStatusName {
    return this.#status
  }

  start(): void {
    if (this.#loop) return
    const abort = new AbortController()
    this.#abort = abort
    this.#synched = false
    this.#setStatus('S_STARTING')
    this.#loop = this.#run(abort.signal).finally(() => {
      if (this.#abort === abort) {
        this.#loop = undefined
        this.#abort = undefined
      }
    })
  }

  async stop(finalStatus: WorkerStatusName = 'S_IDLE'): Promise<void> {
    const loop = this.#loop
    this.#abort?.abort()
    this.#loop = undefined
    this.#abort = undefined
    await loop?.catch(() => undefined)
    this.#setStatus(finalStatus)
  }

  report(): WorkerReport {
    const i = this.#info
    return {
      status: this.#status,
      initialized: this.#initialized,
      // Last synced numbers (pRuntime reports the next ones).
      parentHeaderSynchedTo: Math.max(0, this.#heights.headernum - 1),
      paraHeaderSynchedTo: Math.max(0, this.#heights.paraHeadernum - 1),
      paraBlockDispatchedTo: Math.max(0, this.#heights.blocknum - 1),
      publicKey: this.#publicKey,
      lastMessage: this.#message,
      sessionInfoJson: this.#sessionInfoJson || this.#runtimeInfoJson(),
      workerAccountId: this.#workerAccountId,
      details: {
        version: i?.version ?? '',
        gitRevision: i?.gitRevision ?? '',
        memoryUsage: i?.memoryUsage ?? null,
        endpoint: this.view.endpoint,
        lastError: this.#lastError,
        requests: this.#requests,
        dataProviderParaHeight: this.#ctx.dps.info()?.paraProcessedHeight ?? -1,
        fastSync: this.#fastSyncOutcome,
      },
    }
  }

  /** The runtime info as JSON, made once per GetInfo answer (reports are read often: API, monitor, tests). */
  #runtimeInfoJson(): string {
    let j = this.#infoJson
    if (!j || j.of !== this.#info) this.#infoJson = j = { of: this.#info, json: JSON.stringify({ runtimeInfo: this.#info ?? {} }, null, 2) }
    return j.json
  }

  /**
   * For the steps built on top of sync (#14: register, add, start computing): set the status (e.g.
   * S_PRE_ACTIVE, S_ACTIVE), a message, and the session fields of the report. The sync loop keeps
   * running; it changes the status again only when pRuntime restarted empty (back to S_STARTING).
   */
  update(u: { status?: WorkerStatusName; message?: string; workerAccountId?: string; sessionInfoJson?: string }): void {
    if (u.status) this.#setStatus(u.status)
    if (u.message) this.#say(u.message)
    if (u.workerAccountId !== undefined) this.#workerAccountId = u.workerAccountId
    if (u.sessionInfoJson !== undefined) this.#sessionInfoJson = u.sessionInfoJson
  }

  #say(text: string): void {
    this.#message = `[${new Date().toISOString()}] ${text}`
  }

  #setStatus(to: WorkerStatusName): void {
    const from = this.#status
    if (from === to) return
    this.#status = to
    this.#say(`State changed from ${from} to ${to}`)
    this.#ctx.emit({ type: 'status', uuid: this.view.uuid, from, to })
  }

  #take(info: PhactoryInfo): void {
    this.#info = info
    this.#initialized = info.initialized
    this.#heights = { headernum: info.headernum, paraHeadernum: info.paraHeadernum, blocknum: info.blocknum }
    const pk = info.publicKey ?? ''
    if (pk && pk !== this.#publicKey) {
      this.#publicKey = pk
      this.#ctx.emit({ type: 'publicKey', uuid: this.view.uuid, publicKey: pk })
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    let attempt = 0
    while (!signal.aborted) {
      try {
        await this.#session(signal, () => {
          attempt = 0
        })
      } catch (err) {
        if (signal.aborted) return
        attempt++
        let delay = this.#ctx.retryMaxMs
        try {
          delay = this.#classify(err, attempt)
        } catch (e) {
          this.#log.error({ err: e, cause: err }, 'sync worker: cannot classify an error; retrying after the longest backoff')
        }
        try {
          await sleep(delay, signal)
        } catch {
          return
        }
      }
    }
  }

  /** Say what went wrong and how long until the next try. */
  #classify(err: unknown, attempt: number): number {
    const b = { minMs: this.#ctx.retryMinMs, maxMs: this.#ctx.retryMaxMs }
    const e = err as Error
    this.#lastError = e.message
    if (err instanceof RestartedEmpty) return 0
    if (err instanceof PruntimeUnreachableError) {
      // Not synched any more: the next session that reaches pRuntime re-reads its heights and
      // brings it to the tip again (S_SYNCHING, S_SYNCHED) before the chain steps say S_ACTIVE.
      this.#synched = false
      this.#setStatus('S_ERROR')
      const delay = backoffDelay(attempt, b)
      this.#say(`Notice: worker unresponsive! ${e.message}; trying again in ${Math.ceil(delay / 1000)} s`)
      this.#log.warn({ worker: this.view.name, attempt, err: e.message }, 'pRuntime unreachable; retrying with backoff')
      return delay
    }
    if (err instanceof PruntimeRejectedError) {
      this.#rejections++
      this.#log.warn({ worker: this.view.name, rejections: this.#rejections, err: e.message }, 'pRuntime rejected a request; re-reading its heights')
      if (err.what === 'dispatch_block' && this.#loadedAt !== undefined && mismatchBlock(err.pruntimeMessage) === this.#loadedAt) {
        // pRuntime checks a loaded state only at the first dispatch after it, and cannot go back.
        this.#say(`The chain state loaded at para block ${this.#loadedAt} does not match that block's header (${err.pruntimeMessage}); this pRuntime cannot continue: stop it, remove its data and start it again (or set PHALA_DISABLE_FAST_SYNC=true to replay instead)`)
        return backoffDelay(this.#rejections, b)
      }
      if (this.#rejections >= REJECTIONS_BEFORE_REPORT) {
        this.#say(`pRuntime keeps rejecting ${err.what} (${this.#rejections} times in a row): ${err.pruntimeMessage}`)
        return backoffDelay(this.#rejections - REJECTIONS_BEFORE_REPORT + 1, b)
      }
      return 0
    }
    if (err instanceof NoDataProviderError) {
      this.#say(e.message)
      return backoffDelay(Math.min(attempt, 3), { minMs: 500, maxMs: 3000 })
    }
    this.#say(`Error while synching: ${e.message}`)
    this.#log.warn({ worker: this.view.name, attempt, err }, 'sync step failed; retrying')
    return backoffDelay(attempt, b)
  }

  async #session(signal: AbortSignal, progressed: () => void): Promise<void> {
    const c = this.#ctx.client
    let info = await c.getInfo(signal)
    this.#take(info)
    if (!info.initialized) {
      if (this.#everInitialized) {
        this.#log.warn({ worker: this.view.name }, 'pRuntime restarted empty; initializing it again')
        this.#ctx.emit({ type: 'restartedEmpty', uuid: this.view.uuid })
        this.#synched = false
        this.#fastSyncDone = false
        this.#loadedAt = undefined
        this.#fastSyncOutcome = ''
      }
      this.#setStatus('S_STARTING')
      const g = await this.#ctx.dps.genesis(signal)
      if (this.#ctx.fastSync && !this.#fastSyncDone) this.#prefetchState(g.bridgeGenesisInfo)
      const op = operatorBytes(this.view)
      await c.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
        skipRa: this.#ctx.devSkipRa,
        encodedGenesisInfo: g.bridgeGenesisInfo,
        encodedGenesisState: g.genesisState,
        isParachain: true,
        ...(op ? { encodedOperator: op } : {}),
        ...(this.#ctx.devSkipRa ? { debugSetKey: DEBUG_KEY } : {}),
      }, signal)
      this.#say('Runtime initialized.')
      info = await c.getInfo(signal)
      this.#take(info)
      this.#ctx.emit({ type: 'initialized', uuid: this.view.uuid, publicKey: this.#publicKey })
    } else if (!this.#everInitialized) {
      this.#say('Runtime already initialized.')
    }
    this.#everInitialized = true
    progressed()
    if (!this.#synched) this.#setStatus('S_SYNCHING')
    if (!this.#synched) this.#say('Synching block data...')

    const fast = this.#ctx.fastSync
    if (fast && !this.#fastSyncDone && info.blocknum === 1) {
      // Decide only once the data provider's height is known: a worker started before the first
      // Info answer would otherwise see "0 blocks behind" and replay the whole history.
      while (!this.#ctx.dps.info()) {
        signal.throwIfAborted()
        await this.#ctx.dps.waitForProgress(this.#ctx.dps.generation, this.#ctx.infoRefreshMs, signal)
      }
      const dpi = this.#ctx.dps.info()
      const behind = (dpi?.paraProcessedHeight ?? 0) - info.blocknum
      if (info.canLoadChainState && behind >= fast.minBlocks) {
        // As prb v3 and pherry: right after InitRuntime, before any header (pRuntime accepts a state
        // only then). The block: the one before the newest para block whose header the data provider
        // can prove now (pRuntime then needs para headers from the loaded block on, and one block is
        // left to dispatch: that checks the state, and an attestation needs a checked state).
        const provable = await this.#ctx.repo.provableParaHead(info.headernum, dpi?.parentProcessedHeight ?? 0)
        if (provable !== null && provable - 1 >= fast.minBlocks) await this.#fastSync(signal, provable - 1)
        else {
          this.#fastSyncDone = true
          const msg = provable === null
            ? 'the data provider serves no para header to load a state at (no justified range with para blocks in its per-height index)'
            : `the newest para header the data provider can prove is block ${provable}, too close to the start`
          this.#fastSyncOutcome = `replayed: ${msg}`
          this.#say(`Fast sync not possible: ${msg}; replaying every block instead.`)
          this.#log.warn({ worker: this.view.name, behind, provable }, 'fast sync: no block to load a state at; replaying every block')
          this.#ctx.emit({ type: 'fastSync', uuid: this.view.uuid, ok: false, block: 0, message: msg })
        }
      } else if (!info.canLoadChainState && behind >= fast.minBlocks) {
        this.#fastSyncDone = true
        const msg = info.headernum > 0 && info.paraHeadernum > 1
          ? 'pRuntime cannot load chain state: it has synced headers already (its GetInfo says can_load_chain_state: false)'
          : 'pRuntime cannot load chain state (its GetInfo says can_load_chain_state: false)'
        this.#fastSyncOutcome = `replayed: ${msg}`
        this.#say(`Fast sync not possible: ${msg}; replaying every block instead.`)
        this.#log.warn({ worker: this.view.name, behind }, 'fast sync: pRuntime cannot load chain state; falling back to replaying every block')
        this.#ctx.emit({ type: 'fastSync', uuid: this.view.uuid, ok: false, block: 0, message: msg })
      }
    }

    let lastInfoAt = Date.now()
    for (;;) {
      signal.throwIfAborted()
      const h = this.#heights
      let req: PreparedRequest | null = null
      if (h.blocknum < h.paraHeadernum) req = await this.#ctx.repo.blocks(h.blocknum, h.paraHeadernum)
      if (!req) req = await this.#ctx.repo.headers(h.headernum, h.paraHeadernum)
      if (req) {
        await this.#send(req, signal)
        progressed()
        this.#rejections = 0
        if (Date.now() - lastInfoAt > this.#ctx.infoRefreshMs * 5) {
          // memory figures and version for the status, now and then
          this.#take(await c.getInfo(signal))
          lastInfoAt = Date.now()
        }
        continue
      }
      // Nothing to send: the worker has all the data provider serves. That is the head once the
      // provider is at the chain's head (S_IDLE) or the worker reached its para height (upstream's test).
      const dpi = this.#ctx.dps.info()
      const dpAtHead = !!dpi && (dpi.status === 'S_IDLE' || h.blocknum - 1 >= dpi.paraProcessedHeight)
      if (h.blocknum >= h.paraHeadernum && dpAtHead && !this.#synched) {
        this.#synched = true
        this.#setStatus('S_SYNCHED')
        this.#ctx.emit({ type: 'synched', uuid: this.view.uuid, blocknum: h.blocknum - 1 })
      }
      const gen = this.#ctx.dps.generation
      const moved = await this.#ctx.dps.waitForProgress(gen, this.#ctx.infoRefreshMs, signal)
      if (!moved || Date.now() - lastInfoAt > this.#ctx.infoRefreshMs) {
        // Idle: a GetInfo now and then sees a pRuntime that restarted, and refreshes the status.
        const i = await c.getInfo(signal)
        lastInfoAt = Date.now()
        if (!i.initialized) {
          this.#take(i)
          throw new RestartedEmpty()
        }
        this.#take(i)
      }
    }
  }

  /**
   * A bin_api call; at the tip (synched), watched: unanswered after LIVENESS_PROBE_AFTER_MS, a
   * GetInfo probe goes out, and when that is not answered within its deadline either, the call is
   * given up as unreachable (a hung pRuntime). A probe that is answered means pRuntime is alive and
   * busy: the call keeps its own deadline.
   */
  async #binApi<T>(action: string, body: Uint8Array, signal: AbortSignal): Promise<T> {
    const probeMs = this.#ctx.livenessProbeMs
    if (!this.#synched || probeMs === undefined) return this.#ctx.client.binApi<T>(action, body, signal)
    const call = new AbortController()
    const stop = (): void => call.abort()
    signal.addEventListener('abort', stop, { once: true })
    let timer: NodeJS.Timeout | undefined
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const t0 = Date.now()
        this.#ctx.client.getInfo(call.signal).then(() => undefined, (err: unknown) => {
          if (call.signal.aborted || !(err instanceof PruntimeUnreachableError)) return
          reject(new PruntimeUnreachableError(this.#ctx.client.endpoint, action, `no answer after ${Math.round((Date.now() - t0 + LIVENESS_PROBE_AFTER_MS) / 1000)} s, and no answer to GetInfo within ${probeMs} ms either (pRuntime hangs)`))
        })
      }, LIVENESS_PROBE_AFTER_MS)
    })
    hung.catch(() => undefined)
    try {
      return await Promise.race([this.#ctx.client.binApi<T>(action, body, call.signal), hung])
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      call.abort()
    }
  }

  async #send(req: PreparedRequest, signal: AbortSignal): Promise<void> {
    const t0 = Date.now()
    if (req.after) {
      // The request after this one, prepared while pRuntime works on this one (its data provider
      // round trips then cost nothing); met again, and handled, when the loop asks for it.
      const n = req.after
      const blocknum = this.#heights.blocknum
      const next = blocknum < n.paraHeadernum ? this.#ctx.repo.blocks(blocknum, n.paraHeadernum) : this.#ctx.repo.headers(n.headernum, n.paraHeadernum)
      next.catch(() => undefined)
    }
    if (req.action === 'dispatch_block') {
      const r = await this.#binApi<{ dispatched_to: number }>('dispatch_block', req.body, signal)
      this.#heights = { ...this.#heights, blocknum: r.dispatched_to + 1 }
    } else {
      const r = await this.#binApi<{ relaychain_synced_to: number; parachain_synced_to: number }>('sync_combined_headers', req.body, signal)
      const before = this.#heights
      this.#heights = { ...before, headernum: r.relaychain_synced_to + 1, paraHeadernum: r.parachain_synced_to + 1 }
      // A range that moved nothing means pRuntime is elsewhere than we think: re-read it.
      if (this.#heights.headernum <= before.headernum && this.#heights.paraHeadernum <= before.paraHeadernum) {
        this.#take(await this.#ctx.client.getInfo(signal))
        if (this.#heights.headernum <= before.headernum) throw new PruntimeRejectedError(this.#ctx.client.endpoint, 'sync_combined_headers', 200, `no progress: pRuntime stays at relay header ${before.headernum}`)
      }
    }
    this.#requests++
    this.#ctx.onRequest?.(req, Date.now() - t0)
    // Preload the next request into the shared cache while pRuntime is busy with nothing of ours
    // (prb v3 does the same); errors here are met again, and handled, when the loop asks for it.
    const n = this.#heights
    const next = n.blocknum < n.paraHeadernum ? this.#ctx.repo.blocks(n.blocknum, n.paraHeadernum) : this.#ctx.repo.headers(n.headernum, n.paraHeadernum)
    next.catch(() => undefined)
  }

  /**
   * While InitRuntime runs, find the block fast sync will load and start reading its state (the
   * state source keeps it; the decision after InitRuntime asks again and finds both ready). Only a
   * warm-up: any failure here is met, and handled, by that decision.
   */
  #prefetchState(genesisInfo: Uint8Array): void {
    const fast = this.#ctx.fastSync!
    const dpi = this.#ctx.dps.info()
    if (!dpi) return
    let relayGenesis: number
    try {
      // GenesisInfo starts with the relay header: parent hash, then the number (compact).
      const r = new ScaleReader(genesisInfo)
      r.take(32)
      relayGenesis = r.compact()
    } catch {
      return
    }
    void (async () => {
      const provable = await this.#ctx.repo.provableParaHead(relayGenesis + 1, dpi.parentProcessedHeight)
      if (provable !== null && provable - 1 >= fast.minBlocks && dpi.paraProcessedHeight - 1 >= fast.minBlocks) {
        // and the first header request after the load (see #fastSync)
        this.#ctx.repo.headers(relayGenesis + 1, provable - 1).catch(() => undefined)
        await fast.source.stateAt(provable - 1)
      }
    })().catch(() => undefined)
  }

  async #fastSync(signal: AbortSignal, block: number): Promise<void> {
    const fast = this.#ctx.fastSync!
    try {
      this.#say(`Fast sync: loading the chain state at para block ${block}...`)
      // The first header request after the load (pRuntime then expects para header `block`), built
      // while the state is read and loaded: its ranges are fetched and merged meanwhile.
      this.#ctx.repo.headers(this.#heights.headernum, block).catch(() => undefined)
      const state = await fast.source.stateAt(block)
      signal.throwIfAborted()
      await this.#ctx.client.prpc('LoadChainState', 'pruntime_rpc.ChainState', 'google.protobuf.Empty', { blockNumber: block, encodedState: state }, signal)
      this.#take(await this.#ctx.client.getInfo(signal))
      this.#say(`Fast sync: chain state loaded at para block ${block}.`)
      this.#log.info({ worker: this.view.name, block }, 'fast sync: chain state loaded')
      this.#fastSyncDone = true
      this.#loadedAt = block
      this.#fastSyncOutcome = `chain state loaded at para block ${block}`
      this.#ctx.emit({ type: 'fastSync', uuid: this.view.uuid, ok: true, block })
    } catch (err) {
      if (signal.aborted) throw new AbortedError()
      // No answer (a busy pRuntime, a timeout): the next session asks GetInfo again and, while
      // pRuntime still can load a state, tries once more instead of replaying everything.
      if (err instanceof PruntimeUnreachableError) throw err
      this.#fastSyncDone = true
      const msg = err instanceof PruntimeRejectedError ? err.pruntimeMessage : (err as Error).message
      this.#fastSyncOutcome = `replayed: LoadChainState failed: ${msg}`
      this.#say(`Fast sync failed (${msg}); replaying the blocks instead.`)
      this.#log.warn({ worker: this.view.name, block, err: msg }, 'fast sync failed; falling back to replaying every block')
      this.#ctx.emit({ type: 'fastSync', uuid: this.view.uuid, ok: false, block, message: msg })
    }
  }
}
