/**
 * The path an operator takes: `PHALA_MODULE=monitor node dist/index.js` (after `npm run build`),
 * with PHALA_MONITOR_AUTH and PHALA_METRICS_PORT; the page and the JSON answer with credentials, 401
 * without; the password never reaches a log line; SIGTERM stops it with status 0.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'

test('PHALA_MODULE=monitor starts from the built entry, serves the page, the JSON and /metrics, and stops cleanly on SIGTERM', async () => {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const password = 'entry-test-password-123'
  const child = spawn(process.execPath, ['dist/index.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      PHALA_MODULE: 'monitor',
      PORT: String(port),
      PHALA_MONITOR_HOST: '127.0.0.1',
      PHALA_MONITOR_AUTH: `admin:${password}`,
      PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
      PHALA_METRICS_PORT: String(metricsPort),
      PHALA_METRICS_HOST: '127.0.0.1',
      PHALA_LOGGER_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const auth = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` }
    await waitFor(() => lines.some((l) => l.includes('Monitor at http://127.0.0.1:')), 60_000, () => `the monitor's start line; got ${lines.slice(-5).join('\n')}`)
    assert.ok(lines.some((l) => /PtpNode started as \w+/.test(l)))
    const discover = await fetch(`http://127.0.0.1:${port}/ptp/discover`, { headers: auth })
    assert.equal(discover.status, 200)
    assert.deepEqual(await discover.json(), { dataProviders: [], lifecycleManagers: [] })
    assert.equal((await fetch(`http://127.0.0.1:${port}/discover`)).status, 401)
    const page = await fetch(`http://127.0.0.1:${port}/discover`, { headers: auth })
    assert.match(await page.text(), /<title>prb monitor<\/title>/)
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    assert.match(metrics, /^prb_monitor_peers\{role="lifecycle",module="monitor"\} 0$/m)
    const stopAt = Date.now()
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.ok(Date.now() - stopAt < 10_000)
    assert.ok(!lines.join('\n').includes(password), 'the password is in no log line')
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
