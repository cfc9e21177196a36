/**
 * Helpers of the sync engine's devnet tests: a devnet with pRuntimes, data providers with Walkie,
 * the lifecycle's Walkie node dialled to them, worker views, and the engine with test timings.
 */
import type { Logger } from '../../src/common/logger.js'
import type { Devnet, DevnetOptions } from '../../src/devnet/devnet.js'
import type { DataProviderOptions, RunningDataProvider } from '../../src/data_provider/main.js'
import { createWalkie, type Walkie } from '../../src/walkie/index.js'
import type { WorkerView } from '../../src/lifecycle/contract.js'
import { createSyncEngine, type SyncEngine, type SyncEngineOptions, type SyncMetrics } from '../../src/lifecycle/sync/index.js'
import { startDp, startTestDevnet, tempDir } from '../data_provider/e2e-helpers.js'

export { quiet, waitFor, caughtUp, describeProgress, lastJustified } from '../data_provider/e2e-helpers.js'

export const WALKIE_DP = { bridgeIdentity: 'default', identity: { ephemeral: true as const }, listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, bootNodes: [] as string[] }

export async function startDevnetWith(o: Partial<DevnetOptions>, logger: Logger): Promise<Devnet> {
  return startTestDevnet({ rpcLatencyMs: 0, ...o }, logger)
}

export interface TestDp {
  dp: RunningDataProvider
  stop(): Promise<void>
}

export async function startWalkieDp(dn: Devnet, logger: Logger, o: Partial<DataProviderOptions> = {}): Promise<TestDp> {
  const dir = tempDir('prb-sync-dp-')
  const dp = await startDp(dn, dir.path, logger, { walkie: WALKIE_DP, paraBatchSize: 0, ...o })
  await dp.booted
  let stopped: Promise<void> | undefined
  return {
    dp,
    stop: () => {
      stopped ??= dp.stop().finally(() => dir.remove())
      return stopped
    },
  }
}

/** The lifecycle's Walkie node, dialled to each data provider (as PHALA_WALKIE_BOOT_NODES does). */
export async function lifecycleWalkie(dps: RunningDataProvider[], logger: Logger): Promise<Walkie> {
  return lifecycleWalkieTo(dps[0]!.chainIdentity()!, dps.map((d) => d.walkie()!.multiaddrs()[0]!), logger)
}

/** The same, to data providers known by their chain identity and Walkie addresses (e.g. in another thread). */
export async function lifecycleWalkieTo(chainIdentity: string, addresses: string[], logger: Logger): Promise<Walkie> {
  const w = createWalkie({
    role: 'WR_LIFECYCLE_MANAGER', chainIdentity, bridgeIdentity: 'default', identity: { ephemeral: true },
    listenAddresses: [], disableMdns: true, bootNodes: addresses,
    livenessIntervalMs: 500, staleAfterMs: 3000, bootRetryMinMs: 100, bootRetryMaxMs: 1000,
  }, { logger })
  await w.start()
  for (const a of addresses) await w.dial(a)
  return w
}

export function workerView(i: number, endpoint: string, o: Partial<WorkerView> = {}): WorkerView {
  return {
    uuid: `w-${i}`, name: `worker-${i}`, endpoint, stake: '1000000000000', enabled: true, syncOnly: true,
    pool: { uuid: 'p-1', pid: '1', name: 'pool-1', enabled: true, syncOnly: true, operatorSs58: '', operatorPublicKey: '0x' + '11'.repeat(32) },
    ...o,
  }
}

export function testOptions(o: Partial<SyncEngineOptions> = {}): SyncEngineOptions {
  return {
    runnerMaxWorkers: 150, blobQueueSize: 36, prpcTimeoutMs: 3000, binApiTimeoutMs: 10_000, lruSize: 5000, lruMaxAgeMs: 1_800_000,
    disableLru: false, keepAlive: true, keepAliveTimeoutMs: 5000, syncOnly: true, devSkipRa: false, disableFastSync: true,
    infoPollMs: 200, retryMinMs: 100, retryMaxMs: 1000, infoRefreshMs: 500,
    ...o,
  }
}

export function startEngine(walkie: Walkie, logger: Logger, o: Partial<SyncEngineOptions> = {}, metrics?: SyncMetrics): SyncEngine {
  return createSyncEngine(testOptions(o), { logger, walkie, ...(metrics ? { metrics } : {}) })
}

/** Every worker's last dispatched para block equals the data provider's para head and the relay header is at the last range. */
export function atHead(engine: SyncEngine, uuids: string[], dp: RunningDataProvider): boolean {
  return atHeadOf(engine, uuids, dp.builderProgress()?.parentRangeHeight ?? -1)
}

/** The same against the data provider's last range height `range`. */
export function atHeadOf(engine: SyncEngine, uuids: string[], range: number): boolean {
  return uuids.every((u) => {
    const r = engine.report(u)
    return !!r && r.status === 'S_SYNCHED' && r.parentHeaderSynchedTo >= range && r.paraBlockDispatchedTo === r.paraHeaderSynchedTo && r.paraHeaderSynchedTo > 0
  })
}

export function describe(engine: SyncEngine, uuids: string[], dp: RunningDataProvider): string {
  return JSON.stringify({ dp: { range: dp.builderProgress()?.parentRangeHeight, ...dp.info() }, workers: uuids.map((u) => { const r = engine.report(u); return r && { u, s: r.status, h: r.parentHeaderSynchedTo, p: r.paraHeaderSynchedTo, b: r.paraBlockDispatchedTo, m: r.lastMessage } }), stats: engine.stats() })
}
