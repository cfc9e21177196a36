/**
 * Stopping the monitor while an operator's proxied call is still open: the call answers 503 at
 * once (naming the cut-off call) and the monitor stops within seconds, instead of holding its
 * HTTP server until PHALA_MONITOR_PROXY_TIMEOUT.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { waitFor } from '../helpers/wait.js'
import { startFakeLifecycle } from './fake-lifecycle.js'
import { startTestMonitor, waitForPeer } from './helpers.js'

test('a stop with a proxied call open answers it 503 and returns at once', async () => {
  const lm = await startFakeLifecycle()
  try {
    lm.delay.set('ListWorker', 25_000)
    const mon = await startTestMonitor([lm.address], { proxyTimeoutMs: 30_000 })
    await waitForPeer(mon, lm.peerId)
    const answer = fetch(`http://127.0.0.1:${mon.port}/ptp/proxy/${lm.peerId}/ListWorker`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    await waitFor(() => lm.calls.some((c) => c.method === 'ListWorker'), 10_000, 'the call reached the lifecycle')
    const t0 = Date.now()
    await mon.stop()
    const stopMs = Date.now() - t0
    const res = await answer
    assert.equal(res.status, 503)
    const body = await res.json() as { hasError: boolean; error: { code: string; message: string } }
    assert.equal(body.hasError, true)
    assert.equal(body.error.code, 'ERR_MONITOR_STOPPING')
    assert.match(body.error.message, /ListWorker/)
    assert.ok(stopMs < 5_000, `stopped in ${stopMs} ms with the call open (its deadline was 30 s)`)
  } finally {
    await lm.stop()
  }
})
