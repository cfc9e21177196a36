import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { u8aConcat, u8aToHex, bnToU8a, stringToU8a, hexToU8a } from '@polkadot/util'
import { makeDevnetIasReport } from '../../src/devnet/attestation.js'
import { poolSubAccount, poolAccount, WPHA_ASSET_ID } from '../../src/devnet/para-runtime/index.js'
import { mapKey } from '../../src/devnet/para-runtime/storage.js'
import { MiniChain, runtime } from './helpers.js'

const PHA = 10n ** 12n
const RELAY_GENESIS = '0x' + '77'.repeat(32)

interface Worker { pair: KeyringPair; ecdh: Uint8Array; seq: number }

function newWorker(name: string): Worker {
  return { pair: new Keyring({ type: 'sr25519' }).addFromUri(`//worker-${name}`), ecdh: new Keyring({ type: 'sr25519' }).addFromUri(`//ecdh-${name}`).publicKey, seq: 0 }
}

function runtimeInfo(c: MiniChain, w: Worker, operator: KeyringPair | null, over: Record<string, unknown> = {}): Uint8Array {
  return c.registry.createType('PhalaTypesWorkerRegistrationInfo', {
    version: 2, machineId: 'machine', pubkey: w.pair.publicKey, ecdhPubkey: w.ecdh, genesisBlockHash: RELAY_GENESIS,
    features: [4, 1], operator: operator ? u8aToHex(operator.publicKey) : null, ...over,
  }).toU8a()
}

function registerCall(c: MiniChain, info: Uint8Array, report = makeDevnetIasReport(info, c.timeOf(c.number + 1) - 60_000)) {
  return c.call('phalaRegistry', 'registerWorker', [info, { SgxIas: { raReport: u8aToHex(report.raReport), signature: u8aToHex(report.signature), rawSigningCert: u8aToHex(report.rawSigningCert) } }])
}

/** A worker's signed MQ message (SCALE SignedMessage), as pRuntime egress carries it. */
function signedMessage(c: MiniChain, w: Worker, topic: string, payload: Uint8Array, seq = w.seq++): Record<string, unknown> {
  const message = { sender: { Worker: w.pair.publicKey }, destination: u8aToHex(stringToU8a(topic)), payload: u8aToHex(payload) }
  const encoded = c.registry.createType('PhalaMqMessage', message).toU8a()
  const signature = w.pair.sign(u8aConcat(encoded, bnToU8a(seq, { bitLength: 64, isLe: true })))
  return { message, sequence: seq, signature: u8aToHex(signature) }
}

function benchReport(c: MiniChain, w: Worker, seq?: number): Record<string, unknown> {
  const now = Math.floor(c.timeOf(c.number + 1) / 1000)
  const payload = c.registry.createType('PhalaTypesMessagingRegistryEvent', { BenchReport: { startTime: now - 60, iterations: 10_000 } }).toU8a()
  return signedMessage(c, w, '^phala/registry/event', payload, seq)
}

function names(c: MiniChain, index: number): string[] {
  return c.eventsOf(index).map((e) => `${e.section}.${e.method}`)
}

function failure(c: MiniChain, index: number): string {
  const f = c.eventsOf(index).find((e) => e.method === 'ExtrinsicFailed')
  return f ? c.errorName(f.data.dispatchError) : 'ok'
}

async function chain(): Promise<MiniChain> {
  return new MiniChain(await runtime({ genesisTimeMs: Date.UTC(2025, 0, 1), relayGenesisHash: RELAY_GENESIS }), Date.UTC(2025, 0, 1))
}

