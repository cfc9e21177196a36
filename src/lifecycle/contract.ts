/**
 * The seam between the lifecycle's store and API (pools, workers, keys) and the engine that runs
 * the workers (sync, later the chain steps). The store calls `apply` with the whole desired set at
 * start and after every edit; the API reads `report` for GetWorkerStatus. Nothing else crosses.
 */
import type { Trader } from '../trade/index.js'

/** A pool as the engine needs it: no secret, only the operator's public identity. */
export interface PoolView {
  uuid: string
  /** On-chain pool id (u64) as a decimal string. */
  pid: string
  name: string
  enabled: boolean
  syncOnly: boolean
  /** The proxied pool owner (ss58), when the operator is a proxy; undefined otherwise. */
  realPhalaSs58?: string
  /** The operator's address (ss58 format 30) and public key (0x hex, 32 bytes). */
  operatorSs58: string
  operatorPublicKey: string
}

/** A worker joined with its pool, as stored. */
export interface WorkerView {
  uuid: string
  name: string
  /** pRuntime base URL, e.g. http://10.0.0.5:8000 */
  endpoint: string
  /** Plancks, decimal string. */
  stake: string
  enabled: boolean
  syncOnly: boolean
  pool: PoolView
}

/** Upstream's `prb.WorkerState.Status` names, in enum order. */
export const WORKER_STATUSES = ['S_IDLE', 'S_STARTING', 'S_SYNCHING', 'S_SYNCHED', 'S_PRE_ACTIVE', 'S_ACTIVE', 'S_KICKED', 'S_ERROR'] as const
export type WorkerStatusName = (typeof WORKER_STATUSES)[number]

/** What GetWorkerStatus reports for one worker (upstream §6.7 fields, minus the worker snapshot). */
export interface WorkerReport {
  status: WorkerStatusName
  initialized: boolean
  parentHeaderSynchedTo: number
  paraHeaderSynchedTo: number
  paraBlockDispatchedTo: number
  /** pRuntime's public key, hex without 0x; '' when unknown. */
  publicKey: string
  /** `[<ISO time>] <text>` of the newest message, or ''. */
  lastMessage: string
  sessionInfoJson: string
  workerAccountId: string
  /** Beyond upstream, for the monitor: memory figures, runtime version, lag, … */
  details?: Record<string, unknown>
}

/** Figures beyond the reports, for /metrics. */
export interface EngineStats {
  /** Heights of the most advanced live data provider; undefined before one answers. */
  dataProvider?: { parentProcessedHeight: number; paraProcessedHeight: number }
  /** Data providers known to the engine, answering or not. */
  dataProviders?: { live: number; down: number }
  /** The built-in trader (USE_BUILT_IN_TRADER), whose series the lifecycle serves too. */
  trader?: Trader
}

/** The running side of the lifecycle. */
export interface WorkerEngine {
  /** The desired set: enabled workers run, absent or disabled ones are stopped. Idempotent. */
  apply(workers: readonly WorkerView[]): void
  /** Restart one worker's run (RestartWorker); `refreshRa` asks for a new registration (RefreshRaAndRestartWorker). */
  restart(uuid: string, options?: { refreshRa?: boolean }): void
  /** Kick one worker (KickWorker): its pRuntime is told to stop, the worker ends in S_KICKED. */
  kick(uuid: string): void
  /** The worker's current report, or undefined when the engine never ran it. */
  report(uuid: string): WorkerReport | undefined
  /** For /metrics; optional (an engine without it shows workers by state only). */
  figures?(): EngineStats
  stop(): Promise<void>
}
