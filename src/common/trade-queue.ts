/**
 * What the trade queue's producer (the lifecycle) and consumer (the trader) share: the queue name,
 * upstream's action names and payloads (upstream-trade-walkie-monitor.md A.2-A.3), the progress
 * names, the result a job carries, a deterministic job id per intent and a small producer.
 *
 * Upstream used bee-queue; prb uses Bull 4 on the same Redis (`PHALA_Q_REDIS_ENDPOINT`), so the keys
 * are `bull:prbmq__main:*`. A job's data is exactly upstream's `{ action, payload }`.
 */
import { createHash, randomUUID } from 'node:crypto'
import Queue from 'bull'
import { PrbError } from './errors.js'
import type { Logger } from './logger.js'

/** Actions whose same payload later on is a new intent (see Pending.intent). */
const FRESH_INTENT_ACTIONS: ReadonlySet<string> = new Set(['ADD_WORKER', 'REMOVE_WORKER', 'RECLAIM_POOL_WORKER', 'START_COMPUTING', 'STOP_COMPUTING', 'RESTART_COMPUTING'])

/** The job option carrying the producer's enqueue token (see Pending.intent). */
export const INTENT_OPTION = 'prbIntent'

/** The enqueue token of a delivered job, when its producer set one. */
export function jobIntent(job: { opts: object }): string | undefined {
  const v = (job.opts as Record<string, unknown>)[INTENT_OPTION]
  return typeof v === 'string' ? v : undefined
}

/** Upstream's `APP_MESSAGE_QUEUE_NAME + '__main'`. */
export const TRADE_QUEUE_NAME = 'prbmq__main'

export const TRADE_ACTIONS = [
  'BATCH_SYNC_MQ_MESSAGE', 'REGISTER_WORKER', 'ADD_WORKER', 'START_COMPUTING', 'STOP_COMPUTING', 'RESTART_COMPUTING',
  // prb: a worker the operator moved to another pool leaves the old one (upstream had no such action).
  'RECLAIM_POOL_WORKER', 'REMOVE_WORKER',
] as const
export type TradeAction = (typeof TRADE_ACTIONS)[number]

/** `pid`: the pool id as a decimal string; hex values carry `0x`. */
export interface BatchSyncMqMessagePayload { pid: string; messages: string[] }
export interface RegisterWorkerPayload { pid: string; runtimeInfo: string; attestation: string }
export interface AddWorkerPayload { pid: string; publicKey: string }
export interface StartComputingPayload { pid: string; publicKey: string; stake: string }
export interface StopComputingPayload { pid: string; publicKey: string }
export interface RestartComputingPayload { pid: string; publicKey: string; stake: string }
/** prb: `phalaStakePoolv2.reclaimPoolWorker(pid, worker)` once the cool-down has passed. */
export interface ReclaimPoolWorkerPayload { pid: string; publicKey: string }
/** prb: `phalaStakePoolv2.removeWorker(pid, worker)` of a worker whose session is Ready. */
export interface RemoveWorkerPayload { pid: string; publicKey: string }

export interface TradePayloads {
  BATCH_SYNC_MQ_MESSAGE: BatchSyncMqMessagePayload
  REGISTER_WORKER: RegisterWorkerPayload
  ADD_WORKER: AddWorkerPayload
  START_COMPUTING: StartComputingPayload
  STOP_COMPUTING: StopComputingPayload
  RESTART_COMPUTING: RestartComputingPayload
  RECLAIM_POOL_WORKER: ReclaimPoolWorkerPayload
  REMOVE_WORKER: RemoveWorkerPayload
}

export type TradeJobData = { [A in TradeAction]: { action: A; payload: TradePayloads[A] } }[TradeAction]

/** Upstream's progress reports, in order (`RP_SHOULD_RETRY` when calls go out again). */
export const TRADE_PROGRESS = ['RP_INIT', 'RP_PREPROCESSED', 'RP_WORKING', 'RP_SHOULD_RETRY', 'RP_FAILED', 'RP_FINISHED'] as const
export type TradeProgress = (typeof TRADE_PROGRESS)[number]

/** One call of a job as it landed on chain. */
export interface TradeCallResult {
  /** Index of the call in its job (an MQ job has one per message). */
  index: number
  /** `section.method` of the call. */
  call: string
  ok: boolean
  /** `section.Name: docs` of the chain's error when `ok` is false. */
  error?: string
  blockHash: string
  blockNumber: number
  extrinsicHash: string
  /** The operator's nonce that carried it. */
  nonce: number
}

