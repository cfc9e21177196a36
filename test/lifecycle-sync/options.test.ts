/** The sync engine's options come from upstream's variables, with upstream's defaults. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/index.js'
import { syncOptionsFromConfig } from '../../src/lifecycle/sync/index.js'

test('defaults are upstream\'s; fast sync is on unless PHALA_DISABLE_FAST_SYNC', () => {
  const o = syncOptionsFromConfig(loadConfig('lifecycle', {}).config)
  assert.equal(o.runnerMaxWorkers, 150)
  assert.equal(o.blobQueueSize, 36)
  assert.equal(o.prpcTimeoutMs, 8000)
  assert.equal(o.binApiTimeoutMs, 150_000)
  assert.equal(o.lruSize, 5000)
  assert.equal(o.lruMaxAgeMs, 1_800_000)
  assert.equal(o.disableLru, false)
  assert.equal(o.keepAlive, false)
  assert.equal(o.keepAliveTimeoutMs, 5000)
  assert.equal(o.syncOnly, false)
  assert.equal(o.devSkipRa, false)
  assert.equal(o.disableFastSync, false)
  assert.equal(o.blobSecret, undefined)
})

test('every variable maps to its option', () => {
  const o = syncOptionsFromConfig(loadConfig('lifecycle', {
    PHALA_RUNNER_MAX_WORKER_NUMBER: '20', PHALA_LIFECYCLE_BLOB_QUEUE_SIZE: '8', PHALA_PRPC_REQUEST_TIMEOUT: '60000', PHALA_BLOB_REQUEST_TIMEOUT: '60000',
    PHALA_LRU_CACHE_SIZE: '50', PHALA_LRU_CACHE_MAX_AGE: '90000', DISABLE_LRU: 'true', WORKER_KEEPALIVE_ENABLED: 'true', WORKER_KEEPALIVE_TIMEOUT: '7000',
    PHALA_SYNC_ONLY: 'true', PHALA_DEV_SKIP_RA: 'true', PHALA_DISABLE_FAST_SYNC: 'true', PHALA_CHAIN_ENDPOINT: 'ws://10.0.0.1:9944',
    PHALA_DATA_PROVIDER_BLOB_SECRET: 'a-secret-of-16-chars-or-more',
  }).config)
  assert.deepEqual(o, {
    runnerMaxWorkers: 20, blobQueueSize: 8, prpcTimeoutMs: 60_000, binApiTimeoutMs: 60_000, lruSize: 50, lruMaxAgeMs: 90_000, disableLru: true,
    keepAlive: true, keepAliveTimeoutMs: 7000, syncOnly: true, devSkipRa: true, disableFastSync: true, chainEndpoint: 'ws://10.0.0.1:9944',
    blobSecret: 'a-secret-of-16-chars-or-more',
  })
})
