/**
 * `PHALA_MODULE=lifecycle`, wired in dependency order:
 *   store (+ the v2 SQLite import) → LIFECYCLE key → operator check → chain connections →
 *   [boot: chain identity → Walkie with the management API → worker engine]
 * and stopped in reverse. start() returns once the store and the key are ready (a missing key or a
 * damaged store fails it with a message naming the file); the boot steps that need the parachain
 * retry with backoff in the background, so SIGTERM works at any time.
 * The engine comes from engine.ts `createEngine`, given config, logger, Walkie and the chains.
 */
import { setMaxListeners } from 'node:events'
import { stat } from 'node:fs/promises'
import { cleanupStack, type ModuleContext, type RunningModule } from '../common/module.js'
import { componentLogger, type Logger } from '../common/logger.js'
import { createChainConnection, type ChainConnection } from '../common/chain.js'
import { createMetrics, createMetricsServer } from '../common/metrics.js'
import { PrbError } from '../common/errors.js'
import { AbortedError, retry } from '../common/retry.js'
import type { LifecycleConfig } from '../config/index.js'
import { createWalkie, keyFilePath, type Walkie, type WalkieInit } from '../walkie/index.js'
import { registerLifecycleApi } from './api.js'
import { poolToWire } from './records.js'
import type { PoolRecord } from '../trade/index.js'
import type { WorkerEngine } from './contract.js'
import { createEngine as defaultCreateEngine, type EngineDeps } from './engine.js'
import { registerLifecycleMetrics } from './metrics.js'
import { registerTradeMetrics } from '../trade/index.js'
import { createOperatorVault, loadLifecycleIdentity, type OperatorVault } from './operators.js'
import { Repository } from './repository.js'
import { createPoolStore, type PoolStore } from './store.js'
import { importV2, isSqliteFile, readV2Database, STORE_SUFFIX_BESIDE_SQLITE, V2_IMPORT_META, type V2Database, type V2ImportSummary } from './v2-import.js'

export class LifecycleStartError extends PrbError {
  override name = 'LifecycleStartError'
}

export interface LifecycleOptions {
  config: LifecycleConfig
  /** Walkie settings beyond the config (tests: fast liveness, deadlines). */
  walkie?: Partial<Omit<WalkieInit, 'role' | 'chainIdentity' | 'identity'>>
  callTimeoutMs?: number
  reconnectMinMs?: number
  reconnectMaxMs?: number
}

export interface LifecycleDeps {
  logger: Logger
  /** Scrubs secrets from error texts sent to Walkie peers (the module's SecretGuard). */
  redact?: (text: string) => string
  /** The engine factory; engine.ts's by default (tests pass a recording one). */
  createEngine?: (deps: EngineDeps) => WorkerEngine
}

export interface RunningLifecycle extends RunningModule {
  /** Resolves once Walkie serves the API and the engine has the workers. */
  readonly booted: Promise<void>
  readonly repo: Repository
  /** Where the level store is (PHALA_LOCAL_DB_PATH, or beside it when that is v2's SQLite file). */
  readonly storePath: string
  readonly peerId: string
  /** The bound /metrics port; undefined when PHALA_METRICS_PORT is unset. */
  readonly metricsPort: number | undefined
  walkie(): Walkie | undefined
  engine(): WorkerEngine | undefined
  chainIdentity(): string | undefined
}

/** The level store's path: PHALA_LOCAL_DB_PATH itself, or `<path>.prb` beside v2's SQLite file. */
export async function storePathFor(dbPath: string): Promise<{ storePath: string; sqlite: boolean }> {
  if (await isSqliteFile(dbPath)) return { storePath: dbPath + STORE_SUFFIX_BESIDE_SQLITE, sqlite: true }
  const st = await stat(dbPath).catch(() => undefined)
  if (st && !st.isDirectory()) {
    throw new LifecycleStartError('ERR_LIFECYCLE_DB_PATH', `PHALA_LOCAL_DB_PATH=${dbPath} is a file but not an SQLite database; point it at a directory for the lifecycle's store (created when missing), or at prb v2's local.db to import it`)
  }
  return { storePath: dbPath, sqlite: false }
}

/** As the data provider: the hex of the parachain's block #1 hash. */
async function readChainIdentity(para: ChainConnection, signal: AbortSignal): Promise<string> {
  const h = await para.rpc<string | null>('chain_getBlockHash', [1], { signal })
  if (!h) throw new LifecycleStartError('ERR_NO_PARA_BLOCK_1', 'the parachain has no block #1 yet; its hash is the chain identity, waiting for it')
  return h.toLowerCase()
}

