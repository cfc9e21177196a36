/**
 * A drop-in upgrade from prb v2: when PHALA_LOCAL_DB_PATH names v2's SQLite database (tables
 * `pools` and `workers`, upstream-lifecycle.md §3.3-3.4), its pools and workers are copied into
 * our store once, on the first start. The SQLite file is only read (sql.js loads a copy in memory;
 * no native build), so v2 can still be started on it; the operators stay encrypted under the same
 * LIFECYCLE key, and each one is decrypted once to check the key is the right one.
 */
import { open, readFile } from 'node:fs/promises'
import initSqlJs from 'sql.js'
import { PrbError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import type { OperatorVault } from './operators.js'
import type { PoolRecord, WorkerRecord } from './records.js'
import type { PoolStore, StoreChange } from './store.js'
import { checkEndpoint, checkName, checkStake, normalizeU64 } from './validate.js'

export class V2ImportError extends PrbError {
  override name = 'V2ImportError'
}

/** Where our store lives when PHALA_LOCAL_DB_PATH is v2's SQLite file: beside it. */
export const STORE_SUFFIX_BESIDE_SQLITE = '.prb'

const SQLITE_MAGIC = 'SQLite format 3\u0000'

/** Whether `path` is an SQLite database file (false when it does not exist or is a directory). */
export async function isSqliteFile(path: string): Promise<boolean> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch {
    return false
  }
  try {
    if (!(await fh.stat()).isFile()) return false
    const buf = Buffer.alloc(16)
    const { bytesRead } = await fh.read(buf, 0, 16, 0)
    return bytesRead === 16 && buf.toString('latin1') === SQLITE_MAGIC
  } catch {
    return false
  } finally {
    await fh.close()
  }
}

export interface V2Pool {
  id: string
  pid: unknown
  name: unknown
  proxiedAccountSs58: unknown
  encryptedOperator: Uint8Array
  enabled: boolean
  syncOnly: boolean
  createdAt: string
}

export interface V2Worker {
  id: string
  name: unknown
  endpoint: unknown
  stake: unknown
  enabled: boolean
  syncOnly: boolean
  poolId: unknown
  createdAt: string
}

export interface V2Database {
  path: string
  pools: V2Pool[]
  workers: V2Worker[]
}

const bool = (v: unknown, dflt: boolean): boolean => (v === null || v === undefined ? dflt : v === 1 || v === '1' || v === true || v === 'true')
const date = (v: unknown): string => {
  const d = typeof v === 'string' || typeof v === 'number' ? new Date(v) : undefined
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : new Date().toISOString()
}

/** Reads v2's tables (a copy in memory; the file is never written). */
export async function readV2Database(path: string): Promise<V2Database> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (e) {
    throw new V2ImportError('ERR_V2_IMPORT', `cannot read the v2 database ${path}: ${(e as Error).message}`, { cause: e })
  }
  const SQL = await initSqlJs()
  const db = new SQL.Database(bytes)
  try {
    const tables = new Set((db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((r) => String(r[0])))
    if (!tables.has('pools') || !tables.has('workers')) {
      throw new V2ImportError('ERR_V2_IMPORT', `${path} is an SQLite database but not prb v2's (no "pools" and "workers" tables; it has: ${[...tables].join(', ') || 'none'}); point PHALA_LOCAL_DB_PATH at v2's local.db or at a new path`)
    }
    const rows = (sql: string): Array<Record<string, unknown>> => {
      const out: Array<Record<string, unknown>> = []
      const st = db.prepare(sql)
      try {
        while (st.step()) out.push(st.getAsObject() as Record<string, unknown>)
      } finally {
        st.free()
      }
      return out
    }
    const pools = rows('SELECT * FROM pools ORDER BY rowid').map((r) => ({
      id: String(r.id),
      pid: r.pid,
      name: r.name,
      proxiedAccountSs58: r.proxiedAccountSs58,
      encryptedOperator: r.encryptedOperator instanceof Uint8Array ? r.encryptedOperator : new Uint8Array(),
      enabled: bool(r.enabled, true),
      syncOnly: bool(r.syncOnly, false),
      createdAt: date(r.createdAt),
    }))
    const workers = rows('SELECT * FROM workers ORDER BY rowid').map((r) => ({
      id: String(r.id),
      name: r.name,
      endpoint: r.endpoint,
      stake: r.stake === null || r.stake === undefined ? r.stake : String(r.stake),
      enabled: bool(r.enabled, true),
      syncOnly: bool(r.syncOnly, false),
      poolId: r.poolId,
      createdAt: date(r.createdAt),
    }))
    return { path, pools, workers }
  } catch (e) {
    if (e instanceof V2ImportError) throw e
    throw new V2ImportError('ERR_V2_IMPORT', `cannot read the v2 database ${path} (${(e as Error).message}); is it prb v2's local.db?`, { cause: e })
  } finally {
    db.close()
  }
}

export interface V2ImportSummary {
  source: string
  importedAt: string
  pools: number
  workers: number
  /** Rows left out, with why. */
  skipped: string[]
  /** Workers imported disabled, with why. */
  disabled: string[]
}

export const V2_IMPORT_META = 'v2import'

