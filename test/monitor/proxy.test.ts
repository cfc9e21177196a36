/**
 * The monitor's JSON routes through fastify inject(), against real Walkie peers on loopback (a fake
 * lifecycle and a fake data provider): upstream's exact `/ptp/discover` and `{data, hasError, error,
 * meta}` shapes, request bodies as camelCase JSON, the errors beyond upstream (404 unknown peer or
 * method, 400 bad body, 504 past the deadline), and a peer that stops answering leaving the list.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { RunningMonitor } from '../../src/monitor/index.js'
import { waitFor } from '../helpers/wait.js'
import { startFakeLifecycle, type FakeLifecycle } from './fake-lifecycle.js'
import { startFakeDataProvider, startTestMonitor, waitForPeer } from './helpers.js'

const DP_INFO = {
  status: 'S_SYHCHING', paraId: 2035, parentStartHeader: 100, parentTarget: 2000, parentFetchedHeight: 1500, parentProcessedHeight: 1400,
  parentCommittedHeight: 1400, paraTarget: 1000, paraFetchedHeight: 700, paraProcessedHeight: 650, paraCommittedHeight: 650, blobServerPort: 8012,
}

let lm: FakeLifecycle
let dp: Awaited<ReturnType<typeof startFakeDataProvider>>
let mon: RunningMonitor

before(async () => {
  lm = await startFakeLifecycle()
  dp = await startFakeDataProvider(DP_INFO)
  mon = await startTestMonitor([lm.address, dp.address], { proxyTimeoutMs: 1500 })
  await waitForPeer(mon, lm.peerId)
  await waitForPeer(mon, dp.peerId)
})
after(async () => {
  await mon?.stop()
  await lm?.stop()
  await dp?.walkie.stop()
})

const post = (url: string, body?: unknown) =>
  mon.app.inject({ method: 'POST', url, ...(body !== undefined ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })
const proxy = (method: string, body?: unknown, peer = lm.peerId) => post(`/ptp/proxy/${peer}/${method}`, body)

test('/ptp/discover lists data providers and lifecycles with upstream\'s keys, for any HTTP method', async () => {
  for (const method of ['GET', 'POST', 'PUT'] as const) {
    const res = await mon.app.inject({ method, url: '/ptp/discover' })
    assert.equal(res.statusCode, 200)
    assert.match(res.headers['content-type'] as string, /application\/json/)
    const body = res.json()
    assert.deepEqual(Object.keys(body), ['dataProviders', 'lifecycleManagers'])
    assert.equal(body.lifecycleManagers.length, 1)
    assert.equal(body.dataProviders.length, 1)
    const l = body.lifecycleManagers[0]
    assert.deepEqual(Object.keys(l).sort(), ['bridgeIdentity', 'chainIdentity', 'hostname', 'peerId', 'remoteAddr', 'role'])
    assert.deepEqual({ ...l, remoteAddr: undefined }, { peerId: lm.peerId, hostname: 'fake-lifecycle', role: 3, chainIdentity: '0xfeed', bridgeIdentity: 'default', remoteAddr: undefined })
    assert.match(l.remoteAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    assert.equal(body.dataProviders[0].role, 1)
    assert.equal(body.dataProviders[0].peerId, dp.peerId)
  }
})

test('a data provider\'s Info: enums as names, int32 as numbers, meta as the response wrapper', async () => {
  const res = await mon.app.inject({ method: 'GET', url: `/ptp/proxy/${dp.peerId}/GetDataProviderInfo` })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.deepEqual(Object.keys(body), ['data', 'hasError', 'meta'])
  assert.deepEqual(body.data, DP_INFO)
  assert.equal(body.hasError, false)
  assert.deepEqual(Object.keys(body.meta).sort(), ['createdAt', 'hasError', 'nonce', 'requestNonce'])
  assert.match(body.meta.createdAt, /^\d{13}$/, 'uint64 createdAt as a decimal string')
  assert.match(body.meta.requestNonce, /^[0-9a-f-]{36}$/)
  assert.equal(body.meta.hasError, false)
})

test('D.5 shapes: pools and workers created with camelCase bodies; uint64 back as strings; fields present on the wire only', async () => {
  const pool = await proxy('CreatePool', { pools: [{ pid: 2, name: 'test2', owner: { mnemonic: 'one two three' }, enabled: true, realPhalaSs58: '', syncOnly: false }] })
  assert.equal(pool.statusCode, 200)
  const p = pool.json()
  assert.equal(p.hasError, false)
  assert.equal(p.data.pools[0].pid, '2')
  assert.equal(p.data.pools[0].name, 'test2')
  assert.equal(p.data.pools[0].owner.ss58Phala.length > 40, true)
  assert.equal('mnemonic' in p.data.pools[0].owner, false)

  // pid as a decimal string (community scripts), snake_case keys dropped, unknown keys ignored
  const w = await proxy('CreateWorker', { workers: [{ pid: '2', name: 'test-node-1', endpoint: 'http://10.0.0.1:8000', enabled: true, stake: '4000000000000000', syncOnly: false, sync_only: true, colour: 'blue' }] })
  const wb = w.json()
  assert.equal(wb.hasError, false, JSON.stringify(wb))
  assert.deepEqual({ ...wb.data.workers[0], uuid: 'x' }, { uuid: 'x', pid: '2', name: 'test-node-1', endpoint: 'http://10.0.0.1:8000', enabled: true, deleted: false, stake: '4000000000000000', syncOnly: false })
  const sent = lm.calls.findLast((c) => c.method === 'CreateWorker')!.request
  assert.equal(sent.workers[0].syncOnly, false, 'the snake_case key was not read')

  // an empty list answers `data: {}` (an empty repeated field is not on the wire)
  const none = await proxy('GetWorkerStatus', { ids: [] })
  const list = none.json()
  assert.equal(list.data.workerStates.length, 1, 'the enabled worker')
  assert.equal(list.data.workerStates[0].status, 'S_IDLE')
  const empty = await proxy('ListPool', {})
  assert.equal(empty.json().data.pools.length, 1)
})

test('a remote error: HTTP 200, hasError, error {type: number, message}, meta.error with the type\'s name, no data', async () => {
  const res = await proxy('CreateWorker', { workers: [{ pid: 99, name: 'x', endpoint: 'http://h:8000', stake: '4000000000000000', enabled: true }] })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.deepEqual(Object.keys(body), ['hasError', 'error', 'meta'])
  assert.deepEqual(body.error, { type: 2, message: 'Pool {pid:99 not found!' })
  assert.deepEqual(body.meta.error, { type: 'NOT_FOUND', message: 'Pool {pid:99 not found!' })
  assert.equal(body.meta.hasError, true)
})

test('bodies: absent and empty ones are {}; non-JSON types, non-JSON text and wrong shapes are refused with the reason', async () => {
  assert.equal((await proxy('ListPool')).json().hasError, false)
  const emptyJson = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListWorker`, headers: { 'content-type': 'application/json' }, payload: '' })
  assert.equal(emptyJson.statusCode, 200)
  const emptyForm = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListWorker`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  assert.equal(emptyForm.statusCode, 200)
  // what another site can make a browser send (no preflight) never reaches the lifecycle
  const calls = lm.calls.length
  for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
    const res = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/KickWorker`, headers: { 'content-type': type }, payload: '{"ids":["x"]}' })
    assert.equal(res.statusCode, 415, type)
    assert.equal(res.json().error.code, 'ERR_MONITOR_BODY_TYPE')
    assert.match(res.json().error.message, /Content-Type: application\/json/)
  }
  const cross = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListPool`, headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, payload: '{}' })
  assert.equal(cross.statusCode, 403)
  assert.equal(cross.json().error.code, 'ERR_MONITOR_CROSS_ORIGIN')
  assert.equal(lm.calls.length, calls)
  const same = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListPool`, headers: { origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/json' }, payload: '{}' })
  assert.equal(same.statusCode, 200, 'the page\'s own requests pass')

  const notJson = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListPool`, headers: { 'content-type': 'application/json' }, payload: '{pools:' })
  assert.equal(notJson.statusCode, 400)
  assert.match(notJson.json().error.message, /not JSON/, notJson.body)
  const wrong = await proxy('CreatePool', { pools: { pid: 1 } })
  assert.equal(wrong.statusCode, 400)
  assert.deepEqual(Object.keys(wrong.json()), ['hasError', 'error', 'meta'])
  assert.equal(wrong.json().error.code, 'ERR_MONITOR_BAD_BODY')
  assert.match(wrong.json().error.message, /pools: array expected/)
  const arr = await proxy('CreatePool', [1, 2])
  assert.equal(arr.statusCode, 400)
})

test('an unknown peer and an unknown method answer 404 with a JSON error that says what to do', async () => {
  const peer = await proxy('ListPool', {}, '12D3KooWGzh3YQz7BwBAZ5Jf6Jp5Nv7JvZqSEDqV2z5bNtkz4b8Q')
  assert.equal(peer.statusCode, 404)
  assert.equal(peer.json().hasError, true)
  assert.equal(peer.json().meta, null)
  assert.equal(peer.json().error.code, 'ERR_MONITOR_UNKNOWN_PEER')
  assert.match(peer.json().error.message, /\/ptp\/discover/)
  const method = await proxy('ListPools', {})
  assert.equal(method.statusCode, 404)
  assert.equal(method.json().error.code, 'ERR_MONITOR_UNKNOWN_METHOD')
  assert.match(method.json().error.message, /ListPool,/)
  const other = await mon.app.inject({ method: 'GET', url: '/nothing/here' })
  assert.equal(other.statusCode, 404)
  assert.equal(other.json().error.code, 'ERR_MONITOR_NOT_FOUND')
})

test('identical read-only calls in flight share one Walkie call; mutations are never merged', async () => {
  lm.delay.set('ListPool', 300)
  lm.delay.set('KickWorker', 300)
  try {
    let before = lm.calls.length
    const lists = await Promise.all([1, 2, 3].map(() => proxy('ListPool', {})))
    assert.deepEqual(lists.map((r) => r.statusCode), [200, 200, 200])
    assert.equal(lists[0]!.body, lists[2]!.body, 'the same answer')
    assert.equal(lm.calls.slice(before).filter((c) => c.method === 'ListPool').length, 1)
    before = lm.calls.length
    await Promise.all([1, 2].map(() => proxy('KickWorker', { ids: [] })))
    assert.equal(lm.calls.slice(before).filter((c) => c.method === 'KickWorker').length, 2)
  } finally {
    lm.delay.delete('ListPool')
    lm.delay.delete('KickWorker')
  }
})

test('a proxied call past its deadline answers 504 and names the deadline', async () => {
  lm.delay.set('ListWorker', 4000)
  try {
    const t0 = Date.now()
    const res = await proxy('ListWorker', {})
    assert.equal(res.statusCode, 504)
    assert.equal(res.json().error.code, 'ERR_WALKIE_TIMEOUT')
    assert.match(res.json().error.message, /PHALA_MONITOR_PROXY_TIMEOUT/)
    assert.ok(Date.now() - t0 < 3900, 'answered at the deadline, not when the peer finished')
  } finally {
    lm.delay.delete('ListWorker')
  }
})

test('the page routes serve the page; / redirects to /discover; assets are served', async () => {
  const root = await mon.app.inject({ method: 'GET', url: '/' })
  assert.equal(root.statusCode, 302)
  assert.equal(root.headers.location, '/discover')
  for (const url of ['/discover', '/fleet', `/dp/status/${dp.peerId}`, `/lifecycle/status/${lm.peerId}`, `/lifecycle/pools/${lm.peerId}`, `/lifecycle/workers/${lm.peerId}`]) {
    const res = await mon.app.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 200, url)
    assert.match(res.body, /<title>/, url)
  }
  const js = await mon.app.inject({ method: 'GET', url: '/assets/app.js' })
  assert.equal(js.statusCode, 200)
  assert.match(js.headers['content-type'] as string, /javascript/)
  const self = await mon.app.inject({ method: 'GET', url: '/api/self' })
  assert.equal(self.json().peerId, mon.walkie.peerId)
  assert.ok(self.json().methods.includes('GetWorkerStatus'))
})

test('a peer that stops answering leaves /ptp/discover and is then an unknown peer', async (t) => {
  const gone = await startFakeLifecycle({ hostname: 'short-lived' })
  const m = await startTestMonitor([gone.address], { walkie: { livenessIntervalMs: 200, staleAfterMs: 1500 } })
  t.after(() => m.stop())
  await waitForPeer(m, gone.peerId)
  assert.ok((await m.app.inject({ url: '/ptp/discover' })).json().lifecycleManagers.some((e: any) => e.peerId === gone.peerId))
  await gone.stop()
  await waitFor(async () => !(await m.app.inject({ url: '/ptp/discover' })).json().lifecycleManagers.some((e: any) => e.peerId === gone.peerId), 20_000, 'the stopped peer is evicted')
  const res = await m.app.inject({ method: 'POST', url: `/ptp/proxy/${gone.peerId}/ListPool` })
  assert.equal(res.statusCode, 404)
})
