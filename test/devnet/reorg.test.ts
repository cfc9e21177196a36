/** Forks (reorgEvery): the new best para block is replaced by a sibling; watchers see `retracted` and the tx moves. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RawClient, startTestDevnet } from './helpers.js'
import { testTx } from './test-runtime.js'

test('every 2nd para block is replaced by a sibling: new heads show both, a watched tx is retracted and lands in the sibling, state stays provable', async (t) => {
  const dn = await startTestDevnet({ history: 10, reorgEvery: 2 })
  t.after(() => dn.stop())
  const c = await RawClient.connect(dn.paraUrl)
  t.after(() => c.close())
  const heads = (await c.call('chain_subscribeNewHeads')).result
  // Para blocks come on even relay blocks: make relay blocks until the next para block is a fork one.
  while ((dn.para.chain.best.number + 1) % 2 !== 0) await dn.makeBlocks(2)
  const forkNumber = dn.para.chain.best.number + 1
  const sub = (await c.call('author_submitAndWatchExtrinsic', [testTx({ s: 'alice', n: 0 })])).result
  await dn.makeBlocks(2)
  assert.equal(dn.para.chain.best.number, forkNumber)
  const sibling = dn.para.chain.best.hash
  await dn.makeBlocks(4) // finality
  await c.until(() => c.notificationsFor(sub).some((s) => typeof s === 'object' && s !== null && 'finalized' in s), 10_000, 'finalized')
  const statuses = c.notificationsFor(sub) as Array<string | Record<string, string>>
  const inBlock = statuses.filter((s) => typeof s === 'object' && 'inBlock' in s).map((s) => (s as Record<string, string>).inBlock)
  const retracted = statuses.filter((s) => typeof s === 'object' && 'retracted' in s).map((s) => (s as Record<string, string>).retracted)
  assert.equal(inBlock.length, 2, JSON.stringify(statuses))
  assert.deepEqual(retracted, [inBlock[0]], 'the first block is retracted')
  assert.notEqual(inBlock[0], inBlock[1])
  assert.equal(inBlock[1], sibling, 'the tx moved into the sibling')
  assert.deepEqual(statuses.at(-1), { finalized: sibling })
  assert.equal(dn.para.chain.byHash(inBlock[0]!), undefined, 'the retracted block is gone')
  const seen = (c.notificationsFor(heads) as Array<{ number: string }>).map((h) => parseInt(h.number, 16))
  assert.equal(seen.filter((n) => n === forkNumber).length, 2, `two heads at ${forkNumber}: ${seen}`)
  // The sibling's state root is the root of its state (the retracted block's writes were undone).
  const proof = await c.call('state_getReadProof', [['0x00'], sibling])
  assert.equal(proof.error, undefined, JSON.stringify(proof.error))
  // Later blocks build on the sibling.
  assert.equal(dn.para.chain.byNumber(forkNumber + 1)?.header.parentHash, sibling)
})

test('with the Phala runtime, forks during the history leave every para block\'s state matching its header', async (t) => {
  const { startDevnet } = await import('../../src/devnet/devnet.js')
  const { quietLogger } = await import('./helpers.js')
  const dn = await startDevnet({ paraPort: 0, relayPort: 0, history: 30, blockMs: 3_600_000, justificationPeriod: 8, sessionBlocks: 20, pools: 1, reorgEvery: 3 }, quietLogger)
  t.after(() => dn.stop())
  const best = dn.para.chain.best.number
  assert.ok(best >= 14)
  for (let n = 1; n <= best; n++) {
    await dn.para.chain.snapshot(n) // throws when the trie of the block's state does not have the header's root
    assert.equal(dn.para.chain.byNumber(n)!.header.parentHash, dn.para.chain.byNumber(n - 1)!.hash)
  }
  const forks = dn.para.chain.blocks.filter((b) => b.header.digest.some((d) => d.includes('7072622d666f726b'))).map((b) => b.number)
  assert.deepEqual(forks, Array.from({ length: Math.floor(best / 3) }, (_, i) => 3 * (i + 1)), 'every 3rd para block is a sibling')
})
