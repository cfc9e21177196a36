/**
 * The sync engine's options: upstream's variables (upstream-lifecycle.md §9, same names and
 * defaults) plus prb's own, and the one-line mapping from the lifecycle's config.
 */
import type { LifecycleConfig } from '../../config/schemas.js'

export interface SyncEngineOptions {
  /** PHALA_RUNNER_MAX_WORKER_NUMBER: workers per runner (150). */
  runnerMaxWorkers: number
  /** PHALA_LIFECYCLE_BLOB_QUEUE_SIZE: blob fetches in flight, for the whole engine (36). */
  blobQueueSize: number
  /** PHALA_PRPC_REQUEST_TIMEOUT: deadline of a prpc call to pRuntime (8000 ms). */
  prpcTimeoutMs: number
  /** PHALA_BLOB_REQUEST_TIMEOUT: deadline of a bin_api call to pRuntime (150 000 ms). */
  binApiTimeoutMs: number
  /** PHALA_LRU_CACHE_SIZE: cached blobs (5000). */
  lruSize: number
  /** PHALA_LRU_CACHE_MAX_AGE: cache entry lifetime (1 800 000 ms). */
  lruMaxAgeMs: number
  /** DISABLE_LRU: no cache (in-flight fetches are still shared). */
  disableLru: boolean
  /** WORKER_KEEPALIVE_ENABLED / WORKER_KEEPALIVE_TIMEOUT. */
  keepAlive: boolean
  keepAliveTimeoutMs: number
  /** PHALA_SYNC_ONLY: every worker syncs only (the chain steps of #14 read it). */
  syncOnly: boolean
  /** PHALA_DEV_SKIP_RA: InitRuntime with skip_ra and the debug key 00..01. */
  devSkipRa: boolean
  /** PHALA_DISABLE_FAST_SYNC (prb): never use LoadChainState. */
  disableFastSync: boolean
  /** PHALA_CHAIN_ENDPOINT: the para node fast sync reads the state from (state_getPairs). */
  chainEndpoint?: string
  /** PHALA_DATA_PROVIDER_BLOB_SECRET: the blob servers' shared secret, when they have one. */
  blobSecret?: string
  /** Fast sync only when the worker is at least this many para blocks behind (default 256; below, replay is as quick). */
  fastSyncMinBlocks?: number
  /** How often each data provider's Info is read (upstream 3000 ms; prb 1000 ms for tip latency). */
  infoPollMs?: number
  /** Backoff bounds after a worker error (prb: 1 s doubling to 30 s instead of a fixed 18 s). */
  retryMinMs?: number
  retryMaxMs?: number
  /** GetInfo period while a worker waits at the tip (pRuntime restarts are seen this fast; 3000 ms as upstream). */
  infoRefreshMs?: number
  /** Para blocks per dispatch_block built from single-block blobs (default 32, at most 63). */
  blocksPerDispatch?: number
  /** Byte bound of a header request merged from consecutive ranges (default 8 MiB; 0: a range per request, as upstream). */
  headerMergeMaxBytes?: number
  /** Timeout of one blob fetch (upstream TIMEOUT_DP_GET 30 000 ms). */
  blobGetTimeoutMs?: number
}

export const SYNC_DEFAULTS = {
  infoPollMs: 1000,
  retryMinMs: 1000,
  retryMaxMs: 30_000,
  infoRefreshMs: 3000,
  // 32 blocks per call: a replaying worker makes 4x fewer round trips than with 8 (each costs pRuntime a
  // request, a signed answer and a GetInfo now and then), and a batch stays ~100 KB.
  blocksPerDispatch: 32,
  blobGetTimeoutMs: 30_000,
  fastSyncMinBlocks: 256,
} as const

/** The engine's options from the lifecycle's config (one line in the wiring). */
export function syncOptionsFromConfig(c: LifecycleConfig): SyncEngineOptions {
  return {
    runnerMaxWorkers: c.PHALA_RUNNER_MAX_WORKER_NUMBER,
    blobQueueSize: c.PHALA_LIFECYCLE_BLOB_QUEUE_SIZE,
    prpcTimeoutMs: c.PHALA_PRPC_REQUEST_TIMEOUT,
    binApiTimeoutMs: c.PHALA_BLOB_REQUEST_TIMEOUT,
    lruSize: c.PHALA_LRU_CACHE_SIZE,
    lruMaxAgeMs: c.PHALA_LRU_CACHE_MAX_AGE,
    disableLru: c.DISABLE_LRU,
    keepAlive: c.WORKER_KEEPALIVE_ENABLED,
    keepAliveTimeoutMs: c.WORKER_KEEPALIVE_TIMEOUT,
    syncOnly: c.PHALA_SYNC_ONLY,
    devSkipRa: c.PHALA_DEV_SKIP_RA,
    disableFastSync: c.PHALA_DISABLE_FAST_SYNC,
    chainEndpoint: c.PHALA_CHAIN_ENDPOINT,
    ...(c.PHALA_DATA_PROVIDER_BLOB_SECRET ? { blobSecret: c.PHALA_DATA_PROVIDER_BLOB_SECRET } : {}),
  }
}
