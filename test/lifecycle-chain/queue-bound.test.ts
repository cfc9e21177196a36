/**
 * The trade queue stays bounded in Redis: finished jobs beyond PHALA_TRADE_KEEP_JOBS per state are
 * removed as the next ones finish, so a lifecycle relaying heartbeats for days does not grow Redis.
 * 300 jobs (completed and failed) through the lifecycle's producer and a consumer on the same
 * queue settings leave at most keep completed + keep failed job hashes.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { createTradeProducer, openTradeQueue, type TradeProducer } from '../../src/common/trade-queue.js'
import type Queue from 'bull'
import { startRedis, testLogger, waitFor, type TestRedis } from '../trade/helpers.js'

const KEEP = 10
const JOBS = 300
let redis: TestRedis
let producer: TradeProducer
let consumer: Queue.Queue
let client: Redis

before(async () => {
  redis = await startRedis()
  producer = createTradeProducer({ redisUrl: redis.url, keepJobs: KEEP, reconcileMs: 500 }, { logger: testLogger() })
  consumer = openTradeQueue(redis.url)
  // Every third job fails, so both finished states are exercised.
  void consumer.process(50, async (job) => {
    const i = Number((job.data as { payload: { messages: string[] } }).payload.messages[0]!.slice(2, 10))
    if (i % 3 === 0) throw new Error(`job ${i} failed on purpose`)
    return { calls: [] }
  })
  client = new Redis(redis.port, '127.0.0.1')
})

after(async () => {
  client?.disconnect()
  await producer?.close()
  await consumer?.close()
  await redis?.stop()
})

test(`after ${JOBS} finished jobs Redis holds at most ${KEEP} completed and ${KEEP} failed ones`, async () => {
  const handles = await Promise.all(Array.from({ length: JOBS }, (_, i) =>
    producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: ['0x' + i.toString().padStart(8, '0')] })))
  const settled = await Promise.allSettled(handles.map((h) => h.result))
  assert.equal(settled.filter((s) => s.status === 'fulfilled').length, JOBS - Math.ceil(JOBS / 3))
  // The result event may come before the consumer's last bookkeeping: count once nothing is active.
  await waitFor(async () => (await client.llen('bull:prbmq__main:active')) + (await client.llen('bull:prbmq__main:wait')) === 0, 30_000, 'the queue idle')
  const completed = await client.zcard('bull:prbmq__main:completed')
  const failed = await client.zcard('bull:prbmq__main:failed')
  assert.ok(completed <= KEEP, `completed kept: ${completed}`)
  assert.ok(failed <= KEEP, `failed kept: ${failed}`)
  // A job's hash is bull:prbmq__main:<id>, its id ACTION-pid-digest (tradeJobId). Bull may leave a
  // finished job's hash a moment after its trim, so the count is awaited, not sampled once.
  let last = ''
  await waitFor(async () => {
    const keys = await client.keys('bull:prbmq__main:*')
    const jobHashes = keys.filter((k) => /^bull:prbmq__main:[A-Z_]+-\d+-[0-9a-f]+$/.test(k))
    last = `${keys.length} keys, ${jobHashes.length} job hashes of ${JOBS} jobs: ${keys.filter((k) => !jobHashes.includes(k)).join(', ')}`
    return jobHashes.length <= 2 * KEEP && keys.length <= 2 * KEEP + 10
  }, 30_000, () => `the queue's Redis keys bounded; last: ${last}`)
})
