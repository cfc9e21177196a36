/**
 * Does the devnet answer the data provider as fast with a long history as with a short one (#11)?
 * A 2,000- and a 20,000-relay-block devnet (Phala runtime, justification period 256 as the fast-sync
 * test) in the same run; for each, a fresh data provider (child process, defaults: 64 relay / 32 para
 * blocks in flight, no Walkie) syncs the whole history: relay blocks fetched and processed
 * (the builder's walk) per second, para blocks fetched per second, over the whole history.
 * Goal: the 20,000-block rates within 1.5× of the 2,000-block ones (before the fix a 20,000-block
 * relay answered ~40× slower: each read proof of a past block scanned every key ever written).
 * Prints ONE JSON line. Env: BENCH_HISTORIES (default "2000,20000").
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
const HISTORIES = (process.env.BENCH_HISTORIES ?? '2000,20000').split(',').map(Number)
const LIMIT_MS = Number(process.env.BENCH_SYNC_LIMIT_MS ?? 900_000)
const logger = createLogger({ level: 'fatal' })

interface Line { parentFetchedHeight: number; parentProcessedHeight: number; paraFetchedHeight: number; t: number }

interface SyncRate { relayFetchedBps: number; relayProcessedBps: number; paraFetchedBps: number; seconds: number; finished: boolean }

const rate = (blocks: number, ms: number): number => Math.round((blocks / Math.max(0.001, ms / 1000)) * 10) / 10

/** A fresh data provider syncs the devnet's whole history; rates from its first fetched block. */
async function sync(dn: Devnet): Promise<SyncRate> {
  const dir = mkdtempSync(join(tmpdir(), 'prb-devnet-history-bench-'))
  const opts = JSON.stringify({ parentParallel: DEFAULT_PARENT_PARALLEL, paraParallel: DEFAULT_PARA_PARALLEL, justificationPeriod: 256, paraBatchSize: 0 })
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', runner, dn.relayUrl, dn.paraUrl, dir, String(DEFAULT_PARENT_PARALLEL), opts], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  const fin = dn.status()
  let first: Line | undefined
  const done: Partial<Record<'fetched' | 'processed' | 'para', Line>> = {}
  let last: Line | undefined
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, LIMIT_MS + 120_000)
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
      if (!done.fetched && x.parentFetchedHeight >= fin.relay.finalized) done.fetched = x
      if (!done.processed && x.parentProcessedHeight >= fin.relay.finalized) done.processed = x
      if (!done.para && x.paraFetchedHeight >= fin.para.finalized) done.para = x
      if ((done.fetched && done.processed && done.para) || x.t - first.t >= LIMIT_MS) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  proc.kill('SIGKILL')
  await exited
  rmSync(dir, { recursive: true, force: true })
  if (!first || !last) throw new Error('the data provider child printed no progress')
  const f = done.fetched ?? last
  const p = done.processed ?? last
  const q = done.para ?? last
  return {
    relayFetchedBps: rate(f.parentFetchedHeight - first.parentFetchedHeight, f.t - first.t),
    relayProcessedBps: rate(p.parentProcessedHeight - Math.max(0, first.parentProcessedHeight), p.t - first.t),
    paraFetchedBps: rate(q.paraFetchedHeight - first.paraFetchedHeight, q.t - first.t),
    seconds: Math.round((Math.max(f.t, p.t, q.t) - first.t) / 100) / 10,
    finished: !!(done.fetched && done.processed && done.para),
  }
}

const out: Record<string, unknown> = { bench: 'devnet-history', parallel: { relay: DEFAULT_PARENT_PARALLEL, para: DEFAULT_PARA_PARALLEL } }
const rates: SyncRate[] = []
for (const history of HISTORIES) {
  const t0 = performance.now()
  const dn = await startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, blockMs: 3_600_000, history, justificationPeriod: 256, sessionBlocks: 100_000, pools: 1 }, logger)
  const startMs = Math.round(performance.now() - t0)
  try {
    const r = await sync(dn)
    rates.push(r)
    out[`history${history}`] = { devnetStartMs: startMs, ...r }
  } finally {
    await dn.stop()
  }
}
if (rates.length === 2) {
  const [a, b] = rates as [SyncRate, SyncRate]
  const ratio = (x: number, y: number): number => Math.round((x / Math.max(0.001, y)) * 100) / 100
  out.shortOverLong = { relayFetched: ratio(a.relayFetchedBps, b.relayFetchedBps), relayProcessed: ratio(a.relayProcessedBps, b.relayProcessedBps), paraFetched: ratio(a.paraFetchedBps, b.paraFetchedBps) }
  out.goalLongWithin1_5x = a.relayFetchedBps / b.relayFetchedBps <= 1.5 && a.relayProcessedBps / b.relayProcessedBps <= 1.5 && a.paraFetchedBps / b.paraFetchedBps <= 1.5
}
process.stdout.write(JSON.stringify(out) + '\n')
