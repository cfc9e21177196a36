/** The lifecycle's sync engine: feeds every enabled worker's pRuntime from the data providers. */
export { createSyncEngine, type SyncEngine, type SyncEngineDeps, type SyncEngineStats, type SyncMetrics } from './engine.js'
export { syncOptionsFromConfig, SYNC_DEFAULTS, type SyncEngineOptions } from './options.js'
export type { SyncWorkerEvent } from './worker.js'
export type { PreparedRequest } from './repository.js'
export { PruntimeRejectedError, PruntimeUnreachableError, type PhactoryInfo } from './pruntime.js'
export { createAgents, createPruntimeClient, type PruntimeAgents, type PruntimeClient } from './pruntime.js'
