/**
 * The trade daemon's /metrics (PHALA_METRICS_PORT): started as the entry wires it on a devnet with a
 * Redis of its own, it sends jobs; a scrape shows them completed by action, the extrinsics sent and
 * the next nonce of the operator that signed them, nothing left in flight. Without the variable no
 * metrics server is started.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { createTradeProducer } from '../../src/common/trade-queue.js'
import { loadConfig } from '../../src/config/index.js'
import type { Devnet } from '../../src/devnet/index.js'
import { startTradeDaemon, type RunningTradeDaemon } from '../../src/trade/index.js'
import { connectApi, keyring, noiseMessage, startFakeLifecycle, startRedis, startTradeDevnet, testLogger, waitFor, type FakeLifecycle, type TestRedis } from '../trade/helpers.js'

let redis: TestRedis
let devnet: Devnet
let api: ApiPromise
let lifecycle: FakeLifecycle
let keyDir: string
let daemon: RunningTradeDaemon | undefined
const alice = keyring().addFromUri('//Alice')

const env = (extra: Record<string, string>) => loadConfig('trade', {
  PHALA_MODULE: 'trade', PHALA_CHAIN_ENDPOINT: devnet.paraUrl, PHALA_Q_REDIS_ENDPOINT: redis.url, PHALA_PEER_ID_PREFIX: keyDir,
  PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0', PHALA_WALKIE_BOOT_NODES: lifecycle.address, PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
  PHALA_QUEUE_BOARD_PORT: '0', PHALA_TRADE_BATCH_MS: '200', ...extra,
}).config

before(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'prb-trade-metrics-'))
  redis = await startRedis()
  devnet = await startTradeDevnet()
  api = await connectApi(devnet.paraUrl)
  lifecycle = await startFakeLifecycle(keyDir, devnet.para.chain.byNumber(1)!.hash, [{ pid: 0, operator: alice }])
})

after(async () => {
  await daemon?.stop()
  await lifecycle?.stop()
  await api?.disconnect()
  await devnet?.stop()
  await redis?.stop()
  rmSync(keyDir, { recursive: true, force: true })
})

const value = (text: string, re: RegExp): number | undefined => {
  const m = re.exec(text)
  return m ? Number(m[1]) : undefined
}

test('without PHALA_METRICS_PORT the trade daemon serves no metrics', async () => {
  const d = await startTradeDaemon(env({}), { logger: testLogger() })
  try {
    assert.equal(d.metricsPort, undefined)
  } finally {
    await d.stop()
  }
})

test('PHALA_METRICS_PORT: jobs by state and action, jobs processed, extrinsics sent, next nonce and in-flight batches per operator', async () => {
  daemon = await startTradeDaemon(env({ PHALA_METRICS_PORT: '0', PHALA_METRICS_HOST: '127.0.0.1' }), { logger: testLogger() })
  assert.ok(daemon.metricsPort && daemon.metricsPort > 0)
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${daemon!.metricsPort}/metrics`)
    assert.equal(res.status, 200)
    return res.text()
  }
  const before = await scrape()
  assert.match(before, /^prb_trade_queue_jobs\{state="completed",module="trade"\} 0$/m)
  assert.match(before, /^prb_trade_jobs_processed_total\{outcome="completed",module="trade"\} 0$/m)
  assert.doesNotMatch(before, /^prb_trade_extrinsics_sent_total\{operator=/m, 'no operator lane before the first job')

  const producer = createTradeProducer({ redisUrl: redis.url }, { logger: testLogger() })
  try {
    const handles = await Promise.all([1, 2, 3].map((i) => producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: '0', messages: [noiseMessage(api, i, 'metrics')] })))
    for (const h of handles) assert.equal((await h.result).calls[0]!.ok, true)
  } finally {
    await producer.close()
  }
  const op = alice.address
  let text = ''
  // The lane forgets a finalized extrinsic on its next tick, and Bull moves a job to completed just
  // after its result reaches the producer: wait for nothing in flight and the 3 jobs completed.
  await waitFor(async () => {
    text = await scrape()
    return value(text, new RegExp(`^prb_trade_extrinsics_in_flight\\{operator="${op}",module="trade"\\} (\\d+)$`, 'm')) === 0 &&
      /^prb_trade_queue_jobs\{state="completed",module="trade"\} 3$/m.test(text)
  }, 60_000, () => `in flight: ${text.split('\n').filter((l) => l.startsWith('prb_trade_')).join('\n')}`, 300)
  assert.match(text, /^prb_trade_jobs\{state="completed",action="BATCH_SYNC_MQ_MESSAGE",module="trade"\} 3$/m)
  assert.match(text, /^prb_trade_queue_jobs\{state="completed",module="trade"\} 3$/m)
  assert.match(text, /^prb_trade_queue_jobs\{state="waiting",module="trade"\} 0$/m)
  assert.match(text, /^prb_trade_jobs_processed_total\{outcome="completed",module="trade"\} 3$/m)
  assert.match(text, /^prb_trade_jobs_processed_total\{outcome="failed",module="trade"\} 0$/m)
  assert.match(text, /^prb_trade_calls_finalized_total\{module="trade"\} 3$/m)
  const sent = value(text, new RegExp(`^prb_trade_extrinsics_sent_total\\{operator="${op}",module="trade"\\} (\\d+)$`, 'm'))
  assert.ok(sent !== undefined && sent >= 1 && sent <= 3, `extrinsics sent: ${sent}`)
  // Alice signed nothing else on this devnet: her next nonce is what the chain now says.
  const onChain = (await api.rpc.system.accountNextIndex(op)).toNumber()
  assert.equal(value(text, new RegExp(`^prb_trade_next_nonce\\{operator="${op}",module="trade"\\} (\\d+)$`, 'm')), onChain)
  assert.equal(onChain, sent, 'one nonce per extrinsic sent')
})
