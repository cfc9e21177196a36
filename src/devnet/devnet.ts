/**
 * The devnet: a relay chain and a Phala parachain served over real Substrate JSON-RPC.
 *
 * Identity: `chain` 'phala' (default: Phala, para 2035, under a Polkadot-like relay) or 'khala'
 * (Khala, para 2004, under a Kusama-like relay); `paraId` overrides the id.
 *
 * Forks: every `reorgEvery` para blocks the new best para block is replaced by a sibling (before the
 * relay block takes its head), its transactions retracted and moved to the sibling.
 *
 * Timing: a relay block every `blockMs`; a para block every second relay block, built on the
 * relay parent (the relay best block at that moment) and included in the next relay block's
 * `paras.heads`. Relay finality follows the best block `finalityLag` blocks behind (default 2;
 * GRANDPA authorities really sign the stored justifications); a para block is final once the
 * relay block holding its head is final. `history` relay blocks (with their para blocks) are made
 * and finalized before the servers listen; everything is deterministic from the seed. From relay
 * block `grandpaV5At` the authority list is in Grandpa.Authorities instead of `:grandpa_authorities`.
 *
 * Control HTTP routes (on `controlPort`, when set; JSON replies):
 *   GET  /status                 -> {relay:{best,finalized}, para:{best,finalized}, paused, finalityStalled, connections}
 *   POST /drop-connections       -> {dropped}   close every WebSocket of both chains
 *   POST /finality/stall         -> status      finality stops moving (blocks still come)
 *   POST /finality/resume        -> status      finality catches up at once
 *   POST /production/pause       -> status      no new blocks
 *   POST /production/resume      -> status
 *   POST /blocks?n=N             -> status      make N relay blocks (and their para blocks) now
 *   GET  /pruntimes              -> [{index, endpoint, publicKey, faults}]
 *   POST /pruntimes/<i>/crash    -> worker      enclave restart: chain state lost (?wipeIdentity=true: new identity too)
 *   POST /pruntimes/<i>/hang     -> worker      accept requests, never answer (?on=false clears)
 *   POST /pruntimes/<i>/slow?ms=N -> worker     delay every answer (0 clears)
 *   POST /pruntimes/<i>/fail     -> worker      answer every request with HTTP 500 (?on=false clears)
 *   POST /pruntimes/<i>/heal     -> worker      clear every fault
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import type { Logger } from '../common/logger.js'
import { trieReady } from '../common/trie.js'
import type { ParaRuntime } from './runtime-api.js'
import { type MethodTable, type RpcServer, ParaChain, RpcError, addChainMethods, createRpcServer } from './chain/index.js'
import { RelayChain, addGrandpaMethods, addRelayMethods } from './relay/index.js'
import { identityOf, type ChainName } from './identity.js'
import { createParaRuntimeAsync } from './para-runtime/index.js'
import { startPruntimes, type RunningPruntimes } from './pruntime/index.js'
import { answerClientError, requestUrl } from './http-target.js'

export interface DevnetOptions {
  host: string
  paraPort: number
  relayPort: number
  /** Relay block time; a para block every second relay block. */
  blockMs: number
  justificationPeriod: number
  sessionBlocks: number
  /** Phala (default) or Khala, each under its own relay chain. */
  chain?: ChainName
  /** Overrides the chain's para id (2035 / 2004). */
  paraId?: number
  /** First relay block keeping the GRANDPA authorities in Grandpa.Authorities only (default 1000: halfway through the default history). */
  grandpaV5At?: number
  seed: string
  /** Relay blocks made and finalized at start. */
  history: number
  rpcLatencyMs: number
  controlPort?: number
  /** Stake pools at genesis (passed to the para runtime). */
  pools: number
  /** Passed through for the pRuntime simulator (not used by the chain engine). */
  pruntimes?: number
  pruntimePort?: number
  /** pRuntime workers keep their identity under this folder across restarts (in memory without it). */
  pruntimeDataDir?: string
  /** GRANDPA authorities per set (default 4). */
  authorities?: number
  /** Para blocks between heartbeat challenges (default 5; 0 = none) and the unanswered ones a worker may have (default 10). */
  heartbeatEvery?: number
  heartbeatWindow?: number
  /** PhalaComputation.CoolDownPeriod at genesis, in seconds of chain time (default 7 days, as on chain). */
  coolDownPeriodSecs?: number
  /** Every this many para blocks the new best para block is replaced by a sibling (a fork; default 0: never). */
  reorgEvery?: number
  /** Relay finality trails the best block by this many blocks (default 2). */
  finalityLag?: number
  /** Relay genesis timestamp; block n is at genesisTimeMs + n * blockMs (default 2024-01-01T00:00:00Z). */
  genesisTimeMs?: number
  /** Build the para runtime; default: the devnet's Phala runtime (src/devnet/para-runtime). */
  createRuntime?: (o: RuntimeFactoryOptions) => Promise<ParaRuntime> | ParaRuntime
}