/** A finished job's return value. A job fails (Bull `failedReason`) when one of its calls failed. */
export interface TradeJobResult {
  calls: TradeCallResult[]
}

/** Upstream's default number of finished jobs kept per state (prb: PHALA_TRADE_KEEP_JOBS). */
export const DEFAULT_KEEP_JOBS = 1000

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * The job id of an intent: the action, the pool and a digest of the payload. The same intent
 * enqueued twice (a restarted producer, a re-add after Redis lost its data) is the same job, so the
 * trader never sends its calls twice. A registration's intent is its runtime info (worker, operator,
 * genesis): the attestation is left out, as each RA report is fresh (it carries a timestamp) and a
 * restarted lifecycle would otherwise queue the same registration again under a new id.
 */
export function tradeJobId(data: TradeJobData, basis?: string): string {
  const intent = data.action === 'REGISTER_WORKER' ? { pid: data.payload.pid, runtimeInfo: data.payload.runtimeInfo } : data.payload
  // `basis`: what the producer decided on (e.g. the registry entry's lastUpdated), so doing the same
  // again after the chain changed is a new job, not one the trader answers from its journal.
  const digest = createHash('sha256').update(canonical(basis === undefined ? intent : { intent, basis })).digest('hex').slice(0, 32)
  return `${data.action}-${String(data.payload.pid)}-${digest}`
}

/**
 * ioredis options from a redis:// URL. Bull's own URL parsing turns upstream's default
 * `redis://host:6379/` (empty path) into `SELECT NaN`, so the URL is parsed here.
 */
export function redisOptionsFromUrl(url: string): { host: string; port: number; db: number; username?: string; password?: string; tls?: object } {
  const u = new URL(url)
  const db = u.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d+$/.test(db)) throw new PrbError('ERR_REDIS_URL', `the Redis URL ${u.protocol}//${u.host}${u.pathname} names database "${db}"; use a number (redis://host:6379/0) or none`)
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    db: db === '' ? 0 : Number(db),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  }
}

/** The Bull queue `prbmq__main` on `redisUrl` (producer, consumer and board share the settings). */
export function openTradeQueue(redisUrl: string, settings?: Queue.AdvancedSettings): Queue.Queue {
  return new Queue(TRADE_QUEUE_NAME, { redis: redisOptionsFromUrl(redisUrl), ...(settings ? { settings } : {}) })
}

export class TradeJobError extends PrbError {
  override name = 'TradeJobError'
  constructor(readonly jobId: string, message: string) {
    super('ERR_TRADE_JOB', message)
  }
}

const BULL_BOOKKEEPING = /^Missing (lock|key) for job /

export interface TradeJobHandle {
  jobId: string
  /** Resolves with the job's result; rejects with TradeJobError carrying the trader's reason. */
  result: Promise<TradeJobResult>
}

export interface TradeProducerOptions {
  /** PHALA_Q_REDIS_ENDPOINT. */
  redisUrl: string
  /** Finished jobs kept per state (default 1000). */
  keepJobs?: number
  /**
   * How often jobs still waiting are checked in Redis (default 2000 ms): a finished one whose event
   * was missed is settled, a missing one (Redis restarted without persistence, as upstream runs it)
   * is added again under the same id.
   */
  reconcileMs?: number
}

export interface TradeProducer {
  /**
   * Add the job of an intent, or attach to it when it is already waiting or running. A finished
   * job of the same intent is replaced: enqueueing again means "do it again".
   */
  enqueue<A extends TradeAction>(action: A, payload: TradePayloads[A], opts?: { basis?: string }): Promise<TradeJobHandle>
  /** Jobs enqueued here and not settled yet. */
  pending(): number
  close(): Promise<void>
}

interface Pending {
  data: TradeJobData
  /**
   * This enqueue's token, in the job's options (`prbIntent`), kept when the job is added again after
   * Redis lost it: the trader answers a re-delivery of the same intent from what it remembers, but
   * sends a later intent with the same id (a worker added to a pool it left, started again after a
   * stop) afresh. Only pool and computing steps carry one (FRESH_INTENT_ACTIONS): a message (its
   * content is its identity; it lands once) or a registration (its job id has its basis) asked for
   * again is the same intent, answered from memory, never sent twice.
   */
  intent: string | undefined
  /** Added to Redis (reconcile leaves the others to enqueue). */
  added?: boolean
  /** Failed by Bull's bookkeeping: reconcile adds it again. */
  readd?: boolean
  waiters: Array<{ resolve: (r: TradeJobResult) => void; reject: (e: Error) => void }>
}

