/**
 * A nonce gap in a pipelined lane (PHALA_TRADE_POOL_CONCURRENCY 2): two extrinsics of one operator
 * are pooled (nonces n and n+1); the node drops both, takes n+1 back but refuses n outright (1010
 * "Inability to pay some fees", as when the operator ran dry, injected on that extrinsic's bytes).
 * n+1 then waits in the pool for nonce n, which no extrinsic holds any more: the trader fills it
 * with the next batch when calls wait, else with an empty forceBatch, so n+1 lands at once (not
 * eras later). n's jobs fail with the chain's reason; every other job finishes once; no call runs
 * twice; the only nonce signed with two contents is the refused one. And with both slots taken, a
 * whole batch waiting is prepared ahead (signed and journaled, not submitted) and goes once a slot frees.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { type ChainConnection } from '../../src/common/chain.js'
import { type TradeJobHandle, type TradeJobResult, type TradeProducer } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import { type Trader } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { assertOnceOnChain, keyring, landedCalls, noiseMessage, nonceContents, waitFor, type FakeLifecycle, type TestRedis } from './helpers.js'

import { startTraderBed, type TraderBed } from './bed.js'

let bed: TraderBed
let redis: TestRedis
let devnet: Devnet
let api: ApiPromise
let lifecycle: FakeLifecycle
let walkie: Walkie
let conn: ChainConnection
let trader: Trader
let producer: TradeProducer
let keyDir: string
const k = keyring()
const alice = k.addFromUri('//Alice')

/** Extrinsic bytes the node refuses (fatal), and every submission the trader made, by nonce. */
const refuse = new Set<string>()
const submitted = new Map<number, string[]>()
/** Nonces whose first content the node refused (each test makes one). */
const gaps = new Set<number>()
const REFUSAL = '1010: Invalid Transaction: Inability to pay some fees (e.g. account balance too low)'

/** The trader's connection, refusing the extrinsics in `refuse` as the node refuses one that cannot pay. */
function faultyConnection(inner: ChainConnection): ChainConnection {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'subscribe') return Reflect.get(target, prop, receiver) as unknown
      const subscribe: ChainConnection['subscribe'] = async (spec, onValue, opts) => {
        if (spec.method === 'author_submitAndWatchExtrinsic') {
          const hex = String(spec.params?.[0])
          const nonce = api.createType('Extrinsic', hex).nonce.toNumber()
          submitted.set(nonce, [...(submitted.get(nonce) ?? []), hex])
          if (refuse.has(hex)) throw Object.assign(new Error(REFUSAL), { code: 1010 })
        }
        return target.subscribe(spec, onValue, opts)
      }
      return subscribe
    },
  })
}

before(async () => {
  bed = await startTraderBed({ trader: { batchSize: 4, batchMs: 100, poolConcurrency: 2 }, wrapChain: faultyConnection, producer: true })
  ;({ redis, devnet, api, lifecycle, walkie, conn, trader, producer, keyDir } = bed)
})

after(async () => {
  await bed?.stop()
})

interface Wave { messages: string[]; handles: TradeJobHandle[] }

/** `count` one-call jobs for pool 0 (one batch of the trader's 4 calls each 4 jobs). */
async function enqueue(count: number, salt: string): Promise<Wave> {
  const messages = Array.from({ length: count }, (_, i) => noiseMessage(api, i, salt))
  const handles = await Promise.all(messages.map((m) => producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [m] })))
  return { messages, handles }
}

const nonceOf = async (): Promise<number> => (await api.rpc.system.accountNextIndex(alice.address)).toNumber()

/**
 * Pause block production, let the trader pool two batches (nonces n, n+1), then drop the pool with
 * n's bytes refused from now on. Returns n, and resumes after `meanwhile`.
 */
async function gapAt(meanwhile: () => Promise<void>): Promise<number> {
  const n = await nonceOf()
  devnet.pause()
  try {
    await waitFor(() => devnet.para.pool.size === 2, 30_000, () => `the trader pooled 2 extrinsics (pool holds ${devnet.para.pool.size})`)
    const held = submitted.get(n)
    assert.ok(held?.length === 1 && submitted.get(n + 1)?.length === 1, `nonces ${n} and ${n + 1} were submitted once each`)
    await meanwhile()
    refuse.add(held[0]!)
    // The node drops both (as a pool revalidation would); the trader resubmits: n is refused, n+1 waits for n.
    devnet.para.pool.clear()
    await waitFor(() => (submitted.get(n) ?? []).length >= 3 && (submitted.get(n + 1) ?? []).length >= 2, 30_000,
      () => `nonce ${n} resubmitted (refused) and taken by new content; ${n + 1} resubmitted (${JSON.stringify([...submitted].map(([a, b]) => [a, b.length]))})`)
    await waitFor(() => devnet.para.pool.size === 2, 30_000, () => `nonces ${n} and ${n + 1} pooled again (pool holds ${devnet.para.pool.size})`)
  } finally {
    devnet.resume()
  }
  gaps.add(n)
  return n
}

/** The outcome of a wave: rejections' messages, and the results of those that finished. */
async function settle(w: Wave): Promise<{ failed: string[]; ok: TradeJobResult[] }> {
  const r = await Promise.allSettled(w.handles.map((h) => h.result))
  return {
    failed: r.filter((x) => x.status === 'rejected').map((x) => String(((x as PromiseRejectedResult).reason as Error).message)),
    ok: r.filter((x) => x.status === 'fulfilled').map((x) => (x as PromiseFulfilledResult<TradeJobResult>).value),
  }
}

