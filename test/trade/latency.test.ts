/**
 * A slow node and a lost socket: the devnet answers every JSON-RPC call 500 ms late, and mid-run
 * the devnet's control surface drops every WebSocket (the trader's watches die with it; the
 * provider never re-creates author_ subscriptions). Every job still finishes, each call once.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { Redis } from 'ioredis'
import { type ChainConnection } from '../../src/common/chain.js'
import { createTradeProducer, type TradeJobHandle } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import { type Trader } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { assertOnceOnChain, connectApi, keyring, noiseMessage, nonceContents, testLogger, waitFor, type FakeLifecycle, type TestRedis } from './helpers.js'

import { startTraderBed, type TraderBed } from './bed.js'

let bed: TraderBed
let redis: TestRedis
let devnet: Devnet
let lifecycle: FakeLifecycle
let walkie: Walkie
let conn: ChainConnection
let trader: Trader
let keyDir: string
const k = keyring()
const alice = k.addFromUri('//Alice')
const bob = k.addFromUri('//Bob')

before(async () => {
  bed = await startTraderBed({
    devnet: { rpcLatencyMs: 500 },
    proxiedPool: true,
    api: false,
    reconnect: { minMs: 100, maxMs: 1000 },
    // A longer era: at 500 ms a call, reading the chain after a drop takes seconds of 200 ms blocks.
    trader: { batchSize: 10, batchMs: 300, eraPeriod: 256 },
  })
  ;({ redis, devnet, lifecycle, walkie, conn, trader, keyDir } = bed)
})

after(async () => {
  await bed?.stop()
})

test('RPC latency 500 ms and every WebSocket dropped mid-run: all jobs finish, each call once', async (t) => {
  const producer = createTradeProducer({ redisUrl: redis.url, reconcileMs: 1000 }, { logger: testLogger() })
  t.after(() => producer.close())
  const api: ApiPromise = await connectApi(devnet.paraUrl)
  t.after(() => api.disconnect())
  const messages: string[] = []
  const handles: TradeJobHandle[] = []
  for (let i = 0; i < 40; i++) {
    const m = noiseMessage(api, i, 'latency')
    messages.push(m)
    handles.push(await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: String(i % 2), messages: [m] }))
  }
  const r = new Redis(redis.url)
  t.after(() => r.disconnect())
  await waitFor(async () => (await r.scard(`prb:trade:open:${alice.address}`)) + (await r.scard(`prb:trade:open:${bob.address}`)) > 0, 120_000, 'an extrinsic in flight', 100)
  const reconnectsBefore = conn.connects
  const res = await fetch(`${devnet.controlUrl}/drop-connections`, { method: 'POST' })
  assert.equal(res.status, 200)
  assert.ok(((await res.json()) as { dropped: number }).dropped >= 1)
  const results = await Promise.allSettled(handles.map((h) => h.result))
  const failed = results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]
  assert.equal(failed.length, 0, `failed jobs: ${failed.map((f) => String(f.reason)).slice(0, 3).join(' | ')}`)
  assert.ok(conn.connects > reconnectsBefore, 'the trader reconnected')
  await api.isReady
  await assertOnceOnChain(api, [alice.address, bob.address], messages)
  for (const [key, contents] of await nonceContents(redis.url)) assert.equal(contents.size, 1, `nonce ${key} signed with ${contents.size} contents`)
})
