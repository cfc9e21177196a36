/**
 * Where the lifecycle gets its worker engine. main.ts calls `createEngine` once Walkie and the chain
 * connections are up (never in PHALA_LIFECYCLE_CONFIG_MODE); swapping the engine is a change of
 * this file only.
 *
 * This version has no engine yet: the placeholder keeps the set it is given and reports every
 * enabled worker S_IDLE, saying why.
 */
import type { ChainConnection } from '../common/chain.js'
import type { Logger } from '../common/logger.js'
import type { LifecycleConfig } from '../config/index.js'
import type { Walkie } from '../walkie/index.js'
import type { WorkerEngine, WorkerReport, WorkerView } from './contract.js'

export interface EngineDeps {
  config: LifecycleConfig
  logger: Logger
  /** The lifecycle's started Walkie node (role WR_LIFECYCLE_MANAGER): finds the data providers. */
  walkie: Walkie
  relay: ChainConnection
  para: ChainConnection
  /** Hex of the parachain's block #1 hash, as Walkie peers compare it. */
  chainIdentity: string
}

export const ENGINE_NOT_BUILT = 'worker engine not built in this version'

export function createEngine(deps: EngineDeps): WorkerEngine {
  let enabled = new Set<string>()
  const since = new Date().toISOString()
  deps.logger.warn(`The ${ENGINE_NOT_BUILT}: pools and workers are kept and served, no worker is run.`)
  const idle = (): WorkerReport => ({
    status: 'S_IDLE', initialized: false, parentHeaderSynchedTo: -1, paraHeaderSynchedTo: -1, paraBlockDispatchedTo: -1,
    publicKey: '', lastMessage: `[${since}] ${ENGINE_NOT_BUILT}`, sessionInfoJson: '', workerAccountId: '',
  })
  return {
    apply(workers: readonly WorkerView[]) {
      enabled = new Set(workers.filter((w) => w.enabled).map((w) => w.uuid))
    },
    restart() {},
    kick() {},
    report: (uuid) => (enabled.has(uuid) ? idle() : undefined),
    stop: async () => {},
  }
}
