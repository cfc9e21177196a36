// Runs the bridge on the devnet, as separate processes like a real deployment: the devnet (relay
// chain, parachain, pRuntime workers), then every bridge daemon that is built, each pointed at the
// devnet and started once the one before it says it is ready. State goes under .devnet-data/ (the
// data provider's DB is cleared at each start, because the devnet's chain is made anew).
//
// Stopping: Ctrl-C signals the terminal's whole process group. Each daemon runs in its own process
// group, so only this launcher gets that signal; it then stops the daemons one at a time in reverse
// start order (the devnet last), one SIGTERM each, waiting for each to exit. Each daemon also holds
// an IPC channel to the launcher and stops cleanly when it ends, so kill -9 of the launcher leaves
// no daemon behind.
//
// To add a daemon, add one entry to DAEMONS: its module, its environment (given what earlier
// daemons announced when ready) and its readiness line. Entries whose module is not built yet
// (src/modules.ts) are skipped.
//
// Ports follow the PHALA_DEVNET_* variables when they are set (tests pick free ones).
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

const root = resolve(import.meta.dirname, '..')
const dataDir = resolve(process.env.PRB_DEVNET_DATA_DIR ?? resolve(root, '.devnet-data'))
const env = (name, fallback) => process.env[name] ?? fallback
const host = '127.0.0.1'
/** How long one daemon may take to say it is ready, and to stop after its SIGTERM. */
const READY_TIMEOUT_MS = 300_000
// generous: a daemon signalled during its start-up (the devnet making its history) stops once started
const STOP_TIMEOUT_MS = 60_000

const msgStarts = (prefix) => (rec) => typeof rec.msg === 'string' && rec.msg.startsWith(prefix)

/**
 * One entry per daemon, in start order. `env(ready)` gets the readiness records of the daemons
 * started before it, by name; `ready(rec)` says whether a JSON log line of the daemon means it is
 * ready for the next one.
 */
const DAEMONS = [
  {
    name: 'devnet',
    module: 'devnet',
    env: () => ({ PHALA_DEVNET_HOST: host, PHALA_DEVNET_DATA_DIR: resolve(dataDir, 'devnet') }),
    ready: msgStarts('devnet ready'),
  },
  {
    name: 'data_provider',
    module: 'data_provider',
    env: ({ devnet }) => {
      const walkie = `/ip4/${host}/tcp/${env('PRB_DEVNET_DP_WALKIE_PORT', '28888')}`
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

function say(msg, extra = {}, level = 30) {
  process.stdout.write(JSON.stringify({ name: 'prb', module: 'bridge-on-devnet', level, msg, ...extra, time: new Date().toISOString(), v: 0 }) + '\n')
}

/** Started daemons, in start order: { name, child, exited }. */
const running = []
let stopping = false
let stopAbort = () => {}
const stopRequested = new Promise((r) => (stopAbort = r))

function startDaemon(d, readyRecords) {
  const child = spawn(process.execPath, [resolve(root, 'dist/index.js')], {
    cwd: root,
    env: { ...process.env, ...d.env(readyRecords), PHALA_MODULE: d.module },
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

const { MODULE_LOADERS } = await import(pathToFileURL(resolve(root, 'dist/modules.js')).href)
mkdirSync(dataDir, { recursive: true })
rmSync(resolve(dataDir, 'data_provider'), { recursive: true, force: true })

const readyRecords = {}
for (const d of DAEMONS) {
  if (stopping) break
  if (!MODULE_LOADERS[d.module]) {
    say(`skipping ${d.name}: not built yet`, { daemon: d.name })
    continue
  }
  let rec
  try {
    rec = await Promise.race([startDaemon(d, readyRecords), stopRequested.then(() => undefined)])
  } catch (err) {
    if (!stopping) {
      say(`${d.name} did not start: ${err.message}`, { daemon: d.name }, 50)
      await stopAll(1)
    }
    break
  }
  if (!rec) break
  readyRecords[d.name] = rec
  if (d.name === 'devnet') say('devnet is up; starting the bridge daemons', { para: rec.para, relay: rec.relay })
}
if (!stopping) say('bridge running on the devnet; Ctrl-C stops it', { dataDir, daemons: running.map((r) => r.name) })
