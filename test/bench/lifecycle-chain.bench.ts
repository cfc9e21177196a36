/**
 * The lifecycle's chain steps (one JSON line on stdout): BENCH_CHAIN_WORKERS (200) devnet workers,
 * 20 per pool, from an empty store to S_ACTIVE with the trader built in. Figures: wall time from
 * CreateWorker to the last S_ACTIVE, extrinsics sent, calls landed per worker by kind, and duplicate
 * calls on chain (the same call with the same arguments landing twice; goal 0). Everything runs in
 * this process (devnet, pRuntimes, data provider, Redis as a child), so the wall time is an upper bound.
 * Also: allSynchedMs (CreateWorker to every worker S_SYNCHED), the chain steps' median and max time
 * (S_SYNCHED to S_ACTIVE per worker) and the trade jobs the chain steps sent, by action.
 * 2026-12-03 (load ~25): 8 workers 10.0 s (sync 2.5 s, chain steps 7.5 s); 40 workers 24.3 s (sync 8.3 s, chain
 * steps 15.9 s), 4 jobs/worker, 8 extrinsics for 40 workers, 0 duplicates.
 * 2026-12-03 later, 200 workers (load 6-12, other suites running): 52.8 s to 174.9 s (sync 5.8-87 s, first
 * S_PRE_ACTIVE to all S_ACTIVE 47-112 s), 800 calls in 40 extrinsics (4 calls per worker), 0 duplicates.
 * The chain steps are bound by the one operator's lane (one extrinsic not yet in a block at a time,
 * PHALA_TRADE_POOL_CONCURRENCY=1) carrying the 40 per-pool batches in turn.
 * Earlier: 8 workers 14.8 s, 40 workers 48 s (8 extrinsics, 4 calls per
 * worker: registerWorker, one egress message, addWorker, startComputing; 0 duplicates); 100 and 200 did
 * not finish within 7 and 9 min there while other suites ran. Progress goes to stderr every
 * BENCH_CHAIN_PROGRESS_MS (20 s); DP_TEST_LOG=warn|info adds the daemons' logs.
 */
import { Keyring } from '@polkadot/keyring'
import type { LifecycleEngine } from '../../src/lifecycle/engine.js'
import { PHA, landedCalls, report, startBed, waitFor } from '../lifecycle-chain/helpers.js'

const N = Number(process.env.BENCH_CHAIN_WORKERS ?? 200)
const PER_POOL = 20
const pools = Math.ceil(N / PER_POOL)
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')

const bed = await startBed({ pruntimes: N, pools })
try {
  await bed.lm.repo.createPools(Array.from({ length: pools }, (_, i) => ({ pid: i, name: `pool-${i}`, owner: { mnemonic: '//Alice' } })))
  const t0 = Date.now()
  const ws = await bed.lm.repo.createWorkers(bed.pr.workers.map((w, i) => ({ pid: Math.floor(i / PER_POOL), name: `w-${i}`, endpoint: w.endpoint, stake: (5_000n * PHA).toString() })))
  const uuids = ws.map((w) => w.worker.uuid)
  let firstPreActive = 0
  // Where the time goes: the sync (to S_SYNCHED) against the chain steps (S_SYNCHED to S_ACTIVE).
  const synchedAt = new Map<string, number>()
  const activeAt = new Map<string, number>()
  // Progress on stderr (stdout keeps its one JSON line): status counts, chain heads, trade queue, a sample
  // of lastMessage counts, so a stall shows where it sits.
  const progress = setInterval(() => {
    const by: Record<string, number> = {}
    // lastMessage (without its timestamp) → workers not yet active saying it.
    const sample: Record<string, number> = {}
    for (const u of uuids) {
      const r = report(bed, u)
      const s = r?.status ?? 'none'
      by[s] = (by[s] ?? 0) + 1
      if (s !== 'S_ACTIVE' && r?.lastMessage) {
        const m = `${s} ${r.lastMessage.replace(/^\[[^\]]*\] /, '')}`
        sample[m] = (sample[m] ?? 0) + 1
      }
    }
    const st = bed.dn.status()
    process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${JSON.stringify(by)} relay ${st.relay.best}/${st.relay.finalized} para ${st.para.best}/${st.para.finalized} jobs ${JSON.stringify((bed.lm.engine() as LifecycleEngine | undefined)?.jobsSent() ?? {})} ${JSON.stringify(sample)}\n`)
  }, Number(process.env.BENCH_CHAIN_PROGRESS_MS ?? 20_000))
  progress.unref()
  await waitFor(() => {
    const now = Date.now()
    for (const u of uuids) {
      const s = report(bed, u)?.status
      if (!synchedAt.has(u) && (s === 'S_SYNCHED' || s === 'S_PRE_ACTIVE' || s === 'S_ACTIVE')) synchedAt.set(u, now)
      if (!activeAt.has(u) && s === 'S_ACTIVE') activeAt.set(u, now)
    }
    if (!firstPreActive && uuids.some((u) => report(bed, u)?.status === 'S_PRE_ACTIVE')) firstPreActive = now
    return uuids.every((u) => report(bed, u)?.status === 'S_ACTIVE')
  }, Number(process.env.BENCH_CHAIN_TIMEOUT_MS ?? 1_800_000), () => {
    const by: Record<string, number> = {}
    for (const u of uuids) {
      const s = report(bed, u)?.status ?? 'none'
      by[s] = (by[s] ?? 0) + 1
    }
    return JSON.stringify(by)
  })
  clearInterval(progress)
  const tActive = Date.now()
  const wallMs = tActive - t0
  const calls = await landedCalls(bed.api, [alice.address])
  const byKind: Record<string, number> = {}
  const seen = new Set<string>()
  let duplicates = 0
  for (const c of calls) {
    byKind[c.call] = (byKind[c.call] ?? 0) + 1
    const key = `${c.call}:${c.argsHex}`
    if (seen.has(key)) duplicates++
    seen.add(key)
  }
  const extrinsics = new Set(calls.map((c) => `${c.blockNumber}:${c.extrinsic}`)).size
  const jobs = (bed.lm.engine() as LifecycleEngine).jobsSent()
  const jobsTotal = Object.values(jobs).reduce((a, b) => a + b, 0)
  const stepMs = uuids.map((u) => activeAt.get(u)! - synchedAt.get(u)!).sort((a, b) => a - b)
  const allSynchedMs = Math.max(...synchedAt.values()) - t0
  process.stdout.write(JSON.stringify({
    bench: 'lifecycle-chain', workers: N, pools,
    wallMs, firstPreActiveToAllActiveMs: firstPreActive ? tActive - firstPreActive : null,
    allSynchedMs, chainStepsMedianMs: stepMs[Math.floor(stepMs.length / 2)], chainStepsMaxMs: stepMs[stepMs.length - 1],
    tradeJobs: jobsTotal, tradeJobsPerWorker: +(jobsTotal / N).toFixed(2), tradeJobsByAction: jobs,
    extrinsics, calls: calls.length, callsPerWorker: +(calls.length / N).toFixed(2), extrinsicsPerWorker: +(extrinsics / N).toFixed(3),
    byKind, duplicateCalls: duplicates,
  }) + '\n')
} finally {
  await bed.stop()
}