export interface RuntimeFactoryOptions {
  chain: ChainName
  heartbeatEvery?: number
  heartbeatWindow?: number
  coolDownPeriodSecs?: number
  paraId: number
  pools: number
  seed: string
  genesisTimeMs: number
  relayGenesisHash: string
}

export interface DevnetStatus {
  relay: { best: number; finalized: number }
  para: { best: number; finalized: number }
  paused: boolean
  finalityStalled: boolean
  connections: number
}

export interface Devnet {
  readonly relayUrl: string
  readonly paraUrl: string
  readonly relayHttpUrl: string
  readonly paraHttpUrl: string
  readonly relayPort: number
  readonly paraPort: number
  readonly controlUrl?: string
  readonly controlPort?: number
  readonly relay: RelayChain
  readonly para: ParaChain
  /** The simulated pRuntime workers (`pruntimes` of them; none when 0 or unset). */
  readonly pruntimes: RunningPruntimes | undefined
  /** Make `n` relay blocks now (and the para blocks that fall on them). */
  makeBlocks(n: number): Promise<void>
  pause(): void
  resume(): void
  stallFinality(): void
  resumeFinality(): void
  /** Close every WebSocket of both chains; returns how many. */
  dropConnections(): number
  status(): DevnetStatus
  stop(): Promise<void>
}

export const DEFAULT_GENESIS_TIME_MS = Date.UTC(2024, 0, 1)

export const DEVNET_DEFAULTS: DevnetOptions = {
  host: '127.0.0.1', paraPort: 9944, relayPort: 9945, blockMs: 6000, justificationPeriod: 512, sessionBlocks: 600,
  seed: 'prb-devnet', history: 2000, rpcLatencyMs: 0, pools: 2,
}

export const DEFAULT_GRANDPA_V5_AT = 1000
export const DEFAULT_FINALITY_LAG = 2

function defaultRuntime(o: RuntimeFactoryOptions): Promise<ParaRuntime> {
  return createParaRuntimeAsync(o)
}

