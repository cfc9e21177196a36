/**
 * The whole bridge as an operator runs it: the devnet, the data provider, the lifecycle, the trader
 * and the monitor, each `node dist/index.js` with its own PHALA_MODULE, in its own process group,
 * on loopback ports picked here, with state under one temp dir, plus a Redis started here.
 * Each daemon can be stopped, killed with SIGKILL (its whole group) and started again on the same
 * ports and state; its JSON log lines are kept. The monitor's JSON proxy is the operator's client;
 * the devnet's control surface injects faults; the chain is read with @polkadot/api.
 *
 * E2E_LOG=1 copies every daemon's log lines to stderr; E2E_LOG_DIR=<dir> appends them to
 * <dir>/<daemon>.log (both for debugging a run).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ApiPromise } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'
import { connectApi, sendFinal, startRedis, type TestRedis } from '../trade/helpers.js'

export { waitFor }
export const PHA = 10n ** 12n
const ENTRY = 'dist/index.js'

export type DaemonName = 'devnet' | 'data_provider' | 'lifecycle' | 'trade' | 'monitor'

export interface LogLine extends Record<string, any> {
  msg: string
  /** Which start of the daemon printed it (0 = the first). */
  run: number
}

/** One daemon process: started, stopped, killed and started again with the same environment. */
export interface Daemon {
  readonly name: DaemonName
  /** Every JSON log line of every run so far. */
  readonly lines: LogLine[]
  readonly pid: number | undefined
  readonly running: boolean
  /** Number of starts so far. */
  readonly runs: number
  env: Record<string, string>
  /** Spawn it and wait for its readiness line; returns that line. */
  start(ms?: number): Promise<LogLine>
  /** SIGTERM, wait for the exit; returns the exit code. */
  stop(ms?: number): Promise<number | string>
  /** SIGKILL to its process group, wait for the exit. */
  kill9(): Promise<void>
  restart(ms?: number): Promise<LogLine>
  /** The first line of the current run (or any run with `anyRun`) whose msg matches, waiting up to `ms`. */
  line(re: RegExp, ms?: number, o?: { anyRun?: boolean; since?: number }): Promise<LogLine>
  /** Lines at level warn (40) or above, of every run. */
  problems(): LogLine[]
  /** Peak resident set of the current process in KiB (VmHWM), 0 when not running. */
  peakRssKb(): number
}

export interface DaemonSpec {
  name: DaemonName
  env: Record<string, string>
  ready: RegExp
}

