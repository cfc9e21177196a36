/**
 * The lifecycle's on-chain view of its workers (upstream-lifecycle.md §6.6, §8.1): one
 * subscription to new heads, and on each head ONE batched storage read for every watched worker
 * (registry entry, pool assignment, session binding) and then one for the bound sessions and their
 * stakes. Upstream subscribed twice and polled a few times per worker; here the cost per block is
 * two state queries whatever the number of workers.
 */
import { EventEmitter } from 'node:events'
import type { ApiPromise } from '@polkadot/api'
import { u8aToHex } from '@polkadot/util'
import { encodeAddress } from '@polkadot/util-crypto'
import type { ChainConnection } from '../../common/chain.js'
import type { Logger } from '../../common/logger.js'

/** Session states (computation pallet WorkerState), by name. */
export type SessionState = 'Ready' | 'WorkerIdle' | '_Unused' | 'WorkerUnresponsive' | 'WorkerCoolingDown'

export interface WorkerChainState {
  /** The block the values were read at. */
  block: number
  registered: boolean
  /** Registry operator, 0x hex public key, when set. */
  operator?: string
  initialScore?: number
  /** The registry entry's lastUpdated (chain seconds): changes with every registration. */
  registryUpdatedAt?: number
  /** Pool the worker is assigned to, decimal. */
  assignedPid?: string
  /** Session account (0x hex), when bound. */
  session?: string
  sessionState?: SessionState
  /** On-chain stake of the session, plancks. */
  stake?: bigint
  /** The session's human form (upstream's sessionInfoJson), when bound. */
  sessionHuman?: Record<string, unknown>
  /** A cooling-down session's cool-down end, in chain time (unix seconds). */
  coolDownEndsAt?: number
  /** The chain's time at `block` (Timestamp.now, unix seconds). */
  chainNowSecs?: number
}

export interface OnChainView {
  /** Watch these worker public keys (0x hex); replaces the set. */
  watch(pubkeys: Iterable<string>): void
  get(pubkey: string): WorkerChainState | undefined
  /** Read now (also used right after a job settles, so the next step does not wait a block). */
  refresh(): Promise<void>
  readonly events: EventEmitter<{ updated: [number] }>
  api(): Promise<ApiPromise>
  start(): Promise<void>
  stop(): Promise<void>
}

const SESSION_V_BASE = 2n ** 64n
const ZERO_ACCOUNT = encodeAddress(new Uint8Array(32), 30)

function fixed(bits: unknown): string {
  const b = BigInt(String(bits ?? 0))
  const int = b / SESSION_V_BASE
  const frac = ((b % SESSION_V_BASE) * 10n ** 8n) / SESSION_V_BASE
  return `${int}.${frac.toString().padStart(8, '0')}`
}