export async function startDevnet(options: Partial<DevnetOptions>, logger: Logger): Promise<Devnet> {
  const o: DevnetOptions = { ...DEVNET_DEFAULTS, ...options }
  if (o.sessionBlocks < 2) throw new Error(`devnet: sessionBlocks must be at least 2 (got ${o.sessionBlocks})`)
  if (o.justificationPeriod < 1) throw new Error(`devnet: justificationPeriod must be at least 1 (got ${o.justificationPeriod})`)
  const lag = Math.max(0, o.finalityLag ?? DEFAULT_FINALITY_LAG)
  const identity = identityOf(o.chain)
  const paraId = o.paraId ?? identity.para.paraId
  const genesisTimeMs = o.genesisTimeMs ?? DEFAULT_GENESIS_TIME_MS
  await Promise.all([cryptoWaitReady(), trieReady])

  const t0 = performance.now()
  // The relay genesis predates the para's registration; relay block 1 carries the para genesis head.
  const relay = await RelayChain.create({
    seed: o.seed, blockMs: o.blockMs, justificationPeriod: o.justificationPeriod, sessionBlocks: o.sessionBlocks,
    paraId, authorities: o.authorities ?? 4, genesisTimeMs, identity, grandpaV5At: o.grandpaV5At ?? DEFAULT_GRANDPA_V5_AT,
  })
  const runtime = await (o.createRuntime ?? defaultRuntime)({
    chain: identity.chain, paraId, pools: o.pools,
    ...(o.heartbeatEvery !== undefined ? { heartbeatEvery: o.heartbeatEvery } : {}),
    ...(o.heartbeatWindow !== undefined ? { heartbeatWindow: o.heartbeatWindow } : {}),
    ...(o.coolDownPeriodSecs !== undefined ? { coolDownPeriodSecs: o.coolDownPeriodSecs } : {}), seed: o.seed, genesisTimeMs, relayGenesisHash: relay.chain.genesisHash,
  })
  const para = await ParaChain.create(runtime, genesisTimeMs)

  let paused = false
  let stalled = false
  let stopped = false
  let stopping: Promise<void> | undefined
  let queue: Promise<unknown> = Promise.resolve()

  const finalizeTo = (n: number): void => {
    relay.finalize(n)
    para.onRelayFinalized(relay.chain.finalizedNumber)
  }

  /** One relay block (and a para block on even numbers). */
  const step = async (): Promise<void> => {
    const n = relay.chain.best.number + 1
    let paraBlock: Awaited<ReturnType<ParaChain['produce']>> | undefined
    let head: string | undefined
    if (n === 1) head = para.chain.byNumber(0)!.headerHex
    else if (n % 2 === 0) {
      const rp = relay.chain.best
      const relayParent = { number: rp.number, hash: rp.hash, storageRoot: rp.header.stateRoot }
      paraBlock = await para.produce(relayParent, relay.timestampOf(n))
      // A fork before the relay chain takes the head: the new best para block is replaced by a sibling.
      if (o.reorgEvery && paraBlock.number % o.reorgEvery === 0) paraBlock = await para.reorgBest(relayParent, relay.timestampOf(n))
      head = paraBlock.headerHex
    }
    const rb = await relay.produce(head)
    if (paraBlock) para.included(paraBlock.number, rb.number)
    else if (n === 1) para.included(0, 1)
    if (!stalled) finalizeTo(rb.number - lag)
  }

  /** Serialise block production (timer, control, makeBlocks). */
  const run = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn)
    queue = p.catch((e: unknown) => logger.error({ err: e }, 'block production failed'))
    return p
  }

  const makeBlocks = (count: number): Promise<void> =>
    run(async () => {
      for (let i = 0; i < count && !stopped; i++) await step()
    })

  for (let i = 0; i < o.history; i++) await step()
  finalizeTo(relay.chain.best.number)
  const historyMs = performance.now() - t0
  logger.info({ relayBest: relay.chain.best.number, paraBest: para.chain.best.number, ms: Math.round(historyMs) }, 'devnet history made')

  const relayTable: MethodTable = { calls: new Map(), subs: new Map() }
  addChainMethods(relay.info, relayTable)
  const noRelayTx = (): never => {
    throw new RpcError(1040, 'The devnet relay chain accepts no transactions; submit them to the parachain')
  }
  relayTable.calls.set('author_submitExtrinsic', noRelayTx)
  addRelayMethods(relayTable)
  addGrandpaMethods(relay, relayTable)
  const paraTable: MethodTable = { calls: new Map(), subs: new Map() }
  addChainMethods(para.info, paraTable)
  para.addMethods(paraTable)

  const relayServer = createRpcServer({ name: 'relay', host: o.host, port: o.relayPort, latencyMs: o.rpcLatencyMs, table: relayTable, logger: logger.child({ component: 'relay-rpc' }) })
  const paraServer = createRpcServer({ name: 'para', host: o.host, port: o.paraPort, latencyMs: o.rpcLatencyMs, table: paraTable, logger: logger.child({ component: 'para-rpc' }) })
  const servers: RpcServer[] = [relayServer, paraServer]

  const status = (): DevnetStatus => ({
    relay: { best: relay.chain.best.number, finalized: relay.chain.finalizedNumber },
    para: { best: para.chain.best.number, finalized: para.chain.finalizedNumber },
    paused,
    finalityStalled: stalled,
    connections: relayServer.connections + paraServer.connections,
  })

  const ctl = {
    pause: () => void (paused = true),
    resume: () => void (paused = false),
    stallFinality: () => void (stalled = true),
    resumeFinality: () => {
      stalled = false
      void run(async () => finalizeTo(relay.chain.best.number - lag))
    },
    dropConnections: () => relayServer.dropAll() + paraServer.dropAll(),
  }

  let control: http.Server | undefined
  let timer: NodeJS.Timeout | undefined
  let pruntimes: RunningPruntimes | undefined
  try {
    await Promise.all(servers.map((s) => s.start()))
    if (o.controlPort !== undefined) control = await startControl(o.host, o.controlPort, { ...ctl, makeBlocks, status, pruntimes: () => pruntimes }, logger)
    if (o.pruntimes) {
      pruntimes = await startPruntimes(
        { count: o.pruntimes, host: o.host, basePort: o.pruntimePort ?? 8000, ...(o.pruntimeDataDir ? { dataDir: o.pruntimeDataDir } : {}) },
        logger.child({ component: 'pruntime' }),
      )
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()))
    if (control) await new Promise<void>((r) => control!.close(() => r()))
    throw e
  }
  // A tick is skipped while the previous timed block is still being made, so a slow block never queues up more.
  let ticking = false
  timer = setInterval(() => {
    if (paused || stopped || ticking) return
    ticking = true
    void run(step).catch(() => undefined).finally(() => (ticking = false))
  }, o.blockMs)
  timer.unref?.()

  const controlPort = control ? (control.address() as AddressInfo).port : undefined
  const devnet: Devnet = {
    relayUrl: relayServer.url,
    paraUrl: paraServer.url,
    relayHttpUrl: relayServer.httpUrl,
    paraHttpUrl: paraServer.httpUrl,
    relayPort: relayServer.port,
    paraPort: paraServer.port,
    ...(controlPort !== undefined ? { controlPort, controlUrl: `http://${o.host}:${controlPort}` } : {}),
    relay,
    para,
    pruntimes,
    makeBlocks,
    ...ctl,
    status,
    stop() {
      // Every caller waits for the one shutdown (a second stop() used to return before the servers closed).
      stopping ??= (async () => {
        stopped = true
        if (timer) clearInterval(timer)
        timer = undefined
        await pruntimes?.stop()
        await queue.catch(() => undefined)
        para.pool.clear()
        await Promise.all(servers.map((s) => s.stop()))
        if (control) {
          control.closeAllConnections()
          await new Promise<void>((r) => control!.close(() => r()))
        }
      })()
      return stopping
    },
  }
  logger.info({
    relay: devnet.relayUrl, para: devnet.paraUrl, relayHttp: devnet.relayHttpUrl, paraHttp: devnet.paraHttpUrl,
    control: devnet.controlUrl ?? null, paraGenesis: para.chain.genesisHash, paraBlock1: para.chain.byNumber(1)?.hash ?? null,
    relayGenesis: relay.chain.genesisHash, blockMs: o.blockMs, pruntimes: pruntimes?.workers.map((w) => w.endpoint) ?? [],
  }, `devnet ready: relay ${devnet.relayUrl}, para ${devnet.paraUrl}${devnet.controlUrl ? `, control ${devnet.controlUrl}` : ''}${pruntimes ? `, ${pruntimes.workers.length} pRuntimes from ${pruntimes.workers[0]?.endpoint}` : ''}`)
  return devnet
}