/** Every stored operator must decrypt with this key; none doing so means it is the wrong key. */
async function checkOperators(store: PoolStore, vault: OperatorVault, keyFile: string, log: Logger): Promise<void> {
  const pools = [...store.snapshot().pools.values()]
  const failed: string[] = []
  for (const p of pools) {
    try {
      const id = await vault.open(p.encryptedOperator)
      if (id.operatorPublicKey !== p.operatorPublicKey) throw new Error('it decrypts to another operator than the one recorded')
    } catch (err) {
      failed.push(`pool ${JSON.stringify(p.name)} (pid ${p.pid})`)
      log.error({ err, pool: p.uuid, poolPid: p.pid }, `The operator of pool ${JSON.stringify(p.name)} (pid ${p.pid}) does not decrypt with ${keyFile}; the trader cannot sign for it. Restore the key it was made with, or set the operator again (UpdatePool with owner.mnemonic).`)
    }
  }
  if (pools.length > 0 && failed.length === pools.length) {
    throw new LifecycleStartError('ERR_LIFECYCLE_KEY_WRONG', `the LIFECYCLE key ${keyFile} decrypts none of the ${pools.length} operator(s) in ${store.path}: it is not the key they were encrypted with; restore the right key file (or set PHALA_PEER_ID_PREFIX to its directory)`)
  }
}

