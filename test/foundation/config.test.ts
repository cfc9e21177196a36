import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig, printableConfig, SCHEMAS, MODULE_NAMES, REDACTED } from '../../src/config/index.js'
import { ConfigError } from '../../src/common/errors.js'

test('lifecycle defaults are upstream\'s', () => {
  const { config } = loadConfig('lifecycle', {})
  assert.equal(config.PHALA_LIFECYCLE_BLOB_QUEUE_SIZE, 36)
  assert.equal(config.PHALA_PRPC_REQUEST_TIMEOUT, 8000)
  assert.equal(config.PHALA_BLOB_REQUEST_TIMEOUT, 150_000)
  assert.equal(config.PHALA_MIN_BENCH_SCORE, 50)
  assert.equal(config.PHALA_RUNNER_MAX_WORKER_NUMBER, 150)
  assert.equal(config.PHALA_LRU_CACHE_SIZE, 5000)
  assert.equal(config.PHALA_LRU_CACHE_MAX_AGE, 1_800_000)
  assert.equal(config.PHALA_LOCAL_DB_PATH, '/var/data/local.db')
  assert.equal(config.PHALA_PEER_ID_PREFIX, '/var/data/keys/id')
  assert.equal(config.PHALA_BRIDGE_IDENTITY, 'default')
  assert.deepEqual(config.PHALA_WALKIE_LISTEN_ADDRESSES, ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0'])
  assert.equal(config.WORKER_KEEPALIVE_TIMEOUT, 5000)
  assert.equal(config.PRPC_QUEUE_SIZE, 65535)
})

test('data provider defaults are upstream\'s', () => {
  const { config } = loadConfig('data_provider', {})
  assert.equal(config.PHALA_DATA_PROVIDER_LOCAL_SERVER, 8012)
  assert.equal(config.PHALA_LOCAL_DB_PATH, '/var/data/0')
  assert.equal(config.PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT, 15)
  assert.equal(config.PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT, 60)
  assert.equal(config.PHALA_ENABLE_PARA_BATCH_SYNC, false)
})

test('the endpoint defaults reach the devnet\'s default ports', () => {
  const dp = loadConfig('data_provider', {}).config
  const dn = loadConfig('devnet', {}).config
  assert.equal(dp.PHALA_CHAIN_ENDPOINT, `ws://127.0.0.1:${dn.PHALA_DEVNET_PARA_PORT}`)
  assert.equal(dp.PHALA_PARENT_CHAIN_ENDPOINT, `ws://127.0.0.1:${dn.PHALA_DEVNET_RELAY_PORT}`)
})

test('boot nodes default to the listen addresses, as upstream', () => {
  const { config } = loadConfig('data_provider', { PHALA_WALKIE_LISTEN_ADDRESSES: ' /ip4/127.0.0.1/tcp/28888 , /ip6/::1/tcp/28889 ' })
  assert.deepEqual(config.PHALA_WALKIE_LISTEN_ADDRESSES, ['/ip4/127.0.0.1/tcp/28888', '/ip6/::1/tcp/28889'])
  assert.deepEqual(config.PHALA_WALKIE_BOOT_NODES, ['/ip4/127.0.0.1/tcp/28888', '/ip6/::1/tcp/28889'])
  const other = loadConfig('data_provider', { PHALA_WALKIE_BOOT_NODES: '/ip4/10.0.0.2/tcp/28888' }).config
  assert.deepEqual(other.PHALA_WALKIE_BOOT_NODES, ['/ip4/10.0.0.2/tcp/28888'])
})

test('flags accept true/false spellings and reject nonsense', () => {
  assert.equal(loadConfig('lifecycle', { PHALA_SYNC_ONLY: 'true' }).config.PHALA_SYNC_ONLY, true)
  assert.equal(loadConfig('lifecycle', { PHALA_SYNC_ONLY: 'FALSE' }).config.PHALA_SYNC_ONLY, false)
  assert.equal(loadConfig('lifecycle', { PHALA_SYNC_ONLY: '1' }).config.PHALA_SYNC_ONLY, true)
  assert.throws(() => loadConfig('lifecycle', { PHALA_SYNC_ONLY: 'ture' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError)
    assert.match(e.message, /PHALA_SYNC_ONLY="ture" is invalid: expected true or false/)
    return true
  })
})

test('bad values name the variable, the value and what is expected; all at once', () => {
  assert.throws(
    () =>
      loadConfig('data_provider', {
        PHALA_PARENT_CHAIN_ENDPOINT: 'not-a-url',
        PHALA_DATA_PROVIDER_LOCAL_SERVER: '80x',
        PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/1.2.3.4/tcp/1,garbage',
        PHALA_LOGGER_LEVEL: 'loud',
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError)
      const lines = e.message.split('\n')
      assert.equal(lines.length, 4)
      assert.match(e.message, /PHALA_PARENT_CHAIN_ENDPOINT="not-a-url" is invalid: expected a URL with scheme ws or wss/)
      assert.match(e.message, /PHALA_DATA_PROVIDER_LOCAL_SERVER="80x" is invalid: expected an integer from 0 to 65535/)
      assert.match(e.message, /"garbage" is not a multiaddr/)
      assert.match(e.message, /PHALA_LOGGER_LEVEL="loud" is invalid: expected one of trace, debug, info, warn, error, fatal/)
      return true
    },
  )
  assert.throws(() => loadConfig('data_provider', { PHALA_CHAIN_ENDPOINT: 'http://127.0.0.1:9944' }), /expected a URL with scheme ws or wss/)
  assert.throws(() => loadConfig('data_provider', { PHALA_DATA_PROVIDER_LOCAL_SERVER: '70000' }), /from 0 to 65535/)
  assert.throws(() => loadConfig('lifecycle', { PHALA_PRPC_REQUEST_TIMEOUT: '8000.5' }), /PHALA_PRPC_REQUEST_TIMEOUT="8000.5"/)
})

test('upstream\'s NODE_ENV-dependent default', () => {
  assert.equal(loadConfig('lifecycle', {}).config.PHALA_LRU_CACHE_DBUG_LOG_INTERVAL, 0)
  assert.equal(loadConfig('lifecycle', { NODE_ENV: 'development' }).config.PHALA_LRU_CACHE_DBUG_LOG_INTERVAL, 3000)
})

test('secrets are never shown: not in errors, not in the printed config', () => {
  const secret = 'hunter2hunter2hunter2'
  const loaded = loadConfig('data_provider', { PHALA_DATA_PROVIDER_BLOB_SECRET: secret, PHALA_WALKIE_PSK: secret })
  assert.deepEqual(loaded.secrets, [secret, secret])
  const printed = JSON.stringify(printableConfig('data_provider', loaded.config))
  assert.ok(!printed.includes(secret))
  assert.match(printed, new RegExp(`"PHALA_DATA_PROVIDER_BLOB_SECRET":"\\${REDACTED.slice(0, -1)}\\]"`))
  assert.throws(() => loadConfig('data_provider', { PHALA_WALKIE_PSK: 'short' }), (e: unknown) => {
    assert.ok(!(e as Error).message.includes('short'))
    assert.match((e as Error).message, /PHALA_WALKIE_PSK=\(secret, not shown\) is invalid: expected at least 16 characters/)
    return true
  })
})

test('unused, stale and mistyped variables are accepted with a warning', () => {
  const { warnings } = loadConfig('data_provider', {
    PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT: '90',
    PHALA_DATA_PROVIDER_LOCAL_SERVER_PORT: '8013',
    PHALA_DB_ENDPOINT: 'redis://x',
    PHALA_CHIAN_ENDPOINT: 'ws://x',
  })
  assert.ok(warnings.some((w) => /PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT is accepted for compatibility but has no effect/.test(w)))
  assert.ok(warnings.some((w) => /PHALA_DATA_PROVIDER_LOCAL_SERVER_PORT is not read by prb; did you mean PHALA_DATA_PROVIDER_LOCAL_SERVER\?/.test(w)))
  assert.ok(warnings.some((w) => /PHALA_DB_ENDPOINT belongs to an older prb/.test(w)))
  assert.ok(warnings.some((w) => /PHALA_CHIAN_ENDPOINT is not a prb variable/.test(w)))
  // an unused variable is still validated
  assert.throws(() => loadConfig('data_provider', { PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT: 'lots' }), /PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT="lots"/)
})

test('every module has a schema and every variable a description and default text', () => {
  assert.deepEqual(MODULE_NAMES, ['data_provider', 'lifecycle', 'trade', 'monitor', 'devnet'])
  for (const schema of Object.values(SCHEMAS)) {
    for (const [key, spec] of Object.entries(schema)) {
      assert.equal(key, spec.name)
      assert.ok(spec.description.length > 5, spec.name)
      assert.ok(spec.defaultText.length > 0, spec.name)
      assert.ok(spec.expected.length > 0, spec.name)
    }
  }
})