async function startControl(
  host: string,
  port: number,
  ctl: Pick<Devnet, 'pause' | 'resume' | 'stallFinality' | 'resumeFinality' | 'dropConnections' | 'makeBlocks' | 'status'> & {
    pruntimes: () => RunningPruntimes | undefined
  },
  logger: Logger,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = requestUrl(req, res)
    if (!url) return
    const reply = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    const route = `${req.method} ${url.pathname}`
    req.resume()
    void (async () => {
      const worker = /^POST \/pruntimes\/(\d+)\/(crash|hang|slow|fail|heal)$/.exec(route)
      if (worker) return reply(...pruntimeFault(ctl.pruntimes(), Number(worker[1]), worker[2]!, url.searchParams))
      switch (route) {
        case 'GET /pruntimes':
          return reply(200, (ctl.pruntimes()?.workers ?? []).map((w) => ({ index: w.index, endpoint: w.endpoint, publicKey: w.publicKey(), faults: w.faults })))
        case 'GET /status': return reply(200, ctl.status())
        case 'POST /drop-connections': return reply(200, { dropped: ctl.dropConnections() })
        case 'POST /finality/stall': ctl.stallFinality(); return reply(200, ctl.status())
        case 'POST /finality/resume': ctl.resumeFinality(); return reply(200, ctl.status())
        case 'POST /production/pause': ctl.pause(); return reply(200, ctl.status())
        case 'POST /production/resume': ctl.resume(); return reply(200, ctl.status())
        case 'POST /blocks': {
          const n = Number(url.searchParams.get('n') ?? '1')
          if (!Number.isInteger(n) || n < 1 || n > 100_000) return reply(400, { error: 'n must be an integer from 1 to 100000, e.g. POST /blocks?n=10' })
          await ctl.makeBlocks(n)
          return reply(200, ctl.status())
        }
        default:
          return reply(404, { error: `no route ${route}; routes: GET /status, POST /drop-connections, /finality/stall, /finality/resume, /production/pause, /production/resume, /blocks?n=N, GET /pruntimes, POST /pruntimes/<i>/crash[?wipeIdentity=true], /pruntimes/<i>/hang?on=true|false, /pruntimes/<i>/slow?ms=N, /pruntimes/<i>/fail?on=true|false, /pruntimes/<i>/heal` })
      }
    })().catch((e: unknown) => {
      logger.warn({ err: e }, 'control request failed')
      if (!res.headersSent) reply(500, { error: String((e as Error)?.message ?? e) })
      else res.destroy()
    })
  })
  server.on('clientError', answerClientError)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

/** A fault for one devnet pRuntime from the control surface: [status, body]. */
function pruntimeFault(running: RunningPruntimes | undefined, index: number, fault: string, q: URLSearchParams): [number, unknown] {
  const w = running?.workers[index]
  if (!w) return [404, { error: `no pRuntime #${index}; the devnet runs ${running?.workers.length ?? 0} (PHALA_DEVNET_PRUNTIMES), numbered from 0` }]
  const on = q.get('on') === null || q.get('on') === 'true' || q.get('on') === '1'
  switch (fault) {
    case 'crash': w.crash({ wipeIdentity: q.get('wipeIdentity') === 'true' }); break
    case 'hang': w.hang(on); break
    case 'fail': w.failWith500(on); break
    case 'heal': w.heal(); break
    case 'slow': {
      const ms = Number(q.get('ms'))
      if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) return [400, { error: 'ms must be an integer from 0 to 600000, e.g. POST /pruntimes/0/slow?ms=2000' }]
      w.slow(ms)
      break
    }
  }
  return [200, { index, endpoint: w.endpoint, publicKey: w.publicKey(), faults: w.faults }]
}