export function createDaemon(spec: DaemonSpec): Daemon {
  const lines: LogLine[] = []
  let child: ChildProcess | undefined
  let exited: Promise<number | string> = Promise.resolve(0)
  let runs = 0
  let stderr = ''
  const echo = process.env.E2E_LOG === '1'
  const logDir = process.env.E2E_LOG_DIR
  if (logDir) mkdirSync(logDir, { recursive: true })
  const isRunning = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null
  const d: Daemon = {
    name: spec.name,
    lines,
    env: spec.env,
    get pid() {
      return child?.pid
    },
    get running() {
      return isRunning()
    },
    get runs() {
      return runs
    },
    async start(ms = 180_000) {
      if (isRunning()) throw new Error(`${spec.name} is already running (pid ${child!.pid})`)
      const run = runs++
      stderr = ''
      const c = spawn(process.execPath, [ENTRY], {
        env: { PATH: process.env.PATH ?? '', PHALA_MODULE: spec.name, ...d.env },
        // ipc: a daemon whose test process is gone stops by itself (the entry watches `disconnect`)
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
      })
      child = c
      c.stderr!.on('data', (b) => {
        stderr = (stderr + String(b)).slice(-4000)
        if (echo) process.stderr.write(`[${spec.name}] ${String(b)}`)
      })
      createInterface({ input: c.stdout! }).on('line', (l) => {
        if (echo) process.stderr.write(`[${spec.name}#${run}] ${l}\n`)
        if (logDir) appendFileSync(join(logDir, `${spec.name}.log`), l + '\n')
        let rec: Record<string, any>
        try {
          rec = JSON.parse(l) as Record<string, any>
        } catch {
          rec = { msg: l, raw: true }
        }
        lines.push({ ...rec, msg: String(rec.msg ?? ''), run })
      })
      exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))
      return d.line(spec.ready, ms)
    },
    async stop(ms = 30_000) {
      if (!isRunning()) return exited
      child!.kill('SIGTERM')
      const timer = setTimeout(() => void d.kill9(), ms)
      const code = await exited
      clearTimeout(timer)
      return code
    },
    async kill9() {
      if (!isRunning()) return
      try {
        process.kill(-child!.pid!, 'SIGKILL')
      } catch {
        child!.kill('SIGKILL')
      }
      await exited
    },
    async restart(ms) {
      await d.stop()
      return d.start(ms)
    },
    async line(re, ms = 60_000, o = {}) {
      const run = runs - 1
      const find = (): LogLine | undefined => lines.find((l, i) => (o.anyRun || l.run === run) && i >= (o.since ?? 0) && re.test(l.msg))
      await waitFor(() => find() !== undefined || (!isRunning() && run === runs - 1), ms, () => `${spec.name}: a log line matching ${re}; last lines: ${JSON.stringify(lines.slice(-4))}; stderr: ${stderr.slice(-800)}`)
      const found = find()
      if (!found) throw new Error(`${spec.name} exited (${String(child?.exitCode ?? child?.signalCode)}) before a line matching ${re}: ${JSON.stringify(lines.slice(-6))}; stderr: ${stderr.slice(-1500)}`)
      return found
    },
    problems: () => lines.filter((l) => typeof l.level === 'number' && l.level >= 40),
    peakRssKb() {
      if (!isRunning()) return 0
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child!.pid}/status`, 'utf8'))
        return m ? Number(m[1]) : 0
      } catch {
        return 0
      }
    },
  }
  return d
}

/** The devnet's control surface (README "The devnet"). */
export interface DevnetControl {
  status(): Promise<{ relay: { best: number; finalized: number }; para: { best: number; finalized: number }; connections?: number }>
  dropConnections(): Promise<{ dropped: number }>
  crash(i: number): Promise<unknown>
  hang(i: number, on: boolean): Promise<unknown>
  heal(i: number): Promise<unknown>
  pruntimes(): Promise<Array<{ index: number; endpoint: string; publicKey: string; faults: unknown }>>
}

export function devnetControl(url: string): DevnetControl {
  const call = async (method: string, path: string): Promise<any> => {
    const res = await fetch(url + path, { method })
    const body = await res.json() as unknown
    if (!res.ok) throw new Error(`devnet control ${method} ${path}: ${res.status} ${JSON.stringify(body)}`)
    return body
  }
  return {
    status: () => call('GET', '/status'),
    dropConnections: () => call('POST', '/drop-connections'),
    crash: (i) => call('POST', `/pruntimes/${i}/crash`),
    hang: (i, on) => call('POST', `/pruntimes/${i}/hang?on=${on}`),
    heal: (i) => call('POST', `/pruntimes/${i}/heal`),
    pruntimes: () => call('GET', '/pruntimes'),
  }
}

export interface ProxyAnswer {
  status: number
  body: any
}

/** The operator's client: the monitor's upstream JSON routes. */
export interface MonitorClient {
  readonly base: string
  discover(): Promise<{ dataProviders: any[]; lifecycleManagers: any[] }>
  /** POST /ptp/proxy/:peerId/:method with `body` (an object is sent as JSON; a string as is). */
  proxy(peerId: string, method: string, body?: unknown, headers?: Record<string, string>): Promise<ProxyAnswer>
}

export function monitorClient(base: string): MonitorClient {
  return {
    base,
    async discover() {
      const res = await fetch(`${base}/ptp/discover`)
      return await res.json() as { dataProviders: any[]; lifecycleManagers: any[] }
    },
    async proxy(peerId, method, body = {}, headers = {}) {
      const res = await fetch(`${base}/ptp/proxy/${peerId}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.text()
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = { raw: text }
      }
      return { status: res.status, body: parsed }
    },
  }
}

export interface BridgeOptions {
  /** pRuntimes the devnet runs (default 4). */
  pruntimes?: number
  /** Stake pools the devnet makes at genesis, owned by //Alice (default 2), 100 000 PHA of free stake each. */
  pools?: number
  /** Devnet relay block time (default 500 ms; a para block every second relay block). */
  blockMs?: number
  /** Extra environment per daemon. */
  env?: Partial<Record<DaemonName, Record<string, string>>>
  /** Run while the daemons start (the devnet is up). */
  whileStarting?: (c: { chain: Bridge['chain']; api: () => Promise<ApiPromise> }) => Promise<unknown>
}

