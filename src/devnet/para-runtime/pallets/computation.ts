/**
 * PhalaComputation (index 87), the parts the stake pool calls into: bind / unbind sessions,
 * start / stop / reclaim computing (chain.md §2.5), working reports (no settlement), and heartbeats.
 *
 * Heartbeats: on the real chain the gatekeeper's economics counts, per computing worker, the
 * heartbeat challenges it has not answered yet and reports a worker with more than
 * `heartbeat_window` of them offline (WorkerEnterUnresponsive), and back online when a heartbeat
 * arrives (WorkerExitUnresponsive). The devnet has no gatekeeper, so the pallet does that count
 * itself: every `heartbeatEvery` blocks it challenges every computing worker (online_target = max),
 * and keeps the last challenge each session answered in DevnetHeartbeatAnsweredAt.
 */
import { bnToU8a, u8aEq } from '@polkadot/util'
import { blake2AsU8a } from '@polkadot/util-crypto'
import { moduleErr, DispatchErr } from '../core.js'
import type { Dispatcher } from '../dispatch.js'
import { minimumStake, ve, type TokenomicParams } from '../accounts.js'
import { MIN_INIT_P } from '../phala-pallets-meta.js'
import { palletOrigin, pushWorkerEvent, SYSTEM_EVENT_TOPIC } from './registry.js'

export const WORKING_REPORT_TOPIC = 'phala/mining/report'
const C = 'PhalaComputation'

function newSession(nowSecs: number): Record<string, unknown> {
  return {
    state: 'Ready', ve: 0, v: 0, vUpdatedAt: nowSecs,
    benchmark: { pInit: 0, pInstant: 0, iterations: 0, workingStartTime: nowSecs, challengeTimeLast: 0 },
    coolDownStart: 0, stats: { totalReward: 0 },
  }
}

/** bind(session, pubkey); errors are the computation pallet's (the caller maps them). */
export function bind(d: Dispatcher, session: Uint8Array, pubkey: Uint8Array): void {
  const w = d.it.workers.get(d.env.state, pubkey)
  if (!w) throw moduleErr(C, 'WorkerNotRegistered')
  // CheckWorkerRegisterTime (Phala only): the worker must have registered after the gatekeeper
  // launched; the devnet's gatekeeper counts as launched at genesis, so a worker without a
  // WorkerAddedAt block (registered before it) must register again.
  if (d.core.opts.identity.para.checkWorkerRegisterTime && !((d.it.workerAddedAt.get(d.env.state, pubkey)?.toNumber() ?? 0) > 0)) throw moduleErr(C, 'WorkerReregisterNeeded')
  if (w.initialScore.isNone) throw moduleErr(C, 'BenchmarkMissing')
  if (d.it.workerBindings.get(d.env.state, pubkey)) throw moduleErr(C, 'DuplicateBoundWorker')
  if (d.it.sessionBindings.get(d.env.state, session)) throw moduleErr(C, 'DuplicateBoundSession')
  const existing = d.it.sessions.get(d.env.state, session)
  if (existing && existing.state.type !== 'Ready') throw moduleErr(C, 'WorkerNotReady')
  d.it.sessionBindings.put(d.env.state, session, pubkey)
  d.it.workerBindings.put(d.env.state, pubkey, session)
  if (!existing) d.it.sessions.put(d.env.state, session, newSession(d.env.nowSecs))
  d.env.deposit(C, 'SessionBound', { session, worker: pubkey })
}

export function unbind(d: Dispatcher, session: Uint8Array, pubkey: Uint8Array): void {
  d.it.sessionBindings.del(d.env.state, session)
  d.it.workerBindings.del(d.env.state, pubkey)
  d.env.deposit(C, 'SessionUnbound', { session, worker: pubkey })
}

function tokenomic(d: Dispatcher): TokenomicParams {
  const p = d.it.tokenomicParameters.get(d.env.state)
  if (!p) throw moduleErr(C, 'InternalErrorBadTokenomicParameters')
  return { vMax: p.vMax.toBigInt(), rigK: p.rigK.toBigInt(), rigB: p.rigB.toBigInt(), re: p.re.toBigInt(), k: p.k.toBigInt() }
}

