/**
 * `prb.WorkerState` for GetWorkerStatus and the restart/kick answers: the engine's report plus the
 * worker as stored. A worker the engine never ran is S_IDLE with a last message saying why, so
 * every worker in the store has a status (upstream crashed for workers not loaded, §4.3).
 */
import type { WorkerReport } from './contract.js'
import { workerToWire } from './records.js'
import type { WorkerWithPool } from './repository.js'

/** Upstream's session JSON before anything is known about the worker (§6.7). */
const NO_SESSION_INFO = JSON.stringify({ runtimeInfo: {} }, null, 2)

export function stamp(text: string, at = new Date()): string {
  return `[${at.toISOString()}] ${text}`
}

/** Why the engine has no report for this worker. */
export function idleReason(w: WorkerWithPool, engineRunning: boolean): string {
  if (!engineRunning) return 'The worker engine is not running yet (the lifecycle is starting).'
  if (!w.worker.enabled) return 'Worker is disabled (enabled = false), so it is not run; enable it with UpdateWorker.'
  if (!w.pool.enabled) return `Its pool ${JSON.stringify(w.pool.name)} (pid ${w.pool.pid}) is disabled (enabled = false); enable it with UpdatePool.`
  return 'Worker not started yet.'
}

export function workerState(w: WorkerWithPool, report: WorkerReport | undefined, reason: () => string): Record<string, unknown> {
  const r: WorkerReport = report ?? {
    status: 'S_IDLE',
    initialized: false,
    parentHeaderSynchedTo: -1,
    paraHeaderSynchedTo: -1,
    paraBlockDispatchedTo: -1,
    publicKey: '',
    lastMessage: stamp(reason()),
    sessionInfoJson: '',
    workerAccountId: '',
  }
  return {
    status: r.status,
    parentHeaderSynchedTo: r.parentHeaderSynchedTo,
    paraHeaderSynchedTo: r.paraHeaderSynchedTo,
    paraBlockDispatchedTo: r.paraBlockDispatchedTo,
    initialized: r.initialized,
    worker: workerToWire(w.worker, w.pool),
    // As upstream: fields the worker never had are absent, not empty.
    ...(r.publicKey ? { publicKey: r.publicKey } : {}),
    lastMessage: r.lastMessage,
    // The monitor JSON.parses this on every row: always a JSON text.
    sessionInfoJson: r.sessionInfoJson || NO_SESSION_INFO,
    ...(r.workerAccountId ? { workerAccountId: r.workerAccountId } : {}),
  }
}
