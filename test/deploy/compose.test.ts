/**
 * docker-compose.yml, as Compose resolves it (`docker compose config` / `docker-compose config`), for
 * the default and the devnet profile: the services, ports and volumes the README promises, and every
 * variable it sets is one the service's daemon reads (src/config's schemas), with a value that daemon
 * accepts without a warning. No Docker engine is needed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadConfig, SCHEMAS, type ModuleName } from '../../src/config/index.js'
import { healthProbes } from '../../src/healthcheck.js'
import { composeConfig, type ComposeConfig } from './compose.js'

const ROLES = ['data_provider', 'lifecycle', 'trade', 'monitor'] as const
/** The variables of the seed's compose (upstream v2's deployment guide), per role. */
const SEED: Record<(typeof ROLES)[number], string[]> = {
  data_provider: ['PHALA_MODULE', 'NODE_ENV', 'PHALA_LOGGER_LEVEL', 'PHALA_PARENT_CHAIN_ENDPOINT', 'PHALA_CHAIN_ENDPOINT', 'PHALA_WALKIE_LISTEN_ADDRESSES', 'PHALA_BRIDGE_IDENTITY'],
  lifecycle: ['PHALA_MODULE', 'PHALA_PARENT_CHAIN_ENDPOINT', 'PHALA_CHAIN_ENDPOINT', 'PHALA_Q_REDIS_ENDPOINT', 'PHALA_LRU_CACHE_SIZE', 'PHALA_LRU_CACHE_MAX_AGE', 'PHALA_RUNNER_MAX_WORKER_NUMBER', 'PHALA_PRPC_REQUEST_TIMEOUT', 'PHALA_BRIDGE_IDENTITY', 'PHALA_WALKIE_LISTEN_ADDRESSES', 'PHALA_WALKIE_BOOT_NODES', 'WORKER_KEEPALIVE_ENABLED', 'USE_BUILT_IN_TRADER'],
  trade: ['PHALA_MODULE', 'PHALA_PARENT_CHAIN_ENDPOINT', 'PHALA_CHAIN_ENDPOINT', 'PHALA_Q_REDIS_ENDPOINT'],
  monitor: ['PHALA_MODULE', 'PTP_BOOT_NODES'],
}

const names = (m: ModuleName): Set<string> => new Set(['PHALA_MODULE', ...Object.values(SCHEMAS[m]).map((s) => s.name)])
/** The services that run prb (every one but redis), with their module. */
const prbServices = (c: ComposeConfig): Array<[string, ModuleName]> =>
  Object.entries(c.services).filter(([, s]) => s.environment.PHALA_MODULE).map(([n, s]) => [n, s.environment.PHALA_MODULE as ModuleName])

const byDefault = composeConfig()
const withDevnet = composeConfig({ profiles: ['devnet'] })

test('default: a service per role plus redis; the devnet only in its profile', () => {
  assert.deepEqual(Object.keys(byDefault.services).sort(), [...ROLES, 'redis'].sort())
  assert.deepEqual(byDefault.all.devnet?.profiles, ['devnet'])
  for (const r of ROLES) assert.equal(byDefault.services[r]!.environment.PHALA_MODULE, r, `${r} runs PHALA_MODULE=${r}`)
  const redis = byDefault.services.redis!
  assert.match(redis.image!, /^redis:\d/, 'redis pinned by a version tag')
  // upstream's rule: the queue's Redis is never persisted
  assert.deepEqual(redis.command, ['redis-server', '--appendonly', 'no', '--save', ''])
  const images = new Set(prbServices(withDevnet).map(([n]) => withDevnet.services[n]!.image))
  assert.equal(images.size, 1, `one image for every role: ${[...images].join(', ')}`)
})

test('ports: blob server 8012, monitor 3000 and queue board 4567 (these two on loopback only)', () => {
  const port = (svc: string, target: number) => byDefault.services[svc]!.ports.find((p) => p.target === target)
  assert.deepEqual(port('data_provider', 8012), { published: 8012, target: 8012 })
  assert.deepEqual(port('monitor', 3000), { host: '127.0.0.1', published: 3000, target: 3000 })
  assert.deepEqual(port('trade', 4567), { host: '127.0.0.1', published: 4567, target: 4567 })
  // and the daemons listen where the ports lead
  assert.equal(byDefault.services.data_provider!.environment.PHALA_DATA_PROVIDER_LOCAL_SERVER, '8012')
  assert.equal(byDefault.services.monitor!.environment.PORT, '3000')
  assert.equal(byDefault.services.trade!.environment.PHALA_QUEUE_BOARD_PORT, '4567')
  assert.equal(byDefault.services.trade!.environment.PHALA_QUEUE_BOARD_HOST, '0.0.0.0', 'the board must bind every interface inside its container to be published')
  // the image exposes every port a role publishes
  const expose = /^EXPOSE\s+(.+)$/m.exec(readFileSync('docker/Dockerfile', 'utf8'))![1]!.split(/\s+/).map(Number)
  for (const r of ROLES) for (const p of byDefault.services[r]!.ports) assert.ok(expose.includes(p.target), `${r}'s port ${p.target} is in the Dockerfile's EXPOSE`)
})

