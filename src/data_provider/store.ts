/**
 * The data provider's one LevelDB, with a small typed layer for the records of `keys.ts`.
 * Keys are UTF-8, values binary; records are protobuf `prb.db.*` through the shared codec, the
 * `LAST_COMMITTED_*` markers and para index entries are JSON text, as upstream writes them.
 * Every multi-key change goes through `write(batch)`, one atomic LevelDB batch.
 */
import { Level } from 'level'
import { getCodec } from '../common/codec.js'
import { PrbError } from '../common/errors.js'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { prepareDbDir } from './db-path.js'
import { keys, MARKER } from './keys.js'

export interface ParentBlockRecord {
  number: number
  hash: Uint8Array
  /** SCALE Header */
  header: Uint8Array
  setId: number
  hasJustification: boolean
  /** SCALE HeaderToSync */
  syncHeaderData: Uint8Array
  /** SCALE Option<AuthoritySetChange>; empty bytes read as None */
  authoritySetChange: Uint8Array
  /** the para head number included as of this relay block */
  paraNumber: number
  /** SCALE StorageProof of Paras.Heads(paraId) */
  paraProof: Uint8Array
  /**
   * prb: the justification was announced live, the node keeps none for this block (fetch/live.ts).
   * Set until the range builder closes the range there; it then moves the justification into the
   * dry range and rewrites this record as unjustified (range-builder.ts).
   */
  liveJustification?: boolean
}

export interface ParaBlockRecord {
  number: number
  hash: Uint8Array
  header: Uint8Array
  /** SCALE BlockHeaderWithChanges */
  dispatchBlockData: Uint8Array
}

export interface GenesisRecord {
  paraId: number
  paraNumber: number
  parentNumber: number
  bridgeGenesisInfo: Uint8Array
  genesisState: Uint8Array
}

export interface WindowRecord {
  parentStartBlock: number
  parentStopBlock: number
  paraStartBlock: number
  paraStopBlock: number
  windowId: number
  setId: number
  isFinished: boolean
}

export interface RangeMetaRecord {
  parentStartBlock: number
  parentStopBlock: number
  paraStartBlock: number
  paraStopBlock: number
  parentRange: number[]
  paraRange: number[]
  drySyncHeaderReqKey: string
  latestSetId: number
  blobParentStopBlock: number
  blobParaStopBlock: number
  blobSyncHeaderReqKey: string
}

/** `rangeParaBlock:key:<n>` (JSON; field order as upstream writes it). */
export interface ParaRangeKeyRecord {
  bufferKey?: string
  firstBlockNumber: number
  lastBlockNumber: number
}

const T = {
  parent: 'prb.db.ParentBlock',
  para: 'prb.db.ParaBlock',
  genesis: 'prb.db.Genesis',
  window: 'prb.db.Window',
  range: 'prb.db.RangeMeta',
} as const

const EMPTY = new Uint8Array(0)
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

export class StoreError extends PrbError {
  override name = 'StoreError'
}

function checkNumber<R extends { number: number }>(key: string, n: number, chain: 'relay' | 'para', r: R | undefined): R | undefined {
  if (r && r.number !== n) throw new StoreError('ERR_STORE_CORRUPT', `${key} holds ${chain} block ${r.number}; delete it so the fetcher stores it again`)
  return r
}

function bytes(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : EMPTY
}

/**
 * Weakness 12: set ids are u64 on chain, but upstream's proto (kept for compatibility) has
 * `uint32 ParentBlock.set_id` and `int32 Window.set_id` / `int32 RangeMeta.latest_set_id`, and
 * protobufjs would silently wrap a larger number. Refuse instead.
 */
export const MAX_SET_ID = { parentBlock: 0xffff_ffff, int32: 0x7fff_ffff } as const

function checkSetId(v: number, max: number, min: number, field: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new StoreError('ERR_SET_ID_RANGE', `GRANDPA set id ${v} does not fit ${field} (${min}..${max}) of the prb.db proto kept from upstream; storing it would wrap silently. This DB format cannot hold this chain's set ids; a wider field is needed`)
  }
}

