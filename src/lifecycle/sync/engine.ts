/**
 * The sync engine: the lifecycle's WorkerEngine (contract.ts) for the sync part. It owns the data
 * providers, the shared fetch layer and the runners; every enabled worker of an enabled pool runs
 * a SyncWorker loop in a runner.
 *
 * Runners are in-process groups of at most PHALA_RUNNER_MAX_WORKER_NUMBER workers, not threads or
 * processes (upstream forked a process per 150 workers, each with its own Walkie node, cache and
 * ~1 GB of memory). Feeding a pRuntime is I/O: the work is HTTP and blob fetches, and the win is
 * that every worker shares ONE cache and ONE prepared request per range, which separate processes
 * would each have to fetch again. So a runner is a resource and failure domain inside the process:
 * its own HTTP socket pool (keep-alive sockets of a hung pRuntime tie up only that pool), and loops
 * that never end on an error (every error is caught, classified and retried in the worker), so a
 * failure stays with the worker or runner it happened in; an empty runner is closed.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from '../../common/logger.js'
import { componentLogger } from '../../common/logger.js'
import type { Walkie } from '../../walkie/index.js'
import type { WorkerEngine, WorkerReport, WorkerView } from '../contract.js'
import { createDataProviders, type DataProviders } from './datasource.js'
import { createChainStateSource, type ChainStateSource } from './fast-sync.js'
import { SYNC_DEFAULTS, type SyncEngineOptions } from './options.js'
import { createAgents, createPruntimeClient, type PruntimeAgents } from './pruntime.js'
import { createRepository, type PreparedRequest, type Repository } from './repository.js'
import { SyncWorker, type SyncWorkerEvent } from './worker.js'

export interface SyncMetrics {
  /** A blob requested from a data provider (after the cache). */
  blobFetch?(key: string): void
  /** A bin_api request sent to a pRuntime and answered. */
  request?(r: PreparedRequest, ms: number): void
}

export interface SyncEngineDeps {
  logger: Logger
  /** The lifecycle's Walkie node (role WR_LIFECYCLE_MANAGER or WR_CLIENT), started by the caller. */
  walkie: Walkie
  metrics?: SyncMetrics
}

export interface SyncEngineStats {
  workers: number
  runners: number
  byStatus: Record<string, number>
  cache: ReturnType<Repository['stats']>
  dataProviders: ReturnType<DataProviders['sources']>
}

export interface SyncEngine extends WorkerEngine {
  /** Per-worker events: status changes, initialized, publicKey, synched, restartedEmpty, fastSync. */
  readonly events: EventEmitter<{ worker: [SyncWorkerEvent] }>
  /** The WorkerView a worker runs with (the chain steps read the pool from it). */
  view(uuid: string): WorkerView | undefined
  /** For the chain steps (#14): status, message and session fields of a running worker's report. */
  update(uuid: string, u: Parameters<SyncWorker['update']>[0]): void
  stats(): SyncEngineStats
  readonly dataProviders: DataProviders
}

interface Runner {
  id: number
  agents: PruntimeAgents
  workers: Map<string, SyncWorker>
}