export interface Bridge {
  dir: string
  redis: TestRedis
  devnet: Daemon
  dp: Daemon
  lm: Daemon
  trade: Daemon
  monitor: Daemon
  daemons: Daemon[]
  ports: { blob: number; dpWalkie: number; lmWalkie: number; monitor: number; board: number }
  chain: { paraUrl: string; relayUrl: string; controlUrl: string; pruntimes: string[] }
  control: DevnetControl
  client: MonitorClient
  /** Peer ids, known once the data provider and the lifecycle are up (their keys persist across restarts). */
  dpPeerId: string
  lmPeerId: string
  api(): Promise<ApiPromise>
  /** Everything stopped (daemons in reverse order, Redis, the API) and the dir removed. */
  stop(): Promise<void>
}

/**
 * Start the devnet, Redis and every bridge daemon (data provider → lifecycle → trader → monitor),
 * each waiting for its readiness line; with an empty lifecycle store. Ports are fixed for the
 * bridge's life so a restarted daemon is found where it was.
 */
export async function startBridge(o: BridgeOptions = {}): Promise<Bridge> {
  const dir = mkdtempSync(join(tmpdir(), 'prb-e2e-'))
  const started: Array<() => Promise<unknown>> = []
  let apiP: Promise<ApiPromise> | undefined
  const stopAll = async (): Promise<void> => {
    if (apiP) await (await apiP.catch(() => undefined))?.disconnect().catch(() => undefined)
    for (const fn of started.reverse()) await fn().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const [blob, dpWalkie, lmWalkie, monitorPort, board] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()]
    const redis = await startRedis()
    started.push(() => redis.stop())
    const devnet = createDaemon({
      name: 'devnet',
      ready: /^devnet ready/,
      env: {
        PHALA_DEVNET_HOST: '127.0.0.1', PHALA_DEVNET_PARA_PORT: '0', PHALA_DEVNET_RELAY_PORT: '0', PHALA_DEVNET_CONTROL_PORT: '0',
        PHALA_DEVNET_PRUNTIME_PORT: '0', PHALA_DEVNET_PRUNTIMES: String(o.pruntimes ?? 4), PHALA_DEVNET_POOLS: String(o.pools ?? 2),
        PHALA_DEVNET_HISTORY: '16', PHALA_DEVNET_BLOCK_MS: String(o.blockMs ?? 500), PHALA_DEVNET_JUSTIFICATION_PERIOD: '8',
        PHALA_DEVNET_SESSION_BLOCKS: '40', PHALA_DEVNET_DATA_DIR: join(dir, 'devnet'), ...o.env?.devnet,
      },
    })
    started.push(() => devnet.stop())
    const ready = await devnet.start()
    const chain = { paraUrl: ready.para as string, relayUrl: ready.relay as string, controlUrl: ready.control as string, pruntimes: ready.pruntimes as string[] }
    const common = {
      PHALA_CHAIN_ENDPOINT: chain.paraUrl, PHALA_PARENT_CHAIN_ENDPOINT: chain.relayUrl, PHALA_PEER_ID_PREFIX: join(dir, 'keys'),
      PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    }
    const dpAddr = `/ip4/127.0.0.1/tcp/${dpWalkie}`
    const lmAddr = `/ip4/127.0.0.1/tcp/${lmWalkie}`
    const dp = createDaemon({
      name: 'data_provider',
      ready: /^Walkie up/,
      env: {
        ...common, PHALA_LOCAL_DB_PATH: join(dir, 'data_provider'), PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blob),
        PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1', PHALA_PARENT_JUSTIFICATION_PERIOD: '8',
        PHALA_WALKIE_LISTEN_ADDRESSES: dpAddr, PHALA_WALKIE_BOOT_NODES: lmAddr, ...o.env?.data_provider,
      },
    })
    const lm = createDaemon({
      name: 'lifecycle',
      ready: /^Lifecycle up/,
      env: {
        ...common, PHALA_LOCAL_DB_PATH: join(dir, 'local.db'), PHALA_Q_REDIS_ENDPOINT: redis.url,
        // a hung pRuntime is given up on after 20 s instead of upstream's 150 s (the hang fault)
        PHALA_BLOB_REQUEST_TIMEOUT: '20000',
        PHALA_WALKIE_LISTEN_ADDRESSES: lmAddr, PHALA_WALKIE_BOOT_NODES: dpAddr, ...o.env?.lifecycle,
      },
    })
    const trade = createDaemon({
      name: 'trade',
      ready: /^Now accepting incoming transaction requests/,
      env: {
        ...common, PHALA_Q_REDIS_ENDPOINT: redis.url, PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0', PHALA_WALKIE_BOOT_NODES: lmAddr,
        PHALA_QUEUE_BOARD_HOST: '127.0.0.1', PHALA_QUEUE_BOARD_PORT: String(board), PHALA_TRADE_BATCH_MS: '300', ...o.env?.trade,
      },
    })
    const monitor = createDaemon({
      name: 'monitor',
      ready: /^Monitor at http/,
      env: {
        PORT: String(monitorPort), PHALA_MONITOR_HOST: '127.0.0.1', PTP_BOOT_NODES: `${dpAddr},${lmAddr}`,
        PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true', ...o.env?.monitor,
      },
    })
    const daemons = [dp, lm, trade, monitor]
    started.push(async () => {
      for (const dmn of [...daemons].reverse()) await dmn.stop()
    })
    // Everything at once: each daemon retries what it needs; only the trader needs the lifecycle's
    // key file, there once the lifecycle logged its peer id. `whileStarting` (e.g. chain set-up) too.
    const lmStarted = lm.start()
    const [dpUp, , lmUp] = await Promise.all([
      dp.start(), monitor.start(), lmStarted,
      lm.line(/^Got my peer id as LIFECYCLE\.$/, 180_000).then(() => trade.start()),
      o.whileStarting?.({ chain, api: () => (apiP ??= connectApi(chain.paraUrl)) }),
    ])
    const bridge: Bridge = {
      dir, redis, devnet, dp, lm, trade, monitor, daemons,
      ports: { blob, dpWalkie, lmWalkie, monitor: monitorPort, board },
      chain,
      control: devnetControl(chain.controlUrl),
      client: monitorClient(`http://127.0.0.1:${monitorPort}`),
      dpPeerId: dpUp.peerId as string,
      lmPeerId: lmUp.peerId as string,
      api: () => (apiP ??= connectApi(chain.paraUrl)),
      stop: stopAll,
    }
    return bridge
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** Redis restarted empty on the same port, as a non-persistent Redis after a crash. */
export async function restartRedis(b: Bridge): Promise<void> {
  await b.redis.restart()
}

