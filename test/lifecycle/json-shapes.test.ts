/**
 * The JSON an operator sends and reads through the monitor's proxy (upstream-trade-walkie-monitor.md
 * C.1 and D.5): the body becomes the request with `requestType.create(body)` and is encoded; the
 * answer, encoded as the lifecycle's Walkie node encodes it, is shown with protobufjs `toJSON`
 * (camelCase, uint64 as strings, enums as names, only fields on the wire). Checked on D.5's examples.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady, encodeAddress, mnemonicGenerate } from '@polkadot/util-crypto'
import { getCodec } from '../../src/common/codec.js'
import { WalkieError, errorTypeName, ResponseErrorType } from '../../src/walkie/index.js'
import { lifecycleHandlers, startLifecycle, toWalkieError, type LifecycleMethod } from '../../src/lifecycle/index.js'
import { tempDir } from '../helpers/fs.js'
import { quietLogger } from '../helpers/log.js'
import { lifecycleConfig, recordingEngine } from './helpers.js'

await cryptoWaitReady()
const codec = getCodec()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('D.5 examples through the proxy conversion', async (t) => {
  const dir = tempDir(t, 'prb-lc-json-')
  const lm = await startLifecycle({ config: lifecycleConfig(dir, undefined) }, { logger: quietLogger() })
  t.after(() => lm.stop())
  const engine = recordingEngine()
  const running = engine.factory({} as never)
  lm.repo.setEngine(running)
  const handlers = lifecycleHandlers({ repo: lm.repo, engine: () => running, configMode: false, logger: quietLogger() })
  const method = (m: LifecycleMethod) => codec.service('prb.WalkieRpc').methods[m]!

  /** As the proxy does it: `{data, hasError, error?}` from a JSON body. */
  const proxy = async (m: LifecycleMethod, body: unknown): Promise<{ data?: any; hasError: boolean; error?: { type: number; message: string } }> => {
    const rpc = method(m)
    rpc.resolve()
    const req = rpc.resolvedRequestType!
    const bytes = req.encode(req.create(body as Record<string, unknown>)).finish()
    try {
      const result = await handlers[m](bytes)
      const name = rpc.resolvedResponseType!.fullName.slice(1)
      return { data: codec.toJSON(name, codec.encode(name, result)), hasError: false }
    } catch (e) {
      const err = toWalkieError(e)
      assert.ok(err instanceof WalkieError, String(err))
      return { hasError: true, error: { type: ResponseErrorType[err.type], message: err.message } }
    }
  }

  const mnemonic = mnemonicGenerate(12)
  const pair = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromMnemonic(mnemonic)
  const proxied = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice').address

  // Import pools
  const cp = await proxy('CreatePool', { pools: [{ pid: 2, name: 'test2', owner: { mnemonic }, enabled: true, realPhalaSs58: proxied, syncOnly: false }] })
  assert.equal(cp.hasError, false)
  const pool = cp.data.pools[0]
  assert.match(pool.uuid, UUID)
  assert.match(pool.owner.polkadotJson, /^[0-9a-f]{200,}$/)
  assert.deepEqual(pool, {
    uuid: pool.uuid,
    owner: { polkadotJson: pool.owner.polkadotJson, ss58Phala: pair.address, ss58Polkadot: encodeAddress(pair.publicKey, 0) },
    pid: '2', name: 'test2', enabled: true, deleted: false, realPhalaSs58: proxied, syncOnly: false,
  })
  assert.ok(!JSON.stringify(cp).includes(mnemonic))

  // Import workers: the wiki's sample answer, key for key
  const cw = await proxy('CreateWorker', { workers: [{ pid: 2, name: 'test-node-1', endpoint: 'http://10.0.0.5:8000', enabled: true, stake: '4000000000000000', syncOnly: false }] })
  const w = cw.data.workers[0]
  assert.match(w.uuid, UUID)
  assert.deepEqual(cw, { data: { workers: [{ uuid: w.uuid, pid: '2', name: 'test-node-1', endpoint: 'http://10.0.0.5:8000', enabled: true, deleted: false, stake: '4000000000000000', syncOnly: false }] }, hasError: false })

  // community scripts send uint64 as strings
  const cw2 = await proxy('CreateWorker', { workers: [{ pid: '2', name: 'test-node-2', endpoint: 'http://10.0.0.6:8000', enabled: false, stake: '4000000000000000', syncOnly: true }] })
  assert.equal(cw2.data.workers[0].pid, '2')
  assert.equal(cw2.data.workers[0].enabled, false)

  // Update a pool (full D.5 body; omitting owner keeps the operator)
  const up = await proxy('UpdatePool', { items: [{ id: { uuid: pool.uuid }, pool: { pid: 123, name: 'renamed', realPhalaSs58: '', enabled: true, syncOnly: false } }] })
  assert.deepEqual(up.data.pools[0], { ...pool, pid: '123', name: 'renamed', realPhalaSs58: '' })
  const byPid = await proxy('UpdatePool', { items: [{ id: { pid: '123' }, pool: { syncOnly: true } }] })
  assert.deepEqual(byPid.data.pools[0], { ...pool, pid: '123', name: 'renamed', realPhalaSs58: '', syncOnly: true })

  // an empty owner keeps the operator (the monitor's edit form sends one when no new mnemonic is typed)
  const keep = await proxy('UpdatePool', { items: [{ id: { name: 'renamed' }, pool: { owner: { mnemonic: '' }, enabled: false } }] })
  assert.deepEqual(keep.data.pools[0], { ...pool, pid: '123', name: 'renamed', realPhalaSs58: '', syncOnly: true, enabled: false })
  await proxy('UpdatePool', { items: [{ id: { name: 'renamed' }, pool: { enabled: true, syncOnly: false } }] })

  // Edit a worker by name
  const uw = await proxy('UpdateWorker', { items: [{ id: { name: 'test-node-1' }, worker: { pid: 123, name: 'test-node-1', endpoint: 'http://10.0.0.7:8000', stake: '5000000000000000', enabled: true, syncOnly: false } }] })
  assert.deepEqual(uw.data.workers[0], { uuid: w.uuid, pid: '123', name: 'test-node-1', endpoint: 'http://10.0.0.7:8000', enabled: true, deleted: false, stake: '5000000000000000', syncOnly: false })

  // Lists
  const lp = await proxy('ListPool', {})
  assert.equal(lp.data.pools.length, 1)
  assert.equal(lp.data.pools[0].pid, '123')
  const lw = await proxy('ListWorker', {})
  assert.deepEqual(lw.data.workers.map((x: any) => [x.name, x.pid, x.enabled]), [['test-node-1', '123', true], ['test-node-2', '123', false]])

  // Status: enums as names, the worker inside with pid as a string; a disabled worker is S_IDLE saying why
  const st = await proxy('GetWorkerStatus', {})
  assert.equal(st.data.workerStates.length, 2)
  const [s1, s2] = st.data.workerStates
  assert.equal(s1.status, 'S_SYNCHING')
  assert.equal(s1.worker.pid, '123')
  assert.equal(s1.parentHeaderSynchedTo, 10)
  assert.equal(s1.publicKey, 'ab'.repeat(32))
  assert.equal(typeof JSON.parse(s1.sessionInfoJson), 'object')
  assert.equal(s2.status, 'S_IDLE')
  assert.match(s2.lastMessage, /^\[\d{4}-\d\d-\d\dT[^\]]+\] Worker is disabled/)
  assert.equal(s2.initialized, false)
  assert.equal(s2.publicKey, undefined, 'fields the worker never had are absent, as upstream')
  assert.deepEqual(JSON.parse(s2.sessionInfoJson), { runtimeInfo: {} }, 'the monitor can JSON.parse it')

  // Restart / kick: {"ids": [...]}
  const rs = await proxy('RestartWorker', { ids: [w.uuid] })
  assert.equal(rs.data.workerStates[0].worker.uuid, w.uuid)
  assert.deepEqual(engine.restarts, [{ uuid: w.uuid, refreshRa: false }])

  // Errors: {type: <int>, message}
  const nf = await proxy('KickWorker', { ids: ['nope'] })
  assert.deepEqual(nf, { hasError: true, error: { type: 2, message: 'KickWorker refused, nothing was done: ids[0]: Worker nope not found! (no worker has this uuid or name; ListWorker shows them)' } })
  assert.equal(errorTypeName(nf.error!.type), 'NOT_FOUND')
  const dup = await proxy('CreateWorker', { workers: [{ pid: 123, name: 'test-node-2', endpoint: 'http://10.0.0.8:8000', stake: '4000000000000000' }] })
  assert.equal(dup.error!.type, ResponseErrorType.DUPLICATED)
  // snake_case keys are dropped by the proxy, as upstream: the field is then missing, and said so
  const snake = await proxy('CreateWorker', { workers: [{ pid: 123, name: 'n3', endpoint: 'http://10.0.0.9:8000', stake: '4000000000000000', sync_only: true, real_phala_ss58: 'x' }] })
  assert.equal(snake.data.workers[0].syncOnly, false)

  // Delete a worker, then the pool: empty answers are `{}` (an empty repeated field is not on the wire)
  const del = await proxy('UpdateWorker', { items: [{ id: { uuid: w.uuid }, worker: { deleted: true } }] })
  assert.deepEqual(del.data, {})
  const refusedDel = await proxy('UpdatePool', { items: [{ id: { uuid: pool.uuid }, pool: { deleted: true } }] })
  assert.equal(refusedDel.hasError, true)
  assert.match(refusedDel.error!.message, /still has 2 worker\(s\)/)
})
