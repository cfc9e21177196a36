/**
 * The data provider's Prometheus series, read from its own progress at scrape time: heights of both
 * chains at each stage, blocks fetched (a counter: `rate()` it) and blocks per second since the
 * previous scrape (for a glance without PromQL), fetch failures, and whether it is caught up.
 */
import { createChainRate, type Metrics } from '../common/metrics.js'
import type { DataProviderInfo } from '../walkie/index.js'
import type { FetcherProgress } from './fetch/index.js'

export interface DataProviderMetricsSource {
  info(): DataProviderInfo
  fetchStats(): FetcherProgress | undefined
}

export function registerDataProviderMetrics(m: Metrics, dp: DataProviderMetricsSource, opts: { now?: () => number } = {}): void {
  const clock = opts.now ?? Date.now
  const registers = [m.registry]
  new m.Gauge({
    name: 'prb_data_provider_height',
    help: 'highest block of each chain at each stage (target: the node\'s finalized head; -1: none yet)',
    labelNames: ['chain', 'stage'],
    registers,
    collect() {
      const i = dp.info()
      const set = (chain: string, stage: string, v: number) => this.set({ chain, stage }, v)
      set('relay', 'target', i.parentTarget)
      set('relay', 'fetched', i.parentFetchedHeight)
      set('relay', 'processed', i.parentProcessedHeight)
      set('relay', 'committed', i.parentCommittedHeight)
      set('para', 'target', i.paraTarget)
      set('para', 'fetched', i.paraFetchedHeight)
      set('para', 'processed', i.paraProcessedHeight)
      set('para', 'committed', i.paraCommittedHeight)
    },
  })
  new m.Gauge({
    name: 'prb_data_provider_synced',
    help: '1 when both chains are within 3 blocks of their targets (Info.status S_IDLE)',
    registers,
    collect() {
      this.set(dp.info().status === 'S_IDLE' ? 1 : 0)
    },
  })
  new m.Counter({
    name: 'prb_data_provider_blocks_fetched_total',
    help: 'blocks fetched and committed since start',
    labelNames: ['chain'],
    registers,
    collect() {
      const f = dp.fetchStats()
      this.reset()
      this.inc({ chain: 'relay' }, f?.relay.blocksDone ?? 0)
      this.inc({ chain: 'para' }, f?.para.blocksDone ?? 0)
    },
  })
  new m.Counter({
    name: 'prb_data_provider_fetch_failures_total',
    help: 'failed block fetch attempts since start (each is retried)',
    labelNames: ['chain'],
    registers,
    collect() {
      const f = dp.fetchStats()
      this.reset()
      this.inc({ chain: 'relay' }, f?.relay.failures ?? 0)
      this.inc({ chain: 'para' }, f?.para.failures ?? 0)
    },
  })
  const chainRate = createChainRate(clock)
  new m.Gauge({
    name: 'prb_data_provider_blocks_per_second',
    help: 'blocks fetched per second since the previous scrape (at least 1 s apart)',
    labelNames: ['chain'],
    registers,
    collect() {
      const f = dp.fetchStats()
      const rate = chainRate(f?.relay.blocksDone ?? 0, f?.para.blocksDone ?? 0)
      this.set({ chain: 'relay' }, rate.relay)
      this.set({ chain: 'para' }, rate.para)
    },
  })
}