// ---------------------------------------------------------------------------------------------
// The operator's view through the monitor

export interface WorkerStatusRow {
  name: string
  uuid: string
  status: string
  lastMessage: string
  paraBlockDispatchedTo: number
  publicKey: string
}

/** GetWorkerStatus through the monitor's proxy: one row per worker (throws on an error answer). */
export async function workerStatus(b: Bridge): Promise<WorkerStatusRow[]> {
  const r = await b.client.proxy(b.lmPeerId, 'GetWorkerStatus', {})
  if (r.status !== 200 || r.body.hasError) throw new Error(`GetWorkerStatus: ${r.status} ${JSON.stringify(r.body)}`)
  return ((r.body.data?.workerStates ?? []) as any[]).map((s) => ({
    name: s.worker?.name ?? '', uuid: s.worker?.uuid ?? '', status: s.status ?? 'S_IDLE', lastMessage: s.lastMessage ?? '',
    paraBlockDispatchedTo: s.paraBlockDispatchedTo ?? 0, publicKey: s.publicKey ?? '',
  }))
}

/** The lifecycle's pools and workers as ListPool / ListWorker answer them (the store as the operator sees it). */
export async function storeSnapshot(b: Bridge): Promise<{ pools: unknown[]; workers: unknown[] }> {
  const [p, w] = await Promise.all([b.client.proxy(b.lmPeerId, 'ListPool', {}), b.client.proxy(b.lmPeerId, 'ListWorker', {})])
  if (p.status !== 200 || p.body.hasError) throw new Error(`ListPool: ${p.status} ${JSON.stringify(p.body)}`)
  if (w.status !== 200 || w.body.hasError) throw new Error(`ListWorker: ${w.status} ${JSON.stringify(w.body)}`)
  const byUuid = (a: any, c: any): number => String(a.uuid).localeCompare(String(c.uuid))
  return { pools: [...(p.body.data?.pools ?? [])].sort(byUuid), workers: [...(w.body.data?.workers ?? [])].sort(byUuid) }
}

