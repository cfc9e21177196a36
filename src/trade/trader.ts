/**
 * The trader: consumes Bull queue `prbmq__main`, turns each job into its calls, batches them per
 * pool (PHALA_TRADE_BATCH_SIZE calls or PHALA_TRADE_BATCH_MS, split under the chain's size and
 * weight limits) into one `utility.forceBatch` per extrinsic, hands the batches to the operator's
 * lane (lane.ts: nonces, submission, finality) and gives every job its calls' results.
 *
 * Jobs never hang and calls never go twice:
 * - a trader killed mid-batch leaves its jobs active; Bull's stalled check gives them to the next
 *   trader, which first reads the send journal (journal.ts): calls already sent are followed to
 *   their outcome, never signed again with other content;
 * - a job delivered again while it runs here (the producer re-adds jobs Redis lost) attaches to the
 *   running one; a job finished here a moment ago gets the same result.
 */
import { setMaxListeners } from 'node:events'
import Queue from 'bull'
import type { TradeCall } from './actions.js'
import type { ChainConnection } from '../common/chain.js'
import type { Logger } from '../common/logger.js'
import { retry, sleep } from '../common/retry.js'
import {
  DEFAULT_KEEP_JOBS, TRADE_QUEUE_NAME, jobIntent, openTradeQueue, type TradeCallResult, type TradeJobData, type TradeJobResult, type TradeProgress,
} from '../common/trade-queue.js'
import { callsOf, checkJob, jobPid } from './actions.js'
import { cutCount, tooLarge } from './batch-cut.js'
import { createChainView, type ChainView } from './chain-view.js'
import { TradeError } from './errors.js'
import { createJournal, type Journal, type TxRecord, type TxResult } from './journal.js'
import { OperatorLane, type LaneBatch, type LaneItem } from './lane.js'
import type { PoolDirectory, TradePool } from './pools.js'

export interface TraderOptions {
  /** PHALA_Q_REDIS_ENDPOINT. */
  redisUrl: string
  /** PHALA_TRADE_BATCH_SIZE: calls per extrinsic at most (default 30). */
  batchSize?: number
  /** PHALA_TRADE_BATCH_MS: a pool's first waiting call waits at most this long for others (default 1000). */
  batchMs?: number
  /** PHALA_TRADE_POOL_CONCURRENCY: extrinsics not yet in a block per operator (default 1). */
  poolConcurrency?: number
  /** PHALA_TRADE_KEEP_JOBS: finished jobs kept per state (default 1000). */
  keepJobs?: number
  /** Jobs processed at once (upstream TX_QUEUE_SIZE 1000). */
  jobConcurrency?: number
  /** Mortal era of each extrinsic, blocks (default 64). */
  eraPeriod?: number
  /** Watch silent this long: read the chain (upstream TX_TIMEOUT 120 s). */
  txTimeoutMs?: number
  /** Times calls are signed and never executed before their jobs fail (upstream TX_RETRY_TIMES 3). */
  maxAttempts?: number
  /**
   * Bull lock and stalled-check timing (defaults 15 s / 5 s; Bull's are 30 s / 30 s). A killed
   * trader's active jobs go to the next trader once their lock expired and a check ran: at most
   * lock + interval (20 s instead of 60 s; measured 63-88 s of recovery with Bull's). A lock lost by
   * a live trader (its event loop blocked longer than the lock) delivers a job twice; that costs
   * no second send: the job attaches to its run here, or the journal answers it.
   */
  lockDurationMs?: number
  stalledIntervalMs?: number
  /** Progress log interval (default 10 s; 0 = off). */
  progressLogMs?: number
  /** Lane follow-up interval (default 500 ms). */
  tickMs?: number
}

export interface TraderDeps {
  logger: Logger
  /** The parachain (reconnecting); the trader does not stop it. */
  chain: ChainConnection
  pools: PoolDirectory
}

export interface TraderStats {
  waiting: number
  running: number
  done: number
  failed: number
  callsFinalized: number
  extrinsicsSent: number
}

/** One operator's lane as /metrics shows it. */
export interface OperatorStats {
  address: string
  /** -1 until the lane has read the chain. */
  nextNonce: number
  /** Extrinsics (one forceBatch each) sent and not yet finalized or dropped. */
  inFlight: number
  sent: number
}