test('genesis: funded dev accounts, para id, pools owned by //Alice with free W-PHA, allow lists', async () => {
  const c = await chain()
  assert.equal(c.free(c.alice), 10_000_000n * PHA)
  assert.equal(c.free(c.bob), 10_000_000n * PHA)
  const q = (pallet: string, item: string, type: string, key?: [string, Uint8Array]) => {
    const k = key ? mapKey(pallet, item, ['Twox64Concat', key[1]]) : mapKey(pallet, item)
    const v = c.state.get(k)
    return v === undefined ? undefined : (c.registry.createType(type, hexToU8a(v)) as any)
  }
  assert.equal(q('ParachainInfo', 'ParachainId', 'u32').toNumber(), 2035)
  for (const pid of [0, 1]) {
    const pool = q('PhalaBasePool', 'Pools', 'PhalaPalletsComputeBasePoolPalletPoolProxy', ['', bnToU8a(pid, { bitLength: 64, isLe: true })])
    assert.ok(pool.isStakePool)
    assert.equal(pool.asStakePool.basepool.owner.toString(), c.alice.address)
    const acct = c.state.get(mapKey('Assets', 'Account', ['Blake2_128Concat', bnToU8a(WPHA_ASSET_ID, { bitLength: 32, isLe: true })], ['Blake2_128Concat', poolAccount(pid)]))
    assert.equal((c.registry.createType('PalletAssetsAssetAccount', hexToU8a(acct)) as any).balance.toBigInt(), 100_000n * PHA)
  }
  assert.equal(q('PhalaBasePool', 'Pools', 'PhalaPalletsComputeBasePoolPalletPoolProxy', ['', bnToU8a(2, { bitLength: 64, isLe: true })]), undefined)
  assert.equal(q('PhalaRegistry', 'PRuntimeAllowList', 'Vec<Bytes>').length, 1)
  assert.deepEqual(q('PhalaRegistry', 'RelaychainGenesisBlockHashAllowList', 'Vec<H256>').toJSON(), [RELAY_GENESIS])
  assert.equal(c.state.get(mapKey('System', 'BlockHash', ['Twox64Concat', new Uint8Array(4)])), '0x' + '45'.repeat(32))
})

