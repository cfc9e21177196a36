/**
 * The node's refusals of a submission, as the devnet really answers them (chain.md §8), and what the
 * trader does with them: 1010 outdated (the operator account was used by another signer) → nonce
 * re-read, calls sent once more; 1014 priority too low (another extrinsic holds the nonce in the
 * pool) → waited for, then the calls go with the next nonce; 1013 already imported → followed; bad
 * proof / no funds → fatal. Every job finishes once, each call once, one content per nonce.
 * (1012 "temporarily banned": the devnet bans only included extrinsics, which are outdated first,
 * so it answers 1010 for them; 1012 is covered by the classification unit test.)
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiPromise } from '@polkadot/api'
import { type ChainConnection } from '../../src/common/chain.js'
import { type TradeProducer } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import { classifySubmitError } from '../../src/trade/errors.js'
import { type Trader } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { assertOnceOnChain, keyring, landedCalls, noiseMessage, nonceContents, sendFinal, waitFor, type FakeLifecycle, type TestRedis } from './helpers.js'

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

before(async () => {
  bed = await startTraderBed({ trader: { batchSize: 30, batchMs: 200 }, producer: true })
  ;({ redis, devnet, api, lifecycle, walkie, conn, trader, producer, keyDir } = bed)
})

after(async () => {
  await bed?.stop()
})

/** The devnet's refusal of `hex`, through the trader's connection, classified. */
async function refusal(hex: string): Promise<{ kind: string; message: string }> {
  try {
    await conn.rpc('author_submitExtrinsic', [hex])
  } catch (err) {
    return { kind: classifySubmitError(err), message: (err as Error).message }
  }
  throw new Error('the devnet accepted the extrinsic')
}

const nonceOf = async (address: string): Promise<number> => (await api.rpc.system.accountNextIndex(address)).toNumber()

test('the devnet\'s real refusals are classified: 1010 outdated → stale, 1013 → known, 1014 → occupied, bad proof and no funds → fatal', async () => {
  const charlie = k.addFromUri('//Charlie')
  await sendFinal(api, api.tx.system.remark('0x01'), charlie)
  const n = await nonceOf(charlie.address)
  assert.ok(n >= 1)
  const stale = await refusal((await api.tx.system.remark('0x02').signAsync(charlie, { nonce: n - 1 })).toHex())
  assert.deepEqual([stale.kind, /^1010: .*outdated/i.test(stale.message)], ['stale', true], stale.message)

  const good = (await api.tx.system.remark('0x03').signAsync(charlie, { nonce: n })).toHex()
  // A flipped signature byte (the signature starts after the length, version, address type, account and signature type).
  const lenBytes = api.createType('Compact<u32>', (good.length - 2) / 2).toU8a().length
  const at = 2 + 2 * (lenBytes + 1 + 1 + 32 + 1) + 4
  const bad = good.slice(0, at) + (good.slice(at, at + 2) === 'ff' ? '00' : 'ff') + good.slice(at + 2)
  const proof = await refusal(bad)
  assert.equal(proof.kind, 'fatal', proof.message)
  assert.match(proof.message, /^1010: /)

  const pauper = k.addFromUri('//trade-pauper')
  const poor = await refusal((await api.tx.system.remark('0x04').signAsync(pauper, { nonce: 0 })).toHex())
  assert.equal(poor.kind, 'fatal', poor.message)

  devnet.pause()
  try {
    await conn.rpc('author_submitExtrinsic', [good])
    const again = await refusal(good)
    assert.deepEqual([again.kind, again.message.startsWith('1013: ')], ['known', true], again.message)
    const rival = await refusal((await api.tx.system.remark('0x05').signAsync(charlie, { nonce: n })).toHex())
    assert.deepEqual([rival.kind, rival.message.startsWith('1014: ')], ['occupied', true], rival.message)
  } finally {
    devnet.resume()
  }
  await waitFor(async () => (await nonceOf(charlie.address)) > n, 60_000, 'the pooled remark included')
})

/** One MQ job through the trader; its call's nonce. */
async function mqJob(i: number, salt: string): Promise<{ nonce: number; message: string }> {
  const message = noiseMessage(api, i, salt)
  const r = await (await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [message] })).result
  assert.equal(r.calls.length, 1)
  assert.ok(r.calls[0]!.ok)
  return { nonce: r.calls[0]!.nonce, message }
}

test('1010 outdated: another signer used the operator account; the trader re-reads the nonce and the job lands once with the next one', async () => {
  const warm = await mqJob(1, 'stale')
  const expected = warm.nonce + 1
  // Someone else signs with the operator account, taking the nonce the trader would use next.
  await sendFinal(api, api.tx.system.remark('0x5354414c45'), alice)
  assert.equal(await nonceOf(alice.address), expected + 1)
  const job = await mqJob(2, 'stale')
  assert.equal(job.nonce, expected + 1, 'the calls went with the re-read nonce')
  await assertOnceOnChain(api, [alice.address], [warm.message, job.message])
  for (const [key, contents] of await nonceContents(redis.url)) assert.equal(contents.size, 1, `nonce ${key} signed with ${contents.size} contents`)
})

test('1014 priority too low: another extrinsic holds the nonce in the pool; the trader waits for it, then the job lands once with the next nonce', async () => {
  const warm = await mqJob(1, 'occupied')
  const held = warm.nonce + 1
  devnet.pause()
  let job: Promise<{ nonce: number; message: string }>
  try {
    // An extrinsic of another signer with the nonce the trader uses next, in the pool, no block to take it.
    devnet.para.pool.submit((await api.tx.system.remark('0x4f43435550494544').signAsync(alice, { nonce: held })).toHex())
    job = mqJob(2, 'occupied')
    // The trader's extrinsic for that nonce is refused (1014) and waits: nothing of it in the pool.
    await waitFor(async () => (await trader.journal.sent()).some((e) => e.a === alice.address && e.n === held), 60_000, 'the trader signed the held nonce')
    assert.equal(devnet.para.pool.size, 1, 'only the other signer\'s extrinsic is pooled')
  } finally {
    devnet.resume()
  }
  const done = await job
  assert.ok(done.nonce > held, `the calls went with a later nonce (${done.nonce})`)
  const remarks = (await landedCalls(api, [alice.address])).length
  assert.ok(remarks >= 2)
  await assertOnceOnChain(api, [alice.address], [warm.message, done.message])
  for (const [key, contents] of await nonceContents(redis.url)) assert.equal(contents.size, 1, `nonce ${key} signed with ${contents.size} contents`)
  const atHeld = (await nonceContents(redis.url)).get(`${alice.address}#${held}`)
  assert.equal(atHeld?.size, 1, 'the held nonce was signed by the trader once (and never with other calls)')
})