export function encodeParentBlock(r: ParentBlockRecord): Uint8Array {
  checkSetId(r.setId, MAX_SET_ID.parentBlock, 0, 'uint32 ParentBlock.set_id')
  // The prb field only when true: every other record keeps upstream's bytes.
  const { liveJustification, ...upstream } = r
  return getCodec().encode(T.parent, liveJustification ? r : upstream)
}
export function decodeParentBlock(b: Uint8Array): ParentBlockRecord {
  const { liveJustification, ...o } = getCodec().decode<ParentBlockRecord>(T.parent, b)
  return { ...o, hash: bytes(o.hash), header: bytes(o.header), syncHeaderData: bytes(o.syncHeaderData), authoritySetChange: bytes(o.authoritySetChange), paraProof: bytes(o.paraProof), ...(liveJustification ? { liveJustification: true } : {}) }
}
export function encodeParaBlock(r: ParaBlockRecord): Uint8Array {
  return getCodec().encode(T.para, r)
}
export function decodeParaBlock(b: Uint8Array): ParaBlockRecord {
  const o = getCodec().decode<ParaBlockRecord>(T.para, b)
  return { ...o, hash: bytes(o.hash), header: bytes(o.header), dispatchBlockData: bytes(o.dispatchBlockData) }
}
export function encodeGenesis(r: GenesisRecord): Uint8Array {
  return getCodec().encode(T.genesis, r)
}
export function decodeGenesis(b: Uint8Array): GenesisRecord {
  const o = getCodec().decode<GenesisRecord>(T.genesis, b)
  return { ...o, bridgeGenesisInfo: bytes(o.bridgeGenesisInfo), genesisState: bytes(o.genesisState) }
}
export function encodeWindow(r: WindowRecord): Uint8Array {
  checkSetId(r.setId, MAX_SET_ID.int32, -1, 'int32 Window.set_id')
  return getCodec().encode(T.window, r)
}
export function decodeWindow(b: Uint8Array): WindowRecord {
  return getCodec().decode<WindowRecord>(T.window, b)
}
export function encodeRangeMeta(r: RangeMetaRecord): Uint8Array {
  checkSetId(r.latestSetId, MAX_SET_ID.int32, 0, 'int32 RangeMeta.latest_set_id')
  // Upstream's dry meta has no blob fields at all (they are added when the window ends); leave them
  // out rather than writing explicit zeros, so the bytes match upstream's.
  if (r.blobSyncHeaderReqKey === '' && r.blobParentStopBlock === 0 && r.blobParaStopBlock === 0) {
    const { blobParentStopBlock: _a, blobParaStopBlock: _b, blobSyncHeaderReqKey: _c, ...dry } = r
    return getCodec().encode(T.range, dry)
  }
  return getCodec().encode(T.range, r)
}
export function decodeRangeMeta(b: Uint8Array): RangeMetaRecord {
  return getCodec().decode<RangeMetaRecord>(T.range, b)
}
export function encodeParaRangeKey(r: ParaRangeKeyRecord): Uint8Array {
  // Upstream's JSON: bufferKey first when present, then first/last.
  const o = r.bufferKey !== undefined
    ? { bufferKey: r.bufferKey, firstBlockNumber: r.firstBlockNumber, lastBlockNumber: r.lastBlockNumber }
    : { firstBlockNumber: r.firstBlockNumber, lastBlockNumber: r.lastBlockNumber }
  return utf8.encode(JSON.stringify(o))
}

/** A set of puts and deletes committed as ONE atomic LevelDB batch (`DataProviderStore.write`). */
export class WriteBatch {
  readonly ops = new Map<string, Uint8Array>()
  readonly dels = new Set<string>()
  #bytes = 0

  put(key: string, value: Uint8Array | string): this {
    const v = typeof value === 'string' ? utf8.encode(value) : value
    const old = this.ops.get(key)
    if (old) this.#bytes -= old.length
    else this.#bytes += key.length
    this.dels.delete(key)
    this.ops.set(key, v)
    this.#bytes += v.length
    return this
  }

  /** Delete `key` (a put of the same key in this batch is dropped). */
  del(key: string): this {
    const old = this.ops.get(key)
    if (old) {
      this.#bytes -= old.length + key.length
      this.ops.delete(key)
    }
    this.dels.add(key)
    return this
  }

  putJson(key: string, value: unknown): this {
    return this.put(key, JSON.stringify(value))
  }

  get size(): number {
    return this.ops.size + this.dels.size
  }

  /** Approximate bytes of the batch, to cap batch size when catching up. */
  get bytes(): number {
    return this.#bytes
  }
}

export interface StoreOptions {
  /** LevelDB directory; created when missing. */
  path: string
}

export class DataProviderStore {
  readonly path: string
  readonly db: Level<string, Buffer>
  #closed = false

