/**
 * `PHALA_MODULE=data_provider`: one process (upstream forked five) wiring, in dependency order,
 *   store → blob server → chain connections → [boot: para id, genesis, chain identity] →
 *   blob builder → Walkie (Hello, GetDataProviderInfo, GetBlobByKey) → fetcher → progress log,
 * and stopping in reverse. start() returns once the store and the blob server are up; the boot
 * steps that need the chains run in the background and retry with backoff until the nodes answer,
 * so SIGTERM works at any time and an unreachable node never kills the process.
 */
import { setMaxListeners } from 'node:events'
import { cleanupStack, type ModuleContext, type RunningModule } from '../common/module.js'
import type { Logger } from '../common/logger.js'
import { createMetrics, createMetricsServer } from '../common/metrics.js'
import { componentLogger } from '../common/logger.js'
import { createChainConnection, DEFAULT_RECONNECT_MAX_MS, type ChainConnection } from '../common/chain.js'
import { AbortedError, retry, sleep } from '../common/retry.js'
import type { DataProviderConfig } from '../config/index.js'
import { createWalkie, type DataProviderInfo, type Walkie, type WalkieInit } from '../walkie/index.js'
import { createBlobBuilder, type BlobBuilder, type BlobBuilderProgress } from './builder.js'
import { createBlobServer } from './blob-server.js'
import { createStore, type GenesisRecord } from './store.js'
import {
  createFetcher, DEFAULT_JUSTIFICATION_PERIOD, DEFAULT_LIVE_JUSTIFICATION_GAP, loadOrCreateGenesis, WrongChainError, readChainIdentity, readParaId, type Fetcher,
} from './fetch/index.js'
import { ProgressReporter } from './progress.js'
import { dataProviderInfo, registerDataProviderService, type InfoHeights } from './service.js'
import { blobReachWarning } from './blob-reach.js'
import { registerDataProviderMetrics } from './metrics.js'

export interface DataProviderOptions {
  relayUrl: string
  paraUrl: string
  dbPath: string
  blobServer: { host: string; port: number; secret?: string }
  parentParallel: number
  paraParallel: number
  /** Relay node's justification period (0 = check every block with chain_getBlock). */
  justificationPeriod?: number
  /** Close dry ranges at live GRANDPA justifications too (fetch/live.ts); default true. */
  liveJustifications?: boolean
  /** Relay blocks at least between a justified block and the next live-justified one (default 4, fetch/index.ts). */
  liveJustificationGap?: number
  /** Relay blocks a dry payload superseded by a covering one stays readable (range-builder.ts; default 600). */
  livePruneGraceBlocks?: number
  /** 0 = no para batches; else PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT. */
  paraBatchSize: number
  /** Walkie settings; null = no Walkie node (tests, benchmarks). */
  walkie: Omit<WalkieInit, 'role' | 'chainIdentity'> | null
  targetPollMs?: number
  /** Progress line: checked this often and written at most this often when something changed (default 5 s). */
  progressLogMs?: number
  /** Progress line when nothing changed: this often (default 60 s). */
  progressIdleLogMs?: number
  callTimeoutMs?: number
  /** Reconnect backoff bounds, ms: min default 500, max PHALA_CHAIN_RECONNECT_MAX_MS (default 3000). */
  reconnectMinMs?: number
  reconnectMaxMs?: number
}

export interface RunningDataProvider extends RunningModule {
  /** Resolves once genesis, identity, Walkie and the fetcher are up. */
  readonly booted: Promise<void>
  info(): DataProviderInfo
  blobServerPort(): number
  chainIdentity(): string | undefined
  genesis(): GenesisRecord | undefined
  readonly walkie: () => Walkie | undefined
  readonly relay: ChainConnection
  readonly para: ChainConnection
  fetchStats(): ReturnType<Fetcher['progress']> | undefined
  /** The builder's heights (range height, batch height ...), once booted. */
  builderProgress(): BlobBuilderProgress | undefined
}

