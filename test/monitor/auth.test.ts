/**
 * Access control: with PHALA_MONITOR_AUTH every route (page, assets, JSON, proxy, unknown paths)
 * answers 401 without the right credentials and works with them; the start-up warning when neither
 * auth nor a loopback bind protects the monitor; the variables as the config loader reads them.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/index.js'
import { ConfigError } from '../../src/common/errors.js'
import { basicAuthChecker, exposureWarning, isLoopbackHost, monitorOptions, PAGE_ROUTES, type RunningMonitor } from '../../src/monitor/index.js'
import { memoryLogger } from '../helpers/log.js'
import { startFakeLifecycle, type FakeLifecycle } from './fake-lifecycle.js'
import { startTestMonitor, waitForPeer } from './helpers.js'

const AUTH = { user: 'operator', password: 'correct horse battery' }
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`

let lm: FakeLifecycle
let mon: RunningMonitor
before(async () => {
  lm = await startFakeLifecycle()
  mon = await startTestMonitor([lm.address], { auth: AUTH })
  await waitForPeer(mon, lm.peerId)
})
after(async () => {
  await mon?.stop()
  await lm?.stop()
})

const ROUTES = () => [
  ['GET', '/'], ['GET', '/discover'], ['GET', '/assets/app.js'], ['GET', '/assets/app.css'], ['GET', '/api/self'], ['GET', '/nothing'],
  ['GET', '/ptp/discover'], ['POST', '/ptp/discover'],
  ['GET', `/ptp/proxy/${lm.peerId}/ListPool`], ['POST', `/ptp/proxy/${lm.peerId}/CreatePool`], ['DELETE', `/ptp/proxy/${lm.peerId}/ListWorker`],
  ['POST', '/ptp/proxy/unknown/ListPool'],
  ...PAGE_ROUTES.map((r) => ['GET', r.replace(':peerId', lm.peerId)]),
] as Array<['GET' | 'POST' | 'DELETE', string]>

test('with PHALA_MONITOR_AUTH, every route answers 401 without credentials or with wrong ones, and asks for basic auth', async () => {
  const wrong = [undefined, basic('operator', 'wrong password!'), basic('someone', AUTH.password), 'Bearer x', `Basic ${Buffer.from(AUTH.password).toString('base64')}`]
  const calls = lm.calls.length
  for (const [method, url] of ROUTES()) {
    for (const authorization of wrong) {
      const res = await mon.app.inject({ method, url, headers: authorization ? { authorization } : {}, ...(method === 'POST' ? { payload: { pools: [{ pid: 1, name: 'x', owner: { mnemonic: 'y' } }] } } : {}) })
      assert.equal(res.statusCode, 401, `${method} ${url} with ${authorization ?? 'no credentials'}`)
      assert.match(res.headers['www-authenticate'] as string, /^Basic realm=/)
      assert.equal(res.json().error.code, 'ERR_MONITOR_AUTH')
    }
  }
  assert.equal(lm.calls.length, calls, 'nothing reached the lifecycle')
})

test('with the credentials every route answers as usual', async () => {
  const authorization = basic(AUTH.user, AUTH.password)
  for (const [method, url] of ROUTES()) {
    const res = await mon.app.inject({ method, url, headers: { authorization } })
    assert.notEqual(res.statusCode, 401, `${method} ${url}`)
  }
  const list = await mon.app.inject({ method: 'POST', url: `/ptp/proxy/${lm.peerId}/ListPool`, headers: { authorization } })
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().hasError, false)
  // also over a real socket, as curl -u sends it
  const real = await fetch(`http://127.0.0.1:${mon.port}/ptp/discover`, { headers: { authorization } })
  assert.equal(real.status, 200)
  assert.equal(((await real.json()) as any).lifecycleManagers[0].peerId, lm.peerId)
  assert.equal((await fetch(`http://127.0.0.1:${mon.port}/ptp/discover`)).status, 401)
})

test('the checker and the loopback test', () => {
  const ok = basicAuthChecker(AUTH)
  assert.equal(ok(basic(AUTH.user, AUTH.password)), true)
  assert.equal(ok(basic(AUTH.user, AUTH.password + 'x')), false)
  assert.equal(ok(undefined), false)
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(h), true, h)
  for (const h of ['0.0.0.0', '::', '10.0.0.5', 'monitor.example']) assert.equal(isLoopbackHost(h), false, h)
})

test('a warning at start when neither auth nor a loopback bind protects the monitor, none otherwise', async () => {
  assert.match(exposureWarning('0.0.0.0', 3000, false)!, /0\.0\.0\.0:3000 without PHALA_MONITOR_AUTH: anyone who reaches this port can create and delete pools/)
  assert.equal(exposureWarning('0.0.0.0', 3000, true), undefined)
  assert.equal(exposureWarning('127.0.0.1', 3000, false), undefined)
  assert.equal(exposureWarning('::1', 3000, false), undefined)
  // the running monitor logs what exposureWarning says (here: nothing on loopback), never the password
  for (const withAuth of [false, true]) {
    const log = memoryLogger('info')
    const m = await startTestMonitor([], { host: '127.0.0.1', ...(withAuth ? { auth: AUTH } : {}) }, log.logger)
    await m.stop()
    assert.equal(log.lines().filter((l) => l.level === 40).length, 0)
    assert.ok(log.lines().some((l) => /^Monitor at http:\/\/127\.0\.0\.1:\d+\/discover$/.test(l.msg)))
    assert.ok(!log.text().includes(AUTH.password), 'the password is never logged')
  }
})

test('config: PHALA_MONITOR_AUTH is user:password, secret; the monitor\'s variables map to its options', () => {
  const { config, secrets } = loadConfig('monitor', {
    PHALA_MONITOR_AUTH: 'operator:correct horse battery', PHALA_MONITOR_HOST: '127.0.0.1', PORT: '3456', PHALA_MONITOR_PROXY_TIMEOUT: '5000',
    PTP_BOOT_NODES: '/ip4/10.0.0.2/tcp/28888', PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true', PHALA_METRICS_PORT: '9464',
  })
  assert.ok(secrets.includes('operator:correct horse battery'))
  const o = monitorOptions(config)
  assert.deepEqual(o.auth, AUTH)
  assert.equal(o.host, '127.0.0.1')
  assert.equal(o.port, 3456)
  assert.equal(o.proxyTimeoutMs, 5000)
  assert.deepEqual(o.walkie.bootNodes, ['/ip4/10.0.0.2/tcp/28888'])
  assert.equal(o.walkie.disableMdns, true)
  assert.deepEqual(o.metrics, { port: 9464, host: '0.0.0.0' })
  const d = monitorOptions(loadConfig('monitor', {}).config)
  assert.equal(d.port, 3000)
  assert.equal(d.host, '0.0.0.0')
  assert.equal(d.auth, undefined)
  assert.equal(d.metrics, undefined)
  assert.equal(d.walkie.disableMdns, false)
  for (const bad of ['nopassword', ':password123', 'user:short']) {
    assert.throws(() => loadConfig('monitor', { PHALA_MONITOR_AUTH: bad }), (e: unknown) => e instanceof ConfigError && /PHALA_MONITOR_AUTH=\(secret, not shown\) is invalid/.test(e.message) && !e.message.includes(bad))
  }
})

test('config: PHALA_MONITOR_AUTH and PHALA_QUEUE_BOARD_AUTH are one kind: the same values pass and fail, errors name the variable and what to do', () => {
  const cases: Array<[string, string]> = [['monitor', 'PHALA_MONITOR_AUTH'], ['trade', 'PHALA_QUEUE_BOARD_AUTH'], ['lifecycle', 'PHALA_QUEUE_BOARD_AUTH']]
  for (const [module, name] of cases) {
    const { config, secrets } = loadConfig(module as 'monitor', { [name]: 'admin:a long password' })
    assert.deepEqual((config as unknown as Record<string, unknown>)[name], { user: 'admin', password: 'a long password' }, `${name} of ${module}`)
    assert.ok(secrets.includes('admin:a long password'), `${name} is secret`)
    assert.equal((loadConfig(module as 'monitor', { [name]: '' }).config as unknown as Record<string, unknown>)[name], undefined, 'empty: off')
    const fails = (bad: string, why: RegExp) => assert.throws(() => loadConfig(module as 'monitor', { [name]: bad }), (e: unknown) => {
      const msg = (e as Error).message
      return e instanceof ConfigError && msg.includes(`${name}=(secret, not shown) is invalid`) && why.test(msg) && msg.includes(`set ${name}=user:password`) && !msg.includes(bad)
    }, `${name}=${bad}`)
    fails('nopassword1234', /expected user:password/)
    fails(':password123', /expected user:password/)
    fails('user:short', /at least 8 characters/)
  }
})

test('with PHALA_WALKIE_PSK the monitor reaches lifecycles of the same private network, and no one else reaches them', async (t) => {
  const psk = 'a private network key of the bridge 42'
  const private_ = await startFakeLifecycle({ psk })
  t.after(() => private_.stop())
  const inside = await startTestMonitor([private_.address], { walkie: { psk } })
  t.after(() => inside.stop())
  await waitForPeer(inside, private_.peerId)
  const list = await inside.app.inject({ method: 'POST', url: `/ptp/proxy/${private_.peerId}/ListPool` })
  assert.equal(list.json().hasError, false)
  const outside = await startTestMonitor([])
  t.after(() => outside.stop())
  await assert.rejects(outside.walkie.dial(private_.address, { timeoutMs: 5000 }))
  assert.equal((await outside.app.inject({ url: '/ptp/discover' })).json().lifecycleManagers.length, 0)
})
