/**
 * The lifecycle's Walkie methods (upstream-lifecycle.md §4.3), with upstream's messages. Requests
 * are read from the wire bytes without defaults, so a field sent as `false` or `""` is told apart
 * from one not sent (partial updates); answers carry every field, `deleted: false` included, as
 * upstream writes them, so the monitor's JSON shows the same keys (D.5).
 */
import type protobuf from 'protobufjs'
import { getCodec, type Codec } from '../common/codec.js'
import { PrbError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import { WalkieError, type RpcContext, type Walkie, type WalkieMethod } from '../walkie/index.js'
import type { WorkerEngine, WorkerReport } from './contract.js'
import { poolToWire, workerToWire } from './records.js'
import { RequestError } from './validate.js'
import type { IdentityInput, PoolInput, Repository, WorkerInput } from './repository.js'
import { idleReason, workerState } from './status.js'

/** Decoded as sent: only the fields on the wire, uint64 as decimal strings. */
const AS_SENT: protobuf.IConversionOptions = { defaults: false, arrays: true, longs: String, enums: String }

export const LIFECYCLE_METHODS = [
  'ListPool', 'CreatePool', 'UpdatePool', 'ListWorker', 'CreateWorker', 'UpdateWorker',
  'RestartWorker', 'RefreshRaAndRestartWorker', 'KickWorker', 'GetWorkerStatus',
] as const satisfies readonly WalkieMethod[]
export type LifecycleMethod = (typeof LIFECYCLE_METHODS)[number]

export interface LifecycleApiDeps {
  repo: Repository
  /** The running engine; undefined in config mode and while starting. */
  engine: () => WorkerEngine | undefined
  configMode: boolean
  logger: Logger
  codec?: Codec
}

/** A handler gets the wire bytes of its request and returns the plain answer. */
export type LifecycleHandler = (raw: Uint8Array) => Promise<Record<string, unknown>>

const REQUEST_TYPES: Record<LifecycleMethod, string> = {
  ListPool: 'prb.Empty',
  CreatePool: 'prb.lifecycle.CreatePool',
  UpdatePool: 'prb.lifecycle.UpdatePool',
  ListWorker: 'prb.Empty',
  CreateWorker: 'prb.lifecycle.CreateWorker',
  UpdateWorker: 'prb.lifecycle.UpdateWorker',
  RestartWorker: 'prb.lifecycle.UuidQueryRequest',
  RefreshRaAndRestartWorker: 'prb.lifecycle.UuidQueryRequest',
  KickWorker: 'prb.lifecycle.UuidQueryRequest',
  GetWorkerStatus: 'prb.lifecycle.UuidQueryRequest',
}

export const CONFIG_MODE_MESSAGE = 'PHALA_LIFECYCLE_CONFIG_MODE=true: this lifecycle keeps pools and workers but runs none of them, so it has no worker status and cannot restart or kick workers; ask a lifecycle started without PHALA_LIFECYCLE_CONFIG_MODE'

export function lifecycleHandlers(deps: LifecycleApiDeps): Record<LifecycleMethod, LifecycleHandler> {
  const codec = deps.codec ?? getCodec()
  const { repo } = deps
  const read = <T>(method: LifecycleMethod, raw: Uint8Array): T => codec.decode<T>(REQUEST_TYPES[method], raw, AS_SENT)

  const running = (): WorkerEngine => {
    if (deps.configMode) throw new WalkieError('SERVER', CONFIG_MODE_MESSAGE, 'ERR_LIFECYCLE_CONFIG_MODE')
    const engine = deps.engine()
    if (!engine) throw new WalkieError('SERVER', 'the worker engine is still starting; retry in a few seconds', 'ERR_LIFECYCLE_STARTING')
    return engine
  }

  const report = (engine: WorkerEngine, uuid: string): WorkerReport | undefined => {
    try {
      return engine.report(uuid)
    } catch (err) {
      // One worker's broken report must not take the whole status answer down.
      deps.logger.warn({ err, worker: uuid }, 'The worker engine failed to report a worker; showing it idle.')
      return undefined
    }
  }
  const states = (engine: WorkerEngine, list: ReturnType<Repository['listWorkers']>) => ({
    workerStates: list.map((w) => workerState(w, report(engine, w.worker.uuid), () => idleReason(w, true))),
  })

  const control = (method: LifecycleMethod, act: (engine: WorkerEngine, uuid: string) => void): LifecycleHandler => async (raw) => {
    const engine = running()
    const { ids = [] } = read<{ ids?: string[] }>(method, raw)
    if (ids.length === 0) throw new WalkieError('SERVER', `${method}: ids is empty; give the uuids of the workers (ListWorker shows them)`, 'ERR_LIFECYCLE_REQUEST')
    const found = repo.findWorkers(method, ids)
    // Answered with the states before the action, as upstream.
    const answer = states(engine, found)
    for (const w of found) act(engine, w.worker.uuid)
    deps.logger.info({ method, workers: found.map((w) => w.worker.name) }, `${method}: ${found.length} worker(s).`)
    return answer
  }

  return {
    ListPool: async () => ({ pools: repo.listPools().map(poolToWire) }),
    CreatePool: async (raw) => {
      const { pools = [] } = read<{ pools?: PoolInput[] }>('CreatePool', raw)
      return { pools: (await repo.createPools(pools)).map(poolToWire) }
    },
    UpdatePool: async (raw) => {
      const { items = [] } = read<{ items?: Array<{ id?: IdentityInput; pool?: PoolInput }> }>('UpdatePool', raw)
      return { pools: (await repo.updatePools(items)).map(poolToWire) }
    },
    ListWorker: async () => ({ workers: repo.listWorkers().map((w) => workerToWire(w.worker, w.pool)) }),
    CreateWorker: async (raw) => {
      const { workers = [] } = read<{ workers?: WorkerInput[] }>('CreateWorker', raw)
      return { workers: (await repo.createWorkers(workers)).map((w) => workerToWire(w.worker, w.pool)) }
    },
    UpdateWorker: async (raw) => {
      const { items = [] } = read<{ items?: Array<{ id?: IdentityInput; worker?: WorkerInput }> }>('UpdateWorker', raw)
      return { workers: (await repo.updateWorkers(items)).map((w) => workerToWire(w.worker, w.pool)) }
    },
    RestartWorker: control('RestartWorker', (e, uuid) => e.restart(uuid)),
    RefreshRaAndRestartWorker: control('RefreshRaAndRestartWorker', (e, uuid) => e.restart(uuid, { refreshRa: true })),
    KickWorker: control('KickWorker', (e, uuid) => e.kick(uuid)),
    GetWorkerStatus: async (raw) => {
      const engine = running()
      const { ids = [] } = read<{ ids?: string[] }>('GetWorkerStatus', raw)
      // Every worker in the store, disabled ones included (upstream: only those a runner had loaded).
      return states(engine, ids.length === 0 ? repo.listWorkers() : repo.findWorkers('GetWorkerStatus', ids))
    },
  }
}

/** Our errors as upstream's ResponseError types; anything else stays a SERVER error. */
export function toWalkieError(err: unknown): unknown {
  if (err instanceof WalkieError) return err
  if (err instanceof RequestError) return new WalkieError(err.responseType, err.message, err.code)
  if (err instanceof PrbError) return new WalkieError('SERVER', err.message, err.code)
  return err
}

export function registerLifecycleApi(walkie: Walkie, deps: LifecycleApiDeps): void {
  const handlers = lifecycleHandlers(deps)
  for (const method of LIFECYCLE_METHODS) {
    walkie.handle(method, (async (req: Record<string, unknown>, ctx: RpcContext) => {
      try {
        // Without the wire bytes every field counts as sent (full-value updates, as upstream).
        return await handlers[method](ctx.raw ?? (deps.codec ?? getCodec()).encode(REQUEST_TYPES[method], req))
      } catch (err) {
        throw toWalkieError(err)
      }
    }) as never)
  }
}