test('registration, benchmark, add worker and computing: the bridge flow end to end', async () => {
  const c = await chain()
  const w = newWorker('a')
  const info = runtimeInfo(c, w, c.alice)

  // A tampered runtime info (not the one the report commits to) is rejected.
  const other = runtimeInfo(c, w, c.alice, { machineId: 'other' })
  const report = makeDevnetIasReport(info, c.timeOf(c.number + 1) - 60_000)
  const tampered = c.call('phalaRegistry', 'registerWorker', [other, { SgxIas: { raReport: u8aToHex(report.raReport), signature: u8aToHex(report.signature), rawSigningCert: u8aToHex(report.rawSigningCert) } }])
  const forged = makeDevnetIasReport(info, c.timeOf(c.number + 1) - 60_000)
  forged.raReport = stringToU8a(new TextDecoder().decode(forged.raReport).replace('"OK"', '"OK" '))
  const badMr = makeDevnetIasReport(info, c.timeOf(c.number + 1) - 60_000, new Uint8Array(32).fill(9))
  const old = makeDevnetIasReport(info, c.timeOf(c.number + 1) - 3 * 3600_000)
  const wrongRelay = runtimeInfo(c, w, c.alice, { genesisBlockHash: '0x' + '66'.repeat(32) })
  c.block([
    c.sign(c.alice, tampered, { nonce: 0 }),
    c.sign(c.alice, registerCall(c, info, forged), { nonce: 1 }),
    c.sign(c.alice, registerCall(c, info, badMr), { nonce: 2 }),
    c.sign(c.alice, registerCall(c, info, old), { nonce: 3 }),
    c.sign(c.alice, registerCall(c, wrongRelay), { nonce: 4 }),
  ])
  assert.deepEqual([2, 3, 4, 5, 6].map((i) => failure(c, i)), [
    'phalaRegistry.InvalidRuntimeInfoHash', 'phalaRegistry.InvalidSignature', 'phalaRegistry.PRuntimeRejected',
    'phalaRegistry.OutdatedIASReport', 'phalaRegistry.GenesisBlockHashRejected',
  ])

  // The real one registers the worker and pushes Registered + BenchStart to it.
  c.block([c.sign(c.alice, registerCall(c, info))])
  assert.deepEqual(names(c, 2), ['balances.Withdraw', 'phalaRegistry.WorkerAdded', 'transactionPayment.TransactionFeePaid', 'system.ExtrinsicSuccess'])
  const wk = c.registry.createType('PhalaPalletsRegistryPalletWorkerInfoV2', c.state.get(mapKey('PhalaRegistry', 'Workers', ['Twox64Concat', w.pair.publicKey]))) as any
  assert.equal(wk.operator.unwrap().toString(), c.alice.address)
  assert.ok(wk.initialScore.isNone)
  const out = c.registry.createType('Vec<PhalaMqMessage>', c.state.get(mapKey('PhalaMq', 'OutboundMessages'))) as any
  const evs = out.map((m: any) => (c.registry.createType('PhalaTypesMessagingSystemEvent', m.payload) as any).asWorkerEvent.event.type)
  assert.deepEqual(evs, ['Registered', 'BenchStart'])
  assert.equal(new TextDecoder().decode(out[0].destination.toU8a(true)), 'phala/system/event')

  // addWorker before the benchmark: BenchmarkMissing.
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'addWorker', [0, w.pair.publicKey]))])
  assert.equal(failure(c, 2), 'phalaStakePoolv2.BenchmarkMissing')
  assert.equal(c.state.get(mapKey('PhalaMq', 'OutboundMessages')), undefined, 'outbound messages live for one block')

  // The worker's BenchReport through forceBatch(syncOffchainMessage) sets initial_score.
  c.block([c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [benchReport(c, w)])]]))])
  assert.deepEqual(names(c, 2).slice(1, -2), ['phalaRegistry.InitialScoreSet', 'utility.ItemCompleted', 'utility.BatchCompleted'])
  const origin = c.registry.createType('PhalaMqMessageOrigin', { Worker: w.pair.publicKey }).toHex()
  assert.equal(c.rt.mqNextSequence(c.state, origin), 1)

  // Resending the same sequence inside forceBatch: ItemFailed PhalaMq.BadSequence, the batch still succeeds.
  c.block([c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [benchReport(c, w, 0)])]]))])
  const itemFailed = c.eventsOf(2).find((e) => e.method === 'ItemFailed')!
  assert.equal(c.errorName(itemFailed.data.error), 'phalaMq.BadSequence')
  assert.deepEqual(names(c, 2).slice(-3), ['utility.BatchCompletedWithErrors', 'transactionPayment.TransactionFeePaid', 'system.ExtrinsicSuccess'])
  const m = c.registry.findMetaError((itemFailed.data.error as any).asModule)
  assert.deepEqual([m.index, m.section, m.name], [1, 'phalaMq', 'BadSequence'])

  // Ownership checks in the real order: Bob is not the operator; a worker operated by Bob is not in Bob's pool.
  const wb = newWorker('b')
  c.block([
    c.sign(c.bob, c.call('phalaStakePoolv2', 'addWorker', [0, w.pair.publicKey]), { nonce: 0 }),
    c.sign(c.bob, registerCall(c, runtimeInfo(c, wb, c.bob)), { nonce: 1 }),
  ])
  assert.equal(failure(c, 2), 'phalaStakePoolv2.UnauthorizedOperator')
  c.block([c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [benchReport(c, wb)])]]))])
  c.block([c.sign(c.bob, c.call('phalaStakePoolv2', 'addWorker', [0, wb.pair.publicKey]), { nonce: 2 }), c.sign(c.bob, c.call('phalaStakePoolv2', 'addWorker', [9, wb.pair.publicKey]), { nonce: 3 })])
  assert.equal(failure(c, 2), 'phalaStakePoolv2.UnauthorizedPoolOwner')
  assert.equal(failure(c, 3), 'phalaBasePool.PoolDoesNotExist')

  // Alice adds her worker and starts computing.
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'addWorker', [0, w.pair.publicKey]))])
  assert.deepEqual(names(c, 2).slice(1, 3), ['phalaComputation.SessionBound', 'phalaStakePoolv2.PoolWorkerAdded'])
  const session = poolSubAccount(0, w.pair.publicKey)
  assert.equal(c.state.get(mapKey('PhalaComputation', 'WorkerBindings', ['Twox64Concat', w.pair.publicKey])), u8aToHex(session))
  assert.equal(c.state.get(mapKey('PhalaStakePoolv2', 'WorkerAssignments', ['Twox64Concat', w.pair.publicKey])), '0x0000000000000000')
  const sessionOf = () => c.registry.createType('PhalaPalletsComputeComputationPalletSessionInfo', c.state.get(mapKey('PhalaComputation', 'Sessions', ['Twox64Concat', session]))) as any
  assert.equal(sessionOf().state.type, 'Ready')

  const n0 = c.rt.accountNonce(c.state, c.alice.address)
  c.block([
    c.sign(c.alice, c.call('phalaStakePoolv2', 'startComputing', [0, w.pair.publicKey, 100n * PHA]), { nonce: n0 }),
    c.sign(c.alice, c.call('phalaStakePoolv2', 'startComputing', [0, w.pair.publicKey, 5_000n * PHA]), { nonce: n0 + 1 }),
  ])
  assert.equal(failure(c, 2), 'phalaComputation.InsufficientStake')
  assert.equal(failure(c, 3), 'ok')
  assert.ok(names(c, 3).includes('phalaComputation.WorkerStarted') && names(c, 3).includes('phalaStakePoolv2.WorkingStarted'))
  assert.equal(sessionOf().state.type, 'WorkerIdle')
  const stake = () => (c.registry.createType('u128', hexToU8a(c.state.get(mapKey('PhalaComputation', 'Stakes', ['Twox64Concat', session])))) as any).toBigInt()
  assert.equal(stake(), 5_000n * PHA)

  // restart with a higher stake (what the lifecycle does), then stop.
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'restartComputing', [0, w.pair.publicKey, 4_000n * PHA]))])
  assert.equal(failure(c, 2), 'phalaStakePoolv2.CannotRestartWithLessStake')
  assert.equal(stake(), 5_000n * PHA, 'the failed restart was rolled back')
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'restartComputing', [0, w.pair.publicKey, 6_000n * PHA]))])
  assert.equal(failure(c, 2), 'ok')
  assert.equal(stake(), 6_000n * PHA)
  assert.equal(sessionOf().state.type, 'WorkerIdle')

  // Bob as StakePoolManager proxy of Alice: stopComputing passes the filter, a transfer does not.
  c.block([c.sign(c.alice, c.call('proxy', 'addProxy', [{ Id: c.bob.publicKey }, 'StakePoolManager', 0]))])
  assert.ok(names(c, 2).includes('proxy.ProxyAdded'))
  const inner = c.call('utility', 'forceBatch', [[c.call('phalaStakePoolv2', 'stopComputing', [0, w.pair.publicKey])]])
  const nb = c.rt.accountNonce(c.state, c.bob.address)
  c.block([
    c.sign(c.bob, c.call('proxy', 'proxy', [{ Id: c.alice.publicKey }, null, inner]), { nonce: nb }),
    c.sign(c.bob, c.call('proxy', 'proxy', [{ Id: c.alice.publicKey }, null, c.call('balances', 'transferKeepAlive', [{ Id: c.bob.publicKey }, PHA])]), { nonce: nb + 1 }),
    c.sign(c.charlie, c.call('proxy', 'proxy', [{ Id: c.alice.publicKey }, null, inner])),
  ])
  const executed = c.eventsOf(2).find((e) => e.method === 'ProxyExecuted')!
  assert.ok((executed.data.result as any).isOk)
  assert.ok(names(c, 2).includes('phalaComputation.WorkerStopped'))
  assert.equal(sessionOf().state.type, 'WorkerCoolingDown')
  const filtered = c.eventsOf(3).find((e) => e.method === 'ProxyExecuted')!
  assert.equal(c.errorName((filtered.data.result as any).asErr), 'system.CallFiltered')
  assert.equal(failure(c, 4), 'proxy.NotProxy')
})

