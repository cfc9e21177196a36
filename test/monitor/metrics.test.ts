/**
 * /metrics: the shared server of src/common/metrics.ts (Prometheus text, 404 elsewhere, idempotent
 * stop), the data provider's series read from its progress at scrape time, and the monitor's own
 * (proxied calls by method and outcome, peers by role) on PHALA_METRICS_PORT.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMetrics, createMetricsServer } from '../../src/common/metrics.js'
import { registerDataProviderMetrics } from '../../src/data_provider/metrics.js'
import { quietLogger } from '../helpers/log.js'
import { startFakeLifecycle } from './fake-lifecycle.js'
import { startTestMonitor, waitForPeer } from './helpers.js'

test('the metrics server answers GET /metrics in the Prometheus format with the module label, 404 elsewhere; stop() twice is fine', async () => {
  const m = createMetrics({ module: 'test_module' })
  new m.Gauge({ name: 'prb_test_value', help: 'a value', registers: [m.registry], collect() { this.set(42) } })
  const server = createMetricsServer({ port: 0, host: '127.0.0.1' }, { registry: m.registry, logger: quietLogger() })
  const { port } = await server.start()
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type')!, /text\/plain; version=0\.0\.4/)
    const text = await res.text()
    assert.match(text, /^prb_test_value\{module="test_module"\} 42$/m)
    assert.match(text, /^prb_process_resident_memory_bytes\{module="test_module"\} \d+/m, 'process metrics')
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404)
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 404)
  } finally {
    await server.stop()
    await server.stop()
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`))
})

test('a port in use fails start() with a message naming PHALA_METRICS_PORT', async () => {
  const m = createMetrics({ module: 'x', processMetrics: false })
  const a = createMetricsServer({ port: 0, host: '127.0.0.1' }, { registry: m.registry, logger: quietLogger() })
  const { port } = await a.start()
  const b = createMetricsServer({ port, host: '127.0.0.1' }, { registry: m.registry, logger: quietLogger() })
  await assert.rejects(b.start(), /PHALA_METRICS_PORT/)
  await a.stop()
})

test('the data provider\'s series: heights by chain and stage, fetched blocks, blocks per second, synced', async () => {
  const m = createMetrics({ module: 'data_provider', processMetrics: false })
  let done = 100
  let now = 1_000_000
  registerDataProviderMetrics(m, {
    info: () => ({ status: 'S_SYHCHING', paraId: 2035, parentStartHeader: 10, parentTarget: 500, parentFetchedHeight: 300, parentProcessedHeight: 250, parentCommittedHeight: 250, paraTarget: 200, paraFetchedHeight: 150, paraProcessedHeight: 120, paraCommittedHeight: 120, blobServerPort: 8012, dbBytes: 0 }),
    fetchStats: () => ({ relay: { blocksDone: done, failures: 2 }, para: { blocksDone: done / 2, failures: 0 } }) as never,
  }, { now: () => now })
  const first = await m.registry.metrics()
  assert.match(first, /^prb_data_provider_height\{chain="relay",stage="target",module="data_provider"\} 500$/m)
  assert.match(first, /^prb_data_provider_height\{chain="para",stage="processed",module="data_provider"\} 120$/m)
  assert.match(first, /^prb_data_provider_blocks_fetched_total\{chain="relay",module="data_provider"\} 100$/m)
  assert.match(first, /^prb_data_provider_fetch_failures_total\{chain="relay",module="data_provider"\} 2$/m)
  assert.match(first, /^prb_data_provider_synced\{module="data_provider"\} 0$/m)
  done = 100 + 50
  now += 500
  assert.match(await m.registry.metrics(), /^prb_data_provider_blocks_per_second\{chain="relay",module="data_provider"\} 0$/m, 'scrapes under 1 s apart keep the last rate')
  now += 1500
  const second = await m.registry.metrics()
  assert.match(second, /^prb_data_provider_blocks_per_second\{chain="relay",module="data_provider"\} 25$/m, '50 blocks in 2 s')
  assert.match(second, /^prb_data_provider_blocks_per_second\{chain="para",module="data_provider"\} 12.5$/m)
  assert.match(second, /^prb_data_provider_blocks_fetched_total\{chain="relay",module="data_provider"\} 150$/m)
})

test('the monitor serves its own metrics on PHALA_METRICS_PORT: proxied calls by method and outcome, peers by role', async (t) => {
  const lm = await startFakeLifecycle()
  t.after(() => lm.stop())
  const mon = await startTestMonitor([lm.address], { metrics: { port: 0, host: '127.0.0.1' } })
  t.after(() => mon.stop())
  await waitForPeer(mon, lm.peerId)
  await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListPool` })
  await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/RestartWorker`, payload: { ids: ['nope'] } })
  await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/Nope` })
  const text = await (await fetch(`http://127.0.0.1:${mon.metricsPort}/metrics`)).text()
  assert.match(text, /^prb_monitor_proxy_calls_total\{method="ListPool",outcome="ok",module="monitor"\} 1$/m)
  assert.match(text, /^prb_monitor_proxy_calls_total\{method="RestartWorker",outcome="remote_error",module="monitor"\} 1$/m)
  assert.match(text, /^prb_monitor_proxy_calls_total\{method="Nope",outcome="unknown_method",module="monitor"\} 1$/m)
  assert.match(text, /^prb_monitor_proxy_call_seconds_count\{module="monitor",method="ListPool"\} 1$/m)
  assert.match(text, /^prb_monitor_peers\{role="lifecycle",module="monitor"\} 1$/m)
})
