/**
 * Data provider initial sync against the devnet (in process, ports 0): relay and para blocks per
 * second at 0 ms and 20 ms RPC latency, with parallelism 1 (upstream fetched one block at a time)
 * and with the defaults; the data provider runs as a child process so its peak RSS is its own.
 * Then the DB it writes: bytes per 1,000 relay blocks while following a devnet tip that makes a
 * block every 40 ms, by two data providers side by side, one closing ranges at live GRANDPA
 * justifications (default gap 4) and one without; the live one supersedes and prunes them
 * (range-builder.ts LIVE RANGES; here with period 128 and a grace of 128 blocks, so a run of
 * DP_BENCH_DB_BLOCKS relay blocks, default 1500, reaches the steady state).
 * Prints ONE JSON line. Env: DP_BENCH_HISTORY (relay blocks, default 6000), DP_BENCH_PARALLEL
 * ("relay,para" to try other defaults), DP_BENCH_SPEED=0 (DB part only), DP_BENCH_DB_BLOCKS.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createLogger } from '../../src/common/logger.js'
import { startDevnet, type Devnet } from '../../src/devnet/devnet.js'
import { DEFAULT_PARA_PARALLEL, DEFAULT_PARENT_PARALLEL } from '../../src/data_provider/fetch/index.js'
import { createStore, decodeParentBlock, decodeRangeMeta, keys } from '../../src/data_provider/index.js'
import { startDataProvider, type RunningDataProvider } from '../../src/data_provider/main.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const runner = fileURLToPath(new URL('../data_provider/kill-runner.ts', import.meta.url))
const HISTORY = Number(process.env.DP_BENCH_HISTORY ?? 6000)
const [defRelay, defPara] = (process.env.DP_BENCH_PARALLEL ?? `${DEFAULT_PARENT_PARALLEL},${DEFAULT_PARA_PARALLEL}`).split(',').map(Number) as [number, number]
const logger = createLogger({ level: 'fatal' })

interface Line { parentFetchedHeight: number; paraFetchedHeight: number; parentTarget: number; paraTarget: number; t: number; maxRssMiB: number }

interface RunResult { relayBps: number; paraBps: number; relayBlocks: number; paraBlocks: number; seconds: number; peakRssMiB: number; finished: boolean }

/** One child data provider on a fresh DB; measures from its first fetched block until both chains are done or `limitMs`. */
async function run(dn: Devnet, parentParallel: number, paraParallel: number, limitMs: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'prb-dp-bench-'))
  const opts = JSON.stringify({ parentParallel, paraParallel, justificationPeriod: 512, paraBatchSize: 0 })
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', runner, dn.relayUrl, dn.paraUrl, dir, String(parentParallel), opts], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  const fin = dn.status()
  let first: Line | undefined
  let last: Line | undefined
  let relayDone: Line | undefined
  let paraDone: Line | undefined
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, limitMs + 60_000)
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      let x: Line
      try {
        x = JSON.parse(l) as Line
      } catch {
        return
      }
      if (!first && x.parentFetchedHeight >= 0 && x.paraFetchedHeight >= 0) first = x
      if (!first) return
      last = x
      if (!relayDone && x.parentFetchedHeight >= fin.relay.finalized) relayDone = x
      if (!paraDone && x.paraFetchedHeight >= fin.para.finalized) paraDone = x
      if ((relayDone && paraDone) || x.t - first.t >= limitMs) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  proc.kill('SIGKILL')
  await exited
  rmSync(dir, { recursive: true, force: true })
  if (!first || !last) throw new Error('the data provider child printed no progress')
  const r = relayDone ?? last
  const p = paraDone ?? last
  const rs = Math.max(0.001, (r.t - first.t) / 1000)
  const ps = Math.max(0.001, (p.t - first.t) / 1000)
  return {
    relayBps: Math.round(((r.parentFetchedHeight - first.parentFetchedHeight) / rs) * 10) / 10,
    paraBps: Math.round(((p.paraFetchedHeight - first.paraFetchedHeight) / ps) * 10) / 10,
    relayBlocks: r.parentFetchedHeight - first.parentFetchedHeight,
    paraBlocks: p.paraFetchedHeight - first.paraFetchedHeight,
    seconds: Math.round(Math.max(rs, ps) * 10) / 10,
    peakRssMiB: last.maxRssMiB,
    finished: !!(relayDone && paraDone),
  }
}

interface DbFigures { relayBlocks: number; bytes: number; bytesPer1000RelayBlocks: number; onDiskBytes: number; liveUsed: number; liveJustificationsInDb: number }

