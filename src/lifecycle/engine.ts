/**
 * Where the lifecycle gets its worker engine. main.ts calls `createEngine` once Walkie and the chain
 * connections are up (never in PHALA_LIFECYCLE_CONFIG_MODE); swapping the engine is a change of
 * this file only.
 *
 * The engine: the sync engine (sync/) feeds every enabled worker's pRuntime; the chain steps
 * (onchain/) take each synced worker on chain through the trade queue `prbmq__main`. With
 * USE_BUILT_IN_TRADER=true the trader and its queue board run here too, signing with the pools'
 * operators from this lifecycle's store.
 */
import type { ChainConnection } from '../common/chain.js'
import type { Logger } from '../common/logger.js'
import { componentLogger } from '../common/logger.js'
import { createTradeProducer } from '../common/trade-queue.js'
import type { LifecycleConfig } from '../config/index.js'
import { createPoolDirectory, createQueueBoard, createTrader, loadLifecycleKey, type PoolRecord, type QueueBoard, type Trader, type TraderOptions } from '../trade/index.js'
import type { Walkie } from '../walkie/index.js'
import type { EngineStats, WorkerEngine, WorkerReport, WorkerView } from './contract.js'
import { createChainEngine, createOnChainView, type ChainStepsOptions } from './onchain/index.js'
import { createSyncEngine, syncOptionsFromConfig, type SyncEngineOptions } from './sync/index.js'

export interface EngineDeps {
  config: LifecycleConfig
  logger: Logger
  /** The lifecycle's started Walkie node (role WR_LIFECYCLE_MANAGER): finds the data providers. */
  walkie: Walkie
  relay: ChainConnection
  para: ChainConnection
  /** Hex of the parachain's block #1 hash, as Walkie peers compare it. */
  chainIdentity: string
  /** The pools as ListPool answers them (the built-in trader signs with their operators). */
  listPools?: () => PoolRecord[]
}

/** Timings beyond the config (tests, the benchmark). */
export interface EngineTuning {
  sync?: Partial<SyncEngineOptions>
  chain?: Partial<ChainStepsOptions>
  trader?: Partial<TraderOptions>
  /** Serve the queue board with the built-in trader (default true). */
  board?: boolean
}

export function chainStepsOptions(c: LifecycleConfig): ChainStepsOptions {
  return {
    syncOnly: c.PHALA_SYNC_ONLY,
    devSkipRa: c.PHALA_DEV_SKIP_RA,
    minBenchScore: c.PHALA_MIN_BENCH_SCORE,
    enforceMinBenchScore: c.PHALA_ENFORCE_MIN_BENCH_SCORE,
    prpcTimeoutMs: c.PHALA_PRPC_REQUEST_TIMEOUT,
  }
}

/** The engine, plus the trade jobs its chain steps sent by action (the benchmark counts them). */
export type LifecycleEngine = WorkerEngine & { jobsSent(): Record<string, number> }

export function createEngine(deps: EngineDeps, tuning: EngineTuning = {}): LifecycleEngine {
  const c = deps.config
  const log = deps.logger
  const sync = createSyncEngine({ ...syncOptionsFromConfig(c), ...tuning.sync }, { logger: log, walkie: deps.walkie })
  const view = createOnChainView(deps.para, { logger: componentLogger(log, 'chain-view') })
  const producer = createTradeProducer({ redisUrl: c.PHALA_Q_REDIS_ENDPOINT, keepJobs: c.PHALA_TRADE_KEEP_JOBS }, { logger: componentLogger(log, 'trade-producer') })
  const chain = createChainEngine({ ...chainStepsOptions(c), ...tuning.chain }, { sync, view, producer, logger: log })

  let trader: Trader | undefined
  let board: QueueBoard | undefined
  if (c.USE_BUILT_IN_TRADER) {
    const listPools = deps.listPools ?? ((): PoolRecord[] => [])
    const pools = createPoolDirectory({}, {
      source: { listPools: async () => listPools() },
      lifecycleKey: () => loadLifecycleKey(c.PHALA_PEER_ID_PREFIX),
      logger: componentLogger(log, 'trade-pools'),
    })
    trader = createTrader({
      redisUrl: c.PHALA_Q_REDIS_ENDPOINT, batchSize: c.PHALA_TRADE_BATCH_SIZE, batchMs: c.PHALA_TRADE_BATCH_MS,
      poolConcurrency: c.PHALA_TRADE_POOL_CONCURRENCY, keepJobs: c.PHALA_TRADE_KEEP_JOBS, ...tuning.trader,
    }, { logger: componentLogger(log, 'trader'), chain: deps.para, pools })
    if (tuning.board !== false) {
      board = createQueueBoard({
        host: c.PHALA_QUEUE_BOARD_HOST, port: c.PHALA_QUEUE_BOARD_PORT, queue: trader.queue, ...(c.PHALA_QUEUE_BOARD_AUTH ? { auth: c.PHALA_QUEUE_BOARD_AUTH } : {}),
      }, { logger: componentLogger(log, 'board') })
    }
  }

  const started = (async () => {
    if (trader) {
      await trader.start()
      log.info('built-in trader started (USE_BUILT_IN_TRADER=true)')
    }
    if (board) {
      const b = await board.start()
      log.info({ url: b.url }, `queue board at ${b.url}`)
    }
    await view.start()
  })()
  started.catch((err: unknown) => log.error({ err }, `the chain steps could not start: ${(err as Error).message}; workers stay at S_SYNCHED until the lifecycle restarts`))

  return {
    apply: (workers: readonly WorkerView[]) => chain.apply(workers),
    restart: (uuid, o) => chain.restart(uuid, o),
    kick: (uuid) => chain.kick(uuid),
    report: (uuid): WorkerReport | undefined => chain.report(uuid),
    figures: (): EngineStats => {
      const dp = sync.dataProviders.info()
      const sources = sync.dataProviders.sources()
      const down = sources.filter((s) => s.down).length
      return {
        ...(dp ? { dataProvider: { parentProcessedHeight: dp.parentProcessedHeight, paraProcessedHeight: dp.paraProcessedHeight } } : {}),
        dataProviders: { live: sources.length - down, down },
        ...(trader ? { trader } : {}),
      }
    },
    jobsSent: () => chain.jobsSent(),
    async stop() {
      await started.catch(() => undefined)
      await chain.stop()
      await view.stop()
      // An unreachable Redis must not hold up the shutdown (Bull's close waits for a connection).
      await bounded(producer.close(), 5000, 'the trade producer', log)
      await board?.stop()
      if (trader) await bounded(trader.stop(), 30_000, 'the built-in trader', log)
    },
  }
}

async function bounded(p: Promise<void>, ms: number, what: string, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn(`stopping ${what} took over ${ms} ms (is Redis reachable at PHALA_Q_REDIS_ENDPOINT?); going on`)
      resolve()
    }, ms)
  })
  await Promise.race([p.catch((err: unknown) => log.warn({ err }, `stopping ${what} failed`)), late])
  clearTimeout(timer)
}
