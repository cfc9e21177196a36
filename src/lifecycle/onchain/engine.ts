/**
 * The chain steps on top of the sync engine (upstream-lifecycle.md §6, §8): once a worker is
 * S_SYNCHED, relay its egress, register it, add it to its pool, start computing with its stake,
 * restart computing when the stake rises, and keep it S_ACTIVE.
 *
 * Upstream chained Finity actions with fixed 12 s and 24 s polls and sent every failure to a
 * terminal S_ERROR. Here each worker is reconciled against the on-chain view (chain-view.ts) on
 * every block: the step it needs next is sent as one trade job and awaited, and the next block's
 * view decides the following step. So a restart, a pRuntime crash or a lost job ends in the same
 * place without duplicate calls (what is already on chain is never sent again), a failure the
 * chain names is retried with backoff when time can fix it, and only what the operator must fix
 * stops the worker in S_ERROR, saying what to do. Operator intent goes on chain too: a computing
 * worker that is disabled, deleted or kicked is stopped (upstream never stopped computing).
 *
 * A worker the chain already has computing shows S_ACTIVE as soon as that is seen (resumable()):
 * after a lifecycle restart, or a pRuntime that answers again, pRuntime's first GetInfo gives its
 * key and heights, the view is read at once, and a worker registered for its operator, in its pool,
 * computing with its stake and fed to within RESUME_MAX_LAG_BLOCKS of the chain is S_ACTIVE while
 * sync and the message queue catch up, instead of after them (upstream: after its 12 s and 24 s
 * polls; here it was ~45 s on a loaded machine).
 */
import { decodeAddress } from '@polkadot/util-crypto'
import { compactAddLength, u8aConcat, u8aToHex, stringToU8a } from '@polkadot/util'
import type { Logger } from '../../common/logger.js'
import { componentLogger } from '../../common/logger.js'
import { backoffDelay } from '../../common/retry.js'
import { TRADE_QUEUE_NAME, type TradeAction, type TradeJobResult, type TradePayloads, type TradeProducer } from '../../common/trade-queue.js'
import type { WorkerEngine, WorkerReport, WorkerStatusName, WorkerView } from '../contract.js'
import { createAgents, createPruntimeClient, type PruntimeAgents, type PruntimeClient, type SyncEngine } from '../sync/index.js'
import { sessionSs58, type OnChainView, type WorkerChainState } from './chain-view.js'
import { classifyFailure } from './classify.js'
import { EgressRelay } from './egress.js'

export interface ChainStepsOptions {
  /** PHALA_SYNC_ONLY */
  syncOnly: boolean
  /** PHALA_DEV_SKIP_RA: no START_COMPUTING (upstream). */
  devSkipRa: boolean
  /** PHALA_MIN_BENCH_SCORE */
  minBenchScore: number
  /** PHALA_ENFORCE_MIN_BENCH_SCORE */
  enforceMinBenchScore: boolean
  /** PHALA_PRPC_REQUEST_TIMEOUT */
  prpcTimeoutMs: number
  /** End-to-end deadline of one trade job (default 10 min). */
  jobTimeoutMs?: number
  /** Backoff bounds of retried steps (defaults 2 s .. 60 s). */
  retryMinMs?: number
  retryMaxMs?: number
}

export interface ChainStepsDeps {
  sync: SyncEngine
  view: OnChainView
  producer: TradeProducer
  logger: Logger
}

export interface ChainEngine extends WorkerEngine {
  /** Trade jobs sent by action (the benchmark counts them). */
  jobsSent(): Record<string, number>
}

type Phase = 'S_PRE_ACTIVE' | 'S_ACTIVE' | 'S_ERROR'

interface ChainWorker {
  uuid: string
  view: WorkerView
  client: PruntimeClient
  egress: EgressRelay
  pubkey?: string
  mqSynched: boolean
  phase?: Phase
  message?: string
  busy: boolean
  egressBusy: boolean
  forceRa: boolean
  /** REGISTER_WORKER sent in this run: wait for the score instead of registering again. */
  registeredHere: boolean
  attempt: number
  retryAt: number
  /** Operator-only failure: no step until the view changes or RestartWorker. */
  blocked: boolean
  unresponsiveSaid: boolean
  /** Shown S_ACTIVE by resumable() at the last tick (its message said once per stretch). */
  resumedSaid: boolean
  /**
   * The block the last step's calls landed in: no next step until the view has read it. A view read
   * begun before that block and finished after the job settled still shows the old state, and the
   * step would queue the same call again (the trader answers it without sending, but it is a job).
   */
  landedAt: number
}

