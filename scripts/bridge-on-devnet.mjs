// Runs the bridge on the devnet, as separate processes like a real deployment:
// the devnet (relay chain, parachain, pRuntime workers), then every bridge daemon that is built,
// each pointed at the devnet. State goes under .devnet-data/ (the data provider's DB is
// cleared at each start, because the devnet's chain is made anew). Ctrl-C stops everything.
//
// Ports follow the PHALA_DEVNET_* variables when they are set (tests pick free ones).
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'

const root = resolve(import.meta.dirname, '..')
const dataDir = resolve(process.env.PRB_DEVNET_DATA_DIR ?? resolve(root, '.devnet-data'))
const env = (name, fallback) => process.env[name] ?? fallback
const host = '127.0.0.1'

function say(msg, extra = {}) {
  process.stdout.write(JSON.stringify({ name: 'prb', module: 'bridge-on-devnet', level: 30, msg, ...extra, time: new Date().toISOString(), v: 0 }) + '\n')
}

const children = []
let stopping = false

function startChild(label, childEnv, onLine) {
  const child = spawn(process.execPath, [resolve(root, 'dist/index.js')], {
    cwd: root,
    env: { ...process.env, ...childEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push({ label, child })
  createInterface({ input: child.stdout }).on('line', (line) => {
    process.stdout.write(line + '\n')
    onLine?.(line)
  })
  child.on('exit', (code, signal) => {
    if (stopping) return
    say(`${label} exited unexpectedly (code ${code}, signal ${signal}); stopping the bridge`)
    void stopAll(1)
  })
  return child
}

async function stopAll(code) {
  if (stopping) return
  stopping = true
  say('stopping', { children: children.map((c) => c.label) })
  // Reverse order: daemons first, the devnet last.
  for (const { child } of [...children].reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
  }
  process.exit(code)
}

process.on('SIGINT', () => void stopAll(0))
process.on('SIGTERM', () => void stopAll(0))

mkdirSync(dataDir, { recursive: true })
rmSync(resolve(dataDir, 'data_provider'), { recursive: true, force: true })

const ready = new Promise((resolveReady) => {
  startChild('devnet', { PHALA_MODULE: 'devnet', PHALA_DEVNET_HOST: host, PHALA_DEVNET_DATA_DIR: resolve(dataDir, 'devnet') }, (line) => {
    try {
      const rec = JSON.parse(line)
      if (typeof rec.msg === 'string' && rec.msg.startsWith('devnet ready')) resolveReady(rec)
    } catch {
      // not a JSON log line
    }
  })
})
const devnet = await ready
say('devnet is up; starting the bridge daemons', { para: devnet.para, relay: devnet.relay })

const common = {
  PHALA_CHAIN_ENDPOINT: devnet.para,
  PHALA_PARENT_CHAIN_ENDPOINT: devnet.relay,
  PHALA_PEER_ID_PREFIX: resolve(dataDir, 'keys'),
  // Only loopback here: no mDNS on the host's network; the daemons meet by bootstrap.
  PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
}
const dpWalkie = `/ip4/${host}/tcp/${env('PRB_DEVNET_DP_WALKIE_PORT', '28888')}`
startChild('data_provider', {
  ...common,
  PHALA_MODULE: 'data_provider',
  PHALA_LOCAL_DB_PATH: resolve(dataDir, 'data_provider'),
  PHALA_DATA_PROVIDER_LOCAL_SERVER: env('PRB_DEVNET_BLOB_PORT', '8012'),
  PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: host,
  PHALA_WALKIE_LISTEN_ADDRESSES: dpWalkie,
  PHALA_WALKIE_BOOT_NODES: dpWalkie,
})
say('bridge running on the devnet; Ctrl-C stops it', { dataDir })
