/**
 * Batches cut at the chain's limits (System.BlockLength normal, System.BlockWeights normal
 * maxExtrinsic): the cut itself; large BATCH_SYNC_MQ_MESSAGE payloads split over several
 * extrinsics by length (one job's messages in sequence order), each fitting, each landing once; a
 * call that alone exceeds the limit fails its job with a clear error and is never sent.
 * Weight: limits-weight.test.ts.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiPromise } from '@polkadot/api'
import type { TradeJobResult, TradeProducer } from '../../src/common/trade-queue.js'
import { budgetOf, cutCount, tooLarge, type ExtrinsicLimits } from '../../src/trade/batch-cut.js'
import { assertOnceOnChain, signedMessage } from './helpers.js'
import { bob, operatorExtrinsics, sender, startLimitsBed, type LimitsBed } from './limits-bed.js'

let bed: LimitsBed
let api: ApiPromise
let producer: TradeProducer
let limits: ExtrinsicLimits

before(async () => {
  bed = await startLimitsBed()
  ;({ api, producer, limits } = bed)
})

after(() => bed?.stop())

test('the cut: at most the batch size, within three quarters of every limit, at least one call', () => {
  const l: ExtrinsicLimits = { maxBytes: 1000, maxRefTime: 1_000_000_000n, maxProofSize: 10_000n }
  const c = (bytes: number, refTime = 0n, proofSize = 0n) => ({ bytes, refTime, proofSize })
  assert.equal(cutCount(Array.from({ length: 10 }, () => c(10)), l, 4), 4)
  // 750 - 200 overhead = 550 bytes: 5 calls of 100.
  assert.equal(cutCount(Array.from({ length: 10 }, () => c(100)), l, 100), 5)
  // 750,000,000 ref time, each call 90,000,000 + 10,000,000 margin: 7.
  assert.equal(cutCount(Array.from({ length: 10 }, () => c(1, 90_000_000n)), l, 100), 7)
  // 7,500 proof size: 3 calls of 2,000.
  assert.equal(cutCount(Array.from({ length: 10 }, () => c(1, 0n, 2_000n)), l, 100), 3)
  assert.equal(cutCount([c(100), c(500)], l, 100), 1)
  assert.deepEqual(budgetOf(l), { maxBytes: 750, maxRefTime: 750_000_000n, maxProofSize: 7_500n })
  assert.match(tooLarge(c(600), l)!, /600 bytes, more than an extrinsic may carry \(750 of the chain's 1000\)/)
  assert.match(tooLarge(c(1, 0n, 8_000n), l)!, /proof size \(8000\)/)
  assert.equal(tooLarge(c(500, 100n, 100n), l), undefined)
})

test('large MQ payloads are split by length: every extrinsic fits, one job\'s messages span extrinsics in order, each lands once', async () => {
  const from = (await api.rpc.chain.getHeader()).number.toNumber()
  const size = 400_000
  const payload = (i: number): Uint8Array => new Uint8Array(size).fill(i % 251)
  const w = sender('big')
  const bigJob = Array.from({ length: 12 }, (_, seq) => signedMessage(api, w as never, 'prb/trade-limits', payload(seq), seq))
  const singles = [signedMessage(api, sender('single') as never, 'prb/trade-limits', payload(100), 0)]
  const totalBytes = [...bigJob, ...singles].reduce((n, m) => n + (m.length - 2) / 2, 0)
  assert.ok(totalBytes > limits.maxBytes, `the calls (${totalBytes} bytes) exceed one extrinsic (${limits.maxBytes})`)
  const handles = await Promise.all([
    producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '1', messages: bigJob }),
    ...singles.map((m) => producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '1', messages: [m] })),
  ])
  const results: TradeJobResult[] = await Promise.all(handles.map((h) => h.result))
  const big = results[0]!
  assert.equal(big.calls.length, 12)
  assert.ok(big.calls.every((c) => c.ok))
  assert.ok(new Set(big.calls.map((c) => c.extrinsicHash)).size >= 2, 'the big job spans several extrinsics')
  // In sequence order: a later message never sits in an earlier extrinsic (nonce order).
  for (let i = 1; i < 12; i++) assert.ok(big.calls[i]!.nonce >= big.calls[i - 1]!.nonce, `message ${i} after message ${i - 1}`)
  const xts = await operatorExtrinsics(api, bob.address, from, false)
  const used = new Set(results.flatMap((r) => r.calls.map((c) => c.extrinsicHash)))
  const mine = xts.filter((x) => used.has(x.hash))
  assert.equal(mine.length, used.size, 'every extrinsic named in the results is on chain')
  assert.ok(mine.length >= Math.ceil(totalBytes / limits.maxBytes), `${mine.length} extrinsics for ${totalBytes} bytes`)
  for (const x of mine) assert.ok(x.bytes <= limits.maxBytes, `extrinsic ${x.hash} is ${x.bytes} bytes, over the chain's ${limits.maxBytes}`)
  await assertOnceOnChain(api, [bob.address], [...bigJob, ...singles])
})

test('a call that alone exceeds the limit fails its job with a clear error and is never sent', async () => {
  const sentBefore = bed.trader.stats().extrinsicsSent
  const huge = signedMessage(api, sender('huge') as never, 'prb/trade-limits', new Uint8Array(budgetOf(limits).maxBytes), 0)
  const h = await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [huge] })
  await assert.rejects(h.result, /call 1 of job .* \(phalaMq\.syncOffchainMessage\) cannot be sent: it is \d+ bytes, more than an extrinsic may carry/)
  assert.equal(bed.trader.stats().extrinsicsSent, sentBefore)
})