export function startComputing(d: Dispatcher, session: Uint8Array, stake: bigint): void {
  const pubkey = d.it.sessionBindings.get(d.env.state, session)
  if (!pubkey) throw moduleErr(C, 'SessionNotFound')
  const s = d.it.sessions.get(d.env.state, session)
  if (!s) throw moduleErr(C, 'SessionNotFound')
  if (s.state.type !== 'Ready') throw moduleErr(C, 'WorkerNotReady')
  if (d.it.stakes.get(d.env.state, session)) throw moduleErr(C, 'InternalErrorCannotStartWithExistingStake')
  const w = d.it.workers.get(d.env.state, pubkey.toU8a())
  if (!w || w.initialScore.isNone) throw moduleErr(C, 'BenchmarkMissing')
  const p: number = w.initialScore.unwrap().toNumber()
  if (p < MIN_INIT_P) throw moduleErr(C, 'BenchmarkTooLow')
  const t = tokenomic(d)
  if (stake < minimumStake(t, p)) throw moduleErr(C, 'InsufficientStake')
  const v = ve(t, stake, p, w.confidenceLevel.toNumber())
  if (v > t.vMax) throw moduleErr(C, 'TooMuchStake')
  const now = d.env.nowSecs
  d.it.stakes.put(d.env.state, session, stake)
  d.it.sessions.put(d.env.state, session, {
    ...s.toJSON(), state: 'WorkerIdle', ve: v, v, vUpdatedAt: now,
    benchmark: { pInit: p, pInstant: p, iterations: 0, workingStartTime: now, challengeTimeLast: 0 },
  })
  const sessionId: number = d.it.nextSessionId.get(d.env.state)?.toNumber() ?? 0
  d.it.nextSessionId.put(d.env.state, sessionId + 1)
  d.it.heartbeatAnsweredAt.put(d.env.state, session, d.env.blockNumber)
  d.it.onlineWorkers.put(d.env.state, (d.it.onlineWorkers.get(d.env.state)?.toNumber() ?? 0) + 1)
  pushWorkerEvent(d, C, pubkey.toU8a(), { Started: { sessionId, initV: v, initP: p } })
  d.env.deposit(C, 'WorkerStarted', { session, initV: v, initP: p })
}

export function stopComputing(d: Dispatcher, session: Uint8Array): void {
  const pubkey = d.it.sessionBindings.get(d.env.state, session)
  if (!pubkey) throw moduleErr(C, 'SessionNotBound')
  const s = d.it.sessions.get(d.env.state, session)
  if (!s) throw moduleErr(C, 'SessionNotFound')
  if (s.state.type === 'Ready' || s.state.type === 'WorkerCoolingDown') throw moduleErr(C, 'WorkerNotComputing')
  d.it.sessions.put(d.env.state, session, { ...s.toJSON(), state: 'WorkerCoolingDown', coolDownStart: d.env.nowSecs })
  d.it.onlineWorkers.put(d.env.state, Math.max(0, (d.it.onlineWorkers.get(d.env.state)?.toNumber() ?? 0) - 1))
  pushWorkerEvent(d, C, pubkey.toU8a(), 'Stopped')
  d.env.deposit(C, 'WorkerStopped', { session })
}

/** reclaim: cooling-down session back to Ready, its stake returned; the caller moves the W-PHA. */
export function reclaim(d: Dispatcher, session: Uint8Array, checkCoolDown: boolean): { orig: bigint; slashed: bigint } {
  const s = d.it.sessions.get(d.env.state, session)
  if (!s) throw moduleErr(C, 'SessionNotFound')
  if (s.state.type !== 'WorkerCoolingDown') throw moduleErr(C, 'WorkerNotComputing')
  if (checkCoolDown) {
    const period: number = d.it.coolDownPeriod.get(d.env.state)?.toNumber() ?? 0
    if (d.env.nowSecs - s.coolDownStart.toNumber() < period) throw moduleErr(C, 'CoolDownNotReady')
  }
  const stake = d.it.stakes.get(d.env.state, session)
  const orig: bigint = stake ? stake.toBigInt() : 0n
  d.it.stakes.del(d.env.state, session)
  d.it.sessions.put(d.env.state, session, { ...s.toJSON(), state: 'Ready', coolDownStart: 0 })
  d.env.deposit(C, 'WorkerReclaimed', { session, originalStake: orig, slashed: 0 })
  return { orig, slashed: 0n }
}

