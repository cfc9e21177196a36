/**
 * The management API over Walkie, driven by a second node as the monitor would: pools and workers
 * created in one call each, listed, edited partially, disabled, deleted; every invalid request
 * refused whole; live edits reach the engine; a restart keeps everything and every operator
 * decrypts; config mode answers the status calls with a clear error.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mnemonicGenerate, cryptoWaitReady } from '@polkadot/util-crypto'
import { Keyring } from '@polkadot/keyring'
import { decryptOperatorPair } from '../../src/common/operator-key.js'
import { keyFilePath, loadOrCreateIdentity, WalkieError, type Walkie } from '../../src/walkie/index.js'
import type { RunningLifecycle } from '../../src/lifecycle/index.js'
import { tempDir } from '../helpers/fs.js'
import { memoryLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'
import { lifecycleConfig, recordingEngine, startChain, startClient, startLm } from './helpers.js'

await cryptoWaitReady()
const PHA = 10n ** 12n

async function refused(p: Promise<unknown>, type: string, ...texts: RegExp[]): Promise<string> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof WalkieError, `a WalkieError, got ${String(e)}`)
    assert.equal(e.remote, true, `a remote error: ${e.message}`)
    assert.equal(e.type, type, e.message)
    for (const t of texts) assert.match(e.message, t)
    return e.message
  }
  assert.fail('the request was accepted')
}

test('pools and workers over Walkie: create, list, partial edits, disable, delete, validation, live engine, restart', async (t) => {
  const dir = tempDir(t, 'prb-lc-api-')
  const chain = await startChain()
  t.after(() => chain.stop())
  const engine = recordingEngine()
  const { logger, text } = memoryLogger('debug')
  const config = lifecycleConfig(dir, chain)
  let lm: RunningLifecycle = await startLm(config, logger, engine)
  let client: Walkie | undefined
  t.after(async () => {
    await client?.stop()
    await lm.stop()
  })
  client = await startClient(lm)
  assert.match(text(), /Got my peer id as LIFECYCLE\./)
  assert.equal(lm.walkie()!.peerId, lm.peerId)
  const c = client
  const call = ((method: string, req: unknown) => c.call(lm.peerId, method as never, req as never)) as (m: string, r: unknown) => Promise<any>

  // --- pools: three in one call
  const mnemonics = [mnemonicGenerate(12), mnemonicGenerate(24), mnemonicGenerate(12)]
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 30 })
  const addresses = mnemonics.map((m) => keyring.addFromUri(m).address)
  const real = keyring.addFromUri('//Bob').address
  const created = await call('CreatePool', {
    pools: mnemonics.map((m, i) => ({ pid: 10 + i, name: `pool-${i}`, owner: { mnemonic: m }, enabled: true, syncOnly: i === 2, ...(i === 1 ? { realPhalaSs58: real } : {}) })),
  })
  assert.equal(created.pools.length, 3)
  for (const [i, p] of created.pools.entries()) {
    assert.equal(p.pid, 10 + i)
    assert.equal(p.name, `pool-${i}`)
    assert.equal(p.owner.ss58Phala, addresses[i])
    assert.equal(p.owner.mnemonic, '')
    assert.match(p.owner.polkadotJson, /^[0-9a-f]+$/)
    assert.equal(p.deleted, false)
  }
  assert.equal(created.pools[1].realPhalaSs58, real)
  assert.equal(created.pools[2].syncOnly, true)

  // --- workers: 200 in one call
  const workers = Array.from({ length: 200 }, (_, i) => ({ pid: 10 + (i % 3), name: `w${i}`, endpoint: `http://10.0.${i >> 8}.${i & 255}:8000`, stake: String(4000n * PHA), enabled: true, syncOnly: false }))
  const cw = await call('CreateWorker', { workers })
  assert.equal(cw.workers.length, 200)
  assert.deepEqual(cw.workers.map((w: any) => w.name), workers.map((w) => w.name))
  assert.equal(cw.workers[5].pid, 12)
  await waitFor(() => engine.last()?.length === 200, 10_000, 'the engine got the 200 workers')
  const lw = await call('ListWorker', {})
  assert.equal(lw.workers.length, 200)
  const byName = new Map<string, any>(lw.workers.map((w: any) => [w.name, w]))
  const lp = await call('ListPool', {})
  assert.deepEqual(lp.pools.map((p: any) => p.name), ['pool-0', 'pool-1', 'pool-2'])

  // --- partial edits
  const w0 = byName.get('w0')
  const uw = await call('UpdateWorker', { items: [{ id: { uuid: w0.uuid }, worker: { stake: String(5000n * PHA) } }, { id: { name: 'w1' }, worker: { endpoint: 'https://pr1.example:8443' } }] })
  assert.equal(uw.workers.length, 2)
  const after = new Map<string, any>((await call('ListWorker', {})).workers.map((w: any) => [w.name, w]))
  assert.deepEqual(after.get('w0'), { ...w0, stake: String(5000n * PHA) }, 'only the stake changed')
  assert.deepEqual(after.get('w1'), { ...byName.get('w1'), endpoint: 'https://pr1.example:8443' }, 'only the endpoint changed')
  // move a worker to another pool, rename it
  await call('UpdateWorker', { items: [{ id: { name: 'w2' }, worker: { pid: 10, name: 'w2-moved' } }] })
  const moved = (await call('ListWorker', {})).workers.find((w: any) => w.uuid === byName.get('w2').uuid)
  assert.equal(moved.pid, 10)
  assert.equal(moved.name, 'w2-moved')
  assert.equal(moved.enabled, true)

  const p1 = created.pools[1]
  await call('UpdatePool', { items: [{ id: { pid: 11 }, pool: { name: 'pool-one' } }] })
  let pools = (await call('ListPool', {})).pools
  assert.deepEqual(pools[1], { ...p1, name: 'pool-one' }, 'UpdatePool by pid changed only the name (operator, proxy, flags kept)')
  await call('UpdatePool', { items: [{ id: { name: 'pool-one' }, pool: { realPhalaSs58: '', syncOnly: true } }] })
  pools = (await call('ListPool', {})).pools
  assert.equal(pools[1].realPhalaSs58, '')
  assert.equal(pools[1].syncOnly, true)
  assert.equal(pools[1].owner.ss58Phala, addresses[1])
  // a new operator
  const newMnemonic = mnemonicGenerate(12)
  await call('UpdatePool', { items: [{ id: { uuid: p1.uuid }, pool: { owner: { mnemonic: newMnemonic } } }] })
  pools = (await call('ListPool', {})).pools
  assert.equal(pools[1].owner.ss58Phala, keyring.addFromUri(newMnemonic).address)
  addresses[1] = pools[1].owner.ss58Phala
  await waitFor(() => engine.last()!.find((w) => w.pool.uuid === p1.uuid)?.pool.operatorSs58 === addresses[1], 10_000, 'the engine got the new operator')

  // --- disable 50 workers in one call: live, no restart
  const appliedBefore = engine.applied.length
  const toDisable = lw.workers.slice(100, 150)
  await call('UpdateWorker', { items: toDisable.map((w: any) => ({ id: { uuid: w.uuid }, worker: { enabled: false } })) })
  await waitFor(() => engine.applied.length > appliedBefore && engine.last()!.filter((w) => !w.enabled).length === 50, 5_000, 'the engine saw the 50 disabled workers')
  const disabledState = await call('GetWorkerStatus', { ids: [toDisable[0].uuid] })
  assert.equal(disabledState.workerStates[0].status, 'S_IDLE')
  assert.match(disabledState.workerStates[0].lastMessage, /disabled/)
  assert.equal(disabledState.workerStates[0].worker.enabled, false)
  const all = await call('GetWorkerStatus', {})
  assert.equal(all.workerStates.length, 200, 'status covers every worker, disabled ones too')
  assert.equal(all.workerStates.filter((s: any) => s.status === 'S_SYNCHING').length, 150)

  // restart / refresh / kick reach the engine, disabled workers included
  const rs = await call('RestartWorker', { ids: [toDisable[1].uuid, lw.workers[0].uuid] })
  assert.equal(rs.workerStates.length, 2)
  await call('RefreshRaAndRestartWorker', { ids: [lw.workers[3].uuid] })
  await call('KickWorker', { ids: [lw.workers[4].uuid] })
  assert.deepEqual(engine.restarts, [{ uuid: toDisable[1].uuid, refreshRa: false }, { uuid: lw.workers[0].uuid, refreshRa: false }, { uuid: lw.workers[3].uuid, refreshRa: true }])
  assert.deepEqual(engine.kicks, [lw.workers[4].uuid])

  // --- every invalid request is refused whole, nothing written
  const snapshot = async () => JSON.stringify([(await call('ListPool', {})).pools, (await call('ListWorker', {})).workers])
  const before = await snapshot()
  const applies = engine.applied.length
  const good = { pid: 10, name: 'fresh', endpoint: 'http://10.9.9.9:8000', stake: String(PHA) }
  await refused(call('CreateWorker', { workers: [good, { ...good, name: 'bad-stake', stake: '999999999999' }] }), 'SERVER', /workers\[1\] \("bad-stake"\)\.stake/, /below 1 PHA/)
  await refused(call('CreateWorker', { workers: [good, { ...good, name: 'x', stake: '4000 PHA' }] }), 'SERVER', /workers\[1\].*stake.*not an integer/)
  await refused(call('CreateWorker', { workers: [{ ...good, endpoint: 'ftp://10.0.0.1' }] }), 'SERVER', /workers\[0\] \("fresh"\)\.endpoint.*ftp/)
  await refused(call('CreateWorker', { workers: [{ ...good, endpoint: 'not a url' }] }), 'SERVER', /endpoint.*not a URL/)
  await refused(call('CreateWorker', { workers: [{ ...good, pid: 99 }] }), 'NOT_FOUND', /workers\[0\] \("fresh"\)\.pid: Pool \{pid: 99\} not found/)
  await refused(call('CreateWorker', { workers: [good, { ...good }] }), 'DUPLICATED', /workers\[1\] \("fresh"\)\.name: is taken/)
  await refused(call('CreateWorker', { workers: [{ ...good, name: 'w5' }] }), 'DUPLICATED', /name: is taken by another worker/)
  await refused(call('CreateWorker', { workers: [{ ...good, name: '' }] }), 'SERVER', /workers\[0\]\.name: is empty/)
  await refused(call('CreateWorker', { workers: [{ name: 'nostake', pid: 10, endpoint: 'http://1.2.3.4:8000' }] }), 'SERVER', /stake: is missing/)
  const badWords = `${mnemonicGenerate(12).split(' ').slice(0, 11).join(' ')} notabipword` // never a valid mnemonic
  const msg = await refused(call('CreatePool', { pools: [{ pid: 50, name: 'p50', owner: { mnemonic: mnemonicGenerate(12) } }, { pid: 51, name: 'p51', owner: { mnemonic: badWords } }] }), 'SERVER', /pools\[1\] \("p51"\)\.owner\.mnemonic/)
  assert.ok(!msg.includes(badWords), 'the error does not echo the secret')
  await refused(call('CreatePool', { pools: [{ pid: 52, name: 'p52', owner: { mnemonic: 'hello' } }] }), 'SERVER', /owner\.mnemonic: is not a valid BIP39 mnemonic/)
  await refused(call('CreatePool', { pools: [{ pid: 53, name: 'p53' }] }), 'SERVER', /owner\.mnemonic: is missing/)
  await refused(call('CreatePool', { pools: [{ pid: 10, name: 'p54', owner: { mnemonic: mnemonicGenerate(12) } }] }), 'DUPLICATED', /pools\[0\] \("p54"\)\.pid: pid 10 is taken/)
  await refused(call('CreatePool', { pools: [{ pid: 55, name: 'pool-0', owner: { mnemonic: mnemonicGenerate(12) } }] }), 'DUPLICATED', /name: is taken by another pool/)
  await refused(call('CreatePool', { pools: [{ pid: 56, name: 'p56', owner: { mnemonic: mnemonicGenerate(12) }, realPhalaSs58: '5Bogus' }] }), 'SERVER', /realPhalaSs58: "5Bogus" is not a valid ss58/)
  await refused(call('CreatePool', { pools: [{ name: 'p57', owner: { mnemonic: mnemonicGenerate(12) } }] }), 'SERVER', /pools\[0\] \("p57"\)\.pid: is missing/)
  await refused(call('UpdatePool', { items: [{ id: { uuid: 'nope' }, pool: { name: 'x' } }] }), 'NOT_FOUND', /items\[0\]\.id: Can't find pool/)
  await refused(call('UpdatePool', { items: [{ id: { pid: 10 }, pool: { name: 'ok-name' } }, { id: { pid: 11 }, pool: { pid: 10 } }] }), 'DUPLICATED', /items\[1\] \("pool-one"\)\.pool\.pid: pid 10 is taken/)
  await refused(call('UpdatePool', { items: [{ id: { pid: 10 }, pool: { deleted: true } }] }), 'SERVER', /still has \d+ worker\(s\); delete them or move them/)
  await refused(call('UpdatePool', { items: [{ id: { pid: 10 } }] }), 'SERVER', /items\[0\] \("pool-0"\)\.pool: is missing/)
  await refused(call('UpdateWorker', { items: [{ id: { name: 'w7' }, worker: { enabled: false } }, { id: { name: 'w8' }, worker: { stake: '1' } }] }), 'SERVER', /items\[1\] \("w8"\)\.worker\.stake/)
  await refused(call('UpdateWorker', { items: [{ id: { name: 'w7' }, worker: { pid: 77 } }] }), 'NOT_FOUND', /Pool \{pid: 77\} not found/)
  await refused(call('UpdateWorker', { items: [{ id: { pid: 10 }, worker: { enabled: false } }] }), 'SERVER', /a pid names a pool, not a worker/)
  await refused(call('UpdateWorker', { items: [{ id: { name: 'w7' }, worker: { name: 'w9' } }] }), 'DUPLICATED', /is taken by another worker/)
  await refused(call('RestartWorker', { ids: ['no-such-worker'] }), 'NOT_FOUND', /Worker no-such-worker not found!/)
  await refused(call('GetWorkerStatus', { ids: [lw.workers[0].uuid, 'ghost'] }), 'NOT_FOUND', /ids\[1\]: Worker ghost not found/)
  assert.equal(await snapshot(), before, 'no refused request wrote anything')
  assert.equal(engine.applied.length, applies, 'no refused request reached the engine')

  // --- delete: a pool with workers is refused; its workers first, then the pool
  const pool2Workers = (await call('ListWorker', {})).workers.filter((w: any) => w.pid === 12)
  await call('UpdateWorker', { items: pool2Workers.map((w: any) => ({ id: { uuid: w.uuid }, worker: { deleted: true } })) })
  const dp = await call('UpdatePool', { items: [{ id: { pid: 12 }, pool: { deleted: true } }] })
  assert.equal(dp.pools.length, 0, 'deleted pools are not listed in the answer')
  const remaining = (await call('ListWorker', {})).workers
  assert.equal(remaining.length, 200 - pool2Workers.length)
  assert.deepEqual((await call('ListPool', {})).pools.map((p: any) => p.pid), [10, 11])
  await waitFor(() => engine.last()!.length === remaining.length, 5_000, 'the engine lost the deleted workers')

  // --- restart: everything is there, every operator decrypts with the key file
  const listedPools = JSON.stringify((await call('ListPool', {})).pools)
  const listedWorkers = JSON.stringify(remaining)
  await client.stop()
  client = undefined
  await lm.stop()
  const engine2 = recordingEngine()
  lm = await startLm(config, logger, engine2)
  client = await startClient(lm)
  const c2 = client
  const call2 = (m: string, r: unknown) => c2.call(lm.peerId, m as never, r as never) as Promise<any>
  assert.equal(JSON.stringify((await call2('ListPool', {})).pools), listedPools)
  assert.equal(JSON.stringify((await call2('ListWorker', {})).workers), listedWorkers)
  assert.equal(engine2.applied[0]?.length, remaining.length, 'the engine got every worker at start')
  const id = await loadOrCreateIdentity(keyFilePath(join(dir, 'keys'), 'LIFECYCLE'))
  assert.equal(id.created, false)
  for (const p of (await call2('ListPool', {})).pools) {
    const pair = await decryptOperatorPair(Buffer.from(p.owner.polkadotJson, 'hex'), id.rsa!.privateKey)
    assert.equal(pair.address, p.owner.ss58Phala)
    assert.ok(addresses.includes(pair.address))
    assert.equal(pair.isLocked, false, 'unlocked: the trader can sign with it')
  }
  // the key file is upstream's: it is what the lifecycle loaded
  assert.ok((await readFile(keyFilePath(join(dir, 'keys'), 'LIFECYCLE'))).length > 1000)
})

test('bulk: one CreateWorker of 500 workers is answered quickly', async (t) => {
  const dir = tempDir(t, 'prb-lc-bulk-')
  const chain = await startChain()
  t.after(() => chain.stop())
  const engine = recordingEngine()
  const lm = await startLm(lifecycleConfig(dir, chain), memoryLogger().logger, engine)
  t.after(() => lm.stop())
  const client = await startClient(lm)
  t.after(() => client.stop())
  await client.call(lm.peerId, 'CreatePool', { pools: [{ pid: 1, name: 'p', owner: { mnemonic: '//Alice' } }] })
  const workers = Array.from({ length: 500 }, (_, i) => ({ pid: 1, name: `bulk-${i}`, endpoint: `http://10.1.${i >> 8}.${i & 255}:8000`, stake: '4000000000000000', enabled: true }))
  const t0 = performance.now()
  const res = await client.call(lm.peerId, 'CreateWorker', { workers })
  const ms = performance.now() - t0
  assert.equal(res.workers.length, 500)
  assert.equal(engine.last()?.length, 500)
  // The bound is 2 s; the machine running the tests is shared, so the assertion is generous
  // (test/bench/lifecycle-api.bench.ts measures it).
  assert.ok(ms < 6000, `500 workers took ${Math.round(ms)} ms`)
})

test('config mode: store and API only; status, restart and kick answer a clear error; no engine', async (t) => {
  const dir = tempDir(t, 'prb-lc-cfg-')
  const chain = await startChain()
  t.after(() => chain.stop())
  const engine = recordingEngine()
  const { logger, text } = memoryLogger()
  const lm = await startLm(lifecycleConfig(dir, chain, { PHALA_LIFECYCLE_CONFIG_MODE: 'true' }), logger, engine)
  t.after(() => lm.stop())
  const client = await startClient(lm)
  t.after(() => client.stop())
  await client.call(lm.peerId, 'CreatePool', { pools: [{ pid: 1, name: 'p', owner: { mnemonic: '//Alice' } }] })
  const w = await client.call(lm.peerId, 'CreateWorker', { workers: [{ pid: 1, name: 'w', endpoint: 'http://127.0.0.1:8000', stake: '1000000000000' }] })
  assert.equal(w.workers[0]!.enabled, true, 'enabled defaults to true when not sent')
  assert.equal((await client.call(lm.peerId, 'ListWorker', {})).workers.length, 1)
  for (const m of ['GetWorkerStatus', 'RestartWorker', 'KickWorker', 'RefreshRaAndRestartWorker'] as const) {
    await refused(client.call(lm.peerId, m, { ids: [w.workers[0]!.uuid] }), 'SERVER', /PHALA_LIFECYCLE_CONFIG_MODE=true/, /runs none of them/)
  }
  assert.equal(engine.created, 0)
  assert.match(text(), /config mode enabled/)
})