export async function startLifecycle(o: LifecycleOptions, deps: LifecycleDeps): Promise<RunningLifecycle> {
  const c = o.config
  const log = deps.logger
  const configMode = c.PHALA_LIFECYCLE_CONFIG_MODE
  const { storePath, sqlite } = await storePathFor(c.PHALA_LOCAL_DB_PATH)
  const store = createPoolStore({ path: storePath })
  await store.open()
  let repo: Repository
  let identity: Awaited<ReturnType<typeof loadLifecycleIdentity>>
  const keyFile = keyFilePath(c.PHALA_PEER_ID_PREFIX, 'LIFECYCLE')
  try {
    let v2: V2Database | undefined
    if (sqlite) {
      const done = store.meta<V2ImportSummary>(V2_IMPORT_META)
      if (done) log.info({ source: c.PHALA_LOCAL_DB_PATH, store: storePath, importedAt: done.importedAt }, `The v2 database was imported on ${done.importedAt}; its later changes are not read. The store is ${storePath}.`)
      else v2 = await readV2Database(c.PHALA_LOCAL_DB_PATH)
    }
    const inStore = store.snapshot().pools.size
    const sealed = inStore > 0
      ? { count: inStore, where: `the lifecycle store ${storePath}` }
      : v2 && v2.pools.length > 0 ? { count: v2.pools.length, where: `the v2 database ${v2.path}` } : undefined
    identity = await loadLifecycleIdentity(c.PHALA_PEER_ID_PREFIX, sealed, log)
    const vault = createOperatorVault(identity.rsa)
    await checkOperators(store, vault, keyFile, log)
    if (v2) await importV2(v2, { store, vault, logger: componentLogger(log, 'v2-import'), keyFile })
    repo = new Repository({ store, vault, logger: componentLogger(log, 'repository') })
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  const snap = store.snapshot()
  log.info({ store: storePath, pools: snap.pools.size, workers: snap.workers.size, configMode }, `Lifecycle store ${storePath}: ${snap.pools.size} pool(s), ${snap.workers.size} worker(s).`)

  const abort = new AbortController()
  const signal = abort.signal
  setMaxListeners(0, signal)
  const cleanups = cleanupStack(log)
  cleanups.push('store', () => store.close())

  let walkie: Walkie | undefined
  let engine: WorkerEngine | undefined
  let chainIdentity: string | undefined

  let metricsPort: number | undefined
  if (c.PHALA_METRICS_PORT !== undefined) {
    const metrics = createMetrics({ module: 'lifecycle' })
    registerLifecycleMetrics(metrics, {
      workers: () => repo.listWorkers().map((w) => ({ uuid: w.worker.uuid, name: w.worker.name, pool: w.pool.name })),
      engine: () => engine,
    })
    if (c.USE_BUILT_IN_TRADER) registerTradeMetrics(metrics, () => engine?.figures?.().trader)
    const server = createMetricsServer({ port: c.PHALA_METRICS_PORT, host: c.PHALA_METRICS_HOST }, { registry: metrics.registry, logger: componentLogger(log, 'metrics') })
    try {
      metricsPort = (await server.start()).port
    } catch (err) {
      await store.close().catch(() => undefined)
      throw err
    }
    cleanups.push('metrics', () => server.stop())
  }
  const reconnect = { minMs: o.reconnectMinMs ?? 500, maxMs: o.reconnectMaxMs ?? 30_000 }
  const para = createChainConnection({ url: c.PHALA_CHAIN_ENDPOINT, name: 'para', callTimeoutMs: o.callTimeoutMs, reconnect }, { logger: componentLogger(log, 'para-chain') })
  // The relay chain is for the engine only (upstream's primary connected the para chain alone).
  const relay = createChainConnection({ url: c.PHALA_PARENT_CHAIN_ENDPOINT, name: 'relay', callTimeoutMs: o.callTimeoutMs, reconnect }, { logger: componentLogger(log, 'relay-chain') })
  cleanups.push('chain connections', () => Promise.all([para.stop(), relay.stop()]))
  para.start()
  if (!configMode) relay.start()

  const boot = async (): Promise<void> => {
    log.info({ url: c.PHALA_CHAIN_ENDPOINT }, `Reading the chain identity (para block #1 hash) from ${c.PHALA_CHAIN_ENDPOINT}; Walkie and the API start once the node answers.`)
    chainIdentity = await retry(() => readChainIdentity(para, signal), { what: `read the chain identity (block #1 hash) from ${c.PHALA_CHAIN_ENDPOINT}`, logger: log, signal, ...reconnect })
    const init: WalkieInit = {
      role: 'WR_LIFECYCLE_MANAGER',
      chainIdentity,
      bridgeIdentity: c.PHALA_BRIDGE_IDENTITY,
      ignoreBridgeIdentity: c.PHALA_PTP_IGNORE_BRIDGE_IDENTITY,
      identity: { preloaded: identity },
      listenAddresses: c.PHALA_WALKIE_LISTEN_ADDRESSES,
      bootNodes: c.PHALA_WALKIE_BOOT_NODES,
      disableMdns: c.PHALA_WALKIE_DISABLE_MDNS_DISCOVERY,
      ...(c.PHALA_WALKIE_PSK ? { psk: c.PHALA_WALKIE_PSK } : {}),
      ...o.walkie,
    }
    walkie = await retry(() => cleanups.start('walkie', () => {
      const w = createWalkie(init, { logger: componentLogger(log, 'walkie'), ...(deps.redact ? { redact: deps.redact } : {}) })
      registerLifecycleApi(w, { repo, engine: () => engine, configMode, logger: componentLogger(log, 'api') })
      return w
    }), { what: 'start Walkie', logger: log, signal, ...reconnect })
    if (signal.aborted) throw new AbortedError()
    if (configMode) {
      log.info('Runners won\'t start since config mode enabled (PHALA_LIFECYCLE_CONFIG_MODE=true): the store and the API only.')
    } else {
      engine = (deps.createEngine ?? defaultCreateEngine)({ config: c, logger: componentLogger(log, 'engine'), walkie, relay, para, chainIdentity, listPools: () => repo.listPools().map(poolToWire) as unknown as PoolRecord[] })
      cleanups.push('engine', () => engine!.stop())
      repo.setEngine(engine)
    }
    log.info({ peerId: walkie.peerId, addresses: walkie.multiaddrs(), chainIdentity, bridgeIdentity: c.PHALA_BRIDGE_IDENTITY, configMode }, 'Lifecycle up: Walkie serves ListPool, CreatePool, UpdatePool, ListWorker, CreateWorker, UpdateWorker, RestartWorker, RefreshRaAndRestartWorker, KickWorker, GetWorkerStatus.')
  }

  const booted = boot().catch((err: unknown) => {
    if (err instanceof AbortedError || signal.aborted) return
    log.fatal({ err }, `lifecycle start-up failed: ${(err as Error)?.message ?? String(err)}`)
    throw err
  })
  booted.catch(() => undefined)

  const stop = cleanups.stopper({ name: 'lifecycle', abort, booted: () => booted })

  return {
    booted,
    repo,
    storePath,
    peerId: identity.peerId,
    metricsPort,
    walkie: () => walkie,
    engine: () => engine,
    chainIdentity: () => chainIdentity,
    stop,
  }
}

export async function start(ctx: ModuleContext<LifecycleConfig>): Promise<RunningModule> {
  const lm = await startLifecycle({ config: ctx.config }, { logger: ctx.logger, redact: (t) => ctx.guard.redact(t) })
  return { stop: () => lm.stop() }
}
