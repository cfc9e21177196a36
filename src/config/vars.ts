/**
 * Every environment variable prb reads, once, with upstream's name and default
 * (upstream-data-provider.md §10, upstream-lifecycle.md §9, upstream-trade-walkie-monitor.md D.3)
 * and the few that prb adds (marked "prb").
 */
import { LOG_LEVELS, type LogLevel } from '../common/logger.js'
import { basicAuth, flag, int, multiaddrs, multiaddrsDefaultingTo, oneOf, optionalInt, optionalStr, str, url, VarError, type VarSpec } from './spec.js'

const WS = ['ws:', 'wss:']
const REDIS = ['redis:', 'rediss:']
const DAY_MS = 24 * 3600 * 1000

// ---- shared ----
export const NODE_ENV = str({ name: 'NODE_ENV', default: '', description: '`development` turns on the development log intervals' })
export const PHALA_LOGGER_LEVEL = oneOf<LogLevel>({ name: 'PHALA_LOGGER_LEVEL', default: 'info', values: LOG_LEVELS, description: 'log level of the `prb` bunyan logger (JSON lines on stdout)' })
export const PHALA_CHAIN_ENDPOINT = url({ name: 'PHALA_CHAIN_ENDPOINT', default: 'ws://127.0.0.1:9944', protocols: WS, description: 'parachain node WebSocket (archive node; the default reaches the devnet)' })
export const PHALA_PARENT_CHAIN_ENDPOINT = url({ name: 'PHALA_PARENT_CHAIN_ENDPOINT', default: 'ws://127.0.0.1:9945', protocols: WS, description: 'relay chain node WebSocket (the default reaches the devnet)' })
export const PHALA_Q_REDIS_ENDPOINT = url({ name: 'PHALA_Q_REDIS_ENDPOINT', default: 'redis://127.0.0.1:6379/', protocols: REDIS, description: 'Redis of the trade queue' })
export const PHALA_PEER_ID_PREFIX = str({ name: 'PHALA_PEER_ID_PREFIX', default: '/var/data/keys/id', nonEmpty: true, expected: 'a directory path', description: 'directory of the identity key files (DATA_PROVIDER, LIFECYCLE)' })
export const PHALA_WALKIE_LISTEN_ADDRESSES = multiaddrs({ name: 'PHALA_WALKIE_LISTEN_ADDRESSES', default: ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0'], description: 'Walkie (libp2p) listen addresses' })
export const PHALA_WALKIE_BOOT_NODES = multiaddrsDefaultingTo({ name: 'PHALA_WALKIE_BOOT_NODES', fallback: PHALA_WALKIE_LISTEN_ADDRESSES, description: 'Walkie bootstrap peers' })
export const PHALA_WALKIE_DISABLE_MDNS_DISCOVERY = flag({ name: 'PHALA_WALKIE_DISABLE_MDNS_DISCOVERY', description: 'turn off mDNS peer discovery' })
export const PHALA_BRIDGE_IDENTITY = str({ name: 'PHALA_BRIDGE_IDENTITY', default: 'default', nonEmpty: true, description: 'Walkie namespace: peers of another bridge identity are ignored' })
export const PHALA_PTP_IGNORE_BRIDGE_IDENTITY = flag({ name: 'PHALA_PTP_IGNORE_BRIDGE_IDENTITY', description: 'accept data providers of any bridge identity' })
export const PHALA_WALKIE_PSK = optionalStr({ name: 'PHALA_WALKIE_PSK', secret: true, minLength: 16, expected: 'a secret of at least 16 characters or a swarm.key text', description: '(prb) libp2p private-network key: a secret of 16+ characters (hashed into the swarm key) or a swarm.key text; peers without it cannot connect; off when unset' })
export const PHALA_HOLD_ON_SUBPROCESS_EXIT = flag({ name: 'PHALA_HOLD_ON_SUBPROCESS_EXIT', unused: true, description: 'upstream kept the parent alive when a child exited; prb runs no child processes' })
export const PHALA_DATA_PROVIDER_EXTERNAL_LISTEN_ADDRESSES = str({ name: 'PHALA_DATA_PROVIDER_EXTERNAL_LISTEN_ADDRESSES', default: '/ip4/0.0.0.0/tcp/18888,/ip6/::/tcp/28889', unused: true, description: 'for upstream\'s never-built external data provider' })
export const PHALA_DATA_PROVIDER_TRUSTED_ORIGINS = str({ name: 'PHALA_DATA_PROVIDER_TRUSTED_ORIGINS', default: '', unused: true, description: 'for upstream\'s never-built external data provider' })
export const PHALA_DATA_PROVIDER_BOOT_NODES = str({ name: 'PHALA_DATA_PROVIDER_BOOT_NODES', default: '', unused: true, description: 'for upstream\'s never-built external data provider' })

// ---- data provider ----
export const DP_LOCAL_DB_PATH = str({ name: 'PHALA_LOCAL_DB_PATH', default: '/var/data/0', nonEmpty: true, expected: 'a directory path', description: 'data provider: LevelDB directory' })
export const PHALA_DATA_PROVIDER_LOCAL_SERVER = int({ name: 'PHALA_DATA_PROVIDER_LOCAL_SERVER', default: 8012, min: 0, max: 65535, unit: 'TCP port', description: 'TCP blob server port, advertised in Info.blobServerPort' })
export const PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST = str({ name: 'PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST', default: '0.0.0.0', nonEmpty: true, expected: 'an IP address or host name to bind', description: '(prb) bind address of the blob server' })
export const PHALA_DATA_PROVIDER_BLOB_SECRET = optionalStr({ name: 'PHALA_DATA_PROVIDER_BLOB_SECRET', secret: true, minLength: 16, expected: 'a shared secret of at least 16 characters', description: '(prb) shared secret blob-server clients must present; off when unset' })
export const PHALA_ENABLE_PARA_BATCH_SYNC = flag({ name: 'PHALA_ENABLE_PARA_BATCH_SYNC', description: 'also write para blocks in batches of PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT' })
export const PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT = int({ name: 'PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT', default: 15, min: 1, max: 10000, description: 'para blocks per batch' })
export const PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT = int({ name: 'PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT', default: 60, min: 1, max: 100000, unused: true, description: 'former dry ranges per blob; a blob is one window since upstream 2022-02' })
export const PHALA_PARENT_PARALLEL_BLOCKS = int({ name: 'PHALA_PARENT_PARALLEL_BLOCKS', default: 64, min: 1, max: 1000, description: 'relay blocks in flight while fetching (dead upstream; prb\'s default from its benchmark: 75x parallelism 1 at 20 ms RPC latency)' })
export const PHALA_PARA_PARALLEL_BLOCKS = int({ name: 'PHALA_PARA_PARALLEL_BLOCKS', default: 32, min: 1, max: 1000, description: 'para blocks in flight while fetching (dead upstream); each asks the node to re-execute a block (pha_getStorageChangesAt): lower it if the archive node\'s CPU saturates' })
export const PHALA_PARENT_JUSTIFICATION_PERIOD = int({ name: 'PHALA_PARENT_JUSTIFICATION_PERIOD', default: 512, min: 0, max: 1_000_000, description: '(prb) the relay node\'s GRANDPA justification period: full blocks are fetched only where a justification can be; 0 fetches every relay block in full, as upstream' })
export const PHALA_DATA_PROVIDER_LIVE_JUSTIFICATIONS = flag({ name: 'PHALA_DATA_PROVIDER_LIVE_JUSTIFICATIONS', default: true, description: '(prb) end ranges at GRANDPA justifications announced live (grandpa_subscribeJustifications), so workers follow the relay head within seconds instead of up to a justification period' })
export const PHALA_DATA_PROVIDER_LIVE_JUSTIFICATION_GAP = int({ name: 'PHALA_DATA_PROVIDER_LIVE_JUSTIFICATION_GAP', default: 4, min: 1, max: 100_000, description: '(prb) a live justification ends a range only this many relay blocks after the previous justified block (each is ~92 KB on Kusama, kept until the node\'s own justification covers its range)' })
// A local node restarts in seconds: the reconnect backoff must not grow past what that needs (it grew to 30 s).
export const PHALA_CHAIN_RECONNECT_MAX_MS = int({ name: 'PHALA_CHAIN_RECONNECT_MAX_MS', default: 3000, min: 100, max: 600_000, unit: 'ms', description: '(prb) longest wait between two attempts to reach a chain node that is down (the wait starts at 500 ms and doubles up to this); after the node is back, the data provider is connected again within about this long' })
export const PHALA_LIFECYCLE_BLOB_SERVER_SESSION_MAX_MEMORY = int({ name: 'PHALA_LIFECYCLE_BLOB_SERVER_SESSION_MAX_MEMORY', default: 64, min: 0, max: 1 << 20, unused: true, description: 'former HTTP/2 session memory of the blob server' })

// ---- lifecycle ----
export const LM_LOCAL_DB_PATH = str({ name: 'PHALA_LOCAL_DB_PATH', default: '/var/data/local.db', nonEmpty: true, expected: 'a path', description: 'lifecycle: pools and workers store (a level directory, created when missing); when it names prb v2\'s SQLite local.db, that file is imported once, left untouched, and the store is kept beside it (the same path plus .prb)' })
export const PHALA_DEV_SKIP_RA = flag({ name: 'PHALA_DEV_SKIP_RA', description: 'dev mode: InitRuntime with skip_ra and the debug key; no START_COMPUTING' })
export const PHALA_MIN_BENCH_SCORE = int({ name: 'PHALA_MIN_BENCH_SCORE', default: 50, min: 0, max: 2 ** 32 - 1, description: 're-register threshold and the enforced minimum score' })
export const PHALA_ENFORCE_MIN_BENCH_SCORE = flag({ name: 'PHALA_ENFORCE_MIN_BENCH_SCORE', description: 'wait for initialScore > PHALA_MIN_BENCH_SCORE before ADD_WORKER' })
export const PHALA_LRU_CACHE_SIZE = int({ name: 'PHALA_LRU_CACHE_SIZE', default: 5000, min: 0, max: 10_000_000, description: 'blob cache entries' })
export const PHALA_LRU_CACHE_MAX_AGE = int({ name: 'PHALA_LRU_CACHE_MAX_AGE', default: 1_800_000, min: 0, max: 30 * DAY_MS, unit: 'ms', description: 'blob cache entry lifetime' })
export const PHALA_LRU_CACHE_DBUG_LOG_INTERVAL = int({ name: 'PHALA_LRU_CACHE_DBUG_LOG_INTERVAL', default: (env) => (env.NODE_ENV === 'development' ? 3000 : 0), defaultText: '3000 with NODE_ENV=development, else 0', min: 0, max: DAY_MS, unit: 'ms', description: 'cache size log interval (0 = off; the name\'s typo is upstream\'s)' })
export const PHALA_RUNNER_MAX_WORKER_NUMBER = int({ name: 'PHALA_RUNNER_MAX_WORKER_NUMBER', default: 150, min: 1, max: 100000, description: 'workers per runner' })
export const PHALA_LIFECYCLE_CONFIG_MODE = flag({ name: 'PHALA_LIFECYCLE_CONFIG_MODE', description: 'serve the database and the API only: no runners, no built-in trader' })
export const PHALA_LIFECYCLE_BLOB_QUEUE_SIZE = int({ name: 'PHALA_LIFECYCLE_BLOB_QUEUE_SIZE', default: 36, min: 1, max: 10000, description: 'concurrent blob fetches per runner' })
export const PHALA_PRPC_REQUEST_TIMEOUT = int({ name: 'PHALA_PRPC_REQUEST_TIMEOUT', default: 8000, min: 100, max: DAY_MS, unit: 'ms', description: 'pRuntime prpc request timeout' })
export const PHALA_BLOB_REQUEST_TIMEOUT = int({ name: 'PHALA_BLOB_REQUEST_TIMEOUT', default: 150_000, min: 100, max: DAY_MS, unit: 'ms', description: 'pRuntime bin_api (sync, dispatch) request timeout' })
export const DEBUG_LIFECYCLE_ALLOW_BLOB_FROM_SYNCHING_STATE = flag({ name: 'DEBUG_LIFECYCLE_ALLOW_BLOB_FROM_SYNCHING_STATE', unused: true, description: 'declared upstream, never read' })
export const PHALA_SYNC_ONLY = flag({ name: 'PHALA_SYNC_ONLY', description: 'sync only: no message relay, no on-chain operations' })
export const PRPC_QUEUE_SIZE = int({ name: 'PRPC_QUEUE_SIZE', default: 65535, min: 1, max: 1 << 30, unused: true, description: 'upstream\'s global request queue, bypassed since 2023-01' })
export const PRPC_SUBQUEUE_SIZE = int({ name: 'PRPC_SUBQUEUE_SIZE', default: 10, min: 1, max: 1 << 30, unused: true, description: 'declared upstream, never read' })
export const PHALA_DISABLE_FAST_SYNC = flag({ name: 'PHALA_DISABLE_FAST_SYNC', description: '(prb) never fast-sync a fresh worker with LoadChainState (the para state at a recent block from PHALA_CHAIN_ENDPOINT); replay every block instead' })
export const DISABLE_LRU = flag({ name: 'DISABLE_LRU', description: 'bypass the blob cache' })
export const USE_LEGACY_SYNC = flag({ name: 'USE_LEGACY_SYNC', description: 'use the separated (legacy) sync algorithm' })
export const WORKER_KEEPALIVE_ENABLED = flag({ name: 'WORKER_KEEPALIVE_ENABLED', description: 'HTTP keep-alive to pRuntime' })
export const WORKER_KEEPALIVE_TIMEOUT = int({ name: 'WORKER_KEEPALIVE_TIMEOUT', default: 5000, min: 1, max: DAY_MS, unit: 'ms', description: 'keep-alive socket timeout' })
export const USE_BUILT_IN_TRADER = flag({ name: 'USE_BUILT_IN_TRADER', description: 'run the trader and the queue board inside the lifecycle' })
export const PHALA_RUNNER_ID = str({ name: 'PHALA_RUNNER_ID', default: '', unused: true, description: 'upstream\'s internal runner id; prb runs no runner processes' })

// ---- trader (prb: upstream hard-coded these) ----
export const PHALA_TRADE_BATCH_SIZE = int({ name: 'PHALA_TRADE_BATCH_SIZE', default: 30, min: 1, max: 10_000, description: '(prb) calls per extrinsic (one utility.forceBatch per pool) at most; also cut below the chain\'s size and weight limits. 1 = no batching' })
export const PHALA_TRADE_BATCH_MS = int({ name: 'PHALA_TRADE_BATCH_MS', default: 1000, min: 0, max: 600_000, unit: 'ms', description: '(prb) a pool\'s first waiting call waits at most this long for others to share its extrinsic' })
export const PHALA_TRADE_POOL_CONCURRENCY = int({ name: 'PHALA_TRADE_POOL_CONCURRENCY', default: 1, min: 1, max: 256, description: '(prb) extrinsics of one operator on their way into a block at once (consecutive nonces)' })
export const PHALA_TRADE_KEEP_JOBS = int({ name: 'PHALA_TRADE_KEEP_JOBS', default: 1000, min: 0, max: 10_000_000, description: '(prb) finished jobs kept in Redis per state (completed, failed); older ones are removed' })
export const PHALA_QUEUE_BOARD_PORT = int({ name: 'PHALA_QUEUE_BOARD_PORT', default: 4567, min: 0, max: 65535, unit: 'TCP port', description: '(prb) the queue board (upstream\'s arena port)' })
export const PHALA_QUEUE_BOARD_HOST = str({ name: 'PHALA_QUEUE_BOARD_HOST', default: '127.0.0.1', nonEmpty: true, expected: 'an IP address or host name to bind', description: '(prb) bind address of the queue board (upstream: 0.0.0.0 without authentication)' })
export const PHALA_QUEUE_BOARD_AUTH = basicAuth({ name: 'PHALA_QUEUE_BOARD_AUTH', description: '(prb) basic auth of the queue board as user:password; off when unset' })

// ---- monitor ----
export const PORT = int({ name: 'PORT', default: 3000, min: 0, max: 65535, unit: 'TCP port', description: 'monitor web page and JSON proxy port' })
export const PTP_LISTEN_ADDRESSES = multiaddrs({ name: 'PTP_LISTEN_ADDRESSES', default: [], description: 'monitor Walkie listen addresses (none: dial only)' })
export const PTP_BOOT_NODES = multiaddrs({ name: 'PTP_BOOT_NODES', default: [], description: 'monitor Walkie bootstrap peers' })
export const REDIS_ENDPOINT = url({ name: 'REDIS_ENDPOINT', protocols: REDIS, description: 'queue board Redis when PHALA_Q_REDIS_ENDPOINT is unset (upstream arena)' })
export const PHALA_MONITOR_HOST = str({ name: 'PHALA_MONITOR_HOST', default: '0.0.0.0', nonEmpty: true, expected: 'an IP address or host name to bind', description: '(prb) bind address of the monitor (upstream: every interface); without PHALA_MONITOR_AUTH and off loopback, anyone who reaches the port can create pools' })
export const PHALA_MONITOR_AUTH = basicAuth({ name: 'PHALA_MONITOR_AUTH', description: '(prb) `user:password`: HTTP basic auth on every monitor route, the JSON proxy included; off when unset' })
export const PHALA_MONITOR_PROXY_TIMEOUT = int({ name: 'PHALA_MONITOR_PROXY_TIMEOUT', default: 20_000, min: 100, max: DAY_MS, unit: 'ms', description: '(prb) deadline of one proxied Walkie call; a late answer is a 504 with a JSON error' })

// ---- metrics (prb), every daemon that wires src/common/metrics.ts ----
export const PHALA_METRICS_PORT = optionalInt({ name: 'PHALA_METRICS_PORT', min: 0, max: 65535, unit: 'TCP port', unsetText: '(unset: off)', description: '(prb) serve Prometheus metrics at http://<host>:<port>/metrics (PHALA_METRICS_HOST); off when unset' })
export const PHALA_METRICS_HOST = str({ name: 'PHALA_METRICS_HOST', default: '0.0.0.0', nonEmpty: true, expected: 'an IP address or host name to bind', description: '(prb) bind address of the /metrics server' })

// ---- devnet (prb) ----
export const PHALA_DEVNET_HOST = str({ name: 'PHALA_DEVNET_HOST', default: '127.0.0.1', nonEmpty: true, expected: 'an IP address or host name to bind', description: 'devnet bind address' })
export const PHALA_DEVNET_PARA_PORT = int({ name: 'PHALA_DEVNET_PARA_PORT', default: 9944, min: 0, max: 65535, unit: 'TCP port', description: 'devnet parachain JSON-RPC (WebSocket and HTTP)' })
export const PHALA_DEVNET_RELAY_PORT = int({ name: 'PHALA_DEVNET_RELAY_PORT', default: 9945, min: 0, max: 65535, unit: 'TCP port', description: 'devnet relay chain JSON-RPC (WebSocket and HTTP)' })
export const PHALA_DEVNET_BLOCK_MS = int({ name: 'PHALA_DEVNET_BLOCK_MS', default: 6000, min: 10, max: DAY_MS, unit: 'ms', description: 'devnet relay block time; a para block every second relay block' })
export const PHALA_DEVNET_JUSTIFICATION_PERIOD = int({ name: 'PHALA_DEVNET_JUSTIFICATION_PERIOD', default: 512, min: 1, max: 1_000_000, description: 'devnet relay blocks between GRANDPA justifications' })
export const PHALA_DEVNET_SESSION_BLOCKS = int({ name: 'PHALA_DEVNET_SESSION_BLOCKS', default: 600, min: 2, max: 1_000_000, description: 'devnet relay blocks between authority set changes' })
export const PHALA_DEVNET_CHAIN = oneOf<'phala' | 'khala'>({ name: 'PHALA_DEVNET_CHAIN', default: 'phala', values: ['phala', 'khala'], description: 'devnet chain identity: `phala` (para 2035 with Phala\'s pallet indices under a Polkadot-like relay: ss58 0, DOT, 10 decimals) or `khala` (para 2004 with Khala\'s under a Kusama-like relay: ss58 2, KSM, 12 decimals)' })
export const PHALA_DEVNET_PARA_ID = int({
  name: 'PHALA_DEVNET_PARA_ID', min: 0, max: 2 ** 32 - 1, description: 'devnet parachain id (overrides the chain\'s)',
  default: (env) => (env.PHALA_DEVNET_CHAIN?.trim() === 'khala' ? 2004 : 2035), defaultText: '2035 (phala) or 2004 (khala)',
})
export const PHALA_DEVNET_GRANDPA_V5_AT = int({ name: 'PHALA_DEVNET_GRANDPA_V5_AT', default: 1000, min: 0, max: 10_000_000, description: 'devnet relay block from which the GRANDPA authorities are kept only in `Grandpa.Authorities` (pallet-grandpa v5, as Polkadot and Kusama today) instead of `:grandpa_authorities`; the default is halfway through the default history' })
export const PHALA_DEVNET_HEARTBEAT_EVERY = int({ name: 'PHALA_DEVNET_HEARTBEAT_EVERY', default: 5, min: 0, max: 100_000, description: 'devnet para blocks between heartbeat challenges to the computing workers (SystemEvent::HeartbeatChallenge through the message queue; pRuntime answers in its egress); 0 turns them off' })
export const PHALA_DEVNET_HEARTBEAT_WINDOW = int({ name: 'PHALA_DEVNET_HEARTBEAT_WINDOW', default: 10, min: 1, max: 100_000, description: 'devnet heartbeat window: a computing worker with more unanswered challenges than this becomes unresponsive on chain (WorkerEnterUnresponsive) until a heartbeat arrives (WorkerExitUnresponsive)' })
export const PHALA_DEVNET_REORG_EVERY = int({ name: 'PHALA_DEVNET_REORG_EVERY', default: 0, min: 0, max: 1_000_000, description: 'devnet forks: every this many para blocks the new best (not final) para block is replaced by a sibling; watchers see `retracted` and its transactions move to the sibling; 0 turns forks off' })
export const PHALA_DEVNET_FINALITY_LAG = int({ name: 'PHALA_DEVNET_FINALITY_LAG', default: 2, min: 0, max: 10_000, description: 'devnet relay blocks between the best and the finalized block; the parachain\'s finalized head follows what the relay finalized' })
export const PHALA_DEVNET_SEED = str({ name: 'PHALA_DEVNET_SEED', default: 'prb-devnet', nonEmpty: true, description: 'devnet seed: the same seed gives the same chain' })
export const PHALA_DEVNET_HISTORY = int({ name: 'PHALA_DEVNET_HISTORY', default: 2000, min: 0, max: 10_000_000, description: 'devnet relay blocks made and finalized at start' })
export const PHALA_DEVNET_RPC_LATENCY_MS = int({ name: 'PHALA_DEVNET_RPC_LATENCY_MS', default: 0, min: 0, max: 60_000, unit: 'ms', description: 'devnet delay added to every JSON-RPC reply' })
export const PHALA_DEVNET_CONTROL_PORT = int({ name: 'PHALA_DEVNET_CONTROL_PORT', default: 9955, min: 0, max: 65535, unit: 'TCP port', description: 'devnet control surface (HTTP)' })
export const PHALA_DEVNET_POOLS = int({ name: 'PHALA_DEVNET_POOLS', default: 2, min: 0, max: 1000, description: 'devnet stake pools owned by //Alice at genesis' })
export const PHALA_DEVNET_PRUNTIMES = int({ name: 'PHALA_DEVNET_PRUNTIMES', default: 4, min: 0, max: 10000, description: 'devnet pRuntime workers started' })
export const PHALA_DEVNET_PRUNTIME_PORT = int({ name: 'PHALA_DEVNET_PRUNTIME_PORT', default: 8000, min: 0, max: 65535, unit: 'TCP port', description: 'port of the first devnet pRuntime; the others follow' })
export const PHALA_DEVNET_DATA_DIR = optionalStr({ name: 'PHALA_DEVNET_DATA_DIR', expected: 'a directory path', description: 'devnet pRuntime workers keep their identity keys here across restarts (in memory when unset)' })