export function createOnChainView(para: ChainConnection, deps: { logger: Logger }): OnChainView {
  const log = deps.logger
  const events = new EventEmitter<{ updated: [number] }>()
  events.setMaxListeners(0)
  let watched: string[] = []
  const states = new Map<string, WorkerChainState>()
  let unsub: (() => void) | undefined
  let reading: Promise<void> | undefined
  let again = false
  let stopped = false

  const read = async (): Promise<void> => {
    const api = await para.api()
    const keys = watched
    if (keys.length === 0) return
    const header = await api.rpc.chain.getHeader()
    const block = header.number.toNumber()
    const at = await api.at(header.hash)
    const first = await at.queryMulti([
      ...keys.map((k) => [at.query.phalaRegistry.workers, k] as [typeof at.query.phalaRegistry.workers, string]),
      ...keys.map((k) => [at.query.phalaStakePoolv2.workerAssignments, k] as [typeof at.query.phalaStakePoolv2.workerAssignments, string]),
      ...keys.map((k) => [at.query.phalaComputation.workerBindings, k] as [typeof at.query.phalaComputation.workerBindings, string]),
    ] as never) as unknown as Array<{ isSome: boolean; unwrap(): unknown; toJSON(): unknown; toHex(): string }>
    const n = keys.length
    const sessions: string[] = []
    const next = new Map<string, WorkerChainState>()
    keys.forEach((k, i) => {
      const reg = first[i]!
      const asg = first[n + i]!
      const bind = first[2 * n + i]!
      const s: WorkerChainState = { block, registered: reg.isSome }
      if (reg.isSome) {
        const info = reg.toJSON() as { operator?: string | null; initialScore?: number | null; lastUpdated?: number | null }
        if (info.lastUpdated !== null && info.lastUpdated !== undefined) s.registryUpdatedAt = Number(info.lastUpdated)
        if (info.operator) s.operator = u8aToHex(at.registry.createType('AccountId32', info.operator).toU8a())
        if (info.initialScore !== null && info.initialScore !== undefined) s.initialScore = Number(info.initialScore)
      }
      if (asg.isSome) s.assignedPid = String(asg.unwrap())
      if (bind.isSome) {
        s.session = u8aToHex((bind.unwrap() as { toU8a(): Uint8Array }).toU8a())
        sessions.push(s.session)
      }
      next.set(k, s)
    })
    if (sessions.length > 0) {
      const second = await at.queryMulti([
        ...sessions.map((a) => [at.query.phalaComputation.sessions, a] as [typeof at.query.phalaComputation.sessions, string]),
        ...sessions.map((a) => [at.query.phalaComputation.stakes, a] as [typeof at.query.phalaComputation.stakes, string]),
        at.query.phalaComputation.coolDownPeriod,
        at.query.timestamp.now,
      ] as never) as unknown as Array<{ isSome: boolean; unwrap(): { toString(): string }; toJSON(): unknown }>
      // A worker the operator moved to another pool leaves the old one once its cool-down passed.
      const coolDownSecs = Number(second[2 * sessions.length]!.toString())
      const nowSecs = Math.floor(Number(second[2 * sessions.length + 1]!.toString()) / 1000)
      const bySession = new Map<string, { state?: SessionState; stake?: bigint; human?: Record<string, unknown>; coolDownEndsAt?: number }>()
      sessions.forEach((a, i) => {
        const si = second[i]!
        const st = second[sessions.length + i]!
        const v: { state?: SessionState; stake?: bigint; human?: Record<string, unknown>; coolDownEndsAt?: number } = {}
        if (si.isSome) {
          const info = si.unwrap() as unknown as { state: { type: string }; toHuman(): Record<string, unknown>; toJSON(): Record<string, unknown> }
          v.state = info.state.type as SessionState
          const j = info.toJSON() as { v?: unknown; ve?: unknown; coolDownStart?: unknown }
          if (v.state === 'WorkerCoolingDown') v.coolDownEndsAt = Number(j.coolDownStart ?? 0) + coolDownSecs
          v.human = { ...info.toHuman(), v: fixed(j.v), ve: fixed(j.ve) }
        }
        if (st.isSome) v.stake = BigInt(st.unwrap().toString())
        bySession.set(a, v)
      })
      for (const s of next.values()) {
        if (!s.session) continue
        const v = bySession.get(s.session)
        if (v?.state) s.sessionState = v.state
        if (v?.stake !== undefined) s.stake = v.stake
        if (v?.human) s.sessionHuman = v.human
        if (v?.coolDownEndsAt !== undefined) s.coolDownEndsAt = v.coolDownEndsAt
        s.chainNowSecs = nowSecs
      }
    }
    for (const [k, s] of next) states.set(k, s)
    events.emit('updated', block)
  }

  const refresh = (): Promise<void> => {
    if (stopped) return Promise.resolve()
    if (reading) {
      again = true
      return reading
    }
    reading = (async () => {
      try {
        do {
          again = false
          await read()
        } while (again && !stopped)
      } catch (err) {
        if (!stopped) log.warn({ err }, 'on-chain view: reading the workers\' chain state failed; next block tries again')
      } finally {
        reading = undefined
      }
    })()
    return reading
  }

  return {
    events,
    api: () => para.api(),
    watch(pubkeys) {
      watched = [...new Set(pubkeys)].sort()
      for (const k of [...states.keys()]) if (!watched.includes(k)) states.delete(k)
    },
    get: (pubkey) => states.get(pubkey),
    refresh,
    async start() {
      const api = await para.api()
      unsub = await api.rpc.chain.subscribeNewHeads(() => {
        void refresh()
      })
    },
    async stop() {
      stopped = true
      unsub?.()
      await reading
    },
  }
}

/** The session account shown as workerAccountId (zero account when unbound, as upstream). */
export function sessionSs58(session: string | undefined): string {
  return session ? encodeAddress(session, 30) : ZERO_ACCOUNT
}