export interface Trader {
  start(): Promise<void>
  stop(): Promise<void>
  stats(): TraderStats
  /** Every operator lane of this trader (metrics). */
  operators(): OperatorStats[]
  /** The Bull queue (the board shows it). */
  readonly queue: Queue.Queue
  readonly journal: Journal
}

interface JobRun {
  id: string
  data: TradeJobData
  pid: string
  calls: TradeCall[]
  results: Array<TradeCallResult | undefined>
  left: number
  job?: Queue.Job
  /** The producer's enqueue token (trade-queue.ts jobIntent). */
  intent: string | undefined
  /**
   * The latest delivery's settlers. A job delivered again while it runs here (re-added after Redis
   * lost it, or a lapsed lock) takes over; the earlier delivery's Bull job is gone or superseded, so
   * its handler is left unsettled: settling it would complete or fail the new job under the same lock.
   */
  resolve: (r: TradeJobResult) => void
  reject: (e: Error) => void
  progressed: Set<TradeProgress>
}

interface PoolQueue {
  pool: TradePool
  items: LaneItem[]
  attempts: Map<LaneItem, number>
  firstAt: number
  timer?: NodeJS.Timeout
  lane: OperatorLane
}

const FINISHED_MEMORY = 20_000

export function createTrader(o: TraderOptions, deps: TraderDeps): Trader {
  const log = deps.logger
  const batchSize = o.batchSize ?? 30
  const batchMs = o.batchMs ?? 1000
  const keep = o.keepJobs ?? DEFAULT_KEEP_JOBS
  const maxAttempts = o.maxAttempts ?? 3
  const abort = new AbortController()
  setMaxListeners(0, abort.signal)
  const chain: ChainView = createChainView({ conn: deps.chain, logger: log })
  const journal = createJournal({ redisUrl: o.redisUrl }, { logger: log, signal: abort.signal })
  const queue = openTradeQueue(o.redisUrl, {
    lockDuration: o.lockDurationMs ?? 15_000,
    stalledInterval: o.stalledIntervalMs ?? 5_000,
    // A stalled job is one whose trader died: it goes back to wait (the journal prevents a second send), many times if need be.
    maxStalledCount: 1000,
  })
  queue.on('error', (err) => log.warn({ err }, `trade queue Redis error (${o.redisUrl}); Bull retries`))
  queue.on('stalled', (job) => log.warn({ jobId: job.id }, 'a trade job stalled (its trader stopped?); it goes back to the queue'))

  const runs = new Map<string, JobRun>()
  /** Finished jobs' answers, for a job delivered again (Redis lost it; Bull's bookkeeping), with the producer's enqueue token. */
  const finished = new Map<string, { ok: boolean; value: TradeJobResult | string; intent: string | undefined }>()
  const pools = new Map<string, PoolQueue>()
  const lanes = new Map<string, OperatorLane>()
  const stats = { done: 0, failed: 0, callsFinalized: 0 }
  let stopping: Promise<void> | undefined

  const progress = (run: JobRun, p: TradeProgress): void => {
    if (run.progressed.has(p) && p !== 'RP_SHOULD_RETRY') return
    run.progressed.add(p)
    run.job?.progress(p).catch(() => undefined)
  }

  const remember = (id: string, ok: boolean, value: TradeJobResult | string, intent: string | undefined): void => {
    finished.delete(id)
    finished.set(id, { ok, value, intent })
    if (finished.size > FINISHED_MEMORY) finished.delete(finished.keys().next().value!)
  }

  const finish = (run: JobRun): void => {
    if (run.left > 0 || !runs.has(run.id)) return
    runs.delete(run.id)
    const calls = run.results as TradeCallResult[]
    const bad = calls.filter((c) => !c.ok)
    if (bad.length === 0) {
      stats.done++
      progress(run, 'RP_FINISHED')
      remember(run.id, true, { calls }, run.intent)
      run.resolve({ calls })
    } else {
      stats.failed++
      progress(run, 'RP_FAILED')
      const reason = bad.map((c) => (run.calls.length > 1 ? `${c.error} (call ${c.index + 1} of ${run.calls.length})` : c.error)).join('; ')
      remember(run.id, false, reason, run.intent)
      run.reject(new Error(reason))
    }
  }

  const failRun = (run: JobRun, reason: string): void => {
    if (!runs.has(run.id)) return
    runs.delete(run.id)
    stats.failed++
    progress(run, 'RP_FAILED')
    remember(run.id, false, reason, run.intent)
    run.reject(new Error(reason))
  }

  const setResult = (run: JobRun, index: number, r: TradeCallResult): void => {
    if (run.results[index] !== undefined) return
    run.results[index] = r
    run.left--
    if (r.ok) stats.callsFinalized++
  }

  /** An extrinsic's outcome, to the jobs it carried calls of. */
  const onResolved = (rec: TxRecord, result: TxResult, batch: LaneBatch | undefined): void => {
    if (result.kind === 'landed') {
      rec.items.forEach(([jobId, index, kind], i) => {
        const run = runs.get(jobId)
        if (!run) return
        const item = result.items[i]!
        setResult(run, index, {
          index, call: kind, ok: item.ok, ...(item.error ? { error: item.error } : {}),
          blockHash: result.blockHash, blockNumber: result.blockNumber, extrinsicHash: rec.hash, nonce: rec.nonce,
        })
      })
      for (const id of new Set(rec.items.map((i) => i[0]))) {
        const run = runs.get(id)
        if (run) finish(run)
      }
      return
    }
    if (result.kind === 'failed') {
      for (const id of new Set(rec.items.map((i) => i[0]))) {
        const run = runs.get(id)
        if (run) failRun(run, result.reason)
      }
      return
    }
    // Returned: the calls never executed; they go out again (first in their pool's line), a bounded number of times.
    const attempts = (batch?.attempts ?? 0) + 1
    if (attempts >= maxAttempts) {
      for (const id of new Set(rec.items.map((i) => i[0]))) {
        const run = runs.get(id)
        if (run) failRun(run, `sent ${attempts} times and never executed (last: ${result.reason}); is the operator account ${rec.address} used by another signer?`)
      }
      return
    }
    log.info({ nonce: rec.nonce, operator: rec.address, reason: result.reason }, `calls of an extrinsic go out again: ${result.reason}`)
    const items: LaneItem[] = batch?.items ?? []
    if (!batch) {
      for (const [jobId, index] of rec.items) {
        const run = runs.get(jobId)
        if (run) items.push(itemOf(run, index))
      }
    }
    const live = items.filter((i) => runs.has(i.jobId))
    for (const id of new Set(live.map((i) => i.jobId))) progress(runs.get(id)!, 'RP_SHOULD_RETRY')
    const pq = pools.get(rec.pid)
    if (pq && live.length) {
      for (const i of live) pq.attempts.set(i, attempts)
      pq.items.unshift(...live)
      pq.firstAt = 0
      void pq.lane.pump()
    }
  }

  const onInBlock = (rec: TxRecord): void => {
    for (const id of new Set(rec.items.map((i) => i[0]))) {
      const run = runs.get(id)
      if (run) progress(run, 'RP_WORKING')
    }
  }

  /**
   * The pool of `pid`. The lifecycle's answer (unknown pool, no operator) is final; not reaching the
   * lifecycle (starting, restarting, no Walkie peer yet) is waited out, one wait per pool for all its
   * jobs, for about five minutes before the jobs fail.
   */
  const poolWaits = new Map<string, Promise<TradePool>>()
  const poolOf = (pid: string): Promise<TradePool> => {
    let p = poolWaits.get(pid)
    if (!p) {
      p = retry(() => deps.pools.get(pid), {
        what: `reading pool ${pid} from the lifecycle (ListPool over Walkie)`, logger: log, signal: abort.signal,
        minMs: 500, maxMs: 5000, maxAttempts: 65, retryable: (err) => !(err instanceof TradeError),
      }).catch((err: unknown) => {
        if (err instanceof TradeError || abort.signal.aborted) throw err
        throw new TradeError('ERR_TRADE_NO_LIFECYCLE', `pool ${pid}: the lifecycle did not answer ListPool for 5 minutes (${(err as Error).message}); is the lifecycle running and reachable over Walkie?`, { cause: err })
      }).finally(() => poolWaits.delete(pid))
      poolWaits.set(pid, p)
    }
    return p
  }

  const itemOf = (run: JobRun, index: number): LaneItem => {
    const call = run.calls[index]!
    return { jobId: run.id, index, call, kind: `${call.section}.${call.method}`, bytes: call.encodedLength }
  }

  /** The batch source of every lane: its pools' waiting calls, round robin, cut at the limits. */
  const source = {
    async take(lane: OperatorLane, opts?: { full?: boolean }): Promise<LaneBatch | undefined> {
      const now = Date.now()
      const mine = [...pools.values()].filter((p) => p.lane === lane && p.items.length > 0)
      const due = mine.filter((p) => p.items.length >= batchSize || (!opts?.full && now - p.firstAt >= batchMs))
      if (due.length === 0) return undefined
      // Oldest first keeps pools of one operator fair.
      const pq = due.sort((a, b) => a.firstAt - b.firstAt)[0]!
      const limits = await chain.limits()
      // Weigh the calls that may go (asked once per call kind); a call that can never fit fails its job.
      const look = pq.items.slice(0, batchSize)
      for (const it of look) it.weight ??= await chain.weightOf(it.call, lane.address).catch(() => ({ refTime: 1_000_000_000n, proofSize: 100_000n }))
      let fit = look
      for (const it of look) {
        const why = tooLarge({ bytes: it.bytes, ...it.weight! }, limits)
        const run = why ? runs.get(it.jobId) : undefined
        if (run) failRun(run, `call ${it.index + 1} of job ${it.jobId} (${it.kind}) cannot be sent: ${why}; split it into smaller calls`)
        if (why) fit = []
      }
      if (fit !== look) {
        // The failed jobs' other calls go too.
        pq.items = pq.items.filter((it) => runs.has(it.jobId))
        return source.take(lane, opts)
      }
      const n = cutCount(fit.map((it) => ({ bytes: it.bytes, ...it.weight! })), limits, batchSize)
      const items = pq.items.splice(0, n)
      if (items.length === 0) return undefined
      const attempts = Math.max(0, ...items.map((i) => pq.attempts.get(i) ?? 0))
      for (const i of items) pq.attempts.delete(i)
      if (pq.items.length) {
        pq.firstAt = now
        arm(pq)
      } else if (pq.timer) clearTimeout(pq.timer)
      return { pid: pq.pool.pid, ...(pq.pool.real ? { real: pq.pool.real } : {}), items, attempts, left: pq.items.length }
    },
  }

  /** Wake the pool's lane when its oldest waiting call has waited batchMs. */
  function arm(pq: PoolQueue): void {
    if (pq.timer) clearTimeout(pq.timer)
    pq.timer = setTimeout(() => void pq.lane.pump(), Math.max(0, pq.firstAt + batchMs - Date.now()) + 5)
  }

  const laneFor = (pool: TradePool): OperatorLane => {
    let lane = lanes.get(pool.operator.address)
    if (!lane) {
      lane = new OperatorLane(pool.operator, {
        concurrency: o.poolConcurrency ?? 1, eraPeriod: o.eraPeriod ?? 64, txTimeoutMs: o.txTimeoutMs ?? 120_000, maxAttempts,
      }, { conn: deps.chain, chain, journal, logger: log, source, onResolved, onInBlock })
      lanes.set(pool.operator.address, lane)
    }
    return lane
  }

  const poolQueue = (pool: TradePool): PoolQueue => {
    let pq = pools.get(pool.pid)
    const lane = laneFor(pool)
    if (!pq || pq.lane !== lane) {
      pq = { pool, items: pq?.items ?? [], attempts: pq?.attempts ?? new Map(), firstAt: 0, lane }
      pools.set(pool.pid, pq)
    }
    return pq
  }

  const enqueueCalls = (pq: PoolQueue, items: LaneItem[]): void => {
    if (items.length === 0) return
    if (pq.items.length === 0) {
      pq.firstAt = Date.now()
      arm(pq)
    }
    pq.items.push(...items)
    void pq.lane.pump()
  }

  /** Calls of the job already sent (by this trader or one before it), from the journal. */
  const recoverSent = async (run: JobRun): Promise<Set<number>> => {
    const covered = new Set<number>()
    let recs = await journal.forJob(run.id)
    if (recs.length === 0) return covered
    // The lanes of open records read the journal and the chain first; then the records are read
    // again, so one resolved meanwhile is seen with its outcome (never taken for unsent).
    for (const rec of recs.filter((r) => !r.result)) {
      const pool = await poolOf(rec.pid)
      poolQueue(pool)
      await laneFor(pool).ready()
    }
    recs = (await journal.forJob(run.id)).sort((a, b) => a.sentAt - b.sentAt)
    for (const rec of recs) {
      const mine = rec.items.map((it, i) => ({ it, i })).filter(({ it }) => it[0] === run.id)
      if (mine.length === 0) continue
      const r = rec.result
      if (!r) {
        // Still open: its lane follows it and reports to this run.
        lanes.get(rec.address)?.adopt(rec)
        for (const { it } of mine) covered.add(it[1])
        continue
      }
      if (r.kind === 'returned') {
        for (const { it } of mine) covered.delete(it[1])
        continue
      }
      for (const { it, i } of mine) {
        covered.add(it[1])
        if (r.kind === 'failed') setResult(run, it[1], { index: it[1], call: it[2], ok: false, error: r.reason, blockHash: '', blockNumber: -1, extrinsicHash: rec.hash, nonce: rec.nonce })
        else setResult(run, it[1], { index: it[1], call: it[2], ok: r.items[i]!.ok, ...(r.items[i]!.error ? { error: r.items[i]!.error } : {}), blockHash: r.blockHash, blockNumber: r.blockNumber, extrinsicHash: rec.hash, nonce: rec.nonce })
      }
    }
    log.info({ jobId: run.id, calls: covered.size }, `job ${run.id} was sent before (a previous trader stopped mid-way); following its ${covered.size} call(s) instead of sending them again`)
    return covered
  }

  const runJob = async (job: Queue.Job): Promise<TradeJobResult> => {
    // Finished jobs are capped however the producer added them (Bull reads these at completion).
    job.opts.removeOnComplete = keep
    job.opts.removeOnFail = keep
    const id = String(job.id)
    const intent = jobIntent(job)
    const done = finished.get(id)
    // The same id with another token is a later intent (the worker left the pool and is added
    // again, started again after a stop): sent afresh, not answered with the old outcome.
    if (done && done.intent !== undefined && intent !== undefined && done.intent !== intent) {
      finished.delete(id)
      await journal.forgetJob(id) // the earlier intent's extrinsics, all resolved: not this job's
    } else if (done) {
      if (done.ok) return done.value as TradeJobResult
      throw new Error(done.value as string)
    }
    let resolve!: (r: TradeJobResult) => void
    let reject!: (e: Error) => void
    const promise = new Promise<TradeJobResult>((res, rej) => {
      resolve = res
      reject = rej
    })
    const existing = runs.get(id)
    if (existing) {
      log.info({ jobId: id }, 'a running job was delivered again (Redis lost it, or its lock lapsed); the new delivery takes it over')
      Object.assign(existing, { job, resolve, reject })
      existing.progressed.clear()
      progress(existing, 'RP_INIT')
      return promise
    }
    const run: JobRun = { id, intent, data: job.data as TradeJobData, pid: '', calls: [], results: [], left: 0, job, resolve, reject, progressed: new Set() }
    progress(run, 'RP_INIT')
    let data: TradeJobData
    try {
      data = checkJob(job.data)
      run.pid = jobPid(data)
      run.calls = callsOf(await chain.api(), data)
    } catch (e) {
      remember(id, false, (e as Error).message, intent)
      stats.failed++
      throw e
    }
    run.data = data
    run.results = new Array(run.calls.length).fill(undefined)
    run.left = run.calls.length
    runs.set(id, run)
    progress(run, 'RP_PREPROCESSED')
    try {
      const pool = await poolOf(run.pid)
      const pq = poolQueue(pool)
      const covered = await recoverSent(run)
      const items = run.calls.map((_, i) => i).filter((i) => !covered.has(i) && run.results[i] === undefined).map((i) => itemOf(run, i))
      enqueueCalls(pq, items)
      finish(run)
    } catch (e) {
      // Stopping: the job is left to the next trader.
      if (!abort.signal.aborted) failRun(run, (e as Error).message)
    }
    return promise
  }

  /** Open extrinsics of a previous run whose jobs may never come back: follow them anyway. */
  const recoverOpen = async (): Promise<void> => {
    const addresses = new Set<string>()
    const redis = await queue.client
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'prb:trade:open:*', 'COUNT', 1000)
      cursor = next
      for (const k of keys) addresses.add(k.slice('prb:trade:open:'.length))
    } while (cursor !== '0')
    for (const address of addresses) {
      const open = await journal.open(address)
      if (!open.length) continue
      try {
        const pool = await poolOf(open[0]!.pid)
        poolQueue(pool)
        await laneFor(pool).ready()
      } catch (err) {
        log.warn({ err, operator: address }, `cannot follow ${open.length} open extrinsic(s) of operator ${address} from a previous run yet; they are followed when their jobs come back`)
      }
    }
  }

  const tickLoop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        await sleep(o.tickMs ?? 500, abort.signal)
      } catch {
        return
      }
      log.trace({ lanes: lanes.size }, 'tick')
      await Promise.all([...lanes.values()].map((l) => l.tick().catch((err: unknown) => log.debug({ err }, 'lane tick failed'))))
    }
  }

  const progressLoop = async (): Promise<void> => {
    const every = o.progressLogMs ?? 10_000
    if (every <= 0) return
    let last = { t: Date.now(), calls: 0 }
    while (!abort.signal.aborted) {
      try {
        await sleep(every, abort.signal)
      } catch {
        return
      }
      const counts = await queue.getJobCounts().catch(() => undefined)
      const now = Date.now()
      const rate = ((stats.callsFinalized - last.calls) * 1000) / (now - last.t)
      last = { t: now, calls: stats.callsFinalized }
      const inFlight = [...lanes.values()].reduce((n, l) => n + l.inFlight, 0)
      log.info({ waiting: counts?.waiting, active: counts?.active, running: runs.size, inFlight, done: stats.done, failed: stats.failed, callsFinalized: stats.callsFinalized },
        `trade: ${counts?.waiting ?? '?'} jobs waiting, ${runs.size} in flight (${inFlight} extrinsics), ${stats.done} done, ${stats.failed} failed; ${rate.toFixed(1)} calls/s finalized`)
    }
  }

  const trader: Trader = {
    queue,
    journal,
    async start() {
      await deps.chain.whenReady({ timeoutMs: 120_000 })
      await chain.start()
      await queue.isReady()
      void recoverOpen().catch((err: unknown) => log.warn({ err }, 'reading open extrinsics of a previous run failed; they are followed when their jobs come back'))
      void queue.process(o.jobConcurrency ?? 1000, (job) => runJob(job))
      queue.on('completed', (job) => void journal.forgetJob(String(job.id)))
      queue.on('failed', (job) => void journal.forgetJob(String(job.id)))
      void tickLoop()
      void progressLoop()
      log.info({ queue: TRADE_QUEUE_NAME, batchSize, batchMs, poolConcurrency: o.poolConcurrency ?? 1 }, 'Now accepting incoming transaction requests...')
    },
    stop() {
      stopping ??= (async () => {
        abort.abort()
        for (const pq of pools.values()) if (pq.timer) clearTimeout(pq.timer)
        for (const l of lanes.values()) l.stop()
        // Running jobs are left unsettled: their locks lapse and the next trader takes them (journal first).
        try {
          await queue.close(true)
        } catch (err) {
          log.debug({ err }, 'closing the queue failed')
        }
        await chain.stop().catch(() => undefined)
        await journal.close().catch(() => undefined)
      })()
      return stopping
    },
    stats: () => ({
      waiting: [...pools.values()].reduce((n, p) => n + p.items.length, 0),
      running: runs.size,
      done: stats.done,
      failed: stats.failed,
      callsFinalized: stats.callsFinalized,
      extrinsicsSent: [...lanes.values()].reduce((n, l) => n + l.sentCount, 0),
    }),
    operators: () => [...lanes.values()].map((l) => ({ address: l.address, nextNonce: l.nextNonce, inFlight: l.inFlight, sent: l.sentCount })),
  }
  return trader
}