test('CheckMqSequence: a top-level syncOffchainMessage is pool-checked, a nested one is not', async () => {
  const c = await chain()
  const w = newWorker('mq')
  const msg = (seq: number) => signedMessage(c, w, 'phala/mining/report', hexToU8a('0x00'), seq)
  const top = (seq: number, nonce?: number) => c.sign(c.alice, c.call('phalaMq', 'syncOffchainMessage', [msg(seq)]), { nonce })
  const v0 = c.rt.validateTransaction(c.state, c.ctx(), top(0))
  assert.ok(v0.ok && v0.provides.length === 2 && v0.requires.length === 0)
  const v2 = c.rt.validateTransaction(c.state, c.ctx(), top(2))
  assert.ok(v2.ok && v2.requires.length === 1, `a gap waits in the future queue: ${JSON.stringify(v2)}`)
  c.block([top(0, 0)])
  assert.equal(failure(c, 2), 'ok')
  const stale = c.rt.validateTransaction(c.state, c.ctx(), top(0))
  assert.equal(!stale.ok && stale.error.data, 'Transaction is outdated')
  const nested = c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [msg(0)])]]))
  const vn = c.rt.validateTransaction(c.state, c.ctx(), nested)
  assert.ok(vn.ok && vn.provides.length === 1, 'nested MQ calls are not inspected')
  // wrong signature / destination inside a batch: PhalaRegistry.InvalidSignature, PhalaMq.BadDestination
  const badSig = { ...msg(1), signature: u8aToHex(new Uint8Array(64)) }
  const badDest = signedMessage(c, w, '/bad', hexToU8a('0x00'), 1)
  c.block([c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [badSig]), c.call('phalaMq', 'syncOffchainMessage', [badDest])]]))])
  const errs = c.eventsOf(2).filter((e) => e.method === 'ItemFailed').map((e) => c.errorName(e.data.error))
  assert.deepEqual(errs, ['phalaRegistry.InvalidSignature', 'phalaMq.BadDestination'])
})

