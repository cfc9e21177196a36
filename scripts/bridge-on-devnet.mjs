// Runs the whole bridge on the devnet, as separate processes like a real deployment, all on
// 127.0.0.1: the devnet (relay chain, parachain, pRuntime workers), Redis (the trade queue), the data
// provider, the lifecycle, the trader (PHALA_MODULE=trade, with the queue board) and the monitor, each
// started once the daemons it needs say they are ready, and pointed at them. On the first start
// (an empty lifecycle store) it imports, through the monitor's JSON proxy as an operator would, one
// pool (pid 0, owned on the devnet by //Alice, its operator here) and one worker per devnet pRuntime;
// later starts keep the store as it is. It then prints where to look and logs progress until every
// worker is S_ACTIVE ("4/4 workers S_ACTIVE after N s").
//
// State goes under .devnet-data/ (PRB_DEVNET_DATA_DIR): the keys, the lifecycle's store and the
// devnet pRuntimes' sealed identities are kept; the data provider's DB is cleared at each start and
// Redis keeps nothing, because the devnet's chain is made anew at each start (blobs, queued jobs and
// the trader's nonce journal of the old chain mean nothing on the new one). The lifecycle's store
// holds no chain state: on the new chain pool 0 exists again (the devnet's genesis) and the workers
// are registered and started afresh.
//
// Stopping: Ctrl-C signals the terminal's whole process group. Each daemon runs in its own process
// group, so only this launcher gets that signal; it then stops the daemons one at a time in reverse
// start order (the devnet last, Redis before it), one SIGTERM each, waiting for each to exit. Each
// daemon also holds an IPC channel to the launcher and stops cleanly when it ends, so kill -9 of the
// launcher leaves no daemon behind (redis-server runs under scripts/supervised-redis.mjs for that).
//
// To add a daemon, add one entry to DAEMONS: its module (or script), the daemons it needs (`after`),
// its environment (given what those announced when ready) and its readiness line. Entries whose module
// is not built yet (src/modules.ts) are skipped.
//
// Ports follow the PHALA_DEVNET_* variables (passed to the devnet) and this launcher's PRB_DEVNET_*
// knobs; 0 picks a free port (tests do).
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

const root = resolve(import.meta.dirname, '..')
const dataDir = resolve(process.env.PRB_DEVNET_DATA_DIR ?? resolve(root, '.devnet-data'))
const env = (name, fallback) => process.env[name] ?? fallback
const host = '127.0.0.1'
const startedAt = Date.now()
const redisServer = env('PRB_DEVNET_REDIS_SERVER', 'redis-server')
/** How long one daemon may take to say it is ready, and to stop after its SIGTERM. */
const READY_TIMEOUT_MS = 300_000
// generous: a daemon signalled during its start-up (the devnet making its history) stops once started
const STOP_TIMEOUT_MS = 60_000
/** The stake of each imported worker: 5000 PHA, in plancks (the devnet's pools hold 100,000 PHA free). */
const STAKE = env('PRB_DEVNET_STAKE', '5000000000000000')
/** The devnet's stake pool the import uses: created at genesis, owned by //Alice (funded on the devnet). */
const POOL = { pid: 0, name: 'devnet-pool-0', operator: '//Alice' }
/** The goal of issue #17: every worker S_ACTIVE within this long of the start. */
const ACTIVE_GOAL_S = 120

const msgStarts = (prefix) => (rec) => typeof rec.msg === 'string' && rec.msg.startsWith(prefix)
const walkieAt = (port) => `/ip4/${host}/tcp/${port}`

/**
 * One entry per daemon, in start order. Each starts once the daemons named in `after` are ready
 * (those without a dependency between them start side by side: node's start-up is most of the wait);
 * `env(ready)` gets their readiness records, by name; `ready(rec)` says whether a JSON log line of the
 * daemon means it is ready. `script(ready)`, when present, runs instead of the prb entry.
 */
