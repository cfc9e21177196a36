/**
 * The trader on the devnet (real checks of forceBatch, proxy.proxy and the Phala calls): every
 * action lands with its calls for a direct and a proxied pool; a failing call fails its own job
 * with the chain's error while its batch-mates succeed; pools come from a lifecycle over Walkie.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiPromise } from '@polkadot/api'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { u8aToHex } from '@polkadot/util'
import { type ChainConnection } from '../../src/common/chain.js'
import { tradeJobId, type TradeProducer, type TradeJobResult } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import { poolSubAccount } from '../../src/devnet/para-runtime/index.js'
import { loadLifecycleKey, type Trader } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { tempDir } from '../helpers/fs.js'
import { PHA, benchReport, keyring, landedCalls, newWorker, noiseMessage, registrationPayload, type FakeLifecycle, type TestRedis } from './helpers.js'

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
const k = keyring()
const alice = k.addFromUri('//Alice')
const bob = k.addFromUri('//Bob')
let keyDir: string

before(async () => {
  // Pool 1 is run by //Bob as //Alice's proxy.
  bed = await startTraderBed({ proxiedPool: true, trader: { batchSize: 30, batchMs: 500 }, producer: true })
  ;({ redis, devnet, api, lifecycle, walkie, conn, trader, producer, keyDir } = bed)
})

after(async () => {
  await bed?.stop()
})

async function run<A extends Parameters<TradeProducer['enqueue']>[0]>(action: A, payload: Parameters<TradeProducer['enqueue']>[1] & object): Promise<TradeJobResult> {
  const h = await producer.enqueue(action, payload as never)
  return h.result
}

test('a missing LIFECYCLE key file is a clear error, not a new key', async (t) => {
  const dir = tempDir(t)
  await assert.rejects(loadLifecycleKey(dir), (e: Error & { code?: string }) => e.code === 'ERR_TRADE_NO_LIFECYCLE_KEY' && /does not exist/.test(e.message) && /PHALA_PEER_ID_PREFIX/.test(e.message))
})

test('every action lands with its calls, for a direct pool and a proxied one', async () => {
  const flow = async (pid: number, operatorAddress: string, proxied: boolean): Promise<TradeJobResult[]> => {
    const w = newWorker(`flow-${pid}`)
    const pub = u8aToHex(w.pair.publicKey)
    const results: TradeJobResult[] = []
    results.push(await run('REGISTER_WORKER', { pid: String(pid), ...(await registrationPayload(api, devnet, w, alice)) }))
    const worker = (await api.query.phalaRegistry.workers(pub)).toJSON() as { operator: string } | null
    assert.ok(worker, `worker of pool ${pid} registered`)
    results.push(await run('BATCH_SYNC_MQ_MESSAGE', { pid: String(pid), messages: [await benchReport(api, w)] }))
    const scored = (await api.query.phalaRegistry.workers(pub)).toJSON() as { initialScore: number | null }
    assert.ok(scored.initialScore && scored.initialScore > 0, `benchmark of pool ${pid} set the score: ${JSON.stringify(scored)}`)
    results.push(await run('ADD_WORKER', { pid: String(pid), publicKey: pub }))
    assert.equal((await api.query.phalaStakePoolv2.workerAssignments(pub)).toString(), String(pid))
    const session = u8aToHex(poolSubAccount(pid, w.pair.publicKey))
    results.push(await run('START_COMPUTING', { pid: String(pid), publicKey: pub, stake: (5_000n * PHA).toString() }))
    assert.equal(BigInt((await api.query.phalaComputation.stakes(session)).toString()), 5_000n * PHA)
    results.push(await run('RESTART_COMPUTING', { pid: String(pid), publicKey: pub, stake: (6_000n * PHA).toString() }))
    assert.equal(BigInt((await api.query.phalaComputation.stakes(session)).toString()), 6_000n * PHA)
    results.push(await run('STOP_COMPUTING', { pid: String(pid), publicKey: pub }))
    const s = (await api.query.phalaComputation.sessions(session)).toJSON() as { state: string }
    assert.equal(s.state, 'WorkerCoolingDown')
    // Each result names its call; the extrinsic that carried it is the operator's, proxied or not.
    assert.deepEqual(results.map((r) => r.calls.map((c) => `${c.call}:${c.ok}`).join()), [
      'phalaRegistry.registerWorker:true', 'phalaMq.syncOffchainMessage:true', 'phalaStakePoolv2.addWorker:true',
      'phalaStakePoolv2.startComputing:true', 'phalaStakePoolv2.restartComputing:true', 'phalaStakePoolv2.stopComputing:true',
    ])
    for (const r of results) {
      const c = r.calls[0]!
      const block = await api.rpc.chain.getBlock(c.blockHash)
      const xt = block.block.extrinsics.find((x) => x.hash.toHex() === c.extrinsicHash)
      assert.ok(xt, `extrinsic ${c.extrinsicHash} in block ${c.blockNumber}`)
      assert.equal(xt.signer.toString(), operatorAddress)
      assert.equal(xt.nonce.toNumber(), c.nonce)
      assert.equal(`${xt.method.section}.${xt.method.method}`, proxied ? 'proxy.proxy' : 'utility.forceBatch')
      if (proxied) assert.equal(xt.method.args[0]!.toString(), alice.address)
      const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber()
      assert.ok(c.blockNumber <= finalized, 'a job finishes only once its block is final')
    }
    return results
  }
  await Promise.all([flow(0, alice.address, false), flow(1, bob.address, true)])

  const landed = await landedCalls(api, [alice.address, bob.address])
  const kinds = (signer: string): string[] => landed.filter((c) => c.signer === signer).map((c) => c.call)
  for (const who of [alice.address, bob.address]) {
    for (const want of ['phalaRegistry.registerWorker', 'phalaMq.syncOffchainMessage', 'phalaStakePoolv2.addWorker', 'phalaStakePoolv2.startComputing', 'phalaStakePoolv2.restartComputing', 'phalaStakePoolv2.stopComputing']) {
      assert.equal(kinds(who).filter((c) => c === want).length, 1, `${who}: ${want} exactly once`)
    }
  }
  assert.ok(landed.filter((c) => c.signer === bob.address).every((c) => c.proxied))
  const job = await trader.queue.getJob(tradeJobId({ action: 'STOP_COMPUTING', payload: { pid: '1', publicKey: u8aToHex(newWorker('flow-1').pair.publicKey) } }))
  assert.equal(job?.progress(), 'RP_FINISHED')
})

test('a call failing on chain fails its own job with the chain\'s error; its batch-mates succeed', async () => {
  const stranger = u8aToHex(randomBytes(32))
  const handles = await Promise.all([
    producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [noiseMessage(api, 1, 'mates')] }),
    producer.enqueue('ADD_WORKER', { pid: '0', publicKey: stranger }),
    producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [noiseMessage(api, 2, 'mates'), noiseMessage(api, 3, 'mates')] }),
  ])
  const [a, bad, c] = await Promise.allSettled(handles.map((h) => h.result))
  assert.equal(a.status, 'fulfilled')
  assert.equal(c.status, 'fulfilled')
  assert.equal(bad.status, 'rejected')
  const reason = (bad as PromiseRejectedResult).reason as Error
  assert.match(reason.message, /^phalaStakePoolv2\.WorkerNotRegistered/)
  // One extrinsic carried all four calls.
  const ok = [(a as PromiseFulfilledResult<TradeJobResult>).value, (c as PromiseFulfilledResult<TradeJobResult>).value]
  assert.equal(new Set(ok.flatMap((r) => r.calls.map((x) => x.extrinsicHash))).size, 1)
  const failed = await trader.queue.getJob(handles[1]!.jobId)
  assert.match(failed!.failedReason ?? '', /^phalaStakePoolv2\.WorkerNotRegistered/)
  assert.equal(failed!.progress(), 'RP_FAILED')
})

test('a bad job fails at once with a message naming the field; an unknown pool names the pool', async () => {
  const h = await producer.enqueue('ADD_WORKER', { pid: '0', publicKey: '0x1234' })
  await assert.rejects(h.result, /payload\.publicKey must be the 0x-hex 32-byte worker public key/)
  const u = await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '77', messages: [noiseMessage(api, 9, 'unknown')] })
  await assert.rejects(u.result, /pool 77 is not known to the lifecycle/)
  assert.ok(lifecycle.listCalls >= 2, 'an unknown pid refreshed the pool list')
})

test('the same step again after the chain moved on (added, removed, added again) is sent again, not answered from memory', async () => {
  const w = newWorker('readd')
  const pub = u8aToHex(w.pair.publicKey)
  await run('REGISTER_WORKER', { pid: '0', ...(await registrationPayload(api, devnet, w, alice)) })
  await run('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [await benchReport(api, w)] })
  const first = await run('ADD_WORKER', { pid: '0', publicKey: pub })
  await run('REMOVE_WORKER', { pid: '0', publicKey: pub })
  assert.ok((await api.query.phalaStakePoolv2.workerAssignments(pub)).isEmpty, 'removed from pool 0')
  // Same action and payload, so the same job id: a later intent, not a re-delivery of the first.
  const again = await run('ADD_WORKER', { pid: '0', publicKey: pub })
  assert.equal((await api.query.phalaStakePoolv2.workerAssignments(pub)).toString(), '0', 'in pool 0 again')
  assert.ok(again.calls[0]!.blockNumber > first.calls[0]!.blockNumber, `a new call landed: ${again.calls[0]!.blockNumber} after ${first.calls[0]!.blockNumber}`)
  const adds = (await landedCalls(api, [alice.address])).filter((c) => c.call === 'phalaStakePoolv2.addWorker')
  assert.ok(adds.length >= 2)
})
