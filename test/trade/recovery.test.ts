/**
 * The trader's promises under failure: a trader killed with SIGKILL mid-batch and another started
 * in its place, and a Redis restarted empty mid-run. Every job finishes once, no call executes
 * twice on chain, no nonce carries two different contents.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ApiPromise } from '@polkadot/api'
import { Redis } from 'ioredis'
import { createChainConnection } from '../../src/common/chain.js'
import { createTradeProducer, type TradeJobHandle } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import { createPoolDirectory, createTrader, loadLifecycleKey, walkiePoolSource } from '../../src/trade/index.js'
import {
  assertOnceOnChain, connectApi, keyring, noiseMessage, nonceContents, sendFinal, startFakeLifecycle, startRedis, startTradeDevnet, testLogger, traderWalkie,
  waitFor, type FakeLifecycle,
} from './helpers.js'

let devnet: Devnet
let api: ApiPromise
let lifecycle: FakeLifecycle
let keyDir: string
let chainIdentity: string
const k = keyring()
const alice = k.addFromUri('//Alice')
const bob = k.addFromUri('//Bob')

before(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'prb-trade-keys-'))
  devnet = await startTradeDevnet()
  api = await connectApi(devnet.paraUrl)
  await sendFinal(api, api.tx.proxy.addProxy(bob.address, 'Any', 0), alice)
  chainIdentity = devnet.para.chain.byNumber(1)!.hash
  lifecycle = await startFakeLifecycle(keyDir, chainIdentity, [{ pid: 0, operator: alice }, { pid: 1, operator: bob, real: alice }])
})

after(async () => {
  await lifecycle?.stop()
  await api?.disconnect()
  await devnet?.stop()
  rmSync(keyDir, { recursive: true, force: true })
})

function startChild(o: Record<string, unknown>): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', 'test/trade/trader-child.ts', JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ready = new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! })
    rl.on('line', (l) => {
      if (l.includes('"ready":true')) resolve()
    })
    proc.once('exit', (code) => reject(new Error(`trader child exited (${code}) before it was ready`)))
  })
  ready.catch(() => undefined)
  return { proc, ready }
}

test('a trader killed with SIGKILL mid-batch, then another: every job finishes once, no call twice, no nonce reused', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const opts = { redisUrl: redis.url, paraUrl: devnet.paraUrl, keyDir, bootNode: lifecycle.address, chainIdentity, batchSize: 10, batchMs: 300 }
  const first = startChild(opts)
  t.after(() => void first.proc.kill('SIGKILL'))
  await first.ready
  const producer = createTradeProducer({ redisUrl: redis.url, reconcileMs: 500 }, { logger: testLogger() })
  t.after(() => producer.close())
  const messages: string[] = []
  const handles: TradeJobHandle[] = []
  for (let i = 0; i < 60; i++) {
    const m = noiseMessage(api, i, 'kill')
    messages.push(m)
    handles.push(await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: String(i % 2), messages: [m] }))
  }
  // Kill it while an extrinsic is journaled and not final.
  const r = new Redis(redis.url)
  t.after(() => r.disconnect())
  await waitFor(async () => (await r.scard(`prb:trade:open:${alice.address}`)) + (await r.scard(`prb:trade:open:${bob.address}`)) > 0, 60_000, 'an extrinsic in flight')
  first.proc.kill('SIGKILL')
  await new Promise((res) => first.proc.once('exit', res))
  const openAtKill = (await r.scard(`prb:trade:open:${alice.address}`)) + (await r.scard(`prb:trade:open:${bob.address}`))
  assert.ok(openAtKill > 0, 'the kill left extrinsics in flight')

  const second = startChild(opts)
  t.after(() => void second.proc.kill('SIGTERM'))
  await second.ready
  const results = await Promise.allSettled(handles.map((h) => h.result))
  const failed = results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]
  assert.equal(failed.length, 0, `failed jobs: ${failed.map((f) => String(f.reason)).slice(0, 3).join(' | ')}`)
  const completed = await r.zcard('bull:prbmq__main:completed')
  assert.equal(completed, 60, 'every job completed once')
  await assertOnceOnChain(api, [alice.address, bob.address], messages)
  for (const [key, contents] of await nonceContents(redis.url)) assert.equal(contents.size, 1, `nonce ${key} signed with ${contents.size} contents`)
  second.proc.kill('SIGTERM')
  await new Promise((res) => second.proc.once('exit', res))
})

test('Redis restarted empty mid-run: producers re-add their jobs, the trader attaches them; nothing lost, nothing twice', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const walkie = traderWalkie(chainIdentity, lifecycle.address)
  await walkie.start()
  t.after(() => walkie.stop())
  const conn = createChainConnection({ url: devnet.paraUrl, name: 'para', reconnect: { minMs: 50, maxMs: 500 } }, { logger: testLogger() })
  conn.start()
  t.after(() => conn.stop())
  const pools = createPoolDirectory({}, { source: walkiePoolSource(walkie), lifecycleKey: () => loadLifecycleKey(keyDir), logger: testLogger() })
  const trader = createTrader({ redisUrl: redis.url, batchSize: 10, batchMs: 300, progressLogMs: 0, lockDurationMs: 2000, stalledIntervalMs: 1000 }, { logger: testLogger(), chain: conn, pools })
  await trader.start()
  t.after(() => trader.stop())
  const producer = createTradeProducer({ redisUrl: redis.url, reconcileMs: 500 }, { logger: testLogger() })
  t.after(() => producer.close())
  const messages: string[] = []
  const handles: TradeJobHandle[] = []
  for (let i = 0; i < 60; i++) {
    const m = noiseMessage(api, i, 'redis')
    messages.push(m)
    handles.push(await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: String(i % 2), messages: [m] }))
  }
  let settled = 0
  for (const h of handles) void h.result.then(() => settled++, () => settled++)
  await waitFor(() => settled >= 5, 60_000, 'some jobs done before the restart')
  assert.ok(settled < 60, 'the restart happens mid-run')
  await redis.restart()
  const results = await Promise.allSettled(handles.map((h) => h.result))
  const failed = results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]
  assert.equal(failed.length, 0, `failed jobs: ${failed.map((f) => String(f.reason)).slice(0, 3).join(' | ')}`)
  await assertOnceOnChain(api, [alice.address, bob.address], messages)
})