/** WorkingReportEvent (heartbeats) from a bound worker: answers its challenges, brings an unresponsive one back; no rewards are settled. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function onWorkingReport(d: Dispatcher, message: any): void {
  if (!message.sender.isWorker) throw moduleErr(C, 'BadSender')
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let report: any
  try {
    report = d.core.codec.decode(d.core.meta.ids.workingReportEvent, message.payload.toU8a(true))
  } catch {
    throw new DispatchErr({ Other: null }, 'Other(bad working report)')
  }
  const session = d.it.workerBindings.get(d.env.state, message.sender.asWorker.toU8a())
  if (!session) return
  const key = session.toU8a()
  const s = d.it.sessions.get(d.env.state, key)
  if (!s || u8aEq(key, new Uint8Array(32))) return
  const hb = report.isHeartbeat ? report.asHeartbeat : report.isHeartbeatV2 ? report.asHeartbeatV2 : undefined
  let state = s.state.type as string
  if (hb) {
    const answered: number = d.it.heartbeatAnsweredAt.get(d.env.state, key)?.toNumber() ?? 0
    d.it.heartbeatAnsweredAt.put(d.env.state, key, Math.max(answered, hb.challengeBlock.toNumber()))
    if (state === 'WorkerUnresponsive') {
      state = 'WorkerIdle'
      d.env.deposit(C, 'WorkerExitUnresponsive', { session: key })
    }
  }
  d.it.sessions.put(d.env.state, key, { ...s.toJSON(), state, benchmark: { ...s.benchmark.toJSON(), challengeTimeLast: d.env.nowSecs } })
}

/** U256::MAX, little-endian: every computing worker is hit by the challenge. */
const ONLINE_TARGET_ALL = new Uint8Array(32).fill(0xff)

/**
 * End of block: every `heartbeatEvery` blocks challenge the computing workers; a WorkerIdle session
 * with more than heartbeat_window unanswered challenges becomes WorkerUnresponsive.
 */
export function heartbeatOnFinalize(d: Dispatcher, parentHash: string): void {
  const every = d.core.opts.heartbeatEvery
  if (every <= 0) return
  const b = d.env.blockNumber
  const window: number = d.it.tokenomicParameters.get(d.env.state)?.heartbeatWindow.toNumber() ?? 10
  const computing: { key: Uint8Array; s: ReturnType<typeof d.it.sessions.get> }[] = []
  for (const k of d.env.state.keysWithPrefix(d.it.sessionsPrefix)) {
    const key = hexBytes(k).subarray(-32)
    const s = d.it.sessions.get(d.env.state, key)
    if (s && (s.state.type === 'WorkerIdle' || s.state.type === 'WorkerUnresponsive')) computing.push({ key, s })
  }
  if (computing.length === 0) return
  if (b % every === 0) {
    const seed = blake2AsU8a(bnToU8a(BigInt(parentHash), { bitLength: 256 }), 256)
    d.env.pushMessage(palletOrigin(C), SYSTEM_EVENT_TOPIC, d.core.codec.encode(d.core.meta.ids.systemEvent, { HeartbeatChallenge: { seed, onlineTarget: ONLINE_TARGET_ALL } }))
  }
  for (const { key, s } of computing) {
    if (s.state.type !== 'WorkerIdle') continue
    const answered: number = d.it.heartbeatAnsweredAt.get(d.env.state, key)?.toNumber() ?? 0
    const waiting = Math.floor(b / every) - Math.floor(answered / every)
    if (waiting > window) {
      d.it.sessions.put(d.env.state, key, { ...s.toJSON(), state: 'WorkerUnresponsive' })
      d.env.deposit(C, 'WorkerEnterUnresponsive', { session: key })
    }
  }
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}
