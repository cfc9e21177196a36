/**
 * The lifecycle's pools and workers in one `level` database: `pool:<uuid>` and `worker:<uuid>` hold
 * JSON records, `meta:<name>` the store's own facts (format, the v2 import). Every record is also
 * held in memory (a miner has hundreds of workers, not millions), so reads never wait on disk;
 * every change is one atomic LevelDB batch, applied in memory only once it is on disk.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Level } from 'level'
import { PrbError } from '../common/errors.js'
import type { PoolRecord, WorkerRecord } from './records.js'

export class StoreError extends PrbError {
  override name = 'LifecycleStoreError'
}

export const STORE_FORMAT = 1

export type StoreChange =
  | { type: 'putPool'; pool: PoolRecord }
  | { type: 'delPool'; uuid: string }
  | { type: 'putWorker'; worker: WorkerRecord }
  | { type: 'delWorker'; uuid: string }
  | { type: 'putMeta'; name: string; value: unknown }

export interface StoreSnapshot {
  readonly pools: ReadonlyMap<string, PoolRecord>
  readonly workers: ReadonlyMap<string, WorkerRecord>
}

export interface PoolStore {
  readonly path: string
  open(): Promise<void>
  close(): Promise<void>
  /** The current records (do not mutate). */
  snapshot(): StoreSnapshot
  meta<T>(name: string): T | undefined
  /** Write all changes atomically, then apply them in memory. */
  commit(changes: readonly StoreChange[]): Promise<void>
  /** The next creation sequence number. */
  nextSeq(): number
}

const POOL = 'pool:'
const WORKER = 'worker:'
const META = 'meta:'

export function createPoolStore(options: { path: string }): PoolStore {
  const path = options.path
  let db: Level<string, string> | undefined
  const pools = new Map<string, PoolRecord>()
  const workers = new Map<string, WorkerRecord>()
  const meta = new Map<string, unknown>()
  let seq = 0
  let closing: Promise<void> | undefined

  const parse = (key: string, value: string): unknown => {
    try {
      return JSON.parse(value)
    } catch (e) {
      throw new StoreError('ERR_LIFECYCLE_STORE', `the lifecycle store ${path} holds a damaged record "${key}"; restore the store from a backup`, { cause: e })
    }
  }

  return {
    path,
    async open() {
      try {
        mkdirSync(dirname(path), { recursive: true })
        db = new Level<string, string>(path, { valueEncoding: 'utf8' })
        await db.open()
      } catch (e) {
        db = undefined
        const why = (e as { cause?: Error }).cause?.message ?? (e as Error).message
        throw new StoreError('ERR_LIFECYCLE_STORE', `cannot open the lifecycle store ${path} (${why}); check PHALA_LOCAL_DB_PATH, its permissions, and that no other lifecycle uses it`, { cause: e })
      }
      for await (const [key, value] of db.iterator()) {
        const v = parse(key, value)
        if (key.startsWith(POOL)) pools.set(key.slice(POOL.length), v as PoolRecord)
        else if (key.startsWith(WORKER)) workers.set(key.slice(WORKER.length), v as WorkerRecord)
        else if (key.startsWith(META)) meta.set(key.slice(META.length), v)
      }
      for (const r of [...pools.values(), ...workers.values()]) seq = Math.max(seq, r.seq)
      const format = meta.get('format') as { version: number } | undefined
      if (format && format.version > STORE_FORMAT) {
        await db.close()
        db = undefined
        throw new StoreError('ERR_LIFECYCLE_STORE', `the lifecycle store ${path} was written by a newer prb (format ${format.version}, this one reads ${STORE_FORMAT}); run that version or restore a backup`)
      }
      if (!format) {
        await db.put(`${META}format`, JSON.stringify({ version: STORE_FORMAT }))
        meta.set('format', { version: STORE_FORMAT })
      }
    },
    close() {
      closing ??= (async () => {
        await db?.close()
      })()
      return closing
    },
    snapshot: () => ({ pools, workers }),
    meta: <T>(name: string) => meta.get(name) as T | undefined,
    nextSeq: () => ++seq,
    async commit(changes) {
      if (!db || closing) throw new StoreError('ERR_LIFECYCLE_STORE', 'the lifecycle store is closed (the lifecycle is stopping); retry once it runs again')
      const ops = changes.map((c) => {
        switch (c.type) {
          case 'putPool': return { type: 'put' as const, key: POOL + c.pool.uuid, value: JSON.stringify(c.pool) }
          case 'delPool': return { type: 'del' as const, key: POOL + c.uuid }
          case 'putWorker': return { type: 'put' as const, key: WORKER + c.worker.uuid, value: JSON.stringify(c.worker) }
          case 'delWorker': return { type: 'del' as const, key: WORKER + c.uuid }
          case 'putMeta': return { type: 'put' as const, key: META + c.name, value: JSON.stringify(c.value) }
        }
      })
      await db.batch(ops)
      for (const c of changes) {
        if (c.type === 'putPool') pools.set(c.pool.uuid, c.pool)
        else if (c.type === 'delPool') pools.delete(c.uuid)
        else if (c.type === 'putWorker') workers.set(c.worker.uuid, c.worker)
        else if (c.type === 'delWorker') workers.delete(c.uuid)
        else meta.set(c.name, c.value)
      }
    },
  }
}
