/**
 * Data provider initial sync against the devnet (in process, ports 0): relay and para blocks per
 * second at 0 ms and 20 ms RPC latency, with parallelism 1 (upstream fetched one block at a time)
 * and with the defaults; the data provider runs as a child process so its peak RSS is its own.
 * Prints ONE JSON line. Env: DP_BENCH_HISTORY (relay blocks, default 6000), DP_BENCH_PARALLEL
 * ("relay,para" to try other defaults).
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

const out: Record<string, unknown> = { bench: 'data-provider', history: HISTORY, defaults: { parentParallel: defRelay, paraParallel: defPara } }
for (const latency of (process.env.DP_BENCH_LATENCIES ?? "0,20").split(",").map(Number)) {
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
process.stdout.write(JSON.stringify(out) + '\n')
