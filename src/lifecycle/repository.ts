/**
 * The pools and workers as the API changes them: every request is checked whole against the store
 * (and against its own earlier items) before one atomic write; edits run one at a time; after each
 * write the engine gets the whole desired set, so a change takes effect without a restart.
 *
 * Beyond upstream (§4.3, §11.4): updates change only the fields given, pools are found by uuid, name
 * or pid and workers by uuid or name, an unknown one is NOT_FOUND, a duplicate pid or name is
 * DUPLICATED, and a pool that still has workers cannot be deleted.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from '../common/logger.js'
import type { WorkerEngine, WorkerView } from './contract.js'
import { checkOperatorSecret, type OperatorVault, type SealedOperator } from './operators.js'
import { workerView, type PoolRecord, type WorkerRecord } from './records.js'
import type { PoolStore, StoreChange } from './store.js'
import { checkEndpoint, checkName, checkSs58, checkStake, normalizeU64, Problems, RequestError } from './validate.js'

/** Fields as sent: a field absent here was not on the wire. */
export interface PoolInput {
  uuid?: string
  owner?: { mnemonic?: string } | null
  pid?: string | number
  name?: string
  enabled?: boolean
  deleted?: boolean
  realPhalaSs58?: string
  syncOnly?: boolean
}

export interface WorkerInput {
  uuid?: string
  pid?: string | number
  name?: string
  endpoint?: string
  enabled?: boolean
  deleted?: boolean
  stake?: string
  syncOnly?: boolean
}

/** `prb.PoolOrWorkerQueryIdentity`: one of uuid, name, pid. */
export interface IdentityInput {
  uuid?: string
  name?: string
  pid?: string | number
}

export interface WorkerWithPool {
  worker: WorkerRecord
  pool: PoolRecord
}

export interface RepositoryDeps {
  store: PoolStore
  vault: OperatorVault
  logger: Logger
}

const bySeq = <T extends { seq: number }>(a: T, b: T): number => a.seq - b.seq

function identityOf(id: IdentityInput | null | undefined): { by: 'uuid' | 'name' | 'pid'; value: string | number } | undefined {
  if (!id) return undefined
  if (id.uuid !== undefined) return { by: 'uuid', value: id.uuid }
  if (id.name !== undefined) return { by: 'name', value: id.name }
  if (id.pid !== undefined) return { by: 'pid', value: id.pid }
  return undefined
}