/**
 * Whether every worker is S_ACTIVE and has been fed at least up to para block `paraAtLeast`
 * (so an ACTIVE left over from before a fault does not count as recovered).
 */
export async function allActive(b: Bridge, n: number, paraAtLeast = 0): Promise<boolean> {
  try {
    const rows = await workerStatus(b)
    return rows.length === n && rows.every((r) => r.status === 'S_ACTIVE' && r.paraBlockDispatchedTo >= paraAtLeast)
  } catch {
    return false
  }
}

export async function describeStatus(b: Bridge): Promise<string> {
  try {
    return JSON.stringify((await workerStatus(b)).map((r) => ({ n: r.name, s: r.status, b: r.paraBlockDispatchedTo, m: r.lastMessage.slice(0, 200) })))
  } catch (err) {
    return `GetWorkerStatus failed: ${(err as Error).message}`
  }
}

// ---------------------------------------------------------------------------------------------
// The operator's set-up: 2 pools (pool 1 proxied), 4 workers, through the monitor

export const keyring = (): Keyring => new Keyring({ type: 'sr25519', ss58Format: 30 })

export interface Fleet {
  alice: KeyringPair
  bob: KeyringPair
  /** pid of each worker, by index. */
  pids: number[]
  stake: bigint
}

/** Alice (owner of the devnet's pools 0 and 1) makes Bob her proxy: pool 1 is run by Bob for her. */
export async function addBobAsProxy(b: Pick<Bridge, 'api'>): Promise<Fleet> {
  const k = keyring()
  const alice = k.addFromUri('//Alice')
  const bob = k.addFromUri('//Bob')
  const api = await b.api()
  await sendFinal(api, api.tx.proxy.addProxy(bob.address, 'Any', 0), alice)
  return { alice, bob, pids: [], stake: 5_000n * PHA }
}

/**
 * The operator's import through the monitor's proxy, as the README's block does it; returns the
 * answers. Pool 1 is run by Bob for Alice; pools 2.. (when `poolCount` > 2) by Alice; worker i in pool i % poolCount.
 */