const DAEMONS = [
  {
    name: 'devnet',
    module: 'devnet',
    after: [],
    env: () => ({
      PHALA_DEVNET_HOST: host,
      PHALA_DEVNET_DATA_DIR: resolve(dataDir, 'devnet'),
      // Quicker than the devnet's own defaults (6 s blocks, 2000 blocks of history), so the workers
      // are computing within 2 minutes; set either variable to override.
      PHALA_DEVNET_BLOCK_MS: env('PHALA_DEVNET_BLOCK_MS', '1000'),
      PHALA_DEVNET_HISTORY: env('PHALA_DEVNET_HISTORY', '600'),
    }),
    ready: msgStarts('devnet ready'),
  },
  {
    // no persistence: see the header
    name: 'redis',
    after: [],
    script: async () => [resolve(root, 'scripts/supervised-redis.mjs'), redisServer, String(await port('PRB_DEVNET_REDIS_PORT', '63792')), resolve(dataDir, 'redis')],
    env: () => ({}),
    ready: msgStarts('redis ready'),
  },
  {
    name: 'data_provider',
    module: 'data_provider',
    after: ['devnet'],
    env: ({ devnet }) => {
      const walkie = walkieAt(env('PRB_DEVNET_DP_WALKIE_PORT', '28888'))
      return {
        ...chainEnv(devnet),
        PHALA_LOCAL_DB_PATH: resolve(dataDir, 'data_provider'),
        PHALA_DATA_PROVIDER_LOCAL_SERVER: env('PRB_DEVNET_BLOB_PORT', '8012'),
        PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: host,
        PHALA_WALKIE_LISTEN_ADDRESSES: walkie,
        PHALA_WALKIE_BOOT_NODES: walkie,
      }
    },
    // Walkie is up (its addresses are in the line): the lifecycle can boot to it.
    ready: msgStarts('Walkie up'),
  },
  {
    name: 'lifecycle',
    module: 'lifecycle',
    after: ['devnet', 'redis', 'data_provider'],
    env: ({ devnet, redis, data_provider }) => ({
      ...chainEnv(devnet),
      PHALA_LOCAL_DB_PATH: resolve(dataDir, 'lifecycle'),
      PHALA_Q_REDIS_ENDPOINT: redis.url,
      PHALA_WALKIE_LISTEN_ADDRESSES: walkieAt(env('PRB_DEVNET_LM_WALKIE_PORT', '29888')),
      PHALA_WALKIE_BOOT_NODES: data_provider.addresses.join(','),
      // the trader is its own daemon below, as upstream's compose runs it
      USE_BUILT_IN_TRADER: 'false',
    }),
    // Walkie serves the management API: the trader and the monitor can reach it.
    ready: msgStarts('Lifecycle up'),
  },
  {
    name: 'trade',
    module: 'trade',
    after: ['devnet', 'redis', 'lifecycle'],
    env: ({ devnet, redis, lifecycle }) => ({
      ...chainEnv(devnet),
      PHALA_Q_REDIS_ENDPOINT: redis.url,
      PHALA_WALKIE_LISTEN_ADDRESSES: walkieAt(0),
      // ListPool comes from the lifecycle
      PHALA_WALKIE_BOOT_NODES: lifecycle.addresses.join(','),
      PHALA_QUEUE_BOARD_HOST: host,
      PHALA_QUEUE_BOARD_PORT: env('PRB_DEVNET_BOARD_PORT', '4567'),
    }),
    // after "Now accepting incoming transaction requests...": the board is the trader's last part
    ready: msgStarts('queue board on'),
  },
  {
    name: 'monitor',
    module: 'monitor',
    after: ['redis', 'data_provider', 'lifecycle'],
    env: ({ redis, data_provider, lifecycle }) => ({
      PORT: env('PRB_DEVNET_MONITOR_PORT', '3000'),
      PHALA_MONITOR_HOST: host,
      PTP_BOOT_NODES: [...data_provider.addresses, ...lifecycle.addresses].join(','),
      PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
      PHALA_Q_REDIS_ENDPOINT: redis.url,
    }),
    ready: msgStarts('Monitor at'),
  },
]

/** What every bridge daemon needs: the devnet's endpoints, keys under the data dir, no mDNS. */
function chainEnv(devnet) {
  return {
    PHALA_CHAIN_ENDPOINT: devnet.para,
    PHALA_PARENT_CHAIN_ENDPOINT: devnet.relay,
    PHALA_PEER_ID_PREFIX: resolve(dataDir, 'keys'),
    // Only loopback here: no mDNS on the host's network; the daemons meet by bootstrap.
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
  }
}

/** A knob's port; 0 picks one free on 127.0.0.1 (for redis-server, which cannot take port 0). */
async function port(name, fallback) {
  const p = Number(env(name, fallback))
  if (p !== 0) return p
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.once('error', fail)
    srv.listen(0, host, () => {
      const { port: free } = srv.address()
      srv.close(() => ok(free))
    })
  })
}