/** The producer side: the lifecycle enqueues through this and awaits each job's result. */
export function createTradeProducer(o: TradeProducerOptions, deps: { logger: Logger }): TradeProducer {
  const log = deps.logger
  const keep = o.keepJobs ?? DEFAULT_KEEP_JOBS
  const queue = openTradeQueue(o.redisUrl)
  queue.on('error', (err) => log.warn({ err }, `trade queue Redis error (${o.redisUrl}); retrying`))
  const pending = new Map<string, Pending>()
  let closed = false

  const settle = (id: string, ok: boolean, value: unknown): void => {
    const p = pending.get(id)
    if (!p) return
    // Bull's own lock bookkeeping, not the trader's verdict: after a Redis restart two deliveries of
    // one job share the worker's lock token. The job is added again; the trader answers it from
    // what it remembers (or its journal) without sending anything.
    if (!ok && BULL_BOOKKEEPING.test(String(value))) {
      p.readd = true
      return
    }
    pending.delete(id)
    for (const w of p.waiters) {
      if (ok) w.resolve(parseResult(value))
      else w.reject(new TradeJobError(id, String(value || 'the trader failed the job without a reason')))
    }
  }
  void queue.on('global:completed', (id: string, result: unknown) => settle(String(id), true, result))
  void queue.on('global:failed', (id: string, reason: unknown) => settle(String(id), false, reason))

  const add = (id: string, p: Pick<Pending, 'data' | 'intent'>) =>
    queue.add(p.data, { jobId: id, attempts: 1, removeOnComplete: keep, removeOnFail: keep, ...(p.intent ? { [INTENT_OPTION]: p.intent } : {}) } as Queue.JobOptions)

  const reconcile = async (): Promise<void> => {
    for (const [id, p] of [...pending]) {
      if (closed) return
      if (!p.added) continue
      const job = await queue.getJob(id)
      if (!job) {
        log.warn({ jobId: id }, 'a trade job vanished from Redis (restarted without persistence?); adding it again')
        await add(id, p)
        continue
      }
      if (p.readd || (job.finishedOn && job.failedReason && BULL_BOOKKEEPING.test(job.failedReason))) {
        p.readd = false
        if (job.finishedOn) {
          log.info({ jobId: id, reason: job.failedReason }, 'a trade job was failed by Bull\'s lock bookkeeping, not by the trader; adding it again')
          await job.remove()
          await add(id, p)
        }
        continue
      }
      if (job.finishedOn) {
        if (job.failedReason !== undefined && job.failedReason !== null) settle(id, false, job.failedReason)
        else settle(id, true, job.returnvalue)
      }
    }
  }
  let timer: NodeJS.Timeout | undefined
  const loop = (): void => {
    timer = setTimeout(() => {
      reconcile().catch((err: unknown) => log.debug({ err }, 'trade queue reconcile failed; next round')).finally(() => {
        if (!closed) loop()
      })
    }, o.reconcileMs ?? 2000)
  }
  loop()

  return {
    async enqueue(action, payload, opts) {
      if (closed) throw new PrbError('ERR_TRADE_PRODUCER_CLOSED', 'the trade producer is closed; create a new one')
      const data = { action, payload } as TradeJobData
      const id = tradeJobId(data, opts?.basis)
      const known = pending.get(id)
      const entry: Pending = known ?? { data, intent: FRESH_INTENT_ACTIONS.has(action) ? randomUUID() : undefined, waiters: [] }
      const result = new Promise<TradeJobResult>((resolve, reject) => entry.waiters.push({ resolve, reject }))
      result.catch(() => undefined)
      if (known) return { jobId: id, result }
      // Listen before adding: the job may finish before add() returns.
      pending.set(id, entry)
      try {
        const existing = await queue.getJob(id)
        if (existing) {
          const state = await existing.getState()
          if (state !== 'completed' && state !== 'failed') {
            entry.added = true
            return { jobId: id, result }
          }
          await existing.remove()
        }
        await add(id, entry)
        entry.added = true
      } catch (err) {
        pending.delete(id)
        throw err
      }
      return { jobId: id, result }
    },
    pending: () => pending.size,
    async close() {
      if (closed) return
      closed = true
      if (timer) clearTimeout(timer)
      for (const [id, p] of pending) for (const w of p.waiters) w.reject(new TradeJobError(id, 'the trade producer was closed before the job finished'))
      pending.clear()
      await queue.close()
    },
  }
}

function parseResult(value: unknown): TradeJobResult {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as TradeJobResult
    } catch {
      return { calls: [] }
    }
  }
  return (value as TradeJobResult) ?? { calls: [] }
}
