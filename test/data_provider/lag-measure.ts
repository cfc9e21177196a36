/**
 * Worker lag near the relay tip (weakness 4), shared by live-justifications.test.ts and
 * test/bench/tip-lag.bench.ts: a devnet making a relay block every `blockMs`, two data providers
 * over it (live justifications on / off), each feeding its own devnet pRuntime from its blob server
 * as the lifecycle does, sampled for `measureMs` after a warm-up.
 */
import type { Logger } from '../../src/common/logger.js'
import { createBlobClient, decodeGenesis, decodeWindow, type BlobClient, type WindowRecord } from '../../src/data_provider/index.js'
import type { RunningDataProvider } from '../../src/data_provider/main.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'
import { feedFromBlobs, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

export interface LagOptions {
  blockMs: number
  justificationPeriod: number
  /** a set change every this many relay blocks */
  sessionBlocks: number
  /** finalized-head poll of the data providers, ms */
  pollMs: number
  warmupMs: number
  measureMs: number
  history: number
  /** liveJustificationGap of the live data provider (default: the data provider's) */
  liveGap?: number
}

export interface LagFigures {
  /** worker lag to the relay best block, sampled after each feeding round */
  lagBlocksMean: number
  lagBlocksP95: number
  lagBlocksMax: number
  /** per relay block: wall time from its production to the worker having it synced */
  latencySecMean: number
  latencySecP95: number
  latencySecMax: number
  blocksTimed: number
  liveUsed: number
}

export interface ModeResult {
  figures: LagFigures
  /** last relay block the worker synced */
  synced: number
  subscribed: boolean
  windows: WindowRecord[]
}

export interface LagResult {
  relayBlocksMeasured: number
  live: ModeResult
  storedOnly: ModeResult
}

interface Mode {
  dp: RunningDataProvider
  blob: BlobClient
  endpoint: string
  lagBlocks: number[]
  syncedAt: Map<number, number>
  synced: number
}

export async function measureTipLag(o: LagOptions, logger: Logger): Promise<LagResult> {
  const producedAt = new Map<number, number>()
  const dirs: Array<{ remove(): void }> = []
  const modes: Mode[] = []
  let dn: Devnet | undefined
  let pr: RunningPruntimes | undefined
  try {
    dn = await startTestDevnet({ history: o.history, blockMs: o.blockMs, justificationPeriod: o.justificationPeriod, sessionBlocks: o.sessionBlocks }, logger)
    const devnet = dn
    devnet.relay.chain.on('block', (b) => producedAt.set(b.number, Date.now()))
    pr = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0 }, logger)
    for (const [i, live] of [true, false].entries()) {
      const dir = tempDir()
      dirs.push(dir)
      const dp = await startDp(devnet, dir.path, logger, { liveJustifications: live, ...(o.liveGap !== undefined ? { liveJustificationGap: o.liveGap } : {}), parentParallel: 16, paraParallel: 16, justificationPeriod: o.justificationPeriod, targetPollMs: o.pollMs })
      const blob = createBlobClient({ host: '127.0.0.1', port: dp.blobServerPort() })
      const m: Mode = { dp, blob, endpoint: pr.workers[i]!.endpoint, lagBlocks: [], syncedAt: new Map(), synced: -1 }
      modes.push(m)
      await dp.booted
      let raw: Uint8Array | null = null
      await waitFor(async () => !!(raw = await blob.get('genesis:2035:pb')), 20_000, 'genesis written')
      const genesis = decodeGenesis(raw!)
      await new PruntimeClient(m.endpoint).prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
        skipRa: false, encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true,
      })
    }
    const t0 = Date.now()
    let from = -1
    for (;;) {
      const now = Date.now()
      if (now - t0 > o.warmupMs + o.measureMs) break
      const measuring = now - t0 > o.warmupMs
      if (measuring && from < 0) from = devnet.status().relay.best + 1
      for (const m of modes) {
        const r = await feedFromBlobs(m.blob, m.endpoint)
        const at = r.info.headernum - 1
        const t = Date.now()
        for (let n = m.synced + 1; n <= at; n++) m.syncedAt.set(n, t)
        m.synced = Math.max(m.synced, at)
        if (measuring) m.lagBlocks.push(devnet.status().relay.best - at)
      }
      // Pace the rounds (a lifecycle polls its worker too); the figures come from the samples.
      await new Promise((r) => setTimeout(r, 50))
    }
    const best = devnet.status().relay.best
    // Time only blocks the slower mode had a chance to sync within the run.
    const to = best - o.justificationPeriod
    const result = async (m: Mode): Promise<ModeResult> => {
      const windows: WindowRecord[] = []
      for (let id = 0; ; id++) {
        const raw = await m.blob.get(`window:${id}:pb`)
        if (!raw) break
        windows.push(decodeWindow(raw))
      }
      return { figures: figures(m, producedAt, from, to), synced: m.synced, subscribed: m.dp.fetchStats()?.live !== undefined, windows }
    }
    return { relayBlocksMeasured: best - from + 1, live: await result(modes[0]!), storedOnly: await result(modes[1]!) }
  } finally {
    for (const m of modes) {
      await m.blob.close()
      await m.dp.stop()
    }
    await pr?.stop()
    await dn?.stop()
    for (const d of dirs) d.remove()
  }
}

function figures(m: Mode, producedAt: Map<number, number>, from: number, to: number): LagFigures {
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
