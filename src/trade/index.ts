/** Public entry of the trader: the daemon, and the parts the lifecycle embeds (USE_BUILT_IN_TRADER). */
export { start, startTradeDaemon, traderOptions, type RunningTradeDaemon } from './main.js'
export { registerTradeMetrics } from './metrics.js'
export { createTrader, type Trader, type TraderOptions, type TraderDeps, type TraderStats, type OperatorStats } from './trader.js'
export { createQueueBoard, type QueueBoard, type QueueBoardOptions } from './board.js'
export {
  createPoolDirectory, loadLifecycleKey, walkiePoolSource, type PoolDirectory, type PoolRecord, type PoolSource, type TradePool,
} from './pools.js'
export { TradeError } from './errors.js'
