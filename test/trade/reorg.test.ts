/**
 * Forks: the devnet replaces every 3rd new best para block by a sibling (PHALA_DEVNET_REORG_EVERY),
 * so extrinsics the trader saw InBlock are retracted and move to the sibling. Every job finishes
 * exactly once, in a canonical finalized block (never the retracted one); the calls of retracted
 * blocks are followed to finality; each call executes once on chain; no nonce carries two contents.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { blake2AsHex } from '@polkadot/util-crypto'
import { type ChainConnection } from '../../src/common/chain.js'
import { createTradeProducer, type TradeJobHandle, type TradeJobResult } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import { type Trader } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { assertOnceOnChain, keyring, noiseMessage, nonceContents, testLogger, type FakeLifecycle, type TestRedis } from './helpers.js'

const REORG_EVERY = 3
import { startTraderBed, type TraderBed } from './bed.js'

let bed: TraderBed
let redis: TestRedis
let devnet: Devnet
let api: ApiPromise
let lifecycle: FakeLifecycle
let walkie: Walkie
let conn: ChainConnection
let trader: Trader
let keyDir: string
const k = keyring()
const alice = k.addFromUri('//Alice')
const bob = k.addFromUri('//Bob')
/** Every para block a fork replaced: its number, hash and the hashes of its extrinsics. */
const retracted: Array<{ number: number; hash: string; xts: Set<string> }> = []

before(async () => {
  bed = await startTraderBed({
    devnet: { reorgEvery: REORG_EVERY },
    onDevnet: (d) => d.para.chain.on('retracted', (b) => retracted.push({ number: b.number, hash: b.hash, xts: new Set(b.extrinsics.map((x) => blake2AsHex(x, 256))) })),
    proxiedPool: true,
    // Two extrinsics per operator on their way into a block: a retraction also puts back a nonce with a later one pooled behind it.
    trader: { batchSize: 8, batchMs: 200, poolConcurrency: 2 },
  })
  ;({ redis, devnet, api, lifecycle, walkie, conn, trader, keyDir } = bed)
})

after(async () => {
  await bed?.stop()
})

test('forks retract blocks holding the trader\'s extrinsics: every job finishes once, in a final canonical block; no call twice, no nonce reused', async (t) => {
  const completions = new Map<string, number>()
  trader.queue.on('completed', (job) => completions.set(String(job.id), (completions.get(String(job.id)) ?? 0) + 1))
  const producer = createTradeProducer({ redisUrl: redis.url, reconcileMs: 1000 }, { logger: testLogger() })
  t.after(() => producer.close())
  const forksBefore = retracted.length
  const messages: string[] = []
  const handles: TradeJobHandle[] = []
  // Jobs arrive over a few seconds, so extrinsics are in flight across many forks.
  for (let wave = 0; wave < 6; wave++) {
    for (let i = 0; i < 20; i++) {
      const m = noiseMessage(api, wave * 20 + i, 'reorg')
      messages.push(m)
      handles.push(await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: String(i % 2), messages: [m] }))
    }
    await new Promise<void>((r) => devnet.para.chain.once('block', () => r()))
  }
  const results = await Promise.allSettled(handles.map((h) => h.result))
  const failed = results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]
  assert.equal(failed.length, 0, `failed jobs: ${failed.map((f) => String(f.reason)).slice(0, 3).join(' | ')}`)
  const ok = results.map((r) => (r as PromiseFulfilledResult<TradeJobResult>).value)

  const forks = retracted.slice(forksBefore)
  assert.ok(forks.length >= 3, `the devnet forked during the run (${forks.length} retracted blocks)`)
  // The forks hit the trader: some extrinsics carrying job calls sat in a block that was then retracted.
  const retractedXts = new Set(forks.flatMap((f) => [...f.xts]))
  const retractedHashes = new Set(forks.map((f) => f.hash))
  const hitCalls = ok.flatMap((r) => r.calls).filter((c) => retractedXts.has(c.extrinsicHash))
  assert.ok(hitCalls.length > 0, 'some job calls were in a retracted block')

  // Each result names the canonical finalized block its call executed in, never a retracted one.
  const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber()
  const canonical = new Map<number, string>()
  for (const c of ok.flatMap((r) => r.calls)) {
    assert.ok(c.ok, `call ${c.call} ok`)
    assert.ok(!retractedHashes.has(c.blockHash), `call reported in retracted block ${c.blockHash}`)
    assert.ok(c.blockNumber <= finalized, `call in block ${c.blockNumber} reported before finality (${finalized})`)
    if (!canonical.has(c.blockNumber)) canonical.set(c.blockNumber, (await api.rpc.chain.getBlockHash(c.blockNumber)).toHex())
    assert.equal(c.blockHash, canonical.get(c.blockNumber), `block ${c.blockNumber} is the canonical one`)
    const block = await api.rpc.chain.getBlock(c.blockHash)
    assert.ok(block.block.extrinsics.some((x) => x.hash.toHex() === c.extrinsicHash), `extrinsic ${c.extrinsicHash} is in block ${c.blockNumber}`)
  }
  assert.ok(hitCalls.every((c) => !retractedHashes.has(c.blockHash)), 'calls of retracted blocks were followed to the sibling')

  // Exactly once: each job completed one time, each call executed one time, one content per nonce.
  assert.equal(completions.size, handles.length, 'every job completed')
  assert.ok([...completions.values()].every((n) => n === 1), 'no job completed twice')
  assert.equal(await trader.queue.getFailedCount(), 0)
  await assertOnceOnChain(api, [alice.address, bob.address], messages)
  for (const [key, contents] of await nonceContents(redis.url)) assert.equal(contents.size, 1, `nonce ${key} signed with ${contents.size} contents`)
})