/**
 * Copies v2's pools and workers into `store` in one batch. Every operator must decrypt with our
 * LIFECYCLE key (else nothing is imported and the error says which key to use); a worker whose pool
 * is gone (upstream's orphans) is left out, one whose stake or endpoint v2 would have crashed on
 * comes in disabled, with a warning saying what to fix.
 */
export async function importV2(v2: V2Database, deps: { store: PoolStore; vault: OperatorVault; logger: Logger; keyFile: string }): Promise<V2ImportSummary> {
  const { store, vault, logger: log } = deps
  const snap = store.snapshot()
  const pidTaken = new Set([...snap.pools.values()].map((p) => p.pid))
  const nameTaken = new Set([...snap.pools.values()].map((p) => p.name))
  const workerNames = new Set([...snap.workers.values()].map((w) => w.name))
  const skipped: string[] = []
  const disabled: string[] = []
  const undecryptable: string[] = []
  const pools: PoolRecord[] = []
  const poolById = new Map<string, PoolRecord>()
  for (const p of v2.pools) {
    const pid = normalizeU64(p.pid)
    const name = typeof p.name === 'string' ? p.name : ''
    const what = `pool ${JSON.stringify(name)} (pid ${String(p.pid)})`
    if (pid === undefined || checkName(name) || pidTaken.has(pid) || nameTaken.has(name) || snap.pools.has(p.id)) {
      skipped.push(`${what}: ${pid === undefined ? 'bad pid' : checkName(name) ? 'bad name' : 'its pid, name or uuid is already in the store'}`)
      continue
    }
    let identity
    try {
      identity = await vault.open(Buffer.from(p.encryptedOperator).toString('hex'))
    } catch (e) {
      undecryptable.push(`${what}: ${(e as Error).message}`)
      continue
    }
    const real = typeof p.proxiedAccountSs58 === 'string' ? p.proxiedAccountSs58 : ''
    const rec: PoolRecord = {
      uuid: p.id, pid, name, realPhalaSs58: real, encryptedOperator: Buffer.from(p.encryptedOperator).toString('hex'),
      ...identity, enabled: p.enabled, syncOnly: p.syncOnly, seq: store.nextSeq(), createdAt: p.createdAt, updatedAt: new Date().toISOString(),
    }
    pidTaken.add(pid)
    nameTaken.add(name)
    pools.push(rec)
    poolById.set(p.id, rec)
  }
  if (undecryptable.length > 0) {
    throw new V2ImportError('ERR_V2_IMPORT_KEY', `the v2 database ${v2.path} holds ${undecryptable.length} pool operator(s) that do not decrypt with the LIFECYCLE key ${deps.keyFile}; put v2's LIFECYCLE key file there (the one v2 ran with, same PHALA_PEER_ID_PREFIX) and start again. Nothing was imported. ${undecryptable.slice(0, 5).join('; ')}`)
  }
  const workers: WorkerRecord[] = []
  for (const w of v2.workers) {
    const name = typeof w.name === 'string' ? w.name : ''
    const what = `worker ${JSON.stringify(name)}`
    const pool = typeof w.poolId === 'string' ? poolById.get(w.poolId) : undefined
    if (!pool) {
      skipped.push(`${what}: its pool (${String(w.poolId)}) is not in the v2 database or was not imported; add it again with CreateWorker`)
      continue
    }
    if (checkName(name) || workerNames.has(name) || snap.workers.has(w.id)) {
      skipped.push(`${what}: bad name, or its name or uuid is already in the store`)
      continue
    }
    const endpoint = typeof w.endpoint === 'string' ? w.endpoint : ''
    const stake = typeof w.stake === 'string' ? w.stake : ''
    const bad = [checkEndpoint(endpoint) && `endpoint ${checkEndpoint(endpoint)}`, checkStake(stake) && `stake ${checkStake(stake)}`].filter(Boolean)
    let enabled = w.enabled
    if (bad.length > 0 && enabled) {
      enabled = false
      disabled.push(`${what}: ${bad.join('; ')}`)
    }
    workerNames.add(name)
    workers.push({
      uuid: w.id, name, endpoint, stake, enabled, syncOnly: w.syncOnly, poolUuid: pool.uuid, seq: store.nextSeq(), createdAt: w.createdAt, updatedAt: new Date().toISOString(),
    })
  }
  const summary: V2ImportSummary = { source: v2.path, importedAt: new Date().toISOString(), pools: pools.length, workers: workers.length, skipped, disabled }
  const changes: StoreChange[] = [
    ...pools.map((pool) => ({ type: 'putPool' as const, pool })),
    ...workers.map((worker) => ({ type: 'putWorker' as const, worker })),
    { type: 'putMeta', name: V2_IMPORT_META, value: summary },
  ]
  await store.commit(changes)
  for (const s of skipped) log.warn({ source: v2.path }, `v2 import: left out ${s}`)
  for (const s of disabled) log.warn({ source: v2.path }, `v2 import: imported disabled (v2 would have crashed on it; fix it with UpdateWorker, then enable it) ${s}`)
  log.info({ source: v2.path, store: store.path, pools: pools.length, workers: workers.length, skipped: skipped.length, disabled: disabled.length }, `Imported ${pools.length} pool(s) and ${workers.length} worker(s) from the v2 database ${v2.path} into ${store.path}; the v2 file is left untouched.`)
  return summary
}
