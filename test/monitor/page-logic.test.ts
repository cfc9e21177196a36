/**
 * The page's own logic, run in Node (the modules touch the DOM only when mounted): which form field
 * a lifecycle's error names, the fleet analysis (counts, lag behind the data provider, errors and
 * stuck workers first with their reasons), and the form checks before anything is sent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const load = (rel: string): Promise<any> => import(pathToFileURL(resolve('monitor', rel)).href)

test('a lifecycle error lands on the field it names', async () => {
  const { fieldOfError } = await load('pages/crud.js')
  const { poolSpec } = await load('pages/pools.js')
  const f = poolSpec.fields
  assert.equal(fieldOfError('pools[0].name: "x" is a reserved name', f), 'name')
  assert.equal(fieldOfError('pools[0].owner.mnemonic: the operator mnemonic is required', f), 'mnemonic')
  assert.equal(fieldOfError('items[0].pool.realPhalaSs58: bad address', f), 'realPhalaSs58')
  assert.equal(fieldOfError('Pool {pid:2 not found!', f), 'pid', 'upstream\'s own message names the pid')
  assert.equal(fieldOfError('SequelizeUniqueConstraintError: Validation error', f), null)
})

test('pool form checks: PID, duplicate PID and name, mnemonic words, ss58; the message sent keeps the operator on edit', async () => {
  const { poolSpec } = await load('pages/pools.js')
  const items = [{ uuid: 'a', pid: '1', name: 'one' }]
  const v = { pid: 'x', name: '', mnemonic: 'too few words', realPhalaSs58: 'nope', enabled: true, syncOnly: false }
  assert.deepEqual(Object.keys(poolSpec.validate(v, { items, editing: null })).sort(), ['mnemonic', 'name', 'pid', 'realPhalaSs58'])
  assert.match(poolSpec.validate({ ...v, pid: '1', name: 'one' }, { items, editing: null }).pid, /already has a pool with PID 1/)
  assert.match(poolSpec.validate({ ...v, pid: '1', name: 'one' }, { items, editing: null }).name, /already has a pool named one/)
  const ok = { pid: '2', name: 'two', mnemonic: 'legal winner thank year wave sausage worth useful legal winner thank yellow', realPhalaSs58: '', enabled: true, syncOnly: false }
  assert.deepEqual(poolSpec.validate(ok, { items, editing: null }), {})
  assert.deepEqual(poolSpec.validate({ ...ok, pid: '1', name: 'one', mnemonic: '' }, { items, editing: items[0] }), {}, 'editing itself, operator kept')
  assert.deepEqual(poolSpec.toMessage({ ...ok, mnemonic: '' }, true), { pid: '2', name: 'two', realPhalaSs58: '', enabled: true, syncOnly: false })
  assert.equal(poolSpec.toMessage(ok, false).owner.mnemonic, ok.mnemonic)
})

test('fleet analysis: counts by state, lag behind the data provider, errors then stuck workers first with reasons', async () => {
  const { analyse, troubleFirst, STUCK_MS } = await load('pages/fleet-model.js')
  const st = (name: string, status: string, dispatched: number, lastMessage = '') => ({
    status, parentHeaderSynchedTo: dispatched * 2, paraHeaderSynchedTo: dispatched, paraBlockDispatchedTo: dispatched, lastMessage,
    worker: { uuid: `u-${name}`, name, pid: '1' }, sessionInfoJson: '{"state":"WorkerIdle"}',
  })
  const states = [st('a', 'S_ACTIVE', 1000), st('b', 'S_SYNCHING', 400, 'syncing'), st('c', 'S_ERROR', 10, '[t] pRuntime down'), st('d', 'S_SYNCHING', 990)]
  const dp = { paraProcessedHeight: 1000 }
  const t0 = 1_000_000
  const first = analyse('peer-x', states, dp, t0)
  assert.equal(first.counts.S_SYNCHING, 2)
  assert.equal(first.counts.S_ERROR, 1)
  assert.deepEqual(first.rows.map((r: any) => r.lag), [0, 600, 990, 10])
  assert.equal(first.rows[0].session.state, 'WorkerIdle')
  assert.equal(first.stuck, 0, 'not stuck before STUCK_MS without progress')
  // d moves on, b does not: after STUCK_MS, b is stuck with its last message as the reason
  const later = analyse('peer-x', [states[0], states[1], states[2], st('d', 'S_SYNCHING', 999)], dp, t0 + STUCK_MS + 1)
  assert.equal(later.stuck, 1)
  const b = later.rows.find((r: any) => r.name === 'b')
  assert.equal(b.trouble.kind, 'stuck')
  assert.match(b.trouble.reason, /no progress for 60 s, 600 blocks behind; last message: syncing/)
  assert.equal(later.rows.find((r: any) => r.name === 'd').trouble, null)
  assert.deepEqual(later.rows.slice().sort(troubleFirst).map((r: any) => r.name), ['c', 'b', 'a', 'd'])
  assert.deepEqual(later.lag, { max: 990, median: 600, behind: 2 })
  assert.equal(later.samples.length, 2, 'states over time')
})
