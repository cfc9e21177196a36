/**
 * `PHALA_MODULE=trade` as the entry wires it (config → chain → Walkie → trader → board): it logs
 * upstream's ready line, sends a job, and serves the queue board with basic auth; the board renders
 * in headless Chromium with the queue's name in the DOM (screenshot in .tmp/test-output/trade/).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { chromium } from 'playwright-core'
import type { RunningModule } from '../../src/common/module.js'
import { createTradeProducer } from '../../src/common/trade-queue.js'
import { loadConfig } from '../../src/config/index.js'
import type { Devnet } from '../../src/devnet/index.js'
import { startTradeDaemon } from '../../src/trade/index.js'
import { memoryLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { connectApi, keyring, noiseMessage, startFakeLifecycle, startRedis, startTradeDevnet, testLogger, waitFor, type FakeLifecycle, type TestRedis } from './helpers.js'

const OUT = resolve('.tmp/test-output/trade')
const AUTH = 'prb:board-password'

let redis: TestRedis
let devnet: Devnet
let api: ApiPromise
let lifecycle: FakeLifecycle
let keyDir: string
let daemon: RunningModule | undefined
let boardPort: number
const mem = memoryLogger('info')

before(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'prb-trade-keys-'))
  redis = await startRedis()
  devnet = await startTradeDevnet()
  api = await connectApi(devnet.paraUrl)
  const chainIdentity = devnet.para.chain.byNumber(1)!.hash
  lifecycle = await startFakeLifecycle(keyDir, chainIdentity, [{ pid: 0, operator: keyring().addFromUri('//Alice') }])
  boardPort = await freePort()
  const { config } = loadConfig('trade', {
    PHALA_MODULE: 'trade', PHALA_CHAIN_ENDPOINT: devnet.paraUrl, PHALA_Q_REDIS_ENDPOINT: redis.url, PHALA_PEER_ID_PREFIX: keyDir,
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0', PHALA_WALKIE_BOOT_NODES: lifecycle.address, PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    PHALA_QUEUE_BOARD_PORT: String(boardPort), PHALA_QUEUE_BOARD_AUTH: AUTH, PHALA_TRADE_BATCH_MS: '200',
  })
  daemon = await startTradeDaemon(config, { logger: mem.logger })
})

after(async () => {
  await daemon?.stop()
  await lifecycle?.stop()
  await api?.disconnect()
  await devnet?.stop()
  await redis?.stop()
  rmSync(keyDir, { recursive: true, force: true })
})

test('the daemon logs the ready line and finishes a job', async () => {
  assert.ok(mem.lines().some((l) => l.msg === 'Now accepting incoming transaction requests...'))
  const producer = createTradeProducer({ redisUrl: redis.url }, { logger: testLogger() })
  try {
    const h = await producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [noiseMessage(api, 1, 'daemon')] })
    const r = await h.result
    assert.equal(r.calls[0]!.ok, true)
  } finally {
    await producer.close()
  }
  assert.ok(!mem.text().includes(AUTH), 'the board password never reaches a log line')
})

test('the board answers on its port with basic auth and lists the queue', async () => {
  const base = `http://127.0.0.1:${boardPort}`
  const anon = await fetch(`${base}/`)
  assert.equal(anon.status, 401)
  assert.match(anon.headers.get('www-authenticate') ?? '', /Basic/)
  const headers = { authorization: `Basic ${Buffer.from(AUTH).toString('base64')}` }
  const page = await fetch(`${base}/`, { headers })
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<html/i)
  const api = await fetch(`${base}/api/queues?activeQueue=prbmq__main&status=completed&page=1`, { headers })
  assert.equal(api.status, 200)
  const body = (await api.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> }
  const q = body.queues.find((x) => x.name === 'prbmq__main')
  assert.ok(q, `queues: ${body.queues.map((x) => x.name).join()}`)
  assert.ok((q.counts.completed ?? 0) >= 1, JSON.stringify(q.counts))
})

test('the board renders in headless Chromium with the queue name in the DOM', async (t) => {
  await waitFor(() => existsSync('/usr/bin/chromium'), 600_000, '/usr/bin/chromium (Debian chromium) to be installed', 2000)
  const profile = mkdtempSync(join(tmpdir(), 'prb-chromium-'))
  t.after(() => rmSync(profile, { recursive: true, force: true }))
  const [user, password] = [AUTH.slice(0, AUTH.indexOf(':')), AUTH.slice(AUTH.indexOf(':') + 1)]
  // A fresh profile directory (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    httpCredentials: { username: user, password },
  })
  t.after(() => context.close())
  const page = await context.newPage()
  // The page links Google Fonts: never wait for network idle (stack.md).
  await page.goto(`http://127.0.0.1:${boardPort}/`, { waitUntil: 'domcontentloaded', timeout: 60_000 })
  await page.getByText('prbmq__main').first().waitFor({ timeout: 60_000 })
  mkdirSync(OUT, { recursive: true })
  const shot = join(OUT, 'queue-board.png')
  await page.screenshot({ path: shot, fullPage: true })
  assert.ok(statSync(shot).size > 1000, 'a screenshot was written')
  assert.ok((await page.content()).includes('prbmq__main'))
})
