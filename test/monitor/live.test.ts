/**
 * The monitor in front of a real data provider on the devnet, both started from their config as
 * the entry starts them: the data provider is discovered over Walkie, its Info and a blob come back
 * through the proxy with upstream's JSON conventions (enum names, bytes as base64, uint64 as
 * strings in meta), a method it does not serve is a remote NOT_FOUND, and its /metrics shows the
 * heights the proxy reports.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { SecretGuard } from '../../src/common/logger.js'
import { loadConfig } from '../../src/config/index.js'
import { start as startDataProvider } from '../../src/data_provider/main.js'
import { decodeGenesis } from '../../src/data_provider/index.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { start as startMonitor } from '../../src/monitor/index.js'
import type { RunningModule } from '../../src/common/module.js'
import { tempDir } from '../helpers/fs.js'
import { quietLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'
import { startTestDevnet } from '../data_provider/e2e-helpers.js'

let dn: Devnet
before(async () => {
  dn = await startTestDevnet({}, quietLogger())
  await dn.makeBlocks(20)
})
after(async () => {
  await dn?.stop()
})

test('a live data provider through the monitor\'s proxy: discover, Info, a blob, a remote error, and its /metrics', async (t) => {
  const [blobPort, walkiePort, dpMetricsPort, monitorPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const running: RunningModule[] = []
  t.after(async () => {
    for (const r of running.reverse()) await r.stop()
  })
  const dpConfig = loadConfig('data_provider', {
    PHALA_PARENT_CHAIN_ENDPOINT: dn.relayUrl,
    PHALA_CHAIN_ENDPOINT: dn.paraUrl,
    PHALA_LOCAL_DB_PATH: tempDir(t, 'prb-monitor-live-db-'),
    PHALA_PEER_ID_PREFIX: tempDir(t, 'prb-monitor-live-keys-'),
    PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blobPort),
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_PARENT_JUSTIFICATION_PERIOD: '8',
    PHALA_WALKIE_LISTEN_ADDRESSES: `/ip4/127.0.0.1/tcp/${walkiePort}`,
    PHALA_WALKIE_BOOT_NODES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    PHALA_METRICS_PORT: String(dpMetricsPort),
    PHALA_METRICS_HOST: '127.0.0.1',
  }).config
  running.push(await startDataProvider({ config: dpConfig, logger: quietLogger(), guard: new SecretGuard() }))
  const monConfig = loadConfig('monitor', {
    PORT: String(monitorPort),
    PHALA_MONITOR_HOST: '127.0.0.1',
    PTP_BOOT_NODES: `/ip4/127.0.0.1/tcp/${walkiePort}`,
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
  }).config
  running.push(await startMonitor({ config: monConfig, logger: quietLogger(), guard: new SecretGuard() }))
  const base = `http://127.0.0.1:${monitorPort}`
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(base + path, init)
    return { status: res.status, body: await res.json() as any }
  }

  let dp: any
  await waitFor(async () => {
    dp = (await get('/ptp/discover')).body.dataProviders[0]
    return dp !== undefined
  }, 60_000, 'the monitor discovers the data provider')
  assert.equal(dp.role, 1)
  assert.equal(dp.hostname, hostname())
  assert.equal(dp.bridgeIdentity, 'default')
  assert.match(dp.chainIdentity, /^0x[0-9a-f]{64}$/, 'para block #1 hash')
  assert.equal(dp.remoteAddr, `/ip4/127.0.0.1/tcp/${walkiePort}`)

  const finalized = dn.status()
  let info: any
  await waitFor(async () => {
    const r = await get(`/ptp/proxy/${dp.peerId}/GetDataProviderInfo`)
    info = r.body
    return r.status === 200 && info.data?.status === 'S_IDLE' && info.data.parentFetchedHeight >= finalized.relay.finalized && info.data.paraFetchedHeight >= finalized.para.finalized
  }, 120_000, () => `the data provider catches up with the devnet: ${JSON.stringify(info)} vs ${JSON.stringify(finalized)}`)
  assert.equal(info.hasError, false)
  assert.equal(info.data.paraId, 2035)
  assert.equal(info.data.blobServerPort, blobPort)
  assert.equal(typeof info.data.parentTarget, 'number', 'int32 stays a number')
  assert.match(info.meta.createdAt, /^\d+$/, 'uint64 as a decimal string')

  const blob = await get(`/ptp/proxy/${dp.peerId}/GetBlobByKey`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'genesis:2035:pb' }) })
  assert.equal(blob.status, 200)
  assert.equal(blob.body.data.key, 'genesis:2035:pb')
  assert.equal(typeof blob.body.data.data, 'string', 'bytes as base64')
  assert.equal(decodeGenesis(Buffer.from(blob.body.data.data, 'base64')).paraId, 2035)

  const lifecycleOnly = await get(`/ptp/proxy/${dp.peerId}/ListPool`, { method: 'POST' })
  assert.equal(lifecycleOnly.status, 200)
  assert.deepEqual(lifecycleOnly.body.error, { type: 2, message: 'Handler not implemented.' })

  const metrics = await (await fetch(`http://127.0.0.1:${dpMetricsPort}/metrics`)).text()
  const relayFetched = Number(/^prb_data_provider_height\{chain="relay",stage="fetched",module="data_provider"\} (-?\d+)$/m.exec(metrics)?.[1])
  assert.ok(relayFetched >= finalized.relay.finalized, `metrics relay fetched ${relayFetched}`)
  assert.match(metrics, /^prb_data_provider_synced\{module="data_provider"\} 1$/m)
  assert.match(metrics, /^prb_data_provider_blocks_fetched_total\{chain="para",module="data_provider"\} [1-9]\d*$/m)
})