export function createSyncEngine(options: SyncEngineOptions, deps: SyncEngineDeps): SyncEngine {
  const o = { ...SYNC_DEFAULTS, ...options }
  const log = componentLogger(deps.logger, 'sync')
  const events = new EventEmitter<{ worker: [SyncWorkerEvent] }>()
  events.setMaxListeners(0)
  const dps = createDataProviders(
    { infoPollMs: o.infoPollMs, blobGetTimeoutMs: o.blobGetTimeoutMs, ...(o.blobSecret ? { blobSecret: o.blobSecret } : {}) },
    { walkie: deps.walkie, logger: componentLogger(deps.logger, 'sync-datasource'), ...(deps.metrics?.blobFetch ? { onFetch: (k: string) => deps.metrics!.blobFetch!(k) } : {}) },
  )
  const repo = createRepository({ lruSize: o.lruSize, lruMaxAgeMs: o.lruMaxAgeMs, disableLru: o.disableLru, queueSize: o.blobQueueSize, blocksPerDispatch: o.blocksPerDispatch, ...(o.headerMergeMaxBytes !== undefined ? { headerMergeMaxBytes: o.headerMergeMaxBytes } : {}) }, dps)
  let stateSource: ChainStateSource | undefined
  if (!o.disableFastSync && o.chainEndpoint) stateSource = createChainStateSource(o.chainEndpoint, componentLogger(deps.logger, 'sync-fast'))
  else log.info(o.disableFastSync ? 'fast sync off (PHALA_DISABLE_FAST_SYNC)' : 'fast sync off: no para endpoint to read the state from')

  const runners: Runner[] = []
  const where = new Map<string, Runner>()
  /** Reports of workers that ran and were stopped (removed/disabled/kicked). */
  const finished = new Map<string, WorkerReport>()
  let nextRunnerId = 0
  let stopped = false
  let started = false

  const runnerFor = (): Runner => {
    const r = runners.find((x) => x.workers.size < o.runnerMaxWorkers)
    if (r) return r
    const n: Runner = { id: nextRunnerId++, agents: createAgents(o.keepAlive, o.keepAliveTimeoutMs), workers: new Map() }
    runners.push(n)
    log.info({ runner: n.id }, 'runner started')
    return n
  }

  const emit = (e: SyncWorkerEvent): void => {
    events.emit('worker', e)
  }

  const create = (v: WorkerView, r: Runner): SyncWorker =>
    new SyncWorker(v, {
      client: createPruntimeClient({ endpoint: v.endpoint, prpcTimeoutMs: o.prpcTimeoutMs, binApiTimeoutMs: o.binApiTimeoutMs, agents: r.agents }),
      dps,
      repo,
      logger: componentLogger(deps.logger, 'sync-worker', { worker: v.name, runner: r.id }),
      emit,
      devSkipRa: o.devSkipRa,
      ...(stateSource ? { fastSync: { source: stateSource, minBlocks: o.fastSyncMinBlocks } } : {}),
      retryMinMs: o.retryMinMs,
      retryMaxMs: o.retryMaxMs,
      infoRefreshMs: o.infoRefreshMs,
      livenessProbeMs: o.prpcTimeoutMs,
      ...(deps.metrics?.request ? { onRequest: (q: PreparedRequest, ms: number) => deps.metrics!.request!(q, ms) } : {}),
    })

  const remove = (uuid: string, finalStatus: 'S_IDLE' | 'S_KICKED'): Promise<void> => {
    const r = where.get(uuid)
    const w = r?.workers.get(uuid)
    if (!r || !w) return Promise.resolve()
    r.workers.delete(uuid)
    where.delete(uuid)
    return w.stop(finalStatus).then(() => {
      finished.set(uuid, w.report())
      if (r.workers.size === 0 && runners.length > 1) {
        runners.splice(runners.indexOf(r), 1)
        r.agents.destroy()
        log.info({ runner: r.id }, 'runner stopped (no workers left)')
      }
    })
  }

  const sameRun = (a: WorkerView, b: WorkerView): boolean =>
    a.endpoint === b.endpoint && a.pool.operatorPublicKey === b.pool.operatorPublicKey

  return {
    events,
    dataProviders: dps,
    apply(workers) {
      if (stopped) return
      if (!started) {
        started = true
        dps.start()
      }
      const want = new Map<string, WorkerView>()
      for (const w of workers) if (w.enabled && w.pool.enabled) want.set(w.uuid, w)
      for (const uuid of [...where.keys()]) if (!want.has(uuid)) void remove(uuid, 'S_IDLE')
      for (const v of want.values()) {
        const r = where.get(v.uuid)
        const cur = r?.workers.get(v.uuid)
        if (cur && sameRun(cur.view, v)) {
          cur.view = v // names, stake, sync-only: read live
          continue
        }
        if (cur) {
          // A new endpoint or operator: a new run.
          void remove(v.uuid, 'S_IDLE').then(() => {
            if (!stopped && !where.has(v.uuid)) startOne(v)
          })
          continue
        }
        startOne(v)
      }
    },
    // `refreshRa` concerns registration, the chain steps built on top (#14); sync just starts over.
    restart(uuid) {
      const r = where.get(uuid)
      const w = r?.workers.get(uuid)
      if (!w) return
      void w.stop('S_IDLE').then(() => {
        if (!stopped && r && where.get(uuid) === r && r.workers.get(uuid) === w) w.start()
      })
    },
    kick(uuid) {
      const r = where.get(uuid)
      const w = r?.workers.get(uuid)
      if (!r || !w) return
      const client = createPruntimeClient({ endpoint: w.view.endpoint, prpcTimeoutMs: o.prpcTimeoutMs, binApiTimeoutMs: o.binApiTimeoutMs, agents: r.agents })
      void remove(uuid, 'S_KICKED').then(() => client.kick()).then(() => log.info({ worker: w.view.name }, 'Worker kicked!'))
    },
    report(uuid) {
      const r = where.get(uuid)
      return r?.workers.get(uuid)?.report() ?? finished.get(uuid)
    },
    view(uuid) {
      return where.get(uuid)?.workers.get(uuid)?.view
    },
    update(uuid, u) {
      where.get(uuid)?.workers.get(uuid)?.update(u)
    },
    stats() {
      const byStatus: Record<string, number> = {}
      for (const r of runners) for (const w of r.workers.values()) byStatus[w.status] = (byStatus[w.status] ?? 0) + 1
      return { workers: where.size, runners: runners.length, byStatus, cache: repo.stats(), dataProviders: dps.sources() }
    },
    async stop() {
      if (stopped) return
      stopped = true
      await Promise.all([...where.keys()].map((u) => remove(u, 'S_IDLE')))
      for (const r of runners) r.agents.destroy()
      runners.length = 0
      await dps.stop()
      await stateSource?.stop()
      repo.clear()
    },
  }

  function startOne(v: WorkerView): void {
    finished.delete(v.uuid)
    const r = runnerFor()
    const w = create(v, r)
    r.workers.set(v.uuid, w)
    where.set(v.uuid, r)
    w.start()
  }
}
