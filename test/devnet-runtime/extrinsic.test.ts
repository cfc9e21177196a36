import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MiniChain, runtime, nonceOf } from './helpers.js'

const PHA = 10n ** 12n

test('a signed transfer validates, executes, charges the queried fee and emits the real events', async () => {
  const c = new MiniChain(await runtime())
  const call = c.call('balances', 'transferKeepAlive', [{ Id: c.charlie.publicKey }, 5n * PHA])
  const xt = c.sign(c.alice, call)
  const v = c.rt.validateTransaction(c.state, c.ctx(), xt)
  assert.ok(v.ok)
  assert.equal(v.nonce, 0)
  assert.equal(v.signer, c.alice.address)
  assert.deepEqual(v.requires, [])
  const fee = BigInt(c.rt.queryInfo(c.state, xt).partialFee)
  assert.ok(fee > 0n)
  const [a0, ch0] = [c.free(c.alice), c.free(c.charlie)]
  const b = c.block([xt])
  assert.equal(b.extrinsics.length, 3, 'timestamp.set, setValidationData, the transfer')
  assert.deepEqual(b.included.map((i) => [i.index, i.success]), [[2, true]])
  assert.equal(b.included[0].hash, v.hash)
  assert.equal(c.free(c.alice), a0 - 5n * PHA - fee)
  assert.equal(c.free(c.charlie), ch0 + 5n * PHA)
  assert.equal(nonceOf(c, c.alice), 1)
  const evs = c.eventsOf(2).map((e) => `${e.section}.${e.method}`)
  assert.deepEqual(evs, ['balances.Withdraw', 'balances.Transfer', 'transactionPayment.TransactionFeePaid', 'system.ExtrinsicSuccess'])
  const paid = c.eventsOf(2).find((e) => e.method === 'TransactionFeePaid')!
  assert.equal(String(paid.data.actualFee), fee.toString())
  // inherents: timestamp.set then parachainSystem.setValidationData, Mandatory
  const inh = c.events().filter((e) => e.phase.includes('applyExtrinsic":0') || e.phase.includes('applyExtrinsic":1'))
  assert.deepEqual(inh.map((e) => `${e.method}:${(e.data.dispatchInfo as any).class.toString()}`), ['ExtrinsicSuccess:Mandatory', 'ExtrinsicSuccess:Mandatory'])
  const call0 = c.registry.createType('Extrinsic', b.extrinsics[0]).method
  const call1 = c.registry.createType('Extrinsic', b.extrinsics[1]).method
  assert.equal(`${call0.section}.${call0.method}`, 'timestamp.set')
  assert.equal(`${call1.section}.${call1.method}`, 'parachainSystem.setValidationData')
})

test('nonce: stale is outdated, future is valid with a requires tag and not included', async () => {
  const c = new MiniChain(await runtime())
  c.block([c.sign(c.bob, c.call('system', 'remark', ['0x01']))])
  assert.equal(nonceOf(c, c.bob), 1)
  const stale = c.rt.validateTransaction(c.state, c.ctx(), c.sign(c.bob, c.call('system', 'remark', ['0x02']), { nonce: 0 }))
  assert.deepEqual(stale, { ok: false, error: { code: 1010, message: 'Invalid Transaction', data: 'Transaction is outdated' } })
  const futureXt = c.sign(c.bob, c.call('system', 'remark', ['0x03']), { nonce: 3 })
  const future = c.rt.validateTransaction(c.state, c.ctx(), futureXt)
  assert.ok(future.ok)
  assert.equal(future.requires.length, 1)
  const b = c.block([futureXt])
  assert.deepEqual(b.included, [])
  assert.deepEqual(b.dropped, [], 'a future tx is kept for later, not invalid')
  // a stale one offered to a block is dropped with the pool error
  const b2 = c.block([c.sign(c.bob, c.call('system', 'remark', ['0x04']), { nonce: 0 })])
  assert.equal(b2.dropped[0]?.error.data, 'Transaction is outdated')
})

test('bad signature, wrong genesis, mortal eras, metadata-hash mode and payment', async () => {
  const c = new MiniChain(await runtime())
  const call = c.call('system', 'remark', ['0x1234'])
  const good = c.sign(c.alice, call)
  const tampered = good.slice(0, 80) + (good[80] === '0' ? '1' : '0') + good.slice(81)
  const bad = c.rt.validateTransaction(c.state, c.ctx(), tampered)
  assert.deepEqual(bad, { ok: false, error: { code: 1010, message: 'Invalid Transaction', data: 'Transaction has a bad signature' } })
  const otherChain = new MiniChain(c.rt, c.genesisTime + 1)
  const wrongGenesis = c.rt.validateTransaction(c.state, c.ctx(), otherChain.sign(c.alice, call, { nonce: 0 }))
  assert.equal(!wrongGenesis.ok && wrongGenesis.error.data, 'Transaction has a bad signature')
  // mortal era born at the best block
  for (let i = 0; i < 3; i++) c.block([])
  const mortal = c.sign(c.alice, call, { era: 64 })
  assert.ok(c.rt.validateTransaction(c.state, c.ctx(), mortal).ok)
  const b = c.block([mortal])
  assert.equal(b.included[0]?.success, true)
  // an era signed on another fork's block hash fails the signature
  const forked = new MiniChain(c.rt, c.genesisTime)
  forked.state = c.state
  forked.hashes.push(...c.hashes.slice(1, -1).map((h) => h.replace(/.$/, '0')))
  const forkXt = forked.sign(c.alice, call, { era: 64, nonce: 1 })
  assert.equal((c.rt.validateTransaction(c.state, c.ctx(), forkXt) as any).error.data, 'Transaction has a bad signature')
  // payload over 256 bytes is hashed before signing
  const big = c.sign(c.alice, c.call('system', 'remark', ['0x' + 'ab'.repeat(400)]))
  assert.ok(c.rt.validateTransaction(c.state, c.ctx(), big).ok)
  // CheckMetadataHash mode 1 cannot be checked by a runtime built without the hash
  const mode1 = c.sign(c.alice, call, { mode: 1 })
  assert.deepEqual((c.rt.validateTransaction(c.state, c.ctx(), mode1) as any).error, { code: 1011, message: 'Unknown Transaction Validity', data: 'CannotLookup' })
  // an account without funds cannot pay
  const poor = c.keyring.addFromUri('//NoMoney')
  const p = c.rt.validateTransaction(c.state, c.ctx(), c.sign(poor, call, { nonce: 0 }))
  assert.equal((p as any).error.data, 'Inability to pay some fees (e.g. account balance too low)')
  // garbage
  const g = c.rt.validateTransaction(c.state, c.ctx(), '0x0c840000')
  assert.equal((g as any).error.code, 1001)
})

test('a failed call keeps fee and nonce but drops its writes; ExtrinsicFailed carries a Token error', async () => {
  const c = new MiniChain(await runtime())
  const before = c.free(c.bob)
  const call = c.call('balances', 'transferKeepAlive', [{ Id: c.alice.publicKey }, before])
  const xt = c.sign(c.bob, call)
  const fee = BigInt(c.rt.queryInfo(c.state, xt).partialFee)
  const b = c.block([xt])
  assert.equal(b.included[0].success, false)
  const failed = c.eventsOf(2).find((e) => e.method === 'ExtrinsicFailed')!
  assert.equal(c.errorName(failed.data.dispatchError), 'Token')
  assert.equal(c.free(c.bob), before - fee)
  assert.equal(nonceOf(c, c.bob), 1)
})
