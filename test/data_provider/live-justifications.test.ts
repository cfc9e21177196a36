/**
 * Weakness 4 (header latency near the tip), against a devnet making a relay block every 200 ms with
 * a justification period of 64: two data providers over the same chain, one with live GRANDPA
 * justifications and one without, each feeding its own devnet pRuntime from its blob server as
 * the lifecycle does. With live justifications the worker stays within a few blocks of the relay
 * head; without, its lag grows toward the justification period. Prints the figures.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createBlobClient, decodeGenesis, decodeWindow, type BlobClient } from '../../src/data_provider/index.js'
import type { RunningDataProvider } from '../../src/data_provider/main.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'
import { feedFromBlobs, quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

const PERIOD = 64
/** The finalized-head poll as deployed (upstream's 3 s): live mode follows heads by subscription too. */
const POLL_MS = 3000
const BLOCK_MS = 200
const SET_BLOCKS = 200 // one set change (a window end) inside the measured blocks
const WARMUP_MS = 6_000
const MEASURE_MS = 20_000
const logger = quiet()
let dn: Devnet
let pr: RunningPruntimes
const dirs: Array<{ remove(): void }> = []
const dps: RunningDataProvider[] = []
const blobs: BlobClient[] = []
const producedAt = new Map<number, number>()

before(async () => {
  dn = await startTestDevnet({ history: 100, blockMs: BLOCK_MS, justificationPeriod: PERIOD, sessionBlocks: SET_BLOCKS }, logger)
  dn.relay.chain.on('block', (b) => producedAt.set(b.number, Date.now()))
  pr = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0 }, logger)
})

after(async () => {
  for (const b of blobs) await b.close()
  for (const dp of dps) await dp.stop()
  await pr?.stop()
  await dn?.stop()
  for (const d of dirs) d.remove()
})

interface Mode {
  name: string
  dp: RunningDataProvider
  blob: BlobClient
  worker: PruntimeClient
  endpoint: string
  /** worker lag to the relay best block, one sample per round after warm-up */
  lagBlocks: number[]
  /** relay block -> first time the worker had it synced */
  syncedAt: Map<number, number>
  synced: number
}

async function setup(name: string, live: boolean, i: number): Promise<Mode> {
  const dir = tempDir()
  dirs.push(dir)
  const dp = await startDp(dn, dir.path, logger, { liveJustifications: live, parentParallel: 16, paraParallel: 16, justificationPeriod: PERIOD, targetPollMs: POLL_MS })
  dps.push(dp)
  await dp.booted
  const blob = createBlobClient({ host: '127.0.0.1', port: dp.blobServerPort() })
  blobs.push(blob)
  const endpoint = pr.workers[i]!.endpoint
  const worker = new PruntimeClient(endpoint)
  let raw: Uint8Array | null = null
  await waitFor(async () => !!(raw = await blob.get('genesis:2035:pb')), 20_000, `${name}: genesis written`)
  const genesis = decodeGenesis(raw!)
  await worker.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    skipRa: false, encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true,
  })
  return { name, dp, blob, worker, endpoint, lagBlocks: [], syncedAt: new Map(), synced: -1 }
}

async function round(m: Mode, measuring: boolean): Promise<void> {
  const r = await feedFromBlobs(m.blob, m.endpoint)
  const now = Date.now()
  const at = r.info.headernum - 1
  for (let n = m.synced + 1; n <= at; n++) m.syncedAt.set(n, now)
  m.synced = Math.max(m.synced, at)
  if (measuring) m.lagBlocks.push(dn.status().relay.best - at)
}

function figures(m: Mode, from: number, to: number): Record<string, number> {
  const lat: number[] = []
  for (let n = from; n <= to; n++) {
    const p = producedAt.get(n)
    const s = m.syncedAt.get(n)
    if (p !== undefined && s !== undefined) lat.push((s - p) / 1000)
  }
  lat.sort((a, b) => a - b)
  const lag = [...m.lagBlocks].sort((a, b) => a - b)
  const mean = (a: number[]): number => Math.round((a.reduce((s, x) => s + x, 0) / Math.max(1, a.length)) * 100) / 100
  const q = (a: number[], p: number): number => a[Math.min(a.length - 1, Math.floor(p * a.length))] ?? NaN
  return {
    lagBlocksMean: mean(lag), lagBlocksP95: q(lag, 0.95), lagBlocksMax: lag.at(-1) ?? NaN,
    latencySecMean: mean(lat), latencySecP95: q(lat, 0.95), latencySecMax: lat.at(-1) ?? NaN, blocksTimed: lat.length,
    liveUsed: m.dp.fetchStats()?.live?.used ?? 0,
  }
}

test(`worker lag to the relay head with and without live justifications (blocks every ${BLOCK_MS} ms, justification period ${PERIOD})`, async (t) => {
  const live = await setup('live', true, 0)
  const stored = await setup('stored only', false, 1)
  const modes = [live, stored]
  const t0 = Date.now()
  let measureFrom = -1
  for (;;) {
    const now = Date.now()
    if (now - t0 > WARMUP_MS + MEASURE_MS) break
    const measuring = now - t0 > WARMUP_MS
    if (measuring && measureFrom < 0) measureFrom = dn.status().relay.best + 1
    for (const m of modes) await round(m, measuring)
    // Pace the rounds (a worker's lifecycle polls too); the figures come from the samples, not from this delay.
    await new Promise((r) => setTimeout(r, 50))
  }
  const measureTo = dn.status().relay.best - PERIOD // blocks the slow mode had a chance to sync
  const fl = figures(live, measureFrom, measureTo)
  const fs = figures(stored, measureFrom, measureTo)
  const out = { blockMs: BLOCK_MS, justificationPeriod: PERIOD, targetPollMs: POLL_MS, relayBlocksMeasured: dn.status().relay.best - measureFrom + 1, live: fl, storedOnly: fs }
  t.diagnostic(JSON.stringify(out))
  process.stderr.write(`live-justifications figures: ${JSON.stringify(out)}\n`)
  assert.ok(out.relayBlocksMeasured > PERIOD, `the run covers more than one justification period (${out.relayBlocksMeasured} blocks)`)
  assert.ok(fl.liveUsed > PERIOD, `live justifications used: ${fl.liveUsed}`)
  assert.ok(fl.lagBlocksMax < 10, `with live justifications the worker stays within 10 blocks of the head: ${JSON.stringify(fl)}`)
  assert.ok(fs.lagBlocksMax >= PERIOD * 0.75, `without, its lag grows toward the justification period: ${JSON.stringify(fs)}`)
  assert.equal(stored.dp.fetchStats()?.live, undefined, 'the stored-only data provider did not subscribe')
  // A live justification closes a dry range, never a window: window 0 ends at the set change in both.
  assert.ok(live.synced > SET_BLOCKS, `the live worker crossed the set change at ${SET_BLOCKS} (its own light client checked the new set): ${live.synced}`)
  for (const m of modes) {
    const w0 = decodeWindow((await m.blob.get('window:0:pb'))!)
    assert.equal(w0.isFinished, true, m.name)
    assert.equal(w0.parentStopBlock, SET_BLOCKS, `${m.name}: window 0 ends at the set-change block`)
    const w1 = decodeWindow((await m.blob.get('window:1:pb'))!)
    assert.equal(w1.isFinished, false, `${m.name}: no window ended at a live-justified block`)
  }
})
