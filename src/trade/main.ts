/**
 * `PHALA_MODULE=trade`: parachain connection → LIFECYCLE key check → Walkie (to ask the lifecycle
 * for its pools) → trader (Bull consumer) → queue board; stopped in reverse. The lifecycle can run
 * the same parts inside itself (USE_BUILT_IN_TRADER) with createTrader and createQueueBoard.
 */
import { cleanupStack, type ModuleContext, type RunningModule } from '../common/module.js'
import { componentLogger, type Logger } from '../common/logger.js'
import { createChainConnection } from '../common/chain.js'
import { createMetrics, createMetricsServer } from '../common/metrics.js'
import { retry } from '../common/retry.js'
import type { TradeConfig } from '../config/index.js'
import { createWalkie, type Walkie } from '../walkie/index.js'
import { createQueueBoard, type QueueBoard } from './board.js'
import { registerTradeMetrics } from './metrics.js'
import { createPoolDirectory, loadLifecycleKey, walkiePoolSource } from './pools.js'
import { createTrader, type Trader, type TraderOptions } from './trader.js'

export function traderOptions(c: TradeConfig): TraderOptions {
  return {
    redisUrl: c.PHALA_Q_REDIS_ENDPOINT,
    batchSize: c.PHALA_TRADE_BATCH_SIZE,
    batchMs: c.PHALA_TRADE_BATCH_MS,
    poolConcurrency: c.PHALA_TRADE_POOL_CONCURRENCY,
    keepJobs: c.PHALA_TRADE_KEEP_JOBS,
  }
}

export interface RunningTradeDaemon extends RunningModule {
  /** The bound /metrics port; undefined when PHALA_METRICS_PORT is unset. */
  readonly metricsPort: number | undefined
}

export async function startTradeDaemon(c: TradeConfig, deps: { logger: Logger; redact?: (t: string) => string }): Promise<RunningTradeDaemon> {
  const log = deps.logger
  const abort = new AbortController()
  const cleanups = cleanupStack(log)
  // Start-up steps listen on `abort`; what they started is stopped in reverse.
  const stop = cleanups.stopper({ name: 'trader', abort, booted: () => undefined })
  let metricsPort: number | undefined
  try {
    // Fail at once on a missing key: every operator depends on it (upstream silently made a new one).
    const key = await loadLifecycleKey(c.PHALA_PEER_ID_PREFIX)
    const para = createChainConnection({ url: c.PHALA_CHAIN_ENDPOINT, name: 'para' }, { logger: componentLogger(log, 'para-chain') })
    cleanups.push('chain connection', () => para.stop())
    para.start()
    const chainIdentity = await retry(async () => {
      const h = await para.rpc<string | null>('chain_getBlockHash', [1])
      if (!h) throw new Error('the parachain has no block #1 yet (its hash is the Walkie chain identity)')
      return h.toLowerCase()
    }, { what: 'read the chain identity (para block #1 hash)', logger: log, signal: abort.signal, minMs: 500, maxMs: 30_000 })
    const walkie: Walkie = createWalkie({
      role: 'WR_TRADER', chainIdentity, bridgeIdentity: c.PHALA_BRIDGE_IDENTITY, identity: { ephemeral: true },
      listenAddresses: c.PHALA_WALKIE_LISTEN_ADDRESSES, bootNodes: c.PHALA_WALKIE_BOOT_NODES, disableMdns: c.PHALA_WALKIE_DISABLE_MDNS_DISCOVERY,
      ...(c.PHALA_WALKIE_PSK ? { psk: c.PHALA_WALKIE_PSK } : {}),
    }, { logger: componentLogger(log, 'walkie'), ...(deps.redact ? { redact: deps.redact } : {}) })
    await walkie.start()
    cleanups.push('walkie', () => walkie.stop())
    const pools = createPoolDirectory({}, { source: walkiePoolSource(walkie), lifecycleKey: async () => key, logger: componentLogger(log, 'pools') })
    const trader: Trader = createTrader(traderOptions(c), { logger: componentLogger(log, 'trader'), chain: para, pools })
    cleanups.push('trader', () => trader.stop())
    await trader.start()
    const board: QueueBoard = createQueueBoard({
      host: c.PHALA_QUEUE_BOARD_HOST, port: c.PHALA_QUEUE_BOARD_PORT, queue: trader.queue, ...(c.PHALA_QUEUE_BOARD_AUTH ? { auth: c.PHALA_QUEUE_BOARD_AUTH } : {}),
    }, { logger: componentLogger(log, 'board') })
    cleanups.push('queue board', () => board.stop())
    await board.start()
    if (c.PHALA_METRICS_PORT !== undefined) {
      const metrics = createMetrics({ module: 'trade' })
      registerTradeMetrics(metrics, () => trader)
      const server = createMetricsServer({ port: c.PHALA_METRICS_PORT, host: c.PHALA_METRICS_HOST }, { registry: metrics.registry, logger: componentLogger(log, 'metrics') })
      cleanups.push('metrics', () => server.stop())
      metricsPort = (await server.start()).port
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { metricsPort, stop }
}

export async function start(ctx: ModuleContext<TradeConfig>): Promise<RunningModule> {
  return startTradeDaemon(ctx.config, { logger: ctx.logger, redact: (t) => ctx.guard.redact(t) })
}
