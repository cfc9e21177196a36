/**
 * The web page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
 * a monitor whose peers are a fake lifecycle (200 workers, later 500) and a fake data provider:
 * the discover page, a lifecycle's workers page, Restart on one worker reaching the lifecycle, a pool
 * created through the form (with a field error from the lifecycle shown at its field first), and
 * the page load time with 500 workers. Screenshots stay in the folder the test prints.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { RunningMonitor } from '../../src/monitor/index.js'
import { waitFor } from '../helpers/wait.js'
import { startFakeLifecycle, type FakeLifecycle } from './fake-lifecycle.js'
import { startFakeDataProvider, startTestMonitor, waitForPeer } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const DP_INFO = {
  status: 'S_SYHCHING', paraId: 2035, parentStartHeader: 100, parentTarget: 2000, parentFetchedHeight: 1500, parentProcessedHeight: 1400,
  parentCommittedHeight: 1400, paraTarget: 1000, paraFetchedHeight: 900, paraProcessedHeight: 900, paraCommittedHeight: 900, blobServerPort: 8012,
}

const out = mkdtempSync(join(tmpdir(), 'prb-monitor-browser-'))
let lm: FakeLifecycle
let dp: Awaited<ReturnType<typeof startFakeDataProvider>>
let mon: RunningMonitor
let ctx: BrowserContext
let page: Page
let base: string
const pageErrors: string[] = []
const profile = mkdtempSync(join(tmpdir(), 'prb-monitor-chromium-'))

before(async () => {
  process.stdout.write(`# browser test output (screenshots): ${out}\n`)
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`)
  lm = await startFakeLifecycle({ hostname: 'lm-host' })
  lm.pools.set('p1', { uuid: 'p1', pid: 1, name: 'pool-1', enabled: true, syncOnly: false, realPhalaSs58: '', mnemonic: 'x' })
  lm.addWorkers(200, 1)
  dp = await startFakeDataProvider(DP_INFO)
  mon = await startTestMonitor([lm.address, dp.address])
  await waitForPeer(mon, lm.peerId)
  await waitForPeer(mon, dp.peerId)
  base = `http://127.0.0.1:${mon.port}`
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 900 } })
  page = ctx.pages()[0] ?? await ctx.newPage()
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()) })
  // a 4xx is the page's mistake; a 5xx (a peer's stream reset on a loaded machine) is only reported
  page.on('response', (r) => {
    const line = `HTTP ${r.status()} from ${r.request().method()} ${r.url()}`
    if (r.status() >= 500) process.stdout.write(`# ${line}\n`)
    else if (r.status() >= 400) pageErrors.push(line)
  })
})
after(async () => {
  await ctx?.close()
  rmSync(profile, { recursive: true, force: true })
  await mon?.stop()
  await lm?.stop()
  await dp?.walkie.stop()
})

const shot = (name: string, fullPage = false) => page.screenshot({ path: join(out, `${name}.png`), fullPage })

test('the discover page lists the data provider and the lifecycle with their links', async () => {
  await page.goto(`${base}/`)
  await page.waitForURL(/\/discover$/)
  await page.getByText('Lifecycle Managers(1)').waitFor({ timeout: 20_000 })
  await page.getByText('Data Providers(1)').waitFor()
  await page.getByText('lm-host', { exact: true }).waitFor()
  await page.getByText(/relay 1,400 \/ 2,000/).waitFor({ timeout: 20_000 })
  assert.equal(await page.locator(`li[data-peer="${lm.peerId}"] a`, { hasText: 'Manage Pools' }).count(), 1)
  await shot('1-discover')
})

test('a lifecycle\'s workers page shows 200 workers, trouble first, and Restart reaches the lifecycle', async () => {
  await page.locator(`li[data-peer="${lm.peerId}"] a`, { hasText: 'Status' }).click()
  await page.waitForURL(new RegExp(`/lifecycle/status/${lm.peerId}$`))
  await page.getByText('page 1 of 4 (200 workers)').waitFor({ timeout: 20_000 })
  assert.equal(await page.locator('#st-table tbody tr').count(), 50)
  // upstream's columns are all there
  const heads = await page.locator('#st-table thead th').allTextContents()
  for (const h of ['Name', 'PID', 'Status', 'On-chain State', 'Last Message', 'Block Height', 'Header Height', 'Parent Header Height', 'Public Key', 'V', 'Ve', 'pInstant', 'pInit', 'Minted', 'Runtime Version', 'Runtime Git Revision', 'Session Account', 'ID']) {
    assert.ok(heads.includes(h), `column ${h}`)
  }
  // workers in error come first, with their reason in the summary
  assert.match(await page.locator('#st-table tbody tr').first().innerText(), /S_ERROR/)
  await page.getByText('Needs attention').waitFor()
  await page.getByText('ECONNREFUSED').first().waitFor()
  // the lag column against the data provider (para 900): a syncing worker is behind
  await page.locator('#st-size').selectOption('500')
  await page.getByText('page 1 of 1 (200 workers)').waitFor()
  assert.equal(await page.locator('#st-table tbody tr').count(), 200)
  await page.getByText(/Lag behind the data provider/).waitFor({ timeout: 20_000 })
  await shot('2-workers-status', true)

  const target = [...lm.workers.values()].find((w) => w.name === 'worker-005')!
  await page.locator(`#st-table input[data-uuid="${target.uuid}"]`).check()
  await page.getByText('1 selected').waitFor()
  const before = lm.calls.length
  await page.locator('button[data-action=RestartWorker]').click()
  await page.getByText(/Restart: done for 1 worker/).waitFor({ timeout: 20_000 })
  const restart = lm.calls.slice(before).filter((c) => c.method === 'RestartWorker')
  assert.equal(restart.length, 1)
  assert.deepEqual(restart[0]!.request.ids, [target.uuid])
  await shot('3-restart-done')
})

test('a pool is created through the form: checked before sending, the lifecycle\'s field error shown at the field', async () => {
  await page.goto(`${base}/lifecycle/pools/${lm.peerId}`)
  await page.getByText('pool-1').waitFor({ timeout: 20_000 })
  await page.getByRole('button', { name: 'Add' }).click()
  const form = page.locator('form.card')
  // nothing filled: the form says what is missing and sends nothing
  const calls = lm.calls.length
  await form.getByRole('button', { name: 'Add' }).click()
  await form.locator('#err-name').getByText('a name is required').waitFor()
  await form.locator('#err-pid').getByText(/whole number/).waitFor()
  await form.locator('#err-mnemonic').getByText(/required/).waitFor()
  // a PID already used in this lifecycle is caught before sending too
  await form.locator('#f-pid').fill('1')
  await form.getByRole('button', { name: 'Add' }).click()
  await form.locator('#err-pid').getByText(/already has a pool with PID 1/).waitFor()
  assert.equal(lm.calls.slice(calls).filter((c) => c.method === 'CreatePool').length, 0)
  await shot('4-pool-form-invalid')

  // the lifecycle refuses a name: its message lands next to the name field
  await form.locator('#f-pid').fill('7')
  await form.locator('#f-name').fill('forbidden-pool')
  await form.locator('#f-mnemonic').fill('legal winner thank year wave sausage worth useful legal winner thank yellow')
  await form.getByRole('button', { name: 'Add' }).click()
  await form.locator('#err-name').getByText(/reserved name/).waitFor({ timeout: 20_000 })
  await shot('5-pool-form-lifecycle-error')

  await form.locator('#f-name').fill('pool-7')
  await form.getByRole('button', { name: 'Add' }).click()
  await page.getByText('Added pool pool-7').waitFor({ timeout: 20_000 })
  await page.locator('#c-table').getByText('pool-7').waitFor()
  const made = [...lm.pools.values()].find((p) => p.name === 'pool-7')
  assert.ok(made, 'the pool reached the lifecycle')
  assert.equal(made.pid, 7)
  assert.equal(made.enabled, true)
  await shot('6-pool-created')
})

test('a worker is added through the form into the chosen pool; the data provider and fleet pages show progress', async () => {
  await page.goto(`${base}/lifecycle/workers/${lm.peerId}`)
  await page.getByText('worker-000', { exact: true }).waitFor({ timeout: 20_000 })
  await page.getByRole('button', { name: 'Add' }).click()
  const form = page.locator('form.card')
  await form.locator('#f-name').fill('new-worker')
  await form.locator('#f-endpoint').fill('10.0.0.9:8000')
  await form.locator('#f-stake').fill('1000')
  await form.getByRole('button', { name: 'Add' }).click()
  await form.locator('#err-endpoint').getByText(/HTTP URL/).waitFor()
  await form.locator('#err-stake').getByText(/at least 1 PHA/).waitFor()
  await shot('8-worker-form-invalid')
  await form.locator('#f-pid').selectOption('1')
  await form.locator('#f-endpoint').fill('http://10.0.0.9:8000')
  await form.locator('#f-stake').fill('4000000000000000')
  await form.getByRole('button', { name: 'Add' }).click()
  await page.getByText('Added worker new-worker').waitFor({ timeout: 20_000 })
  const w = [...lm.workers.values()].find((x) => x.name === 'new-worker')
  assert.ok(w, 'the worker reached the lifecycle')
  assert.deepEqual({ pid: w.pid, endpoint: w.endpoint, stake: w.stake, enabled: w.enabled, syncOnly: w.syncOnly }, { pid: 1, endpoint: 'http://10.0.0.9:8000', stake: '4000000000000000', enabled: true, syncOnly: false })

  await page.goto(`${base}/dp/status/${dp.peerId}`)
  await page.getByText('paraCommittedHeight').waitFor({ timeout: 20_000 })
  await page.getByText(/Relay chain 1,400 \/ 2,000/).waitFor()
  await page.getByText(/600 behind/).waitFor()
  await shot('9-data-provider')

  await page.goto(`${base}/fleet`)
  await page.getByText(/Lifecycle lm-host/).waitFor({ timeout: 20_000 })
  await page.getByText(/Needs attention/).waitFor({ timeout: 20_000 })
  await page.locator('#fl-dp').getByText(/Data provider fake-dp/).waitFor()
  await shot('10-fleet')
})

test('the workers page with 500 workers: navigation to a rendered table, measured in the page', async () => {
  lm.addWorkers(500 - lm.workers.size, 1)
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    await page.goto(`${base}/lifecycle/status/${lm.peerId}`)
    await page.getByText('(500 workers)').waitFor({ timeout: 20_000 })
    times.push(await page.evaluate(() => Math.round(performance.getEntriesByName('prb:workers-rendered')[0]!.startTime)))
  }
  const best = Math.min(...times)
  process.stdout.write(`# workers page with 500 workers: table rendered ${times.join(', ')} ms after navigation start\n`)
  await shot('7-workers-500')
  // under 1 s on an idle machine; generous here for a CI machine shared by many jobs (the figure is printed above)
  assert.ok(best < 4000, `page load took ${best} ms`)
  await waitFor(() => pageErrors.length === 0, 1000, () => `no script errors on the page: ${pageErrors.join('; ')}`)
})