  constructor(opts: StoreOptions) {
    this.path = opts.path
    this.db = new Level<string, Buffer>(opts.path, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  }

  /** Creates the directory when missing; a path that cannot hold the DB is a ConfigError naming why. */
  async open(): Promise<void> {
    prepareDbDir(this.path)
    try {
      await this.db.open()
    } catch (e) {
      // classic-level puts LevelDB's own words ("IO error: lock …: already held by process") in the cause.
      const detail = [(e as Error).message, ((e as Error).cause as Error | undefined)?.message].filter(Boolean).join(': ')
      const todo = /lock/i.test(detail) && /held|temporarily unavailable/i.test(detail)
        ? 'another process (another data provider?) has this database open: stop it, or point PHALA_LOCAL_DB_PATH at another directory'
        : 'check the directory (PHALA_LOCAL_DB_PATH); if the files are damaged, move them away and let the data provider sync again'
      throw new StoreError('ERR_STORE_OPEN', `cannot open the data provider DB at PHALA_LOCAL_DB_PATH=${JSON.stringify(this.path)}: ${detail}; ${todo}`, { cause: e })
    }
  }

  get isOpen(): boolean {
    return this.db.status === 'open'
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.db.close()
  }

  /** The raw value (what the blob server sends), or undefined when the key is missing. */
  async get(key: string): Promise<Buffer | undefined> {
    return this.db.get(key)
  }

  async has(key: string): Promise<boolean> {
    return (await this.db.get(key)) !== undefined
  }

  async write(batch: WriteBatch): Promise<void> {
    if (batch.size === 0) return
    const ops: Array<{ type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string }> = []
    for (const [key, value] of batch.ops) ops.push({ type: 'put', key, value: Buffer.from(value.buffer, value.byteOffset, value.length) })
    for (const key of batch.dels) ops.push({ type: 'del', key })
    await this.db.batch(ops)
  }

  async getJson<T = unknown>(key: string): Promise<T | undefined> {
    const v = await this.db.get(key)
    return v === undefined ? undefined : (JSON.parse(fromUtf8.decode(v)) as T)
  }

  async getText(key: string): Promise<string | undefined> {
    const v = await this.db.get(key)
    return v === undefined ? undefined : fromUtf8.decode(v)
  }

  async #getAs<T>(key: string, decode: (v: Uint8Array) => T): Promise<T | undefined> {
    const v = await this.db.get(key)
    return v === undefined ? undefined : decode(v)
  }

  /** Relay block n; a record of another number under its key is ERR_STORE_CORRUPT. */
  async getParentBlock(n: number): Promise<ParentBlockRecord | undefined> {
    return checkNumber(keys.parentBlock(n), n, 'relay', await this.#getAs(keys.parentBlock(n), decodeParentBlock))
  }

  /** Para block n; a record of another number under its key is ERR_STORE_CORRUPT. */
  async getParaBlock(n: number): Promise<ParaBlockRecord | undefined> {
    return checkNumber(keys.paraBlock(n), n, 'para', await this.#getAs(keys.paraBlock(n), decodeParaBlock))
  }

  getGenesis(paraId: number): Promise<GenesisRecord | undefined> {
    return this.#getAs(keys.genesis(paraId), decodeGenesis)
  }

  getWindow(id: number): Promise<WindowRecord | undefined> {
    return this.#getAs(keys.window(id), decodeWindow)
  }

  getRangeMeta(parentStart: number): Promise<RangeMetaRecord | undefined> {
    return this.#getAs(keys.rangeByParentBlock(parentStart), decodeRangeMeta)
  }

  /** The RangeMeta of the dry range covering relay height n (any height, not only starts). */
  async getRangeMetaCovering(n: number): Promise<RangeMetaRecord | undefined> {
    const metaKey = await this.getText(keys.rangeCoverByParentBlock(n))
    if (metaKey === undefined) return undefined
    return this.#getAs(metaKey, decodeRangeMeta)
  }

  async getParaRangeKey(n: number): Promise<ParaRangeKeyRecord | undefined> {
    return this.getJson<ParaRangeKeyRecord>(keys.rangeParaBlockKey(n))
  }

  /** Store a fetched relay block: record and `:written` marker in one batch. */
  async putParentBlock(r: ParentBlockRecord): Promise<void> {
    await this.write(new WriteBatch().put(keys.parentBlock(r.number), encodeParentBlock(r)).put(keys.parentWritten(r.number), MARKER))
  }

  /** Store a fetched para block: record and `:written` marker in one batch. */
  async putParaBlock(r: ParaBlockRecord): Promise<void> {
    await this.write(new WriteBatch().put(keys.paraBlock(r.number), encodeParaBlock(r)).put(keys.paraWritten(r.number), MARKER))
  }

  async putGenesis(r: GenesisRecord): Promise<void> {
    await this.write(new WriteBatch().put(keys.genesis(r.paraId), encodeGenesis(r)).put(keys.genesisWritten(r.paraId), MARKER))
  }

  /** Bytes of the DB directory's files on disk (LevelDB keeps one flat directory). */
  async sizeOnDisk(): Promise<number> {
    let total = 0
    for (const e of await readdir(this.path, { withFileTypes: true })) {
      if (!e.isFile()) continue
      // A table file may be compacted away between the listing and the stat.
      total += (await stat(join(this.path, e.name)).catch(() => undefined))?.size ?? 0
    }
    return total
  }

  /** Every key and value, in key order (tests, tools). */
  async *entries(opts: { gte?: string; lt?: string } = {}): AsyncGenerator<[string, Buffer]> {
    for await (const [k, v] of this.db.iterator(opts)) yield [k, v]
  }
}

export function createStore(opts: StoreOptions): DataProviderStore {
  return new DataProviderStore(opts)
}