export async function startDataProvider(o: DataProviderOptions, deps: { logger: Logger; redact?: (text: string) => string }): Promise<RunningDataProvider> {
  const log = deps.logger
  const store = createStore({ path: o.dbPath })
  await store.open()
  const abort = new AbortController()
  const signal = abort.signal
  setMaxListeners(0, signal)
  const cleanups = cleanupStack(log)
  cleanups.push('store', () => store.close())
  // `booted` is assigned below, before anything can call stop().
  const stop = cleanups.stopper({ name: 'data provider', abort, booted: () => booted })

  let builder: BlobBuilder | undefined
  let fetcher: Fetcher | undefined
  let walkie: Walkie | undefined
  let genesis: GenesisRecord | undefined
  let chainIdentity: string | undefined
  let paraId = 0

  const blobServer = createBlobServer(
    { host: o.blobServer.host, port: o.blobServer.port, ...(o.blobServer.secret ? { secret: o.blobServer.secret } : {}) },
    { logger: componentLogger(log, 'blob-server'), lookup: (key) => store.get(key) },
  )
  let blobPort = 0
  try {
    blobPort = (await blobServer.start()).port
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  cleanups.push('blob server', () => blobServer.stop())

  const reconnect = { minMs: o.reconnectMinMs ?? 500, maxMs: o.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS }
  const relay = createChainConnection({ url: o.relayUrl, name: 'relay', callTimeoutMs: o.callTimeoutMs, reconnect }, { logger: componentLogger(log, 'relay-chain') })
  const para = createChainConnection({ url: o.paraUrl, name: 'para', callTimeoutMs: o.callTimeoutMs, reconnect }, { logger: componentLogger(log, 'para-chain') })
  cleanups.push('chain connections', () => Promise.all([relay.stop(), para.stop()]))
  // Since when each chain is unreachable, for the progress line (not yet connected counts from start).
  const down: { relay?: number; para?: number } = { relay: Date.now(), para: Date.now() }
  for (const [c, conn] of [['relay', relay], ['para', para]] as const) {
    conn.events.on('connected', () => { down[c] = undefined })
    conn.events.on('disconnected', () => { down[c] ??= Date.now() })
  }
  relay.start()
  para.start()
  // Refreshed with each progress check; Info reads the last value (it must answer at once).
  let dbBytes = 0

  const heights = (): InfoHeights => {
    const f = fetcher?.progress()
    const b = builder?.progress()
    return {
      paraId,
      parentStartHeader: genesis?.parentNumber ?? -1,
      parentTarget: f?.parentTarget ?? -1,
      parentFetchedHeight: f?.parentFetchedHeight ?? -1,
      // As upstream: the last relay block the builder walked (its range may still be open).
      parentProcessedHeight: b?.parentProcessedHeight ?? -1,
      parentCommittedHeight: b?.parentCommittedHeight ?? -1,
      paraTarget: f?.paraTarget ?? -1,
      paraFetchedHeight: f?.paraFetchedHeight ?? -1,
      paraProcessedHeight: b?.paraCommittedHeight ?? -1,
      paraCommittedHeight: b?.paraCommittedHeight ?? -1,
      blobServerPort: blobPort,
      dbBytes,
    }
  }

  const step = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retry(fn, { what, logger: log, signal, minMs: reconnect.minMs, maxMs: reconnect.maxMs, retryable: (e) => !(e instanceof WrongChainError) })

  const boot = async (): Promise<void> => {
    paraId = await step('read the para id (ParachainInfo.ParachainId)', () => readParaId(para, signal))
    const g = await step('load or compute the genesis', () => loadOrCreateGenesis(store, relay, para, paraId, log, signal))
    genesis = g.genesis
    // pRuntime HEAD syncs para headers from #0 (chain.md §6.3).
    builder = createBlobBuilder({ paraId, paraBatchSize: o.paraBatchSize, firstParaHeader: 0, ...(o.livePruneGraceBlocks !== undefined ? { livePruneGraceBlocks: o.livePruneGraceBlocks } : {}) }, { store, logger: componentLogger(log, 'builder') })
    cleanups.push('builder', () => builder!.stop())
    await builder.start()
    builder.notifyGenesis()
    chainIdentity = await step('read the chain identity (para block #1 hash)', () => readChainIdentity(para, signal))
    if (signal.aborted) throw new AbortedError()
    if (o.walkie) {
      const init = { ...o.walkie, role: 'WR_DATA_PROVIDER_INT' as const, chainIdentity: chainIdentity! }
      walkie = await step('start Walkie', () => cleanups.start('walkie', () => {
        const w = createWalkie(init, { logger: componentLogger(log, 'walkie'), ...(deps.redact ? { redact: deps.redact } : {}) })
        registerDataProviderService({ walkie: w, store, heights })
        return w
      }))
      log.info({ peerId: walkie.peerId, addresses: walkie.multiaddrs(), blobServerPort: blobPort }, 'Walkie up: serving Hello, GetDataProviderInfo, GetBlobByKey')
      const reach = await blobReachWarning(o.blobServer.host, blobPort, walkie.multiaddrs())
      if (reach) log.warn({ blobServerHost: o.blobServer.host, bind: reach.bind, unreachable: reach.unreachable }, reach.msg)
    }
    if (signal.aborted) throw new AbortedError()
    const b = builder
    fetcher = createFetcher({
      genesis: g.genesis,
      parentParallel: o.parentParallel,
      paraParallel: o.paraParallel,
      justificationPeriod: o.justificationPeriod ?? DEFAULT_JUSTIFICATION_PERIOD,
      liveJustifications: o.liveJustifications ?? true,
      ...(o.liveJustificationGap !== undefined ? { liveJustificationGap: o.liveJustificationGap } : {}),
      targetPollMs: o.targetPollMs,
    }, {
      relay, para, store, logger: componentLogger(log, 'fetch'),
      onParentCommit: (n) => b.notifyParentBlock(n),
      onParaCommit: (n) => b.notifyParaBlock(n),
    })
    cleanups.push('fetcher', () => fetcher!.stop())
    fetcher.start()
    log.info({ paraId, chainIdentity, parentStart: g.genesis.parentNumber, parentParallel: o.parentParallel, paraParallel: o.paraParallel, liveJustifications: o.liveJustifications ?? true, liveJustificationGap: o.liveJustificationGap ?? DEFAULT_LIVE_JUSTIFICATION_GAP }, 'data provider syncing')
  }

  const progressLoop = async (): Promise<void> => {
    const reporter = new ProgressReporter({ minIntervalMs: o.progressLogMs ?? 5000, idleIntervalMs: o.progressIdleLogMs ?? 60_000 }, { logger: log })
    try {
      for (;;) {
        dbBytes = await store.sizeOnDisk().catch(() => dbBytes)
        const f = fetcher?.progress()
        const h = heights()
        reporter.tick({
          heights: h,
          status: dataProviderInfo(h).status,
          relayDone: f?.relay.blocksDone ?? 0,
          paraDone: f?.para.blocksDone ?? 0,
          relayFailures: f?.relay.failures ?? 0,
          paraFailures: f?.para.failures ?? 0,
          relay: relay.ready ? { reachable: true } : { reachable: false, downSince: down.relay ?? Date.now() },
          para: para.ready ? { reachable: true } : { reachable: false, downSince: down.para ?? Date.now() },
          booted: fetcher !== undefined,
          dbBytes,
        })
        await sleep(o.progressLogMs ?? 5000, signal)
      }
    } catch {
      // stopped
    }
  }
  void progressLoop()

  const booted = boot().catch((err: unknown) => {
    if (err instanceof AbortedError || signal.aborted) return
    log.fatal({ err }, `data provider start-up failed: ${(err as Error)?.message ?? String(err)}; it serves what its DB holds but does not sync`)
    throw err
  })
  booted.catch(() => undefined)

  return {
    booted,
    info: () => dataProviderInfo(heights()),
    blobServerPort: () => blobPort,
    chainIdentity: () => chainIdentity,
    genesis: () => genesis,
    walkie: () => walkie,
    relay,
    para,
    fetchStats: () => fetcher?.progress(),
    builderProgress: () => builder?.progress(),
    stop,
  }
}

/** Typed config → options. */
export function dataProviderOptions(c: DataProviderConfig): DataProviderOptions {
  return {
    relayUrl: c.PHALA_PARENT_CHAIN_ENDPOINT,
    paraUrl: c.PHALA_CHAIN_ENDPOINT,
    dbPath: c.PHALA_LOCAL_DB_PATH,
    blobServer: {
      host: c.PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST,
      port: c.PHALA_DATA_PROVIDER_LOCAL_SERVER,
      ...(c.PHALA_DATA_PROVIDER_BLOB_SECRET ? { secret: c.PHALA_DATA_PROVIDER_BLOB_SECRET } : {}),
    },
    parentParallel: c.PHALA_PARENT_PARALLEL_BLOCKS,
    paraParallel: c.PHALA_PARA_PARALLEL_BLOCKS,
    justificationPeriod: c.PHALA_PARENT_JUSTIFICATION_PERIOD,
    liveJustifications: c.PHALA_DATA_PROVIDER_LIVE_JUSTIFICATIONS,
    liveJustificationGap: c.PHALA_DATA_PROVIDER_LIVE_JUSTIFICATION_GAP,
    reconnectMaxMs: c.PHALA_CHAIN_RECONNECT_MAX_MS,
    paraBatchSize: c.PHALA_ENABLE_PARA_BATCH_SYNC ? c.PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT : 0,
    walkie: {
      bridgeIdentity: c.PHALA_BRIDGE_IDENTITY,
      identity: { peerIdPrefix: c.PHALA_PEER_ID_PREFIX, name: 'DATA_PROVIDER' },
      listenAddresses: c.PHALA_WALKIE_LISTEN_ADDRESSES,
      bootNodes: c.PHALA_WALKIE_BOOT_NODES,
      disableMdns: c.PHALA_WALKIE_DISABLE_MDNS_DISCOVERY,
      ...(c.PHALA_WALKIE_PSK ? { psk: c.PHALA_WALKIE_PSK } : {}),
    },
  }
}

export async function start(ctx: ModuleContext<DataProviderConfig>): Promise<RunningModule> {
  const dp = await startDataProvider(dataProviderOptions(ctx.config), { logger: ctx.logger, redact: (t) => ctx.guard.redact(t) })
  if (ctx.config.PHALA_METRICS_PORT === undefined) return { stop: () => dp.stop() }
  const metrics = createMetrics({ module: 'data_provider' })
  registerDataProviderMetrics(metrics, dp)
  const server = createMetricsServer({ port: ctx.config.PHALA_METRICS_PORT, host: ctx.config.PHALA_METRICS_HOST }, { registry: metrics.registry, logger: componentLogger(ctx.logger, 'metrics') })
  try {
    await server.start()
  } catch (err) {
    await dp.stop()
    throw err
  }
  return { stop: async () => { await server.stop(); await dp.stop() } }
}