/** Key + value bytes of every record (what the data provider keeps; LevelDB's on-disk size lags compaction). */
async function dbFigures(path: string, onDiskBytes: number, liveUsed: number, justificationBytes: Uint8Array[]): Promise<DbFigures> {
  const store = createStore({ path })
  await store.open()
  try {
    let bytes = 0
    let relayBlocks = 0
    let liveInDb = 0
    for await (const [k, v] of store.entries()) {
      bytes += Buffer.byteLength(k) + v.length
      if (k.startsWith('parent:') && k.endsWith(':pb')) relayBlocks++
      if (k.startsWith('drySyncHeader:')) for (const j of justificationBytes) if (v.includes(Buffer.from(j))) liveInDb++
    }
    return { relayBlocks, bytes, bytesPer1000RelayBlocks: Math.round((bytes / relayBlocks) * 1000), onDiskBytes, liveUsed, liveJustificationsInDb: liveInDb }
  } finally {
    await store.close()
  }
}

/** Two data providers (live justifications on / off) following the devnet tip for `blocks` relay blocks. */
async function dbBench(blocks: number): Promise<Record<string, unknown>> {
  const period = 128
  const grace = 128
  const dn = await startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, blockMs: 40, history: 50, justificationPeriod: period, sessionBlocks: 600, pools: 1 }, logger)
  // Every live justification announced, to find its copies in the DB afterwards.
  const announced: Uint8Array[] = []
  // (Not those of blocks the node keeps a justification for: the same bytes.)
  dn.relay.justifications.on('justification', (n: number, j: Uint8Array) => {
    if (n % period !== 0 && n % 600 !== 0) announced.push(j)
  })
  const dirs = [mkdtempSync(join(tmpdir(), 'prb-dp-bench-db-')), mkdtempSync(join(tmpdir(), 'prb-dp-bench-db-'))]
  const dps: RunningDataProvider[] = []
  try {
    for (const [i, live] of [[0, true], [1, false]] as const) {
      dps.push(await startDataProvider({
        relayUrl: dn.relayUrl, paraUrl: dn.paraUrl, dbPath: dirs[i]!, blobServer: { host: '127.0.0.1', port: 0 },
        parentParallel: defRelay, paraParallel: defPara, justificationPeriod: period, liveJustifications: live, livePruneGraceBlocks: grace,
        paraBatchSize: 0, walkie: null, targetPollMs: 500, progressLogMs: 1000,
      }, { logger }))
    }
    await Promise.all(dps.map((d) => d.booted))
    const from = dn.status().relay.finalized
    while (dn.status().relay.finalized < from + blocks) await new Promise((r) => setTimeout(r, 200))
    dn.pause()
    const fin = dn.status().relay.finalized
    const deadline = Date.now() + 120_000
    while (dps.some((d) => d.info().parentFetchedHeight < fin) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    await new Promise((r) => setTimeout(r, 2000)) // the builders' last commits and one size refresh
    const onDisk = dps.map((d) => d.info().dbBytes)
    const used = dps.map((d) => d.fetchStats()?.live?.used ?? 0)
    for (const d of dps) await d.stop()
    const live = await dbFigures(dirs[0]!, onDisk[0]!, used[0]!, announced)
    const storedOnly = await dbFigures(dirs[1]!, onDisk[1]!, used[1]!, [])
    // A devnet justification (4 authorities) is small; on Kusama one is ~92 KB.
    const jBytes = announced.length ? Math.round(announced.reduce((a, j) => a + j.length, 0) / announced.length) : 0
    return {
      relayBlocksFollowed: fin - from, justificationPeriod: period, pruneGraceBlocks: grace, liveGap: 4, devnetJustificationBytes: jBytes,
      live, storedOnly,
      // Before this change each live justification stayed twice (record + dry range), for ever.
      liveBeforeChangeEstimatePer1000: Math.round(((live.bytes + live.liveUsed * jBytes * 2 - live.liveJustificationsInDb * jBytes) / live.relayBlocks) * 1000),
    }
  } finally {
    for (const d of dps) await d.stop().catch(() => undefined)
    await dn.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

const out: Record<string, unknown> = { bench: 'data-provider', history: HISTORY, defaults: { parentParallel: defRelay, paraParallel: defPara } }
for (const latency of process.env.DP_BENCH_SPEED === '0' ? [] : (process.env.DP_BENCH_LATENCIES ?? "0,20").split(",").map(Number)) {
  const dn = await startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, blockMs: 3_600_000, history: HISTORY, justificationPeriod: 512, sessionBlocks: 600, pools: 1, rpcLatencyMs: latency }, logger)
  try {
    // Parallelism 1 would take minutes over the whole history: measured over a fixed window.
    const p1 = await run(dn, 1, 1, latency === 0 ? 8000 : 10_000)
    const pd = await run(dn, defRelay, defPara, 90_000)
    out[`latency${latency}ms`] = {
      parallel1: p1,
      defaults: pd,
      relaySpeedup: Math.round((pd.relayBps / p1.relayBps) * 10) / 10,
      paraSpeedup: Math.round((pd.paraBps / p1.paraBps) * 10) / 10,
    }
  } finally {
    await dn.stop()
  }
}
out.db = await dbBench(Number(process.env.DP_BENCH_DB_BLOCKS ?? 1500))
process.stdout.write(JSON.stringify(out) + '\n')