const COMPUTING = new Set(['WorkerIdle', '_Unused', 'WorkerUnresponsive'])
/**
 * How far behind the chain's best block a computing worker's pRuntime may be and still show
 * S_ACTIVE while it catches up (para blocks: 4 min at 12 s; what a lifecycle restart leaves
 * behind). Further behind, it shows its sync status until it is close.
 */
export const RESUME_MAX_LAG_BLOCKS = 20

class JobTimeout extends Error {}

/** SCALE `Attestation::SgxIas {ra_report, signature, raw_signing_cert}` (registry v1). */
function legacyAttestation(report: string, signature: Uint8Array, cert: Uint8Array): string {
  return u8aToHex(u8aConcat(new Uint8Array([0]), compactAddLength(stringToU8a(report)), compactAddLength(signature), compactAddLength(cert)))
}

/** The account the chain must see as the worker's operator: the proxied owner, else the operator. */
export function expectedOperator(v: WorkerView): string {
  const real = v.pool.realPhalaSs58?.trim()
  return real ? u8aToHex(decodeAddress(real)) : v.pool.operatorPublicKey.toLowerCase()
}

export function createChainEngine(o: ChainStepsOptions, deps: ChainStepsDeps): ChainEngine {
  const log = componentLogger(deps.logger, 'chain-steps')
  const { sync, view, producer } = deps
  const workers = new Map<string, ChainWorker>()
  const agents: PruntimeAgents = createAgents(true, 5000)
  const sent: Record<string, number> = {}
  const jobTimeoutMs = o.jobTimeoutMs ?? 600_000
  const backoff = { minMs: o.retryMinMs ?? 2000, maxMs: o.retryMaxMs ?? 60_000 }
  let stopped = false

  const stamp = (text: string): string => `[${new Date().toISOString()}] ${text}`
  const say = (w: ChainWorker, text: string): void => {
    w.message = stamp(text)
  }
  const syncStatus = (w: ChainWorker): WorkerStatusName | undefined => sync.report(w.uuid)?.status
  const shown = (w: ChainWorker): WorkerStatusName => w.phase ?? syncStatus(w) ?? 'S_IDLE'
  const setPhase = (w: ChainWorker, to: Phase | undefined): void => {
    const from = shown(w)
    w.phase = to
    const now = shown(w)
    if (from !== now) say(w, `State changed from ${from} to ${now}`)
  }
  const isSyncOnly = (v: WorkerView): boolean => o.syncOnly || v.syncOnly || v.pool.syncOnly

  const rewatch = (): void => {
    view.watch([...workers.values()].flatMap((w) => (w.pubkey ? [w.pubkey] : [])))
  }
  /** A worker's key just became known: read its chain state now, not at the next block. */
  const rewatchNow = (): void => {
    rewatch()
    void view.refresh()
  }

  /**
   * The worker is computing as configured on chain and its pRuntime answers, initialized, fed to
   * within RESUME_MAX_LAG_BLOCKS: S_ACTIVE whatever the sync and the steps are doing (catching up,
   * relaying the message queue). A step under way (phase), an operator-only failure, a forced
   * re-registration or sync-only mode keep their own status.
   */
  const resumable = (w: ChainWorker, r: WorkerReport, cs: WorkerChainState | undefined): boolean => {
    if (!cs || w.phase !== undefined || w.blocked || w.forceRa || isSyncOnly(w.view)) return false
    if ((r.status !== 'S_SYNCHING' && r.status !== 'S_SYNCHED') || !r.initialized) return false
    if (!cs.registered || cs.operator !== expectedOperator(w.view) || cs.assignedPid !== w.view.pool.pid) return false
    if (!cs.sessionState || !COMPUTING.has(cs.sessionState) || (cs.stake ?? 0n) < BigInt(w.view.stake)) return false
    return cs.block - r.paraBlockDispatchedTo <= RESUME_MAX_LAG_BLOCKS
  }

  /** One trade job, awaited with its end-to-end deadline. */
  const job = async <A extends TradeAction>(action: A, payload: TradePayloads[A], basis?: string): Promise<TradeJobResult> => {
    const h = await producer.enqueue(action, payload, basis === undefined ? undefined : { basis })
    sent[action] = (sent[action] ?? 0) + 1
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        h.result,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new JobTimeout(`trade job ${h.jobId} did not finish within ${Math.round(jobTimeoutMs / 1000)} s; check that a trader serves ${TRADE_QUEUE_NAME} on PHALA_Q_REDIS_ENDPOINT`)), jobTimeoutMs)
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  /** A step's job: the worker waits for the view to read the block its calls landed in. */
  const stepJob = async <A extends TradeAction>(w: ChainWorker, action: A, payload: TradePayloads[A], basis?: string): Promise<void> => {
    const r = await job(action, payload, basis)
    for (const c of r.calls) w.landedAt = Math.max(w.landedAt, c.blockNumber)
  }

  const register = async (w: ChainWorker, cs: WorkerChainState, forced: boolean): Promise<void> => {
    say(w, 'Getting RA report...')
    const op = expectedOperator(w.view)
    const r = await w.client.prpc<{ encodedRuntimeInfo?: Uint8Array; attestation?: { payload?: { report?: string; signature?: Uint8Array; signingCert?: Uint8Array } | null; encodedReport?: Uint8Array } }>(
      'GetRuntimeInfo', 'pruntime_rpc.GetRuntimeInfoRequest', 'pruntime_rpc.InitRuntimeResponse', { forceRefreshRa: true, encodedOperator: Buffer.from(op.slice(2), 'hex') },
    )
    const p = r.attestation?.payload
    // Bridge-era pRuntime: the IAS payload (registry v1 Attestation). pRuntime HEAD: the SCALE
    // AttestationReport in encoded_report, with WorkerRegistrationInfoV2 (the trader then calls
    // registerWorkerV2). Both encode SgxIas identically.
    const enc = r.attestation?.encodedReport
    const attestation = p?.report
      ? legacyAttestation(p.report, p.signature ?? new Uint8Array(), p.signingCert ?? new Uint8Array())
      : enc && enc.length > 0 ? u8aToHex(enc) : undefined
    if (!r.encodedRuntimeInfo || !attestation) throw new Error('pRuntime returned no attestation (GetRuntimeInfo); the worker cannot be registered without RA: run the pRuntime with SGX, or use PHALA_DEV_SKIP_RA on a dev chain')
    say(w, 'Registering worker on chain...')
    // One job per (runtime info, registry entry it replaces): a restarted lifecycle re-attaches to a
    // registration still queued, and a re-registration after one landed is a new job.
    await stepJob(w, 'REGISTER_WORKER', { pid: w.view.pool.pid, runtimeInfo: u8aToHex(r.encodedRuntimeInfo), attestation }, `registry:${cs.registered ? cs.registryUpdatedAt ?? 'set' : 'none'}`)
    w.registeredHere = true
    if (forced) say(w, 'Re-register done.')
  }

  /**
   * Operator intent: the worker is configured in another pool than the one it is in on chain, so it
   * leaves the old pool (stop computing, wait out the cool-down, reclaim, remove) and the next steps
   * add it to the new one. A pool this lifecycle cannot sign for fails plainly (upstream only said
   * "Worker is assigned to other pool!").
   */
  const leavePool = async (w: ChainWorker, cs: WorkerChainState, old: string): Promise<void> => {
    const pid = w.view.pool.pid
    const publicKey = w.pubkey!
    setPhase(w, 'S_PRE_ACTIVE')
    try {
      if (cs.sessionState && COMPUTING.has(cs.sessionState)) {
        say(w, `Stopping computing in pool ${old} on chain (the worker moved to pool ${pid})...`)
        await job('STOP_COMPUTING', { pid: old, publicKey })
        return
      }
      if (cs.sessionState === 'WorkerCoolingDown') {
        if (cs.coolDownEndsAt !== undefined && cs.chainNowSecs !== undefined && cs.chainNowSecs < cs.coolDownEndsAt) {
          say(w, `The worker moved to pool ${pid}: it is cooling down in pool ${old} on chain until ${new Date(cs.coolDownEndsAt * 1000).toISOString()} (chain time), then leaves it.`)
          return
        }
        say(w, `Reclaiming the worker from pool ${old} on chain...`)
        await job('RECLAIM_POOL_WORKER', { pid: old, publicKey })
        return
      }
      say(w, `Removing the worker from pool ${old} on chain...`)
      await job('REMOVE_WORKER', { pid: old, publicKey })
    } catch (err) {
      throw new Error(`Worker is assigned to other pool! It is in pool ${old} on chain, not in ${pid}, and leaving pool ${old} failed: ${(err as Error).message}`)
    }
  }

  /** The one step the chain state asks for next; returns after its job settled. */
  const step = async (w: ChainWorker, cs: WorkerChainState): Promise<void> => {
    const v = w.view
    const pid = v.pool.pid
    const pub = w.pubkey!
    if (w.forceRa) {
      say(w, 'forceRa detected.')
      await register(w, cs, true)
      w.forceRa = false
      return
    }
    if (isSyncOnly(v)) {
      setPhase(w, undefined)
      say(w, 'Sync only mode enabled, skipping on-chain operations.')
      return
    }
    if (!w.mqSynched) return
    if (cs.assignedPid !== undefined && cs.assignedPid !== pid) {
      await leavePool(w, cs, cs.assignedPid)
      return
    }
    if (cs.sessionState === 'WorkerCoolingDown') {
      setPhase(w, undefined)
      say(w, 'Worker is cooling down, skipping on-chain operations.')
      return
    }
    // Registration (upstream §8.2), read from the chain rather than pRuntime's `registered` flag,
    // which is false for a while after a pRuntime restart and made upstream register again.
    const operator = expectedOperator(v)
    const lowScore = cs.initialScore !== undefined && cs.initialScore <= o.minBenchScore
    if (!cs.registered || cs.operator !== operator || lowScore) {
      if (!w.registeredHere) {
        setPhase(w, 'S_PRE_ACTIVE')
        await register(w, cs, false)
        return
      }
      if (cs.registered && cs.operator !== operator) {
        w.blocked = true
        setPhase(w, 'S_ERROR')
        say(w, `The worker stays registered with operator ${cs.operator ?? 'none'} on chain although it was registered for ${operator}: check that its pRuntime takes the operator (GetRuntimeInfo encoded_operator), then RefreshRaAndRestartWorker.`)
        return
      }
      // Registered here and still unregistered (the view lags a block) or scored low: carry on below.
      if (!cs.registered) return
    }
    if (cs.assignedPid === undefined) {
      setPhase(w, 'S_PRE_ACTIVE')
      const threshold = o.enforceMinBenchScore ? o.minBenchScore : 0
      if ((cs.initialScore ?? 0) <= threshold) {
        say(w, 'Waiting for benchmark...')
        return
      }
      say(w, 'Adding worker on chain...')
      await stepJob(w, 'ADD_WORKER', { pid, publicKey: pub })
      return
    }
    if (cs.sessionState === undefined) return // bound on the next block
    if (cs.sessionState === 'Ready') {
      if (o.devSkipRa) {
        if (w.phase !== 'S_ACTIVE') {
          setPhase(w, 'S_ACTIVE')
          say(w, 'Now the worker should be active.')
        }
        return
      }
      setPhase(w, 'S_PRE_ACTIVE')
      say(w, 'Starting computing on chain...')
      await stepJob(w, 'START_COMPUTING', { pid, publicKey: pub, stake: v.stake })
      return
    }
    if (COMPUTING.has(cs.sessionState)) {
      if (BigInt(v.stake) > (cs.stake ?? 0n)) {
        setPhase(w, 'S_PRE_ACTIVE')
        say(w, 'Updating stake on chain...')
        await stepJob(w, 'RESTART_COMPUTING', { pid, publicKey: pub, stake: v.stake })
        return
      }
      if (w.phase !== 'S_ACTIVE') {
        setPhase(w, 'S_ACTIVE')
        say(w, 'Now the worker should be active.')
      }
      if (cs.sessionState === 'WorkerUnresponsive' && !w.unresponsiveSaid) say(w, 'Notice: worker unresponsive!')
      w.unresponsiveSaid = cs.sessionState === 'WorkerUnresponsive'
    }
  }

  const runStep = (w: ChainWorker): void => {
    const cs = w.pubkey ? view.get(w.pubkey) : undefined
    if (!cs || w.busy || w.blocked || Date.now() < w.retryAt || cs.block < w.landedAt) return
    w.busy = true
    step(w, cs).then(() => {
      w.attempt = 0
    }, (err: unknown) => {
      if (stopped || !workers.has(w.uuid)) return
      const c = classifyFailure(stepName(w), err)
      if (!c.retry) {
        w.blocked = true
        setPhase(w, 'S_ERROR')
        say(w, c.text)
        log.error({ worker: w.view.name, chainError: c.name }, c.text)
        return
      }
      w.attempt++
      const delay = err instanceof JobTimeout ? 0 : backoffDelay(w.attempt, backoff)
      w.retryAt = Date.now() + delay
      say(w, `${c.text.replace(/; retrying\.$/, '')}; retrying in ${Math.ceil(delay / 1000)} s.`)
      log.warn({ worker: w.view.name, attempt: w.attempt, chainError: c.name, err: (err as Error).message }, 'chain step failed; retrying with backoff')
    }).finally(() => {
      w.busy = false
      void view.refresh()
    })
  }

  const stepName = (w: ChainWorker): string => {
    const m = /\] (.*?)\.\.\.$/.exec(w.message ?? '')
    return m ? m[1]! : 'a chain step'
  }

  const runEgress = (w: ChainWorker): void => {
    if (w.egressBusy || isSyncOnly(w.view)) return
    w.egressBusy = true
    w.egress.pass().then((r) => {
      if (!w.mqSynched) {
        if (r.pending === 0) {
          w.mqSynched = true
          say(w, 'Message queue synched.')
          runStep(w)
        } else say(w, 'Synching message queue...')
      }
    }, (err: unknown) => {
      if (!stopped) say(w, `Error while synching mq egress: ${(err as Error).message}`)
    }).finally(() => {
      w.egressBusy = false
    })
  }

  const tick = (): void => {
    if (stopped) return
    for (const w of workers.values()) {
      if (!w.pubkey) continue
      const r = sync.report(w.uuid)
      const resumed = !!r && resumable(w, r, view.get(w.pubkey))
      if (resumed && !w.resumedSaid) {
        say(w, `Computing on chain (registered, in pool ${w.view.pool.pid}, its stake on): S_ACTIVE; pRuntime at para block ${r!.paraBlockDispatchedTo}, catching up.`)
        log.info({ worker: w.view.name, paraBlock: r!.paraBlockDispatchedTo }, 'worker already computing on chain: S_ACTIVE while sync and the message queue catch up')
      }
      w.resumedSaid = resumed
      if (r?.status !== 'S_SYNCHED') continue
      runEgress(w)
      runStep(w)
    }
  }
  view.events.on('updated', tick)

  sync.events.on('worker', (e) => {
    const w = workers.get(e.uuid)
    if (!w) return
    if (e.type === 'publicKey' || e.type === 'initialized') {
      const pk = '0x' + e.publicKey.replace(/^0x/, '')
      if (e.publicKey && pk !== w.pubkey) {
        w.pubkey = pk
        rewatchNow()
      }
    } else if (e.type === 'status' && e.to !== 'S_SYNCHED') {
      // Out of sync (a pRuntime restart, a stop): the chain steps wait for the next catch-up.
      w.phase = undefined
      w.mqSynched = false
    } else if (e.type === 'restartedEmpty') {
      w.egress.reset()
    } else if (e.type === 'synched') {
      void view.refresh()
    }
  })

  const create = (v: WorkerView): ChainWorker => {
    const client = createPruntimeClient({ endpoint: v.endpoint, prpcTimeoutMs: o.prpcTimeoutMs, binApiTimeoutMs: o.prpcTimeoutMs, agents })
    const w: ChainWorker = {
      uuid: v.uuid, view: v, client, mqSynched: false, busy: false, egressBusy: false, forceRa: false, registeredHere: false,
      attempt: 0, retryAt: 0, blocked: false, unresponsiveSaid: false, resumedSaid: false, landedAt: 0,
      egress: undefined as unknown as EgressRelay,
    }
    w.egress = new EgressRelay({
      client, api: () => view.api(), logger: componentLogger(log, 'egress', { worker: v.name }),
      send: async (messages) => {
        sent.BATCH_SYNC_MQ_MESSAGE = (sent.BATCH_SYNC_MQ_MESSAGE ?? 0) + 1
        return producer.enqueue('BATCH_SYNC_MQ_MESSAGE', { pid: w.view.pool.pid, messages })
      },
    })
    return w
  }

  /** Operator intent: a worker leaving the computing set is stopped on chain. */
  const stopComputingIfNeeded = (w: ChainWorker, why: string): void => {
    const cs = w.pubkey ? view.get(w.pubkey) : undefined
    // The pool it computes in on chain (the configured one, or the old one of a move under way).
    const pid = cs?.assignedPid
    if (!cs || !w.pubkey || pid === undefined || !cs.sessionState || !COMPUTING.has(cs.sessionState)) return
    log.info({ worker: w.view.name, pid }, `worker ${why}: stopping computing on chain`)
    job('STOP_COMPUTING', { pid, publicKey: w.pubkey }).then(
      () => log.info({ worker: w.view.name, pid }, 'computing stopped on chain'),
      (err: unknown) => log.error({ worker: w.view.name, pid, err: (err as Error).message }, `stopping computing on chain failed: ${classifyFailure('stopComputing', err).text}`),
    )
  }

  return {
    jobsSent: () => ({ ...sent }),
    apply(all) {
      if (stopped) return
      const want = new Map<string, WorkerView>()
      for (const v of all) if (v.enabled && v.pool.enabled) want.set(v.uuid, v)
      for (const [uuid, w] of [...workers]) {
        if (want.has(uuid)) continue
        stopComputingIfNeeded(w, 'disabled or deleted')
        workers.delete(uuid)
      }
      for (const v of want.values()) {
        const w = workers.get(v.uuid)
        if (!w) {
          workers.set(v.uuid, create(v))
          continue
        }
        if (JSON.stringify(w.view) === JSON.stringify(v)) continue
        // A move is carried out by the steps (leavePool): the new pool may need another operator.
        if (w.view.pool.pid !== v.pool.pid || expectedOperator(w.view) !== expectedOperator(v)) w.registeredHere = false
        if (w.view.endpoint !== v.endpoint) {
          workers.set(v.uuid, create(v))
          continue
        }
        // An edit (stake, pool, operator) may be what the operator was asked to fix.
        w.view = v
        w.blocked = false
        w.retryAt = 0
        if (w.phase === 'S_ERROR') w.phase = undefined
      }
      rewatch()
      sync.apply(all)
      tick()
    },
    restart(uuid, options) {
      const w = workers.get(uuid)
      if (w) {
        Object.assign(w, { phase: undefined, blocked: false, retryAt: 0, attempt: 0, mqSynched: false, registeredHere: false, forceRa: options?.refreshRa === true })
      }
      sync.restart(uuid, options)
    },
    kick(uuid) {
      const w = workers.get(uuid)
      if (w) {
        stopComputingIfNeeded(w, 'kicked')
        workers.delete(uuid)
        rewatch()
      }
      sync.kick(uuid)
    },
    report(uuid): WorkerReport | undefined {
      const r = sync.report(uuid)
      const w = workers.get(uuid)
      if (!r || !w) return r
      const cs = w.pubkey ? view.get(w.pubkey) : undefined
      const out: WorkerReport = { ...r }
      if (r.status === 'S_SYNCHED' && w.phase) out.status = w.phase
      else if (resumable(w, r, cs)) out.status = 'S_ACTIVE'
      if (w.message && w.message > r.lastMessage) out.lastMessage = w.message
      if (w.phase === 'S_ERROR' && w.message) out.lastMessage = w.message
      if (cs) {
        out.workerAccountId = sessionSs58(cs.session)
        if (cs.sessionHuman) {
          let runtimeInfo: unknown = {}
          try {
            runtimeInfo = (JSON.parse(r.sessionInfoJson) as { runtimeInfo?: unknown }).runtimeInfo ?? {}
          } catch {
            // keep {}
          }
          out.sessionInfoJson = JSON.stringify({ ...cs.sessionHuman, runtimeInfo }, null, 2)
        }
        out.details = { ...(r.details ?? {}), onChain: { registered: cs.registered, initialScore: cs.initialScore ?? null, assignedPid: cs.assignedPid ?? null, sessionState: cs.sessionState ?? null, stake: cs.stake?.toString() ?? null, block: cs.block } }
      }
      return out
    },
    async stop() {
      stopped = true
      view.events.off('updated', tick)
      agents.destroy()
      await sync.stop()
    },
  }
}
