/**
 * The lifecycle's sync engine feeding many devnet pRuntimes (one JSON line on stdout). The devnet
 * (chains + pRuntimes) and the data provider run as child processes, so the figures are the
 * lifecycle's own: this process runs only its Walkie node and the sync engine.
 *   sync4       4 workers from InitRuntime to the head of a 2,000-block history by replay (upstream v2: 153 s);
 *   syncNReplay BENCH_SYNC_WORKERS (500) workers the same way, every block replayed (PHALA_DISABLE_FAST_SYNC):
 *               wall time, peak RSS, blob fetches per distinct key, lifecycle CPU-seconds per
 *               worker-block (para blocks dispatched to each worker); BENCH_SKIP_SYNC_N_REPLAY=true skips it;
 *   syncN       the same N fresh workers with the defaults (fast sync on: LoadChainState, the headers,
 *               the blocks after it); blocks per worker count the loaded ones too;
 *   tip         BENCH_TIP_WORKERS (200) workers, then 1, at the tip for BENCH_TIP_MS (60 s) each with a
 *               relay block every BENCH_BLOCK_MS (6 s, as Polkadot), sampled every 250 ms: lag behind
 *               the data provider's processed relay height (p50/p99 in relay blocks; the provider ends a
 *               live range every BENCH_LIVE_GAP blocks (its PHALA_DATA_PROVIDER_LIVE_JUSTIFICATION_GAP,
 *               here 1 by default; with its default 4 this lag includes up to 3 blocks it processed but
 *               serves no range for yet), and lag behind
 *               the last relay block it serves (the end of its last range: the lifecycle's own delay);
 *               lifecycle CPU.
 * The devnet's pRuntimes all run in the devnet process (one core at most); BENCH_PROF_DIR writes CPU
 * profiles of the devnet and data provider children there (run this file under node --cpu-prof for the lifecycle's).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWalkie } from '../../src/walkie/index.js'
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from '../../src/lifecycle/sync/index.js'
import type { WorkerView } from '../../src/lifecycle/contract.js'
import { quietLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'

const N = Number(process.env.BENCH_SYNC_WORKERS ?? 500)
const TIP = Math.min(N, Number(process.env.BENCH_TIP_WORKERS ?? 200))
const TIP_MS = Number(process.env.BENCH_TIP_MS ?? 60_000)
const HISTORY = Number(process.env.BENCH_HISTORY ?? 2000)
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 6000)
// The data provider ends a live range every LIVE_GAP relay blocks (its default is 4); 1 = a range per
// finalized block, so "lag behind the data provider" is the lifecycle's alone.
const LIVE_GAP = Number(process.env.BENCH_LIVE_GAP ?? 1)
const logger = quietLogger()
const dir = mkdtempSync(join(tmpdir(), 'prb-bench-sync-'))
const children: ChildProcess[] = []
let exiting = false
// Interrupted (Ctrl-C, a timeout): the devnet and data provider children must not outlive us.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) c.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  })
}

function child(env: Record<string, string>): ChildProcess {
  // BENCH_PROF_DIR: CPU profiles of the devnet and the data provider too (node --cpu-prof), written when they stop.
  const prof = process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`] : []
  const c = spawn(process.execPath, [...prof, '--import', 'tsx', '--import', './src/polyfill.ts', 'src/index.ts'], {
    env: { ...process.env, PHALA_LOGGER_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'inherit'],
  })
  children.push(c)
  c.once('exit', (code) => {
    if (!exiting) {
      process.stderr.write(`lifecycle-sync bench: child ${env.PHALA_MODULE} exited with ${code}\n`)
      for (const o of children) o.kill('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
      process.exit(1)
    }
  })
  return c
}

async function post(url: string): Promise<unknown> {
  const r = await fetch(url, { method: 'POST' })
  return r.json()
}

const T0 = Date.now()
const phase = (what: string): void => {
  process.stderr.write(`[lifecycle-sync bench +${Math.round((Date.now() - T0) / 1000)}s] ${what}\n`)
}
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d
const pct = (s: number[], p: number): number => (s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN)

const [relayPort, paraPort, controlPort, blobPort, walkiePort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()])
/** N consecutive ports free a moment ago (the devnet's pRuntimes take base..base+N-1). */
async function freeRange(n: number): Promise<number> {
  const { createServer } = await import('node:net')
  const ok = (port: number) => new Promise<boolean>((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
  for (;;) {
    // Below Linux's ephemeral range (32768+), where freePort's ports and outgoing sockets live.
    const base = 10_000 + Math.floor(Math.random() * (32_000 - 10_000 - n))
    let all = ![relayPort, paraPort, controlPort, blobPort, walkiePort].some((p) => p >= base && p < base + n)
    for (let p = base; p < base + n && all; p++) all = await ok(p)
    if (all) return base
  }
}
const pruntimePort = await freeRange(N)
const control = `http://127.0.0.1:${controlPort}`
let engine: SyncEngine | undefined
try {
  child({
    PHALA_MODULE: 'devnet', PHALA_DEVNET_HOST: '127.0.0.1', PHALA_DEVNET_RELAY_PORT: String(relayPort), PHALA_DEVNET_PARA_PORT: String(paraPort),
    PHALA_DEVNET_CONTROL_PORT: String(controlPort), PHALA_DEVNET_HISTORY: String(HISTORY), PHALA_DEVNET_BLOCK_MS: String(BLOCK_MS),
    PHALA_DEVNET_PRUNTIMES: String(N), PHALA_DEVNET_PRUNTIME_PORT: String(pruntimePort), PHALA_DEVNET_POOLS: '1',
  })
  await waitFor(async () => (await fetch(`${control}/status`).catch(() => undefined))?.ok === true, 600_000, 'devnet up', 500)
  await post(`${control}/production/pause`)
  phase('devnet up')
  child({
    PHALA_MODULE: 'data_provider', PHALA_CHAIN_ENDPOINT: `ws://127.0.0.1:${paraPort}`, PHALA_PARENT_CHAIN_ENDPOINT: `ws://127.0.0.1:${relayPort}`,
    PHALA_LOCAL_DB_PATH: join(dir, 'dp'), PHALA_PEER_ID_PREFIX: join(dir, 'keys'), PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blobPort),
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1', PHALA_WALKIE_LISTEN_ADDRESSES: `/ip4/127.0.0.1/tcp/${walkiePort}`,
    PHALA_WALKIE_BOOT_NODES: `/ip4/127.0.0.1/tcp/${walkiePort}`, PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    PHALA_DATA_PROVIDER_LIVE_JUSTIFICATION_GAP: String(LIVE_GAP),
  })
  const paraRpc = async (method: string, params: unknown[]): Promise<any> => {
    const r = await fetch(`http://127.0.0.1:${paraPort}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
    return ((await r.json()) as { result: unknown }).result
  }
  const chainIdentity = String(await paraRpc('chain_getBlockHash', [1]))
  const walkie = createWalkie({ role: 'WR_LIFECYCLE_MANAGER', chainIdentity, bridgeIdentity: 'default', identity: { ephemeral: true }, listenAddresses: [], disableMdns: true, bootNodes: [`/ip4/127.0.0.1/tcp/${walkiePort}`] }, { logger })
  await walkie.start()
  await waitFor(() => walkie.peers({ role: 'WR_DATA_PROVIDER_INT' }).length > 0, 120_000, 'the data provider over Walkie', 200)
  phase('data provider found over Walkie')
  const dpPeer = walkie.peers({ role: 'WR_DATA_PROVIDER_INT' })[0]!.peerId
  const dpInfo = () => walkie.call(dpPeer, 'GetDataProviderInfo', {})
  const status = async () => (await (await fetch(`${control}/status`)).json()) as { relay: { finalized: number }; para: { finalized: number } }
  await waitFor(async () => { const [i, s] = await Promise.all([dpInfo(), status()]); return i.status === 'S_IDLE' && i.paraProcessedHeight >= s.para.finalized && i.parentProcessedHeight >= s.relay.finalized }, 900_000, 'data provider caught up', 1000)

  phase('data provider caught up')
  const fetches = new Map<string, number>()
  const opts: SyncEngineOptions = {
    runnerMaxWorkers: 150, blobQueueSize: 36, prpcTimeoutMs: 60_000, binApiTimeoutMs: 150_000, lruSize: 5000, lruMaxAgeMs: 1_800_000, disableLru: false,
    keepAlive: true, keepAliveTimeoutMs: 5000, syncOnly: true, devSkipRa: false, disableFastSync: true,
  }
  const requestMs: Record<string, number> = {}
  engine = createSyncEngine(opts, { logger, walkie, metrics: { blobFetch: (k) => fetches.set(k, (fetches.get(k) ?? 0) + 1), request: (r, ms) => { requestMs[r.action] = (requestMs[r.action] ?? 0) + ms } } })
  const view = (i: number): WorkerView => ({
    uuid: `w-${i}`, name: `w-${i}`, endpoint: `http://127.0.0.1:${pruntimePort + i}`, stake: '0', enabled: true, syncOnly: true,
    pool: { uuid: 'p', pid: '1', name: 'p', enabled: true, syncOnly: true, operatorSs58: '', operatorPublicKey: '0x' + '11'.repeat(32) },
  })
  const e = engine
  // The last relay block the data provider serves: follow its ranges from relay block `from` (as
  // the lifecycle does: a range starting there, else the per-height index of the range covering it).
  const { createBlobClient, decodeRangeMeta } = await import('../../src/data_provider/index.js')
  const blobs = createBlobClient({ host: '127.0.0.1', port: blobPort, timeoutMs: 10_000 })
  const metaAt = async (n: number) => {
    let raw = await blobs.get(`rangeByParentBlock:${n}:pb`)
    if (!raw) {
      const k = await blobs.get(`rangeCoverByParentBlock:${n}`)
      if (k) raw = await blobs.get(new TextDecoder().decode(k))
    }
    return raw ? decodeRangeMeta(raw) : null
  }
  const served = async (from: number): Promise<number> => {
    let end = from - 1
    for (;;) {
      const m = await metaAt(end + 1)
      if (!m || m.parentStopBlock <= end) return end
      end = m.parentStopBlock
    }
  }
  const allSynched = (n: number, eng: SyncEngine): boolean => Array.from({ length: n }, (_, i) => eng.report(`w-${i}`)?.status).every((s) => s === 'S_SYNCHED')
  let peakRss = 0
  const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 200)

  const syncRun = async (n: number, eng: SyncEngine): Promise<Record<string, number>> => {
    const e = eng
    fetches.clear()
    for (const k of Object.keys(requestMs)) delete requestMs[k]
    peakRss = process.memoryUsage.rss()
    const cpu0 = process.cpuUsage()
    const t0 = Date.now()
    e.apply(Array.from({ length: n }, (_, i) => view(i)))
    const progress = setInterval(() => {
      const behind = Array.from({ length: n }, (_, i) => e.report(`w-${i}`)).filter((r) => r?.status !== 'S_SYNCHED').slice(0, 3)
      phase(`syncing ${n}: ${JSON.stringify(e.stats().byStatus)} e.g. ${JSON.stringify(behind.map((r) => r && { s: r.status, h: r.parentHeaderSynchedTo, p: r.paraHeaderSynchedTo, b: r.paraBlockDispatchedTo, m: r.lastMessage, err: r.details?.lastError }))}`)
    }, 60_000)
    await waitFor(() => allSynched(n, e), 3_600_000, () => JSON.stringify(e.stats()), 500).finally(() => clearInterval(progress))
    const wallS = (Date.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const blocks = Array.from({ length: n }, (_, i) => e.report(`w-${i}`)!.paraBlockDispatchedTo).reduce((a, b) => a + b, 0)
    const total = [...fetches.values()].reduce((a, b) => a + b, 0)
    return { workers: n, wallS: round(wallS, 1), peakRssMiB: round(peakRss / 2 ** 20, 0), blobFetches: total, distinctKeys: fetches.size, fetchesPerKey: round(total / Math.max(1, fetches.size), 3), cpuS: round((cpu.user + cpu.system) / 1e6, 1), cpuSPerWorkerBlock: round((cpu.user + cpu.system) / 1e6 / Math.max(1, blocks), 6), paraBlocksPerWorker: round(blocks / n, 0), pruntimeBusyS: round(Object.values(requestMs).reduce((a, b) => a + b, 0) / 1000 / n, 1) }
  }

  // BENCH_SKIP_SYNC4=true skips the 4-worker replay (it is pRuntime-bound: minutes on a loaded machine).
  const crash = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => post(`${control}/pruntimes/${i + j}/crash`)))
  }
  const sync4 = process.env.BENCH_SKIP_SYNC4 === 'true' ? {} : await syncRun(4, e)
  phase(`4 workers synched: ${JSON.stringify(sync4)}`)
  e.apply([])
  await waitFor(() => e.stats().workers === 0, 60_000, 'stopped')
  await crash(4)
  await e.stop()
  const metrics = { blobFetch: (k: string) => fetches.set(k, (fetches.get(k) ?? 0) + 1), request: (r: { action: string }, ms: number) => { requestMs[r.action] = (requestMs[r.action] ?? 0) + ms } }
  let syncNReplay = {}
  if (process.env.BENCH_SKIP_SYNC_N_REPLAY !== 'true') {
    // A new engine: an empty cache, so fetches per key count every blob this run needs.
    const r = (engine = createSyncEngine(opts, { logger, walkie, metrics }))
    syncNReplay = await syncRun(N, r)
    phase(`${N} workers synched by replay: ${JSON.stringify(syncNReplay)}`)
    r.apply([])
    await waitFor(() => r.stats().workers === 0, 120_000, 'stopped')
    await r.stop()
    await crash(N)
  }
  // The defaults from here on: fast sync on, reading the state from the para node.
  engine = createSyncEngine({ ...opts, disableFastSync: false, chainEndpoint: `ws://127.0.0.1:${paraPort}` }, { logger, walkie, metrics })
  const f = engine
  const syncN = await syncRun(N, f)
  phase(`${N} workers synched: ${JSON.stringify(syncN)}`)

  const tipRun = async (n: number): Promise<Record<string, number>> => {
    const e = f
    e.apply(Array.from({ length: n }, (_, i) => view(i)))
    await waitFor(() => allSynched(n, e), 600_000, 'synched', 500)
    const lags: number[] = []
    const servedLags: number[] = []
    // Delivery delay: from the first sample that sees a new served range end to the first sample
    // where a worker has it (granularity: the 250 ms sampling), in seconds and in relay-block times.
    const servedSeen = new Map<number, number>()
    const gotAt = new Map<number, number>()
    const delays: number[] = []
    // Warm-up: the history ends at a justification below the processed head; measure once every
    // worker got the first range made by the live chain.
    const start = (await dpInfo()).parentProcessedHeight
    await post(`${control}/production/resume`)
    await waitFor(() => Array.from({ length: n }, (_, i) => e.report(`w-${i}`)!.parentHeaderSynchedTo).every((h) => h >= start), 120_000, 'tip warm-up', 250)
    const cpu0 = process.cpuUsage()
    const t0 = Date.now()
    while (Date.now() - t0 < TIP_MS) {
      await new Promise((r) => setTimeout(r, 250))
      const lowest = Math.min(...Array.from({ length: n }, (_, w) => e.report(`w-${w}`)!.parentHeaderSynchedTo))
      const [i, s] = await Promise.all([dpInfo(), served(lowest + 1)])
      const now = Date.now()
      if (!servedSeen.has(s)) servedSeen.set(s, now)
      for (let w = 0; w < n; w++) {
        const h = e.report(`w-${w}`)!.parentHeaderSynchedTo
        lags.push(Math.max(0, i.parentProcessedHeight - h))
        servedLags.push(Math.max(0, s - h))
        if (h > (gotAt.get(w) ?? -1)) {
          // every served end this worker passed since the last sample: delay from when it was first seen served
          for (const [end, at] of servedSeen) if (end <= h && end > (gotAt.get(w) ?? -1) && at > t0) delays.push((now - at) / 1000)
          gotAt.set(w, h)
        }
      }
    }
    await post(`${control}/production/pause`)
    const cpu = process.cpuUsage(cpu0)
    lags.sort((a, b) => a - b)
    servedLags.sort((a, b) => a - b)
    return {
      workers: n, lagP50: pct(lags, 50), lagP99: pct(lags, 99), lagMax: lags[lags.length - 1] ?? NaN,
      servedLagP50: pct(servedLags, 50), servedLagP99: pct(servedLags, 99), servedLagMax: servedLags[servedLags.length - 1] ?? NaN,
      deliveries: delays.length, deliveryP50S: round(pct(delays.sort((a, b) => a - b), 50), 2), deliveryP99S: round(pct(delays, 99), 2),
      deliveryP99Blocks: round(pct(delays, 99) / (BLOCK_MS / 1000), 2),
      cpuS: round((cpu.user + cpu.system) / 1e6, 2),
    }
  }
  const tipMany = await tipRun(TIP)
  phase(`tip ${TIP}: ${JSON.stringify(tipMany)}`)
  const tipOne = await tipRun(1)
  clearInterval(rssTimer)
  process.stdout.write(JSON.stringify({ bench: 'lifecycle-sync', history: HISTORY, liveGap: LIVE_GAP, sync4, syncNReplay, syncN, tip: { seconds: TIP_MS / 1000, many: tipMany, one: tipOne }, cache: f.stats().cache }) + '\n')
  await f.stop()
  await blobs.close()
  await walkie.stop()
} finally {
  exiting = true
  await engine?.stop().catch(() => undefined)
  for (const c of children) c.kill('SIGTERM')
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(undefined) : c.once('exit', r)))))
  rmSync(dir, { recursive: true, force: true })
}