test('utility.batch interrupts, batchAll fails the extrinsic and rolls back', async () => {
  const c = await chain()
  const ok = c.call('balances', 'transferKeepAlive', [{ Id: c.charlie.publicKey }, PHA])
  const bad = c.call('balances', 'transferKeepAlive', [{ Id: c.charlie.publicKey }, 10n ** 30n])
  const before = c.free(c.charlie)
  c.block([c.sign(c.alice, c.call('utility', 'batch', [[ok, bad, ok]])), c.sign(c.bob, c.call('utility', 'batchAll', [[ok, bad]]))])
  assert.deepEqual(names(c, 2).filter((n) => n.startsWith('utility')), ['utility.ItemCompleted', 'utility.BatchInterrupted'])
  assert.equal(failure(c, 2), 'ok')
  assert.equal(failure(c, 3), 'Token')
  assert.equal(c.free(c.charlie), before + PHA, 'only the first batch item and nothing of batchAll')
})

test('removeWorker: computing is WorkerIsNotReady, another pool is WorkerInAnotherPool, a Ready one is unbound', async () => {
  const c = await chain()
  const w = newWorker('rm')
  c.block([c.sign(c.alice, registerCall(c, runtimeInfo(c, w, c.alice)))])
  c.block([c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [benchReport(c, w)])]]))])
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'addWorker', [1, w.pair.publicKey]))])
  assert.equal(failure(c, 2), 'ok')
  const n = c.rt.accountNonce(c.state, c.alice.address)
  c.block([
    c.sign(c.alice, c.call('phalaStakePoolv2', 'startComputing', [1, w.pair.publicKey, 3_000n * PHA]), { nonce: n }),
    c.sign(c.alice, c.call('phalaStakePoolv2', 'removeWorker', [1, w.pair.publicKey]), { nonce: n + 1 }),
    c.sign(c.alice, c.call('phalaStakePoolv2', 'removeWorker', [0, w.pair.publicKey]), { nonce: n + 2 }),
    c.sign(c.alice, c.call('phalaStakePoolv2', 'stopComputing', [1, w.pair.publicKey]), { nonce: n + 3 }),
    c.sign(c.alice, c.call('phalaStakePoolv2', 'stopComputing', [1, w.pair.publicKey]), { nonce: n + 4 }),
    c.sign(c.alice, c.call('phalaStakePoolv2', 'reclaimPoolWorker', [1, w.pair.publicKey]), { nonce: n + 5 }),
  ])
  assert.deepEqual([2, 3, 4, 5, 6, 7].map((i) => failure(c, i)), [
    'ok', 'phalaStakePoolv2.WorkerIsNotReady', 'phalaStakePoolv2.WorkerInAnotherPool', 'ok', 'phalaStakePoolv2.WorkerAlreadyStopped', 'phalaComputation.CoolDownNotReady',
  ])
  // A second worker that never started can be removed.
  const w2 = newWorker('rm2')
  c.block([c.sign(c.alice, registerCall(c, runtimeInfo(c, w2, c.alice)))])
  c.block([c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [benchReport(c, w2)])]]))])
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'addWorker', [1, w2.pair.publicKey]))])
  c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'removeWorker', [1, w2.pair.publicKey]))])
  assert.deepEqual(names(c, 2).slice(1, 3), ['phalaComputation.SessionUnbound', 'phalaStakePoolv2.PoolWorkerRemoved'])
  assert.equal(c.state.get(mapKey('PhalaStakePoolv2', 'WorkerAssignments', ['Twox64Concat', w2.pair.publicKey])), undefined)
  assert.equal(c.state.get(mapKey('PhalaComputation', 'WorkerBindings', ['Twox64Concat', w2.pair.publicKey])), undefined)
  // re-registering an existing worker keeps its score and says WorkerUpdated
  c.block([c.sign(c.alice, registerCall(c, runtimeInfo(c, w2, c.alice)))])
  assert.ok(names(c, 2).includes('phalaRegistry.WorkerUpdated'))
  const wk = c.registry.createType('PhalaPalletsRegistryPalletWorkerInfoV2', c.state.get(mapKey('PhalaRegistry', 'Workers', ['Twox64Concat', w2.pair.publicKey]))) as any
  assert.ok(wk.initialScore.isSome)
})