export class Repository {
  readonly #store: PoolStore
  readonly #vault: OperatorVault
  readonly #log: Logger
  #engine: WorkerEngine | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(deps: RepositoryDeps) {
    this.#store = deps.store
    this.#vault = deps.vault
    this.#log = deps.logger
  }

  /** Hands the engine the current set now, and after every edit from here on. */
  setEngine(engine: WorkerEngine | undefined): void {
    this.#engine = engine
    this.#apply()
  }

  listPools(): PoolRecord[] {
    return [...this.#store.snapshot().pools.values()].sort(bySeq)
  }

  listWorkers(): WorkerWithPool[] {
    const { pools, workers } = this.#store.snapshot()
    return [...workers.values()].sort(bySeq).map((worker) => ({ worker, pool: pools.get(worker.poolUuid)! }))
  }

  workerViews(): WorkerView[] {
    return this.listWorkers().map(({ worker, pool }) => workerView(worker, pool))
  }

  /** Workers by uuid (or name), in the order asked; NOT_FOUND naming every unknown id. */
  findWorkers(method: string, ids: readonly string[]): WorkerWithPool[] {
    const { pools, workers } = this.#store.snapshot()
    const problems = new Problems()
    const out: WorkerWithPool[] = []
    ids.forEach((id, i) => {
      const w = workers.get(id) ?? [...workers.values()].find((x) => x.name === id)
      if (!w) problems.add(`ids[${i}]`, undefined, `Worker ${id} not found! (no worker has this uuid or name; ListWorker shows them)`, 'not_found')
      else out.push({ worker: w, pool: pools.get(w.poolUuid)! })
    })
    if (problems.list.length > 0) throw new RequestError(method, problems.list, 'nothing was done')
    return out
  }

  createPools(items: readonly PoolInput[]): Promise<PoolRecord[]> {
    return this.#serial(async () => {
      const { pools } = this.#store.snapshot()
      const problems = new Problems()
      const pidTaken = new Map([...pools.values()].map((p) => [p.pid, p.name]))
      const nameTaken = new Set([...pools.values()].map((p) => p.name))
      const plans: Array<{ pid: string; item: PoolInput; secret: string }> = []
      items.forEach((item, i) => {
        const at = `pools[${i}]`
        const label = typeof item.name === 'string' ? item.name : undefined
        const pid = this.#checkPid(problems, at, label, item.pid, pidTaken)
        this.#checkNewName(problems, at, label, item.name, nameTaken, 'pool')
        if (item.realPhalaSs58) this.#check(problems, `${at}.realPhalaSs58`, label, checkSs58(item.realPhalaSs58))
        const secret = item.owner?.mnemonic ?? ''
        if (secret === '') problems.add(`${at}.owner.mnemonic`, label, 'is missing; a pool needs its operator secret (a mnemonic, a 0x seed or a //dev URI) in owner.mnemonic')
        else this.#check(problems, `${at}.owner.mnemonic`, label, checkOperatorSecret(secret))
        if (pid !== undefined) pidTaken.set(pid, label ?? '')
        if (label !== undefined) nameTaken.add(label)
        plans.push({ pid: pid ?? '', item, secret })
      })
      if (items.length === 0) problems.add('pools', undefined, 'is empty; give at least one pool')
      problems.throwIfAny('CreatePool')
      const sealed = await this.#sealAll('CreatePool', plans.map((p, i) => ({ at: `pools[${i}].owner.mnemonic`, label: p.item.name, secret: p.secret })))
      const now = new Date().toISOString()
      const records: PoolRecord[] = plans.map((p, i) => ({
        uuid: randomUUID(),
        pid: p.pid,
        name: p.item.name!,
        realPhalaSs58: p.item.realPhalaSs58 ?? '',
        ...sealed[i]!,
        enabled: p.item.enabled ?? true,
        syncOnly: p.item.syncOnly ?? false,
        seq: this.#store.nextSeq(),
        createdAt: now,
        updatedAt: now,
      }))
      await this.#store.commit(records.map((pool) => ({ type: 'putPool', pool })))
      this.#log.info({ pools: records.map((r) => ({ uuid: r.uuid, pid: r.pid, name: r.name, operator: r.operatorSs58 })) }, `Created ${records.length} pool(s).`)
      this.#apply()
      return records
    })
  }

  updatePools(items: ReadonlyArray<{ id?: IdentityInput | null; pool?: PoolInput | null }>): Promise<PoolRecord[]> {
    return this.#serial(async () => {
      const { pools, workers } = this.#store.snapshot()
      const draft = new Map(pools)
      const problems = new Problems()
      const touched = new Set<string>()
      const deleted = new Set<string>()
      const secrets = new Map<string, string>()
      items.forEach((item, i) => {
        const at = `items[${i}]`
        const id = identityOf(item.id)
        if (!id) {
          problems.add(`${at}.id`, undefined, 'is missing; give {"uuid": …}, {"name": …} or {"pid": …}')
          return
        }
        let found: PoolRecord | undefined
        if (id.by === 'uuid') found = draft.get(String(id.value))
        else if (id.by === 'name') found = [...draft.values()].find((p) => p.name === id.value)
        else {
          const pid = normalizeU64(id.value)
          found = [...draft.values()].find((p) => p.pid === pid)
        }
        if (!found) {
          problems.add(`${at}.id`, undefined, `Can't find pool: no pool has ${id.by} ${JSON.stringify(id.value)} (ListPool shows them)`, 'not_found')
          return
        }
        const label = found.name
        const patch = item.pool
        if (!patch) {
          problems.add(`${at}.pool`, label, 'is missing; give the fields to change, or {"deleted": true} to delete the pool')
          return
        }
        if (patch.deleted === true) {
          const left = [...workers.values()].filter((w) => w.poolUuid === found.uuid).length
          if (left > 0) {
            problems.add(`${at}.pool.deleted`, label, `pool ${JSON.stringify(found.name)} (pid ${found.pid}) still has ${left} worker(s); delete them or move them to another pool (UpdateWorker) first`, 'refused')
            return
          }
          draft.delete(found.uuid)
          deleted.add(found.uuid)
          touched.delete(found.uuid)
          return
        }
        const next: PoolRecord = { ...found }
        if (patch.pid !== undefined) {
          const pid = normalizeU64(patch.pid)
          if (pid === undefined) problems.add(`${at}.pool.pid`, label, `${JSON.stringify(patch.pid)} is not an on-chain pool id (an integer from 0 to 2^64-1)`)
          else if ([...draft.values()].some((p) => p.pid === pid && p.uuid !== found.uuid)) problems.add(`${at}.pool.pid`, label, `pid ${pid} is taken by another pool; pids are unique`, 'duplicated')
          else next.pid = pid
        }
        if (patch.name !== undefined) {
          const bad = checkName(patch.name)
          if (bad) problems.add(`${at}.pool.name`, label, bad)
          else if ([...draft.values()].some((p) => p.name === patch.name && p.uuid !== found.uuid)) problems.add(`${at}.pool.name`, label, `${JSON.stringify(patch.name)} is taken by another pool; names are unique`, 'duplicated')
          else next.name = patch.name
        }
        if (patch.realPhalaSs58 !== undefined) {
          const bad = patch.realPhalaSs58 === '' ? undefined : checkSs58(patch.realPhalaSs58)
          if (bad) problems.add(`${at}.pool.realPhalaSs58`, label, bad)
          else next.realPhalaSs58 = patch.realPhalaSs58
        }
        if (patch.enabled !== undefined) next.enabled = patch.enabled
        if (patch.syncOnly !== undefined) next.syncOnly = patch.syncOnly
        const secret = patch.owner?.mnemonic ?? ''
        if (secret !== '') {
          const bad = checkOperatorSecret(secret)
          if (bad) problems.add(`${at}.pool.owner.mnemonic`, label, bad)
          else secrets.set(found.uuid, secret)
        }
        draft.set(found.uuid, next)
        touched.add(found.uuid)
      })
      if (items.length === 0) problems.add('items', undefined, 'is empty; give at least one item')
      problems.throwIfAny('UpdatePool')
      const uuids = [...touched].filter((u) => !deleted.has(u))
      const newOperators = [...secrets].filter(([u]) => !deleted.has(u))
      const sealed = await this.#sealAll('UpdatePool', newOperators.map(([u, secret]) => ({ at: `pool ${u}`, label: draft.get(u)!.name, secret })))
      const bySecret = new Map<string, SealedOperator>(newOperators.map(([u], i) => [u, sealed[i]!]))
      const now = new Date().toISOString()
      const updated = uuids.map((u) => ({ ...draft.get(u)!, ...(bySecret.get(u) ?? {}), updatedAt: now }))
      const changes: StoreChange[] = [
        ...[...deleted].map((uuid) => ({ type: 'delPool' as const, uuid })),
        ...updated.map((pool) => ({ type: 'putPool' as const, pool })),
      ]
      await this.#store.commit(changes)
      this.#log.info({ updated: updated.map((p) => ({ uuid: p.uuid, pid: p.pid, name: p.name, enabled: p.enabled, newOperator: bySecret.has(p.uuid) })), deleted: [...deleted] }, `Updated ${updated.length} pool(s), deleted ${deleted.size}.`)
      this.#apply()
      return updated.sort((a, b) => a.seq - b.seq)
    })
  }

  createWorkers(items: readonly WorkerInput[]): Promise<WorkerWithPool[]> {
    return this.#serial(async () => {
      const { pools, workers } = this.#store.snapshot()
      const poolByPid = new Map([...pools.values()].map((p) => [p.pid, p]))
      const nameTaken = new Set([...workers.values()].map((w) => w.name))
      const problems = new Problems()
      const now = new Date().toISOString()
      const records: WorkerWithPool[] = []
      items.forEach((item, i) => {
        const at = `workers[${i}]`
        const label = typeof item.name === 'string' ? item.name : undefined
        const pool = this.#checkPoolRef(problems, `${at}.pid`, label, item.pid, poolByPid)
        this.#checkNewName(problems, at, label, item.name, nameTaken, 'worker')
        this.#check(problems, `${at}.endpoint`, label, checkEndpoint(item.endpoint))
        this.#check(problems, `${at}.stake`, label, item.stake === undefined ? 'is missing; give the stake in plancks as a decimal string, e.g. "4000000000000000" for 4000 PHA' : checkStake(item.stake))
        if (label !== undefined) nameTaken.add(label)
        if (pool) {
          records.push({
            pool,
            worker: {
              uuid: randomUUID(), name: item.name!, endpoint: item.endpoint!, stake: item.stake!, enabled: item.enabled ?? true,
              syncOnly: item.syncOnly ?? false, poolUuid: pool.uuid, seq: 0, createdAt: now, updatedAt: now,
            },
          })
        }
      })
      if (items.length === 0) problems.add('workers', undefined, 'is empty; give at least one worker')
      problems.throwIfAny('CreateWorker')
      for (const r of records) r.worker.seq = this.#store.nextSeq()
      await this.#store.commit(records.map((r) => ({ type: 'putWorker', worker: r.worker })))
      this.#log.info({ count: records.length, names: records.slice(0, 20).map((r) => r.worker.name) }, `Created ${records.length} worker(s).`)
      this.#apply()
      return records
    })
  }

  updateWorkers(items: ReadonlyArray<{ id?: IdentityInput | null; worker?: WorkerInput | null }>): Promise<WorkerWithPool[]> {
    return this.#serial(async () => {
      const { pools, workers } = this.#store.snapshot()
      const poolByPid = new Map([...pools.values()].map((p) => [p.pid, p]))
      const draft = new Map(workers)
      const problems = new Problems()
      const touched = new Set<string>()
      const deleted = new Set<string>()
      items.forEach((item, i) => {
        const at = `items[${i}]`
        const id = identityOf(item.id)
        if (!id) {
          problems.add(`${at}.id`, undefined, 'is missing; give {"uuid": …} or {"name": …}')
          return
        }
        if (id.by === 'pid') {
          problems.add(`${at}.id.pid`, undefined, 'a pid names a pool, not a worker; find the worker by {"uuid": …} or {"name": …}')
          return
        }
        const found = id.by === 'uuid' ? draft.get(String(id.value)) : [...draft.values()].find((w) => w.name === id.value)
        if (!found) {
          problems.add(`${at}.id`, undefined, `Can't find worker: no worker has ${id.by} ${JSON.stringify(id.value)} (ListWorker shows them)`, 'not_found')
          return
        }
        const label = found.name
        const patch = item.worker
        if (!patch) {
          problems.add(`${at}.worker`, label, 'is missing; give the fields to change, or {"deleted": true} to delete the worker')
          return
        }
        if (patch.deleted === true) {
          draft.delete(found.uuid)
          deleted.add(found.uuid)
          touched.delete(found.uuid)
          return
        }
        const next: WorkerRecord = { ...found }
        if (patch.pid !== undefined) {
          const pool = this.#checkPoolRef(problems, `${at}.worker.pid`, label, patch.pid, poolByPid)
          if (pool) next.poolUuid = pool.uuid
        }
        if (patch.name !== undefined) {
          const bad = checkName(patch.name)
          if (bad) problems.add(`${at}.worker.name`, label, bad)
          else if ([...draft.values()].some((w) => w.name === patch.name && w.uuid !== found.uuid)) problems.add(`${at}.worker.name`, label, `${JSON.stringify(patch.name)} is taken by another worker; names are unique`, 'duplicated')
          else next.name = patch.name
        }
        if (patch.endpoint !== undefined) {
          const bad = checkEndpoint(patch.endpoint)
          if (bad) problems.add(`${at}.worker.endpoint`, label, bad)
          else next.endpoint = patch.endpoint
        }
        if (patch.stake !== undefined) {
          const bad = checkStake(patch.stake)
          if (bad) problems.add(`${at}.worker.stake`, label, bad)
          else next.stake = patch.stake
        }
        if (patch.enabled !== undefined) next.enabled = patch.enabled
        if (patch.syncOnly !== undefined) next.syncOnly = patch.syncOnly
        draft.set(found.uuid, next)
        touched.add(found.uuid)
      })
      if (items.length === 0) problems.add('items', undefined, 'is empty; give at least one item')
      problems.throwIfAny('UpdateWorker')
      const now = new Date().toISOString()
      const updated = [...touched].map((u) => ({ ...draft.get(u)!, updatedAt: now })).sort(bySeq)
      await this.#store.commit([
        ...[...deleted].map((uuid) => ({ type: 'delWorker' as const, uuid })),
        ...updated.map((worker) => ({ type: 'putWorker' as const, worker })),
      ])
      this.#log.info({ updated: updated.length, deleted: deleted.size, names: updated.slice(0, 20).map((w) => w.name) }, `Updated ${updated.length} worker(s), deleted ${deleted.size}.`)
      this.#apply()
      return updated.map((worker) => ({ worker, pool: pools.get(worker.poolUuid)! }))
    })
  }

  /** One edit at a time: each one checks against what the previous one wrote. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  #apply(): void {
    if (!this.#engine) return
    try {
      this.#engine.apply(this.workerViews())
    } catch (err) {
      this.#log.error({ err }, 'The worker engine refused the new set of workers; the store holds it and the next edit or restart hands it over again.')
    }
  }

  #check(problems: Problems, path: string, label: string | undefined, bad: string | undefined): void {
    if (bad) problems.add(path, label, bad)
  }

  #checkPid(problems: Problems, at: string, label: string | undefined, raw: unknown, taken: Map<string, string>): string | undefined {
    if (raw === undefined) {
      problems.add(`${at}.pid`, label, 'is missing; give the on-chain stake pool id')
      return undefined
    }
    const pid = normalizeU64(raw)
    if (pid === undefined) {
      problems.add(`${at}.pid`, label, `${JSON.stringify(raw)} is not an on-chain pool id (an integer from 0 to 2^64-1)`)
      return undefined
    }
    if (taken.has(pid)) {
      problems.add(`${at}.pid`, label, `pid ${pid} is taken (pool ${JSON.stringify(taken.get(pid))}); pids are unique: use UpdatePool to change that pool`, 'duplicated')
      return undefined
    }
    return pid
  }

  #checkNewName(problems: Problems, at: string, label: string | undefined, raw: unknown, taken: Set<string>, what: 'pool' | 'worker'): void {
    const bad = checkName(raw)
    if (bad) problems.add(`${at}.name`, label, bad)
    else if (taken.has(raw as string)) problems.add(`${at}.name`, label, `is taken by another ${what}; names are unique (Update${what === 'pool' ? 'Pool' : 'Worker'} changes an existing one)`, 'duplicated')
  }

  #checkPoolRef(problems: Problems, path: string, label: string | undefined, raw: unknown, poolByPid: Map<string, PoolRecord>): PoolRecord | undefined {
    if (raw === undefined) {
      problems.add(path, label, 'is missing; give the pid of the worker\'s pool')
      return undefined
    }
    const pid = normalizeU64(raw)
    if (pid === undefined) {
      problems.add(path, label, `${JSON.stringify(raw)} is not a pool id (an integer from 0 to 2^64-1)`)
      return undefined
    }
    const pool = poolByPid.get(pid)
    if (!pool) problems.add(path, label, `Pool {pid: ${pid}} not found! Create the pool first (CreatePool)`, 'not_found')
    return pool
  }

  async #sealAll(method: string, items: ReadonlyArray<{ at: string; label?: string; secret: string }>): Promise<SealedOperator[]> {
    const problems = new Problems()
    const out: SealedOperator[] = []
    for (const it of items) {
      try {
        out.push(await this.#vault.seal(it.secret))
      } catch (e) {
        problems.add(it.at, it.label, (e as Error).message)
      }
    }
    problems.throwIfAny(method)
    return out
  }
}