export async function importFleet(b: Bridge, fleet: Fleet, workers = b.chain.pruntimes.length, poolCount = 2): Promise<{ pools: ProxyAnswer; workers: ProxyAnswer }> {
  const pools = await b.client.proxy(b.lmPeerId, 'CreatePool', {
    pools: [
      { pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' }, realPhalaSs58: '', enabled: true, syncOnly: false },
      { pid: 1, name: 'pool-1-proxied', owner: { mnemonic: '//Bob' }, realPhalaSs58: fleet.alice.address, enabled: true, syncOnly: false },
      ...Array.from({ length: Math.max(0, poolCount - 2) }, (_, i) => ({ pid: i + 2, name: `pool-${i + 2}`, owner: { mnemonic: '//Alice' }, realPhalaSs58: '', enabled: true, syncOnly: false })),
    ],
  })
  fleet.pids = Array.from({ length: workers }, (_, i) => i % poolCount)
  const ws = await b.client.proxy(b.lmPeerId, 'CreateWorker', {
    workers: b.chain.pruntimes.slice(0, workers).map((endpoint, i) => ({
      pid: fleet.pids[i], name: `w${i}`, endpoint, stake: fleet.stake.toString(), enabled: true, syncOnly: false,
    })),
  })
  return { pools, workers: ws }
}

// ---------------------------------------------------------------------------------------------
// What landed on chain

export interface ChainCall { block: number; signer: string; call: string; argsHex: string; worker?: string }

const WORKER_CALLS = new Set(['phalaRegistry.registerWorker', 'phalaRegistry.registerWorkerV2', 'phalaStakePoolv2.addWorker', 'phalaStakePoolv2.startComputing', 'phalaStakePoolv2.stopComputing', 'phalaStakePoolv2.restartComputing', 'phalaStakePoolv2.removeWorker'])

/**
 * Reads the calls inside the operators' forceBatches (proxied ones unwrapped) block by block,
 * remembering where it stopped, so each read only fetches the new blocks.
 */
export class ChainLedger {
  readonly calls: ChainCall[] = []
  #next = 1
  constructor(private readonly b: Bridge, private readonly signers: string[]) {}

  async update(): Promise<ChainCall[]> {
    const api = await this.b.api()
    const best = (await api.rpc.chain.getHeader()).number.toNumber()
    const want = new Set(this.signers)
    for (let from = this.#next; from <= best; from += 32) {
      const ns = Array.from({ length: Math.min(32, best - from + 1) }, (_, i) => from + i)
      const blocks = await Promise.all(ns.map(async (n) => ({ n, block: await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(n)) })))
      for (const { n, block } of blocks) {
        for (const xt of block.block.extrinsics) {
          if (!xt.isSigned || !want.has(xt.signer.toString())) continue
          let call = xt.method
          if (call.section === 'proxy' && call.method === 'proxy') call = call.args[2] as typeof call
          if (call.section !== 'utility' || call.method !== 'forceBatch') continue
          for (const c of call.args[0] as unknown as Array<typeof call>) {
            const name = `${c.section}.${c.method}`
            const entry: ChainCall = { block: n, signer: xt.signer.toString(), call: name, argsHex: c.toHex() }
            if (WORKER_CALLS.has(name)) entry.worker = workerOfCall(c)
            this.calls.push(entry)
          }
        }
      }
    }
    this.#next = best + 1
    return this.calls
  }

  /**
   * Calls from index `since` on that repeat an earlier call with the same arguments (a
   * transaction sent twice), grouped by arguments.
   */
  duplicates(since = 0): Array<{ call: string; worker?: string; times: number; blocks: number[] }> {
    const groups = new Map<string, { call: string; worker?: string; times: number; blocks: number[]; lastIndex: number }>()
    this.calls.forEach((c, i) => {
      const e = groups.get(c.argsHex) ?? { call: c.call, ...(c.worker ? { worker: c.worker } : {}), times: 0, blocks: [], lastIndex: i }
      e.times++
      e.blocks.push(c.block)
      e.lastIndex = i
      groups.set(c.argsHex, e)
    })
    // a repeat is every landing after the first; it counts here when the last one is from `since` on
    return [...groups.values()].filter((e) => e.times > 1 && e.lastIndex >= since).map(({ lastIndex: _l, ...e }) => e)
  }

  /** Per worker call name → count (registration, addWorker, startComputing, …). */
  perWorker(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {}
    for (const c of this.calls) {
      if (!c.worker) continue
      const w = (out[c.worker] ??= {})
      const name = c.call.replace(/^phala(Registry|StakePoolv2)\./, '').replace(/V2$/, '')
      w[name] = (w[name] ?? 0) + 1
    }
    return out
  }
}

/** The worker public key a worker call names (registration: inside the runtime info; the others: an argument). */
function workerOfCall(c: { section: string; method: string; args: unknown[] }): string | undefined {
  try {
    if (c.section === 'phalaRegistry') {
      const info = c.args[0] as { pubkey?: { toHex(): string } }
      return info.pubkey?.toHex()
    }
    const arg = c.args.find((a) => (a as { toRawType?: () => string }).toRawType?.() === '[u8;32]') as { toHex(): string } | undefined
    return arg?.toHex()
  } catch {
    return undefined
  }
}

/** Every computing session of the fleet as the chain says (state per worker public key). */
export async function sessionsOnChain(b: Bridge, pubkeys: string[], pids: number[]): Promise<string[]> {
  const { onChain } = await import('../lifecycle-chain/helpers.js')
  const api = await b.api()
  return Promise.all(pubkeys.map(async (pk, i) => (await onChain(api, pids[i]!, pk.startsWith('0x') ? pk : `0x${pk}`)).state))
}

// ---------------------------------------------------------------------------------------------
// Sampling the fleet's state over time (through the monitor, as the operator's page does)

