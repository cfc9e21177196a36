/**
 * The blob builder: the range/window walk and the para walk over one store, fed by the fetcher's
 * "block stored" notifications. It can also run over a DB that already holds the blocks: it
 * processes whatever is stored, then waits for notifications.
 */
import { PrbError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import { ParaBuilder, type ParaBuilderDeps } from './para-builder.js'
import { RangeBuilder, type RangeCommit } from './range-builder.js'
import type { DataProviderStore } from './store.js'

export interface BlobBuilderOptions {
  paraId: number
  /** Para batch size; 0 = off (PHALA_ENABLE_PARA_BATCH_SYNC=false). Upstream's size is 15. */
  paraBatchSize?: number
  /** Safety net for a lost notification, ms (default 10 000); 0 = notifications only. */
  recheckMs?: number
  /** First para header of window 0 (range-builder.ts `firstParaHeader`); pRuntime HEAD needs 0. */
  firstParaHeader?: number
  /** Relay blocks a dry payload superseded by a covering one stays readable (range-builder.ts, default 600). */
  livePruneGraceBlocks?: number
}

export interface BlobBuilderDeps {
  store: DataProviderStore
  logger: Logger
  onRangeCommit?: (c: RangeCommit) => void
  onParaCommit?: ParaBuilderDeps['onCommit']
}

/** The heights the builder vouches for (feeds the Walkie `Info`). */
export interface BlobBuilderProgress {
  /** last relay block read */
  parentProcessedHeight: number
  /** every relay height up to this has a committed dry range (and a rangeCoverByParentBlock entry) */
  parentRangeHeight: number
  /** stop of the last finished window: RangeMetas up to here carry their final blob fields */
  parentCommittedHeight: number
  /** last para block with dryParaBlock written */
  paraCommittedHeight: number
  /** last para block inside a written batch */
  paraBatchCommittedHeight: number
}

export interface BlobBuilder {
  start(): Promise<void>
  stop(): Promise<void>
  /** The genesis record was stored (first start). */
  notifyGenesis(): void
  /** The fetcher stored `parent:<n>:pb`. Cheap; call it for every block (or once per stored batch). */
  notifyParentBlock(n: number): void
  /** The fetcher stored `para:<n>:pb`. */
  notifyParaBlock(n: number): void
  progress(): BlobBuilderProgress
  /**
   * Resolves once both walks are parked waiting for blocks that are not stored (tests, tools).
   * Rejects with code ERR_BUILDER_STOPPED when the builder stops first (or has stopped).
   */
  whenIdle(signal?: AbortSignal): Promise<void>
}

export function createBlobBuilder(opts: BlobBuilderOptions, deps: BlobBuilderDeps): BlobBuilder {
  const log = deps.logger
  interface IdleWaiter { done: () => void; fail: (e: Error) => void }
  const idleWaiters = new Set<IdleWaiter>()
  const checkIdle = (): void => {
    // Deferred: a walk reports parking before its promise is returned.
    queueMicrotask(() => {
      if (stopped || !isIdle()) return
      const ws = [...idleWaiters]
      idleWaiters.clear()
      for (const w of ws) w.done()
    })
  }
  // Rejected rather than resolved: a stopped walk is not parked on missing blocks, so resolving
  // would tell the caller the builder caught up with the store when it did not.
  const stoppedError = (): PrbError =>
    new PrbError('ERR_BUILDER_STOPPED', 'the blob builder stopped before it became idle; whenIdle() cannot resolve on a stopped builder (start a new one to wait again)')
  const range = new RangeBuilder(
    { paraId: opts.paraId, recheckMs: opts.recheckMs, ...(opts.firstParaHeader !== undefined ? { firstParaHeader: opts.firstParaHeader } : {}), ...(opts.livePruneGraceBlocks !== undefined ? { livePruneGraceBlocks: opts.livePruneGraceBlocks } : {}) },
    { store: deps.store, logger: log.child({ component: 'range-builder' }), onCommit: deps.onRangeCommit, onPark: checkIdle },
  )
  const para = new ParaBuilder(
    { paraId: opts.paraId, batchSize: opts.paraBatchSize ?? 0, recheckMs: opts.recheckMs },
    { store: deps.store, logger: log.child({ component: 'para-builder' }), onCommit: deps.onParaCommit, onPark: checkIdle },
  )
  const isIdle = () => range.waiting && para.waiting
  let started = false
  let stopped = false
  return {
    async start() {
      if (started) return
      started = true
      range.start()
      para.start()
    },
    async stop() {
      stopped = true
      const ws = [...idleWaiters]
      idleWaiters.clear()
      for (const w of ws) w.fail(stoppedError())
      const results = await Promise.allSettled([range.stop(), para.stop()])
      for (const r of results) if (r.status === 'rejected') log.warn({ err: r.reason }, 'builder stop failed')
    },
    notifyGenesis() {
      range.parentWakeup.notify()
      range.paraWakeup.notify()
      para.wakeup.notify()
    },
    notifyParentBlock() {
      range.parentWakeup.notify()
    },
    notifyParaBlock() {
      range.paraWakeup.notify()
      para.wakeup.notify()
    },
    progress() {
      const p = range.progress
      return { ...p, paraCommittedHeight: para.committedHeight, paraBatchCommittedHeight: para.batchCommittedHeight }
    },
    whenIdle(signal?: AbortSignal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason)
        if (stopped) return reject(stoppedError())
        const waiter: IdleWaiter = {
          done: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          },
          fail: (e) => {
            signal?.removeEventListener('abort', onAbort)
            reject(e)
          },
        }
        const onAbort = () => {
          idleWaiters.delete(waiter)
          reject(signal!.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        idleWaiters.add(waiter)
        checkIdle()
      })
    },
  }
}
