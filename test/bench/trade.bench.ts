/**
 * The trader's throughput on the devnet (a para block every 500 ms, final one relay block later):
 * JOBS single-call jobs (BATCH_SYNC_MQ_MESSAGE, each message from its own sender) over 4 pools
 * with 4 operators (pool 0 direct, pools 1-3 proxied), batched (PHALA_TRADE_BATCH_SIZE 30, as
 * deployed), then BASELINE_JOBS with batch size 1 (upstream without batching: one extrinsic per
 * call). One JSON line: calls per second finalized (total and per pool), extrinsics sent,
 * duplicate nonces (same operator and nonce signed with two contents), calls executed twice on
 * chain, lost jobs (not finished ok). Then JOBS again with PHALA_TRADE_POOL_CONCURRENCY 2
 * (pipelined; a third argument of 0 skips it).
 *
 * Measured 2026-12-03, 10,000 jobs, 2-core machine shared with other benches (load 5-10):
 *   batch 30, concurrency 1 (defaults): 50.1 calls/s finalized per pool (200 total), 336 extrinsics,
 *     0 duplicate nonces, 0 executed twice, 0 lost; 28.1 calls per para block per pool (ceiling 30:
 *     each operator had an extrinsic in every block; para blocks 561 ms instead of 500 under load);
 *   batch size 1 (400 jobs): 1.9 calls/s per pool (one extrinsic per block per operator): 25.7x;
 *   batch 30, concurrency 2: 64.4 calls/s per pool (47 calls per block per pool; blocks of 733 ms:
 *     the devnet's JS block building, ~2 ms a call, is then the limit).
 * The earlier 3.9 calls/s per pool came from the devnet verifying sr25519 in pure JS (4.5 ms a
 * signature, now wasm: 0.4 ms; blocks of 4 batches took ~1 s) and from the lane's InBlock -> next
 * submission path (~400 ms of a loaded block; the next batch is now prepared ahead). Runs vary with
 * the machine's load (27-54 per pool at load 8-10 before prepare-ahead): compare within one run.
 *   node --import tsx --import ./src/polyfill.ts test/bench/trade.bench.ts [jobs] [baselineJobs] [pipelinedJobs]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import { createChainConnection } from '../../src/common/chain.js'
import { createTradeProducer, type TradeJobHandle } from '../../src/common/trade-queue.js'
import { createPoolDirectory, createTrader, loadLifecycleKey, walkiePoolSource } from '../../src/trade/index.js'
import {
  connectApi, keyring, landedCalls, noiseMessage, nonceContents, sendFinal, startDevnetProcess, startFakeLifecycle, startRedis, testLogger, traderWalkie,
} from '../trade/helpers.js'

const JOBS = Number(process.argv[2] ?? 10_000)
const BASELINE_JOBS = Number(process.argv[3] ?? 400)
const PIPELINED_JOBS = Number(process.argv[4] ?? JOBS)
const POOLS = 4

const k = keyring()
const alice = k.addFromUri('//Alice')
const operators: KeyringPair[] = [alice, k.addFromUri('//Bob'), k.addFromUri('//Charlie'), k.addFromUri('//Dave')]

const keyDir = mkdtempSync(join(tmpdir(), 'prb-trade-bench-'))
// The devnet in its own process, as deployed: it verifies every MQ message's sr25519 signature in
// JavaScript, and sharing one event loop with the trader measured the devnet, not the trader.
const devnet = await startDevnetProcess({
  PHALA_DEVNET_BLOCK_MS: '250', PHALA_DEVNET_POOLS: String(POOLS), PHALA_DEVNET_HISTORY: '6', PHALA_DEVNET_JUSTIFICATION_PERIOD: '16',
  PHALA_DEVNET_SESSION_BLOCKS: '400', PHALA_DEVNET_PRUNTIMES: '0',
})
const api: ApiPromise = await connectApi(devnet.paraUrl)
for (const op of operators.slice(1)) await sendFinal(api, api.tx.proxy.addProxy(op.address, 'Any', 0), alice)
const chainIdentity = (await api.rpc.chain.getBlockHash(1)).toHex()
const lifecycle = await startFakeLifecycle(keyDir, chainIdentity, operators.map((op, pid) => (pid === 0 ? { pid, operator: op } : { pid, operator: op, real: alice })))
const walkie = traderWalkie(chainIdentity, lifecycle.address)
await walkie.start()

interface RunResult {
  jobs: number
  batchSize: number
  poolConcurrency: number
  seconds: number
  callsPerSecFinalized: number
  callsPerSecPerPool: number[]
  extrinsicsSent: number
  duplicateNonces: number
  callsExecutedTwice: number
  lostJobs: number
  /** Para blocks made during the run, their mean time, and calls per block per pool (the trader keeps up when ~batch size). */
  paraBlocks: number
  paraBlockMs: number
  callsPerBlockPerPool: number
  /** Why lost jobs were lost (distinct reasons, first 3). */
  lostReasons: string[]
}