test('a refused extrinsic below a pooled one, no call waiting: an empty forceBatch takes its nonce and the later batch lands at once', async () => {
  const warm = await enqueue(1, 'gap-warm')
  assert.equal((await settle(warm)).ok.length, 1)
  const ab = await enqueue(8, 'gap-filler')
  const t0 = Date.now()
  const n = await gapAt(async () => undefined)
  const { failed, ok } = await settle(ab)
  const ms = Date.now() - t0
  assert.equal(failed.length, 4, `the refused batch's 4 jobs fail (${failed.length}: ${failed.slice(0, 2).join(' | ')})`)
  for (const f of failed) assert.match(f, /Inability to pay some fees/)
  assert.equal(ok.length, 4)
  for (const r of ok) assert.ok(r.calls.every((c) => c.ok && c.nonce === n + 1), `the other batch landed with nonce ${n + 1}: ${JSON.stringify(r.calls.map((c) => c.nonce))}`)
  // Nonce n+1 waited for n only until the filler: well inside one mortal era (64 blocks of 200 ms).
  assert.ok(ms < 12_000, `the jobs finished ${ms} ms after the gap (an era is 12.8 s)`)
  // The filler at n: an empty forceBatch of the operator's, in the batch's block or just before it.
  const at = ok[0]!.calls[0]!.blockNumber
  const blocks = await Promise.all([0, 1, 2, 3].map(async (i) => api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(at - i))))
  const filler = blocks.flatMap((b) => [...b.block.extrinsics]).find((x) => x.isSigned && x.signer.toString() === alice.address && x.nonce.toNumber() === n)
  assert.ok(filler, `an extrinsic of the operator with nonce ${n} landed`)
  assert.deepEqual([filler.method.section, filler.method.method, (filler.method.args[0] as unknown as unknown[]).length], ['utility', 'forceBatch', 0])
  await checkOnce(warm.messages, ab)
})

test('a refused extrinsic below a pooled one, calls waiting: the next batch takes its nonce', async () => {
  const ab = await enqueue(8, 'gap-batch')
  let c: Wave | undefined
  const n = await gapAt(async () => {
    // Waiting behind the two pooled batches (both slots taken); fewer than a batch, so not prepared
    // ahead (only whole batches are), and due once the batch window (100 ms) has passed.
    c = await enqueue(3, 'gap-batch-c')
    await waitFor(() => trader.stats().waiting === 3, 30_000, () => `the trader holds the 3 calls (${trader.stats().waiting})`)
    await new Promise((r) => setTimeout(r, 300))
  })
  const first = await settle(ab)
  const third = await settle(c!)
  assert.equal(first.failed.length, 4, `the refused batch's 4 jobs fail (${first.failed.length})`)
  assert.equal(first.ok.length, 4)
  assert.equal(third.ok.length, 3, `the waiting batch's jobs finish (${third.failed.join(' | ')})`)
  for (const r of first.ok) assert.ok(r.calls.every((x) => x.nonce === n + 1))
  for (const r of third.ok) assert.ok(r.calls.every((x) => x.nonce === n), `the waiting batch took the free nonce ${n}: ${JSON.stringify(r.calls.map((x) => x.nonce))}`)
  await checkOnce([], ab, c!.messages)
})

/** Each finished job's call executed once, the refused ones never; one content per nonce except the refused ones (two). */
async function checkOnce(extra: string[], ab: Wave, more: string[] = []): Promise<void> {
  // Which messages finished: the handles in order with their outcomes.
  const r = await Promise.allSettled(ab.handles.map((h) => h.result))
  const done = ab.messages.filter((_, i) => r[i]!.status === 'fulfilled')
  const refused = ab.messages.filter((_, i) => r[i]!.status === 'rejected')
  await assertOnceOnChain(api, [alice.address], [...extra, ...done, ...more])
  const landed = new Set((await landedCalls(api, [alice.address])).map((c) => c.argsHex))
  for (const m of refused) {
    const hex = api.tx.phalaMq.syncOffchainMessage(api.createType('PhalaMqSignedMessage', m)).method.toHex()
    assert.ok(!landed.has(hex), 'a refused call never executed')
  }
  for (const [key, contents] of await nonceContents(redis.url)) {
    if (gaps.has(Number(key.split('#')[1]))) assert.equal(contents.size, 2, 'the refused nonce: its refused content, then the content that took it')
    else assert.equal(contents.size, 1, `nonce ${key} signed with ${contents.size} contents`)
  }
}

test('a whole batch waiting behind full slots is prepared ahead (signed, journaled, not submitted) and goes once a slot frees', async () => {
  const n = await nonceOf()
  devnet.pause()
  let w: Wave
  try {
    w = await enqueue(12, 'prepared')
    await waitFor(async () => (await trader.journal.sent()).some((e) => e.a === alice.address && e.n === n + 2), 30_000, `nonce ${n + 2} prepared`)
    await waitFor(() => devnet.para.pool.size === 2, 30_000, () => `two extrinsics pooled (${devnet.para.pool.size})`)
    assert.equal(submitted.get(n + 2), undefined, 'the prepared extrinsic was not submitted while both slots were taken')
    assert.equal(trader.operators()[0]!.inFlight, 3)
  } finally {
    devnet.resume()
  }
  const { failed, ok } = await settle(w)
  assert.equal(failed.length, 0, failed.join(' | '))
  assert.deepEqual([...new Set(ok.map((r) => r.calls[0]!.nonce))].sort((a, b) => a - b), [n, n + 1, n + 2])
  assert.equal(submitted.get(n + 2)?.length, 1)
  await assertOnceOnChain(api, [alice.address], w.messages)
})
