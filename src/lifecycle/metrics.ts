/**
 * The lifecycle's Prometheus series, read at scrape time from the store and the engine's reports
 * (as GetWorkerStatus answers them): workers by state, each worker's lag behind the data provider
 * (relay headers and para blocks), blocks fed to the pRuntimes (a counter: `rate()` it) and blocks
 * per second since the previous scrape, the data providers seen. With the built-in trader the
 * trade series (src/trade/metrics.ts) are registered beside these.
 */
import { createChainRate, type Metrics } from '../common/metrics.js'
import { WORKER_STATUSES, type WorkerEngine, type WorkerReport } from './contract.js'

export interface LifecycleMetricsSource {
  /** Every worker in the store with its pool's name. */
  workers(): ReadonlyArray<{ uuid: string; name: string; pool: string }>
  /** Undefined until the engine runs (boot, or PHALA_LIFECYCLE_CONFIG_MODE). */
  engine(): WorkerEngine | undefined
}

/** The heights a worker's pRuntime has, per chain of the lag series. */
const fed = (r: WorkerReport): { relay: number; para: number } => ({ relay: r.parentHeaderSynchedTo, para: r.paraBlockDispatchedTo })

export function registerLifecycleMetrics(m: Metrics, src: LifecycleMetricsSource, opts: { now?: () => number } = {}): void {
  const clock = opts.now ?? Date.now
  const registers = [m.registry]
  /** One read of the workers and reports per scrape, shared by the series below. */
  let cached: { at: number; rows: Array<{ uuid: string; name: string; pool: string; report: WorkerReport | undefined }> } | undefined
  const rows = () => {
    const now = clock()
    if (cached && now - cached.at < 500) return cached.rows
    const engine = src.engine()
    cached = { at: now, rows: src.workers().map((w) => ({ ...w, report: engine?.report(w.uuid) })) }
    return cached.rows
  }

  new m.Gauge({
    name: 'prb_lifecycle_workers',
    help: 'workers in the store by state (as GetWorkerStatus; S_IDLE when the engine does not run them)',
    labelNames: ['state'],
    registers,
    collect() {
      const n = new Map<string, number>(WORKER_STATUSES.map((s) => [s, 0]))
      for (const w of rows()) {
        const s = w.report?.status ?? 'S_IDLE'
        n.set(s, (n.get(s) ?? 0) + 1)
      }
      for (const [state, k] of n) this.set({ state }, k)
    },
  })
  new m.Gauge({
    name: 'prb_lifecycle_data_provider_height',
    help: 'processed height of the most advanced live data provider, per chain (-1: none answers yet)',
    labelNames: ['chain'],
    registers,
    collect() {
      const dp = src.engine()?.figures?.().dataProvider
      this.set({ chain: 'relay' }, dp?.parentProcessedHeight ?? -1)
      this.set({ chain: 'para' }, dp?.paraProcessedHeight ?? -1)
    },
  })
  new m.Gauge({
    name: 'prb_lifecycle_data_providers',
    help: 'data providers the engine knows, answering (live) or not (down)',
    labelNames: ['state'],
    registers,
    collect() {
      const d = src.engine()?.figures?.().dataProviders
      this.set({ state: 'live' }, d?.live ?? 0)
      this.set({ state: 'down' }, d?.down ?? 0)
    },
  })
  new m.Gauge({
    name: 'prb_lifecycle_worker_lag_blocks',
    help: 'blocks a worker\'s pRuntime is behind the data provider: relay headers and para blocks dispatched (workers the engine runs, once both heights are known)',
    labelNames: ['worker', 'pool', 'chain'],
    registers,
    collect() {
      this.reset()
      const dp = src.engine()?.figures?.().dataProvider
      if (!dp) return
      for (const w of rows()) {
        if (!w.report || w.report.status === 'S_IDLE' || w.report.status === 'S_KICKED') continue
        const h = fed(w.report)
        if (h.relay >= 0) this.set({ worker: w.name, pool: w.pool, chain: 'relay' }, Math.max(0, dp.parentProcessedHeight - h.relay))
        if (h.para >= 0) this.set({ worker: w.name, pool: w.pool, chain: 'para' }, Math.max(0, dp.paraProcessedHeight - h.para))
      }
    },
  })

  // Blocks fed: the sum over workers of how far each one's heights moved since the previous scrape.
  // A height going back (pRuntime restarted empty, a new run) starts that worker's count afresh.
  const seen = new Map<string, { relay: number; para: number }>()
  const total = { relay: 0, para: 0 }
  const advance = (): void => {
    const present = new Set<string>()
    for (const w of rows()) {
      if (!w.report) continue
      present.add(w.uuid)
      const h = fed(w.report)
      const prev = seen.get(w.uuid)
      if (prev) {
        if (h.relay > prev.relay && prev.relay >= 0) total.relay += h.relay - prev.relay
        if (h.para > prev.para && prev.para >= 0) total.para += h.para - prev.para
      }
      seen.set(w.uuid, h)
    }
    for (const uuid of seen.keys()) if (!present.has(uuid)) seen.delete(uuid)
  }
  new m.Counter({
    name: 'prb_lifecycle_synced_blocks_total',
    help: 'blocks fed to the pRuntimes since start, summed over workers (relay headers, para blocks dispatched), counted at scrapes',
    labelNames: ['chain'],
    registers,
    collect() {
      advance()
      this.reset()
      this.inc({ chain: 'relay' }, total.relay)
      this.inc({ chain: 'para' }, total.para)
    },
  })
  const chainRate = createChainRate(clock)
  new m.Gauge({
    name: 'prb_lifecycle_sync_blocks_per_second',
    help: 'blocks fed to the pRuntimes per second, summed over workers, since the previous scrape (at least 1 s apart)',
    labelNames: ['chain'],
    registers,
    collect() {
      advance()
      const rate = chainRate(total.relay, total.para)
      this.set({ chain: 'relay' }, rate.relay)
      this.set({ chain: 'para' }, rate.para)
    },
  })
}
