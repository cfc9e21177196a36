/**
 * Many calls are split by weight: more calls than one extrinsic may carry by the chain's normal
 * maxExtrinsic proof size; each extrinsic stays within maxExtrinsic (ref time and proof size) and
 * every call lands once. (Length: limits.test.ts.)
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiPromise } from '@polkadot/api'
import { u8aToHex } from '@polkadot/util'
import type { TradeProducer } from '../../src/common/trade-queue.js'
import type { ExtrinsicLimits } from '../../src/trade/batch-cut.js'
import { landedCalls } from './helpers.js'
import { alice, operatorExtrinsics, randomBytes, startLimitsBed, type LimitsBed } from './limits-bed.js'

let bed: LimitsBed
let api: ApiPromise
let producer: TradeProducer
let limits: ExtrinsicLimits

before(async () => {
  bed = await startLimitsBed()
  ;({ api, producer, limits } = bed)
})

after(() => bed?.stop())

test('many calls are split by weight: each extrinsic within maxExtrinsic (ref time and proof size); every call lands once', async () => {
  const from = (await api.rpc.chain.getHeader()).number.toNumber()
  const probe = api.tx.phalaStakePoolv2.addWorker(0, u8aToHex(randomBytes(32)))
  const w = (await probe.paymentInfo(alice.address)).weight
  const perCall = w.proofSize.toBigInt()
  assert.ok(perCall > 0n, 'addWorker has a proof size')
  // More calls than one extrinsic may carry by proof size.
  const n = Number(limits.maxProofSize / perCall) + 200
  const keys = Array.from({ length: n }, () => u8aToHex(randomBytes(32)))
  const handles = []
  for (let i = 0; i < n; i += 300) handles.push(...await Promise.all(keys.slice(i, i + 300).map((publicKey) => producer.enqueue('ADD_WORKER', { pid: '0', publicKey }))))
  const results = await Promise.allSettled(handles.map((h) => h.result))
  // Each call executed and failed on chain (the workers are not registered): the chain's error, not a refusal.
  const reasons = new Set(results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message).split(':')[0] : 'fulfilled')))
  assert.deepEqual([...reasons], ['phalaStakePoolv2.WorkerNotRegistered'])
  const xts = await operatorExtrinsics(api, alice.address, from, true)
  assert.ok(xts.length >= 2, `${n} calls went in ${xts.length} extrinsic(s)`)
  for (const x of xts) {
    assert.ok(x.proofSize <= limits.maxProofSize, `extrinsic ${x.hash}: proof size ${x.proofSize} over the chain's ${limits.maxProofSize}`)
    assert.ok(x.refTime <= limits.maxRefTime, `extrinsic ${x.hash}: ref time ${x.refTime} over the chain's ${limits.maxRefTime}`)
    assert.ok(x.bytes <= limits.maxBytes)
  }
  const landed = (await landedCalls(api, [alice.address])).filter((c) => c.blockNumber > from && c.call === 'phalaStakePoolv2.addWorker')
  const counts = new Map<string, number>()
  for (const c of landed) counts.set(c.argsHex, (counts.get(c.argsHex) ?? 0) + 1)
  for (const key of keys) assert.equal(counts.get(api.tx.phalaStakePoolv2.addWorker(0, key).method.toHex()), 1, `addWorker(${key}) landed once`)
})