function say(msg, extra = {}, level = 30) {
  process.stdout.write(JSON.stringify({ name: 'prb', module: 'bridge-on-devnet', level, msg, ...extra, time: new Date().toISOString(), v: 0 }) + '\n')
}

/** Started daemons, in start order: { name, child, exited }. */
const running = []
let stopping = false
let stopAbort = () => {}
const stopRequested = new Promise((r) => (stopAbort = r))
// The launcher's own calls through the monitor: the stop waits for the one in flight (the monitor's
// Walkie stream to the lifecycle would hold its clean stop), and aborts it after CALL_GRACE_MS.
const calls = new AbortController()
const inFlight = new Set()
const CALL_GRACE_MS = 25_000
function tracked(promise) {
  const p = promise.finally(() => inFlight.delete(p))
  inFlight.add(p)
  return p
}

async function startDaemon(d, readyRecords) {
  const args = d.script ? await d.script(readyRecords) : [resolve(root, 'dist/index.js')]
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...d.env(readyRecords), ...(d.module ? { PHALA_MODULE: d.module } : {}) },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    // its own process group: a terminal's Ctrl-C reaches the launcher only, which stops each daemon once, in order
    detached: true,
  })
  // 'close': after its last output line was forwarded, not only after the process ended
  const exited = new Promise((r) => child.once('close', (code, signal) => r({ code, signal })))
  // A signal before the entry installed its handler would kill it uncleanly: stopAll waits for this.
  let handlerIn
  const handling = new Promise((r) => (handlerIn = r))
  child.on('message', (m) => {
    if (m?.prb === 'stop-handler-installed') handlerIn()
  })
  const entry = { name: d.name, child, exited, handling }
  running.push(entry)
  say(`started ${d.name}`, { daemon: d.name, pid: child.pid })
  let resolveReady
  let rejectReady
  const ready = new Promise((res, rej) => {
    resolveReady = res
    rejectReady = rej
  })
  createInterface({ input: child.stdout }).on('line', (line) => {
    process.stdout.write(line + '\n')
    try {
      const rec = JSON.parse(line)
      if (d.ready(rec)) resolveReady(rec)
    } catch {
      // not a JSON log line
    }
  })
  void exited.then(({ code, signal }) => {
    rejectReady(new Error(`${d.name} exited before it was ready (code ${code}, signal ${signal})`))
    if (stopping) return
    say(`${d.name} exited unexpectedly (code ${code}, signal ${signal}); stopping the bridge`, { daemon: d.name, code, signal }, 50)
    void stopAll(1)
  })
  const timer = setTimeout(() => rejectReady(new Error(`${d.name} did not say it was ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
  return ready.finally(() => clearTimeout(timer))
}

async function stopAll(code) {
  if (stopping) return
  stopping = true
  stopAbort()
  if (inFlight.size > 0) {
    const grace = setTimeout(() => calls.abort(), CALL_GRACE_MS)
    await Promise.allSettled([...inFlight])
    clearTimeout(grace)
  }
  say('stopping', { daemons: running.map((r) => r.name).reverse() })
  let failed = false
  for (const r of [...running].reverse()) {
    const { child } = r
    await Promise.race([r.handling, r.exited, new Promise((t) => setTimeout(t, STOP_TIMEOUT_MS))])
    if (child.exitCode === null && child.signalCode === null) {
      say(`stopping ${r.name}`, { daemon: r.name, pid: child.pid })
      child.kill('SIGTERM')
      const timer = setTimeout(() => {
        say(`${r.name} did not stop within ${STOP_TIMEOUT_MS} ms; killing it`, { daemon: r.name }, 50)
        child.kill('SIGKILL')
      }, STOP_TIMEOUT_MS)
      const { code: c, signal } = await r.exited
      clearTimeout(timer)
      if (c !== 0) failed = true
      say(`${r.name} stopped`, { daemon: r.name, code: c, signal })
    }
  }
  say('bridge stopped', { code: failed ? 1 : code })
  process.exit(failed ? 1 : code)
}

// Before anything starts: a signal during start-up stops what has started, in reverse order.
// npm forwards the terminal's SIGINT to this script too: repeats are ignored while stopping.
process.on('SIGINT', () => void stopAll(0))
process.on('SIGTERM', () => void stopAll(0))

// Checked before anything starts: without Redis the lifecycle and the trader cannot run.
const redisCheck = spawnSync(redisServer, ['--version'], { encoding: 'utf8' })
if (redisCheck.error || redisCheck.status !== 0) {
  const why = redisCheck.error?.code === 'ENOENT' ? 'was not found' : `did not run (${redisCheck.error?.message ?? redisCheck.stderr.trim()})`
  const msg = `${redisServer} ${why}: the lifecycle and the trader need Redis for the trade queue. Install it (Debian/Ubuntu: sudo apt-get install redis-server; Fedora: sudo dnf install redis; macOS: brew install redis), or set PRB_DEVNET_REDIS_SERVER to the redis-server program. Nothing was started.`
  say(msg, { redisServer }, 50)
  process.stderr.write(`prb: ${msg}\n`)
  process.exit(2)
}

const { MODULE_LOADERS } = await import(pathToFileURL(resolve(root, 'dist/modules.js')).href)
mkdirSync(dataDir, { recursive: true })
rmSync(resolve(dataDir, 'data_provider'), { recursive: true, force: true })

const readyRecords = {}
/** Each daemon's readiness record, or undefined when it did not start (skipped, failed, stopping). */
const readyOf = {}
for (const d of DAEMONS) readyOf[d.name] = startWhenReady(d)
await Promise.all(Object.values(readyOf))

async function startWhenReady(d) {
  const deps = await Promise.all(d.after.map((n) => readyOf[n]))
  if (stopping) return undefined
  const missing = d.after.filter((_, i) => !deps[i])
  if (missing.length > 0) {
    say(`skipping ${d.name}: it needs ${missing.join(', ')}`, { daemon: d.name })
    return undefined
  }
  if (d.module && !MODULE_LOADERS[d.module]) {
    say(`skipping ${d.name}: not built yet`, { daemon: d.name })
    return undefined
  }
  let rec
  try {
    rec = await Promise.race([startDaemon(d, readyRecords), stopRequested.then(() => undefined)])
  } catch (err) {
    if (!stopping) {
      say(`${d.name} did not start: ${err.message}`, { daemon: d.name }, 50)
      await stopAll(1)
    }
    return undefined
  }
  if (!rec || stopping) return undefined
  readyRecords[d.name] = rec
  if (d.name === 'devnet') say('devnet is up; starting the bridge daemons', { para: rec.para, relay: rec.relay })
  return rec
}
if (!stopping) {
  if (DAEMONS.every((d) => readyRecords[d.name])) await afterStart(readyRecords)
  else say('bridge running on the devnet without some daemons (see above); Ctrl-C stops it', { dataDir, daemons: running.map((r) => r.name) }, 40)
}

/** Once every daemon is ready: the first start's import, the summary, then progress until all are S_ACTIVE. */
async function afterStart({ devnet, lifecycle, trade, monitor }) {
  const monitorUrl = `http://${host}:${monitor.port}`
  const peerId = lifecycle.peerId
  const call = async (method, body = {}) => {
    const res = await tracked(fetch(`${monitorUrl}/ptp/proxy/${peerId}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: calls.signal }))
    const j = await res.json().catch(() => ({}))
    if (!res.ok || j.hasError) throw new Error(`${method} through the monitor: HTTP ${res.status} ${JSON.stringify(j.error ?? j)}`)
    return j.data ?? {}
  }
  let workers = 0
  try {
    // the monitor meets the lifecycle over Walkie shortly after both are up
    await until(async () => {
      const d = await (await tracked(fetch(`${monitorUrl}/ptp/discover`, { signal: calls.signal }))).json()
      return (d.lifecycleManagers ?? []).some((p) => p.peerId === peerId)
    }, 60_000, `the monitor (${monitorUrl}) meets the lifecycle ${peerId}`)
    workers = await importOnFirstStart(call, devnet.pruntimes ?? [])
  } catch (err) {
    if (stopping) return
    say(`the bridge runs, but its pool and workers could not be imported or read: ${err.message}; add them through the monitor (${monitorUrl}/lifecycle/pools/${peerId})`, { err: err.message }, 50)
  }
  if (stopping) return
  summary({ devnet, lifecycle, trade, monitorUrl })
  if (workers > 0) await watchActive(call)
}

/** An empty store gets the devnet's pool 0 and one worker per devnet pRuntime; a store with pools is kept. */
async function importOnFirstStart(call, pruntimes) {
  const pools = (await call('ListPool')).pools ?? []
  const listed = (await call('ListWorker')).workers ?? []
  const store = resolve(dataDir, 'lifecycle')
  if (pools.length > 0 || listed.length > 0) {
    say(`keeping the lifecycle store as it is: ${pools.length} pool(s), ${listed.length} worker(s) in ${store} (delete that directory to import afresh)`, { pools: pools.length, workers: listed.length, store })
    const stale = listed.filter((w) => !pruntimes.includes(w.endpoint)).map((w) => `${w.name} (${w.endpoint})`)
    if (stale.length > 0) say(`worker(s) ${stale.join(', ')} point where this devnet has no pRuntime (its pRuntimes: ${pruntimes.join(', ')}); edit them in the monitor or delete ${store} to import afresh`, { stale }, 40)
    return listed.filter((w) => w.enabled).length
  }
  await call('CreatePool', { pools: [{ pid: POOL.pid, name: POOL.name, owner: { mnemonic: POOL.operator }, realPhalaSs58: '', enabled: true, syncOnly: false }] })
  await call('CreateWorker', {
    workers: pruntimes.map((endpoint, i) => ({ pid: POOL.pid, name: `devnet-worker-${i}`, endpoint, stake: STAKE, enabled: true, syncOnly: false })),
  })
  say(`imported pool ${POOL.pid} (operator ${POOL.operator}) and ${pruntimes.length} worker(s) with ${BigInt(STAKE) / 10n ** 12n} PHA each, through the monitor's proxy`, { pid: POOL.pid, workers: pruntimes.length, stake: STAKE })
  return pruntimes.length
}

function summary({ devnet, lifecycle, trade, monitorUrl }) {
  const p = devnet.pruntimes ?? []
  say('bridge running on the devnet; Ctrl-C stops it', {
    dataDir, daemons: running.map((r) => r.name), monitor: `${monitorUrl}/fleet`, board: trade.url, para: devnet.para, relay: devnet.relay,
    control: devnet.control, pruntimes: p, lifecyclePeerId: lifecycle.peerId,
  })
  const lines = [
    '',
    'prb: the bridge runs on the devnet (all on 127.0.0.1):',
    `  monitor       ${monitorUrl}/fleet   (lifecycle ${monitorUrl}/lifecycle/status/${lifecycle.peerId})`,
    `  queue board   ${trade.url}`,
    `  parachain     ${devnet.para}    relay chain ${devnet.relay}`,
    ...(devnet.control ? [`  devnet        ${devnet.control}/status (faults: see the README's devnet section)`] : []),
    `  pRuntimes     ${p.length === 0 ? 'none' : p.length === 1 ? p[0] : `${p[0]} … ${p.at(-1)}`}`,
    `  data          ${dataDir}  (keys, lifecycle store; the data provider DB is made anew each start)`,
    '  stop          Ctrl-C (every daemon stops, in reverse order)',
    '',
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

/** Logs the workers' states as they change until all are S_ACTIVE. */
async function watchActive(call) {
  let last = ''
  let warned = false
  while (!stopping) {
    let states
    try {
      states = (await call('GetWorkerStatus')).workerStates ?? []
    } catch (err) {
      if (stopping) return
      say(`reading the workers' states failed: ${err.message}; trying again`, {}, 40)
      await sleep(5000)
      continue
    }
    if (stopping) return
    const enabled = states.filter((w) => w.worker?.enabled !== false)
    const active = enabled.filter((w) => w.status === 'S_ACTIVE').length
    const seconds = Math.round((Date.now() - startedAt) / 1000)
    const byState = {}
    for (const w of enabled) byState[w.status] = (byState[w.status] ?? 0) + 1
    if (enabled.length > 0 && active === enabled.length) {
      say(`${active}/${enabled.length} workers S_ACTIVE after ${seconds} s`, { active, workers: enabled.length, seconds, ms: Date.now() - startedAt })
      return
    }
    const now = JSON.stringify(byState)
    if (now !== last) {
      last = now
      say(`${active}/${enabled.length} workers S_ACTIVE after ${seconds} s`, { active, workers: enabled.length, seconds, states: byState })
    }
    if (!warned && seconds > ACTIVE_GOAL_S) {
      warned = true
      const stuck = enabled.filter((w) => w.status !== 'S_ACTIVE').map((w) => ({ name: w.worker?.name, status: w.status, lastMessage: w.lastMessage }))
      say(`not every worker is S_ACTIVE after ${ACTIVE_GOAL_S} s; still waiting`, { stuck }, 40)
    }
    await sleep(2000)
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

async function until(cond, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    if (stopping) throw new Error('stopping')
    if (await cond().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`not reached within ${ms / 1000} s: ${what}`)
    await sleep(250)
  }
}
