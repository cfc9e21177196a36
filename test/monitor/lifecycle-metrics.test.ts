/**
 * The lifecycle's /metrics (PHALA_METRICS_PORT): the series from a stand-in engine with a clock the
 * test moves (workers by state, lag, blocks fed and blocks/s), then the real lifecycle with its
 * built-in trader on the devnet: two workers taken to S_ACTIVE and one disabled, scraped over HTTP.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMetrics } from '../../src/common/metrics.js'
import type { WorkerEngine, WorkerReport } from '../../src/lifecycle/index.js'
import { registerLifecycleMetrics } from '../../src/lifecycle/index.js'
import { PHA, describeWorkers, report, startBed, waitFor, type Bed } from '../lifecycle-chain/helpers.js'

const rep = (status: WorkerReport['status'], relay: number, para: number): WorkerReport => ({
  status, initialized: true, parentHeaderSynchedTo: relay, paraHeaderSynchedTo: para, paraBlockDispatchedTo: para,
  publicKey: '', lastMessage: '', sessionInfoJson: '', workerAccountId: '',
})

test('lifecycle series: workers by state (all states listed), lag per worker and chain, blocks fed and blocks per second', async () => {
  const m = createMetrics({ module: 'lifecycle', processMetrics: false })
  let now = 1_000_000
  const reports = new Map<string, WorkerReport>([['a', rep('S_SYNCHING', 100, 40)], ['b', rep('S_ACTIVE', 500, 200)]])
  let dp: { parentProcessedHeight: number; paraProcessedHeight: number } | undefined = { parentProcessedHeight: 510, paraProcessedHeight: 205 }
  const engine: WorkerEngine = {
    apply: () => {}, restart: () => {}, kick: () => {}, stop: async () => {},
    report: (u) => reports.get(u),
    figures: () => ({ ...(dp ? { dataProvider: dp } : {}), dataProviders: { live: 1, down: 1 } }),
  }
  registerLifecycleMetrics(m, {
    workers: () => [{ uuid: 'a', name: 'w-a', pool: 'p0' }, { uuid: 'b', name: 'w-b', pool: 'p0' }, { uuid: 'c', name: 'w-c', pool: 'p1' }],
    engine: () => engine,
  }, { now: () => now })
  const first = await m.registry.metrics()
  assert.match(first, /^prb_lifecycle_workers\{state="S_SYNCHING",module="lifecycle"\} 1$/m)
  assert.match(first, /^prb_lifecycle_workers\{state="S_ACTIVE",module="lifecycle"\} 1$/m)
  assert.match(first, /^prb_lifecycle_workers\{state="S_IDLE",module="lifecycle"\} 1$/m, 'a worker without a report is S_IDLE')
  assert.match(first, /^prb_lifecycle_workers\{state="S_ERROR",module="lifecycle"\} 0$/m)
  assert.match(first, /^prb_lifecycle_worker_lag_blocks\{worker="w-a",pool="p0",chain="relay",module="lifecycle"\} 410$/m)
  assert.match(first, /^prb_lifecycle_worker_lag_blocks\{worker="w-a",pool="p0",chain="para",module="lifecycle"\} 165$/m)
  assert.match(first, /^prb_lifecycle_worker_lag_blocks\{worker="w-b",pool="p0",chain="para",module="lifecycle"\} 5$/m)
  assert.doesNotMatch(first, /worker="w-c"/, 'no lag for a worker the engine does not run')
  assert.match(first, /^prb_lifecycle_data_provider_height\{chain="relay",module="lifecycle"\} 510$/m)
  assert.match(first, /^prb_lifecycle_data_providers\{state="down",module="lifecycle"\} 1$/m)
  assert.match(first, /^prb_lifecycle_synced_blocks_total\{chain="relay",module="lifecycle"\} 0$/m)

  // 2 s later: a moved 300 relay / 100 para blocks, b 10 / 5; c appears with heights (not counted yet).
  now += 2000
  reports.set('a', rep('S_SYNCHING', 400, 140))
  reports.set('b', rep('S_ACTIVE', 510, 205))
  reports.set('c', rep('S_STARTING', 0, 0))
  const second = await m.registry.metrics()
  assert.match(second, /^prb_lifecycle_synced_blocks_total\{chain="relay",module="lifecycle"\} 310$/m)
  assert.match(second, /^prb_lifecycle_synced_blocks_total\{chain="para",module="lifecycle"\} 105$/m)
  assert.match(second, /^prb_lifecycle_sync_blocks_per_second\{chain="relay",module="lifecycle"\} 155$/m)
  assert.match(second, /^prb_lifecycle_sync_blocks_per_second\{chain="para",module="lifecycle"\} 52.5$/m)
  assert.match(second, /^prb_lifecycle_workers\{state="S_IDLE",module="lifecycle"\} 0$/m)

  // a's pRuntime restarted empty: its heights go back, which is not counted; later progress is.
  now += 1000
  reports.set('a', rep('S_SYNCHING', 0, 0))
  await m.registry.metrics()
  now += 1000
  reports.set('a', rep('S_SYNCHING', 50, 10))
  dp = undefined
  const fourth = await m.registry.metrics()
  assert.match(fourth, /^prb_lifecycle_synced_blocks_total\{chain="relay",module="lifecycle"\} 360$/m)
  assert.doesNotMatch(fourth, /^prb_lifecycle_worker_lag_blocks/m, 'no lag without a data provider')
  assert.match(fourth, /^prb_lifecycle_data_provider_height\{chain="para",module="lifecycle"\} -1$/m)
})

let bed: Bed | undefined
after(async () => {
  await bed?.stop()
})

test('the lifecycle on the devnet with PHALA_METRICS_PORT: workers by state, lag behind the data provider, blocks/s, the built-in trader\'s jobs', async () => {
  bed = await startBed({ pruntimes: 2, pools: 1, env: { PHALA_METRICS_PORT: '0', PHALA_METRICS_HOST: '127.0.0.1' } })
  const port = bed.lm.metricsPort
  assert.ok(port && port > 0, 'the metrics server is bound')
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    assert.equal(res.status, 200)
    return res.text()
  }
  const line = (text: string, re: RegExp): number | undefined => {
    const m = re.exec(text)
    return m ? Number(m[1]) : undefined
  }
  const repo = bed.lm.repo
  await repo.createPools([{ pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } }])
  const ws = await repo.createWorkers([
    ...bed.pr.workers.map((w, i) => ({ pid: 0, name: `worker-${i}`, endpoint: w.endpoint, stake: (5_000n * PHA).toString() })),
    { pid: 0, name: 'worker-off', endpoint: 'http://127.0.0.1:9', stake: (5_000n * PHA).toString(), enabled: false },
  ])
  const uuids = ws.slice(0, 2).map((w) => w.worker.uuid)
  const early = await scrape()
  assert.match(early, /^prb_lifecycle_workers\{state="S_IDLE",module="lifecycle"\} [1-3]$/m)
  await waitFor(() => uuids.every((u) => report(bed!, u)?.status === 'S_ACTIVE'), 240_000, () => describeWorkers(bed!, uuids), 200)

  const text = await scrape()
  assert.match(text, /^prb_lifecycle_workers\{state="S_ACTIVE",module="lifecycle"\} 2$/m)
  assert.match(text, /^prb_lifecycle_workers\{state="S_IDLE",module="lifecycle"\} 1$/m, 'the disabled worker')
  assert.match(text, /^prb_lifecycle_data_providers\{state="live",module="lifecycle"\} 1$/m)
  const dpPara = line(text, /^prb_lifecycle_data_provider_height\{chain="para",module="lifecycle"\} (\d+)$/m)
  assert.ok(dpPara !== undefined && dpPara > 0, `data provider para height: ${dpPara}`)
  for (const i of [0, 1]) {
    for (const chain of ['relay', 'para']) {
      const lag = line(text, new RegExp(`^prb_lifecycle_worker_lag_blocks\\{worker="worker-${i}",pool="pool-0",chain="${chain}",module="lifecycle"\\} (\\d+)$`, 'm'))
      // S_ACTIVE workers follow the tip: a few blocks at most (400 ms blocks on a loaded machine).
      assert.ok(lag !== undefined && lag <= 30, `worker-${i} ${chain} lag: ${lag}`)
    }
  }
  assert.doesNotMatch(text, /worker="worker-off"/)
  // Blocks fed since the first scrape: both workers synced from zero to the tip.
  const fedPara = line(text, /^prb_lifecycle_synced_blocks_total\{chain="para",module="lifecycle"\} (\d+)$/m)
  assert.ok(fedPara !== undefined && fedPara >= 2, `para blocks fed: ${fedPara}`)
  // The devnet keeps producing blocks: the next scrapes at least 1 s apart see them fed.
  let rate = 0
  await waitFor(async () => {
    rate = line(await scrape(), /^prb_lifecycle_sync_blocks_per_second\{chain="para",module="lifecycle"\} ([\d.e+-]+)$/m) ?? 0
    return rate > 0
  }, 60_000, () => `para blocks/s: ${rate}`, 1100)
  // The built-in trader's series on the same endpoint: each worker registered, added and started once.
  for (const action of ['REGISTER_WORKER', 'ADD_WORKER', 'START_COMPUTING']) {
    assert.match(text, new RegExp(`^prb_trade_jobs\\{state="completed",action="${action}",module="lifecycle"\\} 2$`, 'm'), action)
  }
  assert.ok((line(text, /^prb_trade_jobs_processed_total\{outcome="completed",module="lifecycle"\} (\d+)$/m) ?? 0) >= 6)
  assert.match(text, /^prb_trade_next_nonce\{operator="[1-9A-HJ-NP-Za-km-z]+",module="lifecycle"\} [1-9]\d*$/m)
})