export interface StatusSampler {
  /** Worker-samples seen, and those in S_ACTIVE, from `from` (ms epoch) until before `to`. */
  counts(from?: number, to?: number): { samples: number; active: number; failedPolls: number }
  /** Every poll so far, oldest first (a failed one has total 0). */
  polls(): ReadonlyArray<{ at: number; active: number; total: number; failed: boolean }>
  stop(): Promise<void>
}

/**
 * Poll GetWorkerStatus every `everyMs` and keep each worker's status per poll. A poll that fails
 * (the monitor or the lifecycle down) counts as a failed poll, not as worker-time.
 */
export function sampleStatus(b: Bridge, n: number, everyMs = 1000): StatusSampler {
  const polls: Array<{ at: number; active: number; total: number; failed: boolean }> = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now()
      try {
        const rows = await workerStatus(b)
        polls.push({ at, active: rows.filter((r) => r.status === 'S_ACTIVE').length, total: Math.max(n, rows.length), failed: false })
      } catch {
        polls.push({ at, active: 0, total: 0, failed: true })
      }
      const wait = everyMs - (Date.now() - at)
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
  })()
  return {
    counts(from = 0, to = Infinity) {
      const ps = polls.filter((p) => p.at >= from && p.at < to)
      return { samples: ps.reduce((s, p) => s + p.total, 0), active: ps.reduce((s, p) => s + p.active, 0), failedPolls: ps.filter((p) => p.failed).length }
    },
    polls: () => polls,
    async stop() {
      stopped = true
      await loop
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The trade queue in Redis

/** Ids of the jobs of `prbmq__main` not finished yet (waiting, active, delayed, paused). */
export async function unfinishedJobs(b: Bridge): Promise<string[]> {
  const { Redis } = await import('ioredis')
  const r = new Redis(b.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true })
  r.on('error', () => undefined)
  try {
    await r.connect()
    const q = 'bull:prbmq__main'
    const [wait, active, paused, delayed] = await Promise.all([r.lrange(`${q}:wait`, 0, -1), r.lrange(`${q}:active`, 0, -1), r.lrange(`${q}:paused`, 0, -1), r.zrange(`${q}:delayed`, 0, -1)])
    return [...wait, ...active, ...paused, ...delayed]
  } finally {
    r.disconnect()
  }
}

/** Keys in Redis now. */
export async function redisKeys(b: Bridge): Promise<number> {
  const { Redis } = await import('ioredis')
  const r = new Redis(b.redis.url, { maxRetriesPerRequest: 1 })
  r.on('error', () => undefined)
  try {
    return await r.dbsize()
  } finally {
    r.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------
// A running fleet: the bridge with its pools and workers imported and S_ACTIVE

export interface RunningFleet {
  b: Bridge
  fleet: Fleet
  /** Worker public keys by index (w0, w1, …). */
  pubkeys: string[]
  /** How long the import took to reach all S_ACTIVE. */
  toActiveMs: number
}

/** startBridge, Alice's proxy for Bob, the import through the monitor and every worker S_ACTIVE. */
export async function startFleet(n: number, o: BridgeOptions & { activeTimeoutMs?: number; stake?: bigint } = {}): Promise<RunningFleet> {
  let proxied: Promise<Fleet> | undefined
  const b = await startBridge({ ...o, pruntimes: o.pruntimes ?? n, whileStarting: (c) => (proxied = addBobAsProxy(c)) })
  try {
    const fleet = await proxied!
    if (o.stake !== undefined) fleet.stake = o.stake
    await waitFor(async () => (await b.client.discover()).lifecycleManagers.some((p) => p.peerId === b.lmPeerId), 60_000, 'the monitor meets the lifecycle')
    const imported = await importFleet(b, fleet, n, o.pools ?? 2)
    if (imported.pools.body.hasError || imported.workers.body.hasError) throw new Error(`import refused: ${JSON.stringify(imported)}`)
    const t0 = Date.now()
    await waitFor(() => allActive(b, n), o.activeTimeoutMs ?? 300_000, () => `all ${n} workers S_ACTIVE after the import`, 1000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await describeStatus(b)}`)
    })
    const toActiveMs = Date.now() - t0
    const rows = await workerStatus(b)
    const pubkeys = Array.from({ length: n }, (_, i) => rows.find((r) => r.name === `w${i}`)!.publicKey)
    return { b, fleet, pubkeys, toActiveMs }
  } catch (err) {
    await b.stop()
    throw err
  }
}
