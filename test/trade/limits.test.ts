/**
 * Batches cut at the chain's limits (System.BlockLength normal, System.BlockWeights normal
 * maxExtrinsic): the cut itself; large BATCH_SYNC_MQ_MESSAGE payloads split over several
 * extrinsics by length (one job's messages in sequence order), each fitting, each landing once.
 * A call that alone exceeds the limits (tooLarge) is checked in the cut test: on the devnet that takes
 * a 3 MB message, which this loaded test machine signs too slowly for the test's deadline.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiPromise } from '@polkadot/api'
import type { TradeJobResult, TradeProducer } from '../../src/common/trade-queue.js'
import { budgetOf, cutCount, tooLarge, type ExtrinsicLimits } from '../../src/trade/batch-cut.js'
import { signedMessage } from './helpers.js'
import { alice, operatorExtrinsics, sender, startLimitsBed, type LimitsBed } from './limits-bed.js'

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

test('large MQ payloads are split by length: one job\'s messages span extrinsics in order, every extrinsic fits, each message lands once', async () => {
  const from = (await api.rpc.chain.getHeader()).number.toNumber()
  const size = 800_000
  const payload = (i: number): Uint8Array => new Uint8Array(size).fill(i % 251)
  const w = sender('big')
  // One worker's messages in one job, as the lifecycle sends them: sequence 0, 1, …
  const messages = Array.from({ length: 6 }, (_, seq) => signedMessage(api, w as never, 'prb/trade-limits', payload(seq), seq))
  const totalBytes = messages.reduce((n, m) => n + (m.length - 2) / 2, 0)
  assert.ok(totalBytes > limits.maxBytes, `the calls (${totalBytes} bytes) exceed one extrinsic (${limits.maxBytes})`)
  const r: TradeJobResult = await (await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages })).result
  assert.equal(r.calls.length, messages.length)
  assert.ok(r.calls.every((c) => c.ok))
  const used = new Set(r.calls.map((c) => c.extrinsicHash))
  assert.ok(used.size >= Math.ceil(totalBytes / limits.maxBytes), `${used.size} extrinsics for ${totalBytes} bytes`)
  // In sequence order: a later message never sits in an earlier extrinsic (nonce order).
  for (let i = 1; i < r.calls.length; i++) assert.ok(r.calls[i]!.nonce >= r.calls[i - 1]!.nonce, `message ${i} after message ${i - 1}`)
  const xts = await operatorExtrinsics(api, alice.address, from, false)
  const mine = xts.filter((x) => used.has(x.hash))
  assert.equal(mine.length, used.size, 'every extrinsic named in the result is on chain')
  for (const x of mine) assert.ok(x.bytes <= limits.maxBytes, `extrinsic ${x.hash} is ${x.bytes} bytes, over the chain's ${limits.maxBytes}`)
  // Each message executed exactly once (the messages are new: nothing before `from` holds them).
  const counts = new Map<string, number>()
  for (const c of xts.flatMap((x) => x.calls)) counts.set(c, (counts.get(c) ?? 0) + 1)
  for (const [i, m] of messages.entries()) {
    assert.equal(counts.get(api.tx.phalaMq.syncOffchainMessage(api.createType('PhalaMqSignedMessage', m)).method.toHex()), 1, `message ${i} landed once`)
  }
})
