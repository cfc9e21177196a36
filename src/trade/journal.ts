/**
 * The send journal, in the queue's Redis: every signed extrinsic is written here before it is
 * submitted (operator, nonce, bytes, the job calls it carries), and its outcome once final. A
 * trader that starts after a crash reads it before signing anything: an extrinsic that may still
 * land is followed (or its very bytes resubmitted), never signed again with other content, and a
 * stalled job whose calls already landed gets their results instead of a second send.
 */
import { Redis } from 'ioredis'
import type { Logger } from '../common/logger.js'
import { redisOptionsFromUrl } from '../common/trade-queue.js'
import { sleep } from '../common/retry.js'

const PREFIX = 'prb:trade:'
/** Outcomes are kept this long for jobs still to be re-delivered. */
const RESULT_TTL_S = 24 * 3600

export interface TxItemOutcome { ok: boolean; error?: string }

export type TxResult =
  | { kind: 'landed'; blockHash: string; blockNumber: number; items: TxItemOutcome[] }
  /** Its calls never executed (nonce taken by another extrinsic, or failed before dispatch): send them again. */
  | { kind: 'returned'; reason: string }
  /** Its calls can never execute as they are (fees, bad proof): the jobs fail with `reason`. */
  | { kind: 'failed'; reason: string }

export interface TxRecord {
  address: string
  nonce: number
  pid: string
  hash: string
  hex: string
  /** The signed call (forceBatch, or proxy(forceBatch)), to sign again with the same content. */
  callHex: string
  /** Mortal era: first block it is valid in and its period. */
  birth: number
  period: number
  /** Per call: [job id, call index in the job, call name]. */
  items: Array<[string, number, string]>
  sentAt: number
  result?: TxResult
}

export interface Journal {
  put(rec: TxRecord): Promise<void>
  resolve(rec: TxRecord, result: TxResult): Promise<void>
  /** Extrinsics of `address` not resolved yet. */
  open(address: string): Promise<TxRecord[]>
  /** Every extrinsic that carried calls of job `id`. */
  forJob(id: string): Promise<TxRecord[]>
  forgetJob(id: string): Promise<void>
  /** Append to the log of every submission (operator, nonce, tx hash, content digest): the tests' nonce check. */
  logSent(entry: { a: string; n: number; h: string; c: string }): Promise<void>
  sent(): Promise<Array<{ a: string; n: number; h: string; c: string }>>
  close(): Promise<void>
}

const txKey = (address: string, nonce: number): string => `${PREFIX}tx:${address}:${nonce}`

export function createJournal(o: { redisUrl: string }, deps: { logger: Logger; signal: AbortSignal }): Journal {
  const redis = new Redis({ ...redisOptionsFromUrl(o.redisUrl), maxRetriesPerRequest: 2 })
  redis.on('error', (err) => deps.logger.debug({ err }, 'journal Redis error'))

  /** Writes must not be lost: retried until Redis answers (a restart takes seconds) or the trader stops. */
  const must = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn()
      } catch (err) {
        if (deps.signal.aborted) throw err
        if (attempt === 1 || attempt % 20 === 0) deps.logger.warn({ err, attempt }, `journal: ${what} failed; Redis (PHALA_Q_REDIS_ENDPOINT) unreachable? retrying`)
        await sleep(Math.min(2000, 100 * attempt), deps.signal)
      }
    }
  }

  const read = async (keys: string[]): Promise<TxRecord[]> => {
    if (keys.length === 0) return []
    const vals = await redis.mget(...keys)
    return vals.filter((v): v is string => typeof v === 'string').map((v) => JSON.parse(v) as TxRecord)
  }

  return {
    put: (rec) => must('record a send', async () => {
      const m = redis.multi()
      m.set(txKey(rec.address, rec.nonce), JSON.stringify(rec))
      m.sadd(`${PREFIX}open:${rec.address}`, String(rec.nonce))
      for (const id of new Set(rec.items.map((i) => i[0]))) {
        m.sadd(`${PREFIX}job:${id}`, txKey(rec.address, rec.nonce))
        m.expire(`${PREFIX}job:${id}`, RESULT_TTL_S)
      }
      await m.exec()
    }),
    resolve: (rec, result) => must('record an outcome', async () => {
      const m = redis.multi()
      m.set(txKey(rec.address, rec.nonce), JSON.stringify({ ...rec, result }), 'EX', RESULT_TTL_S)
      m.srem(`${PREFIX}open:${rec.address}`, String(rec.nonce))
      await m.exec()
    }),
    open: (address) => must('read open sends', async () => {
      const nonces = await redis.smembers(`${PREFIX}open:${address}`)
      const recs = await read(nonces.map((n) => txKey(address, Number(n))))
      return recs.filter((r) => !r.result).sort((a, b) => a.nonce - b.nonce)
    }),
    forJob: (id) => must('read a job\'s sends', async () => read(await redis.smembers(`${PREFIX}job:${id}`))),
    forgetJob: async (id) => {
      await redis.del(`${PREFIX}job:${id}`).catch(() => undefined)
    },
    logSent: async (e) => {
      await redis.multi().rpush(`${PREFIX}sent`, JSON.stringify(e)).ltrim(`${PREFIX}sent`, -100_000, -1).exec().catch(() => undefined)
    },
    sent: async () => (await redis.lrange(`${PREFIX}sent`, 0, -1)).map((s) => JSON.parse(s) as { a: string; n: number; h: string; c: string }),
    close: async () => {
      redis.disconnect()
    },
  }
}
