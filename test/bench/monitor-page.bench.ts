// The monitor's workers page in headless Chromium (Debian's /usr/bin/chromium via playwright-core)
// on loopback: a fake lifecycle with 500 workers and, as the baseline of the same run, one with 10.
// Figures: page load (navigation start → workers table rendered, the page's own mark) median of
// several loads; while polling for ~12 s with every worker's heights moving each second: the
// main-thread time of one poll update (analyse + render, the page's measure), the long tasks
// (> 50 ms, main thread blocked) and the requests sent per GetWorkerStatus poll.
// Prints one JSON line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { startFakeLifecycle, type FakeLifecycle } from '../monitor/fake-lifecycle.js'
import { startFakeDataProvider, startTestMonitor, waitForPeer } from '../monitor/helpers.js'
import { waitFor } from '../helpers/wait.js'

const CHROMIUM = '/usr/bin/chromium'
const LOADS = 7
const POLL_WINDOW_MS = 12_000
await waitFor(() => existsSync(CHROMIUM), 600_000, `${CHROMIUM} to be installed`, 2000)

const DP_INFO = {
  status: 'S_SYHCHING', paraId: 2035, parentStartHeader: 100, parentTarget: 2000, parentFetchedHeight: 1500, parentProcessedHeight: 1400,
  parentCommittedHeight: 1400, paraTarget: 1000, paraFetchedHeight: 900, paraProcessedHeight: 900, paraCommittedHeight: 900, blobServerPort: 8012,
}
const small = await startFakeLifecycle({ hostname: 'lm-10' })
const large = await startFakeLifecycle({ hostname: 'lm-500' })
for (const lm of [small, large]) lm.pools.set('p1', { uuid: 'p1', pid: 1, name: 'pool-1', enabled: true, syncOnly: false, realPhalaSs58: '', mnemonic: 'x' })
small.addWorkers(10, 1)
large.addWorkers(500, 1)
const dp = await startFakeDataProvider(DP_INFO)
const mon = await startTestMonitor([small.address, large.address, dp.address])
for (const p of [small.peerId, large.peerId, dp.peerId]) await waitForPeer(mon, p, 60_000)
const base = `http://127.0.0.1:${mon.port}`

const profile = mkdtempSync(join(tmpdir(), 'prb-bench-chromium-'))
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const page: Page = ctx.pages()[0] ?? await ctx.newPage()
// Long tasks from the document's start (the observer must exist before they happen).
await page.addInitScript(() => {
  const w = globalThis as unknown as { __long: number[] }
  w.__long = []
  new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__long.push(e.duration) }).observe({ type: 'longtask' as never, buffered: true })
})

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return +(s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2).toFixed(1)
}

/** Load times, and of each load the time of the first GetWorkerStatus request (the proxy and the lifecycle's part). */
const fetchMs: Record<number, number[]> = {}
async function loads(lm: FakeLifecycle, n: number): Promise<number[]> {
  const times: number[] = []
  fetchMs[n] = []
  for (let i = 0; i < LOADS; i++) {
    await page.goto(`${base}/lifecycle/status/${lm.peerId}`)
    await page.getByText(`(${n} workers)`).waitFor({ timeout: 60_000 })
    const t = await page.evaluate(() => ({
      rendered: Math.round(performance.getEntriesByName('prb:workers-rendered')[0]!.startTime),
      fetch: Math.round(performance.getEntriesByType('resource').find((e) => e.name.includes('/GetWorkerStatus'))?.duration ?? -1),
    }))
    times.push(t.rendered)
    fetchMs[n]!.push(t.fetch)
  }
  return times
}

async function polling(lm: FakeLifecycle): Promise<{ updateMedianMs: number; partsMedianMs: Record<string, number>; updateMaxMs: number; updates: number; longTasks: number; longTaskMaxMs: number; blockedMsPer10s: number; requestsPerPoll: number }> {
  await page.goto(`${base}/lifecycle/status/${lm.peerId}`)
  await page.getByText('workers)').first().waitFor({ timeout: 60_000 })
  // every worker moves each second, as a syncing fleet does: rows change on every poll
  const move = setInterval(() => {
    for (const s of lm.states.values()) {
      s.paraBlockDispatchedTo++
      s.paraHeaderSynchedTo++
      s.parentHeaderSynchedTo++
    }
  }, 1000)
  let requests = 0
  let statusPolls = 0
  const onRequest = (r: { url(): string }) => {
    const u = r.url()
    if (!u.startsWith(base)) return
    requests++
    if (u.includes('/GetWorkerStatus')) statusPolls++
  }
  page.on('request', onRequest)
  await page.evaluate(() => {
    ;(globalThis as unknown as { __long: number[] }).__long = []
    performance.clearMeasures()
  })
  await new Promise((r) => setTimeout(r, POLL_WINDOW_MS))
  page.off('request', onRequest)
  clearInterval(move)
  const got = await page.evaluate(() => ({
    updates: performance.getEntriesByName('prb:workers-update').map((e) => e.duration),
    parts: Object.fromEntries(['analyse', 'fleet', 'table'].map((k) => [k, performance.getEntriesByName(`prb:workers-${k}`).map((e) => e.duration)])),
    long: (globalThis as unknown as { __long: number[] }).__long,
  }))
  const blocked = got.long.reduce((a, d) => a + Math.max(0, d - 50), 0)
  return {
    updateMedianMs: median(got.updates),
    partsMedianMs: Object.fromEntries(Object.entries(got.parts).map(([k, v]) => [k, median(v)])),
    updateMaxMs: +Math.max(0, ...got.updates).toFixed(1),
    updates: got.updates.length,
    longTasks: got.long.length,
    longTaskMaxMs: +Math.max(0, ...got.long).toFixed(1),
    blockedMsPer10s: +((blocked * 10_000) / POLL_WINDOW_MS).toFixed(1),
    requestsPerPoll: +(requests / Math.max(1, statusPolls)).toFixed(2),
  }
}

// warm-up: the modules in the HTTP cache, as an operator's page is after the first visit
await loads(small, 10)
const load10 = await loads(small, 10)
const load500 = await loads(large, 500)
const poll10 = await polling(small)
const poll500 = await polling(large)

await ctx.close()
rmSync(profile, { recursive: true, force: true })
await mon.stop()
await small.stop()
await large.stop()
await dp.walkie.stop()

console.log(JSON.stringify({
  bench: 'monitor-page',
  workers: 500,
  baselineWorkers: 10,
  loads: LOADS,
  loadMedianMs: median(load500),
  loadMs: load500,
  baselineLoadMedianMs: median(load10),
  baselineLoadMs: load10,
  firstStatusFetchMedianMs: median(fetchMs[500]!),
  baselineFirstStatusFetchMedianMs: median(fetchMs[10]!),
  goalLoadMs: 1000,
  poll500,
  poll10,
}))