test('volumes: /var/data for the data provider and the lifecycle; the trader shares the lifecycle\'s (its key)', () => {
  const mount = (c: ComposeConfig, s: string) => c.services[s]!.volumes.find((v) => v.target === '/var/data')
  const dp = mount(byDefault, 'data_provider')
  const lm = mount(byDefault, 'lifecycle')
  assert.ok(dp && lm, 'both mount /var/data')
  assert.notEqual(dp.source, lm.source, 'the data provider (rebuildable) and the lifecycle (keys, store) on volumes of their own')
  assert.deepEqual(mount(byDefault, 'trade'), lm)
  assert.equal(byDefault.services.monitor!.volumes.length, 0, 'the monitor keeps nothing')
  for (const v of [dp, lm]) assert.ok(byDefault.volumes.includes(v.source), `${v.source} is a declared named volume`)
  // an upgrade from v2 points PRB_LIFECYCLE_DATA at v2's directory: a bind mount for both
  const v2 = composeConfig({ env: { PRB_LIFECYCLE_DATA: './data' } })
  assert.equal(mount(v2, 'lifecycle')!.source, resolve('data'))
  assert.equal(mount(v2, 'trade')!.source, resolve('data'))
})

test('every variable the compose sets is one its daemon reads, with the seed\'s under their upstream names, and each value is accepted', () => {
  for (const c of [byDefault, withDevnet]) {
    for (const [svc, module] of prbServices(c)) {
      const env = c.services[svc]!.environment
      const known = names(module)
      for (const k of Object.keys(env)) assert.ok(known.has(k), `${svc} sets ${k}, which PHALA_MODULE=${module} does not read (src/config/schemas.ts)`)
      for (const k of SEED[svc as (typeof ROLES)[number]] ?? []) assert.ok(k in env, `${svc} sets the seed's ${k}`)
      const loaded = loadConfig(module, env) // throws on a bad value
      assert.deepEqual(loaded.warnings, [], `${svc}: no variable warned about`)
      // secrets come from .env or the shell, never from the file
      for (const spec of Object.values(SCHEMAS[module])) if (spec.secret && spec.name in env) assert.equal(env[spec.name], '', `${svc}: ${spec.name} is not written in the file`)
    }
  }
})

test('wiring: boot nodes, Redis and the chains name services of the file, on the ports those listen on; the healthcheck can probe every role', () => {
  const c = withDevnet
  const listens = (svc: string): string[] => (c.services[svc]!.environment.PHALA_WALKIE_LISTEN_ADDRESSES ?? '').split(',')
  for (const [svc, module] of prbServices(c)) {
    const env = c.services[svc]!.environment
    for (const addr of [env.PHALA_WALKIE_BOOT_NODES, env.PTP_BOOT_NODES].filter(Boolean).flatMap((v) => v!.split(','))) {
      const m = /^\/dns4\/([^/]+)\/tcp\/(\d+)$/.exec(addr)
      assert.ok(m, `${svc}: boot node ${addr} is /dns4/<service>/tcp/<port>`)
      assert.ok(c.services[m[1]!], `${svc}: boot node ${addr} names a service`)
      assert.ok(listens(m[1]!).includes(`/ip4/0.0.0.0/tcp/${m[2]}`), `${m[1]} listens on ${m[2]}`)
    }
    if (env.PHALA_Q_REDIS_ENDPOINT) assert.equal(env.PHALA_Q_REDIS_ENDPOINT, 'redis://redis:6379/')
    const probes = healthProbes(module, loadConfig(module, env).config)
    assert.ok(probes.length > 0)
    for (const p of probes) assert.notEqual(typeof p, 'string', `${svc}: the healthcheck skips a probe: ${String(p)}`)
  }
})

test('devnet profile: a devnet service every other service points at; real endpoints from .env or the shell replace it', () => {
  const devnet = withDevnet.services.devnet
  assert.ok(devnet, 'the devnet profile adds the devnet')
  assert.equal(devnet.environment.PHALA_MODULE, 'devnet')
  const d = loadConfig('devnet', devnet.environment).config
  assert.equal(d.PHALA_DEVNET_HOST, '0.0.0.0', 'reachable from the other containers')
  const chained = prbServices(withDevnet).filter(([, m]) => m !== 'devnet' && names(m).has('PHALA_CHAIN_ENDPOINT'))
  assert.deepEqual(chained.map(([n]) => n).sort(), ['data_provider', 'lifecycle', 'trade'])
  for (const [svc] of chained) {
    const env = withDevnet.services[svc]!.environment
    assert.equal(env.PHALA_CHAIN_ENDPOINT, `ws://devnet:${d.PHALA_DEVNET_PARA_PORT}`, svc)
    assert.equal(env.PHALA_PARENT_CHAIN_ENDPOINT, `ws://devnet:${d.PHALA_DEVNET_RELAY_PORT}`, svc)
  }
  const prod = composeConfig({ env: { PHALA_CHAIN_ENDPOINT: 'ws://khala-node:9944', PHALA_PARENT_CHAIN_ENDPOINT: 'ws://kusama-node:9945', PHALA_MONITOR_AUTH: 'ops:a-long-password', PHALA_BRIDGE_IDENTITY: 'mine' } })
  for (const [svc] of chained) {
    const env = prod.services[svc]!.environment
    assert.equal(env.PHALA_CHAIN_ENDPOINT, 'ws://khala-node:9944', svc)
    assert.equal(env.PHALA_PARENT_CHAIN_ENDPOINT, 'ws://kusama-node:9945', svc)
    assert.equal(env.PHALA_BRIDGE_IDENTITY, 'mine', svc)
  }
  assert.equal(prod.services.monitor!.environment.PHALA_MONITOR_AUTH, 'ops:a-long-password')
})