async function run(jobs: number, batchSize: number, salt: string, poolConcurrency = 1): Promise<RunResult> {
  const redis = await startRedis()
  const conn = createChainConnection({ url: devnet.paraUrl, name: 'para', reconnect: { minMs: 100, maxMs: 1000 } }, { logger: testLogger() })
  conn.start()
  const pools = createPoolDirectory({}, { source: walkiePoolSource(walkie), lifecycleKey: () => loadLifecycleKey(keyDir), logger: testLogger() })
  const trader = createTrader({ redisUrl: redis.url, batchSize, batchMs: 1000, poolConcurrency, progressLogMs: 0 }, { logger: testLogger(), chain: conn, pools })
  await trader.start()
  const producer = createTradeProducer({ redisUrl: redis.url, reconcileMs: 10_000 }, { logger: testLogger() })
  const messages = Array.from({ length: jobs }, (_, i) => noiseMessage(api, i, salt))
  const best = async (): Promise<number> => (await api.rpc.chain.getHeader()).number.toNumber()
  const b0 = await best()
  const t0 = performance.now()
  const handles: TradeJobHandle[] = []
  for (let i = 0; i < jobs; i += 200) {
    handles.push(...await Promise.all(messages.slice(i, i + 200).map((m, j) => producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: String((i + j) % POOLS), messages: [m] }))))
  }
  const donePerPool = new Array<number>(POOLS).fill(0)
  const lastPerPool = new Array<number>(POOLS).fill(0)
  const results = await Promise.allSettled(handles.map((h, i) => h.result.then((r) => {
    donePerPool[i % POOLS]!++
    lastPerPool[i % POOLS] = performance.now()
    return r
  })))
  const seconds = (performance.now() - t0) / 1000
  const paraBlocks = (await best()) - b0
  const lost = results.filter((r) => r.status !== 'fulfilled' || !r.value.calls.every((c) => c.ok))
  const lostJobs = lost.length
  const lostReasons = [...new Set(lost.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message ?? r.reason) : JSON.stringify(r.value.calls.find((c) => !c.ok))).slice(0, 300)))].slice(0, 3)
  const sent = trader.stats().extrinsicsSent
  const duplicateNonces = [...(await nonceContents(redis.url)).values()].filter((s) => s.size > 1).length
  await producer.close()
  await trader.stop()
  await conn.stop()
  await redis.stop()
  const landed = await landedCalls(api, operators.map((o) => o.address))
  const counts = new Map<string, number>()
  for (const c of landed) counts.set(c.argsHex, (counts.get(c.argsHex) ?? 0) + 1)
  const mine = new Set<string>(messages.map((m) => api.tx.phalaMq.syncOffchainMessage(api.createType('PhalaMqSignedMessage', m)).method.toHex()))
  const callsExecutedTwice = [...counts].filter(([h, n]) => mine.has(h) && n > 1).length
  return {
    jobs, batchSize, poolConcurrency, seconds: +seconds.toFixed(1),
    callsPerSecFinalized: +((jobs - lostJobs) / seconds).toFixed(1),
    callsPerSecPerPool: donePerPool.map((n, p) => +(n / ((lastPerPool[p]! - t0) / 1000)).toFixed(1)),
    extrinsicsSent: sent, duplicateNonces, callsExecutedTwice, lostJobs, lostReasons,
    paraBlocks, paraBlockMs: Math.round((seconds * 1000) / Math.max(1, paraBlocks)), callsPerBlockPerPool: +((jobs - lostJobs) / POOLS / Math.max(1, paraBlocks)).toFixed(1),
  }
}

const batched = await run(JOBS, 30, 'bench-batched')
const unbatched = await run(BASELINE_JOBS, 1, 'bench-unbatched')
// Pipelined: two batches per operator on their way into a block (the next one already pooled when a block is built).
const pipelined = PIPELINED_JOBS > 0 ? await run(PIPELINED_JOBS, 30, 'bench-pipelined', 2) : undefined
process.stdout.write(JSON.stringify({
  bench: 'trade',
  devnet: { paraBlockMs: 500, pools: POOLS, operators: POOLS },
  batched,
  batchSize1: unbatched,
  speedup: +(batched.callsPerSecFinalized / unbatched.callsPerSecFinalized).toFixed(1),
  ...(pipelined ? { poolConcurrency2: pipelined } : {}),
  load: loadavg().map((l) => +l.toFixed(1)),
}) + '\n')
await walkie.stop()
await lifecycle.stop()
await api.disconnect()
await devnet.stop()
rmSync(keyDir, { recursive: true, force: true })
