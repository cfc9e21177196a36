/**
 * The shared fetch layer and the requests built from it (upstream-lifecycle.md §7.5-§7.6, prb v3's
 * shared cache): every worker of the engine reads blobs through here, so N workers at the same
 * height cost one fetch, and a request built once (a merged dispatch_block) serves them all.
 *
 *   immutable blobs (payloads, final metas, the per-height index): LRU, PHALA_LRU_CACHE_SIZE entries
 *     and PHALA_LRU_CACHE_MAX_AGE, bounded in bytes too (a window blob can be megabytes);
 *   volatile answers (near-tip metas, "not found"): kept only until a data provider's heights move
 *     (its generation), so they are never stale and the tip is read once per new range;
 *   concurrent requests for one key share one promise; at most PHALA_LIFECYCLE_BLOB_QUEUE_SIZE
 *     fetches are in flight, whatever the number of workers.
 */
import { LRUCache } from 'lru-cache'
import { decodeRangeMeta, type RangeMetaRecord } from '../../data_provider/index.js'
import { PrbError } from '../../common/errors.js'
import type { DataProviders } from './datasource.js'
import { mergeHeaderRanges } from './header-merge.js'

export class DataProviderInconsistentError extends PrbError {
  override name = 'DataProviderInconsistentError'
  constructor(message: string) {
    super('ERR_DP_INCONSISTENT', message)
  }
}

export interface RepositoryOptions {
  lruSize: number
  lruMaxAgeMs: number
  disableLru: boolean
  queueSize: number
  blocksPerDispatch: number
  /** Byte bound of the LRU (default 256 MiB). */
  lruMaxBytes?: number
  /** Byte bound of a merged header request (default HEADER_MERGE_MAX_BYTES); 0: one range per request, as upstream. */
  headerMergeMaxBytes?: number
}

/**
 * Consecutive ranges go to pRuntime as one sync_combined_headers up to this size (header-merge.ts);
 * far below pRuntime's 100 MiB body limit, and a few seconds of its work at most.
 */
export const HEADER_MERGE_MAX_BYTES = 8 * 1024 * 1024
/** At most this many of the data provider's ranges in one merged request (blobs fetched at once). */
const HEADER_MERGE_MAX_RANGES = 512
/** Range metas asked for ahead of the one needed (guessed starts; see mergeFrom). */
const META_LOOKAHEAD = 8
/** A relay header's size, to stop fetching ranges once a merge would be full. */
const APPROX_HEADER_BYTES = 160

/** One prepared bin_api request; `id` is the same for every worker given the same bytes. */
export interface PreparedRequest {
  action: 'sync_combined_headers' | 'dispatch_block'
  id: string
  body: Uint8Array
  /** A header request: the pRuntime's next header numbers once it took it (to prepare the request after it meanwhile). */
  after?: NextHeaders
}

export interface NextHeaders {
  headernum: number
  paraHeadernum: number
}

export interface Repository {
  get(key: string, kind: 'immutable' | 'volatile'): Promise<Uint8Array | null>
  /** The next header request for a worker at these next numbers, or null when the data provider has none yet. */
  headers(headernum: number, paraHeadernum: number): Promise<PreparedRequest | null>
  /** The next dispatch request for blocks from `blocknum` up to `paraHeadernum - 1`, or null when not there yet. */
  blocks(blocknum: number, paraHeadernum: number): Promise<PreparedRequest | null>
  /**
   * The newest para block whose header the data provider can prove now: the last para block of the
   * newest justified range at or below relay block `toRelay`, searched from relay block `fromRelay`
   * (a height the worker still needs, so covered); null when no range there holds para blocks, or
   * the data provider has no per-height index (prb's rangeCoverByParentBlock).
   */
  provableParaHead(fromRelay: number, toRelay: number): Promise<number | null>
  stats(): { cached: number; cachedBytes: number; inFlight: number; queued: number }
  clear(): void
}

const text = new TextDecoder()

class Semaphore {
  #free: number
  readonly #waiting: Array<() => void> = []
  constructor(n: number) {
    this.#free = n
  }
  get queued(): number {
    return this.#waiting.length
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--
    else await new Promise<void>((r) => this.#waiting.push(r))
    try {
      return await fn()
    } finally {
      const next = this.#waiting.shift()
      if (next) next()
      else this.#free++
    }
  }
}

const NULL = Symbol('null')

export function createRepository(o: RepositoryOptions, dps: DataProviders): Repository {
  const lru = o.disableLru || o.lruSize <= 0
    ? undefined
    : new LRUCache<string, Uint8Array>({
      max: o.lruSize,
      maxSize: o.lruMaxBytes ?? 256 * 1024 * 1024,
      sizeCalculation: (v) => Math.max(1, v.byteLength),
      ...(o.lruMaxAgeMs > 0 ? { ttl: o.lruMaxAgeMs } : {}),
    })
  let volatileGen = -1
  const volatile = new Map<string, Uint8Array | typeof NULL>()
  const inFlight = new Map<string, Promise<Uint8Array | null>>()
  const sem = new Semaphore(Math.max(1, o.queueSize))
  const perDispatch = Math.max(1, Math.min(63, o.blocksPerDispatch))

  const volatileMap = (): Map<string, Uint8Array | typeof NULL> => {
    if (volatileGen !== dps.generation || volatile.size > 20_000) {
      volatile.clear()
      volatileGen = dps.generation
    }
    return volatile
  }

  const get = async (key: string, kind: 'immutable' | 'volatile'): Promise<Uint8Array | null> => {
    const hit = lru?.get(key)
    if (hit) return hit
    const gen = dps.generation
    const v = volatileMap().get(key)
    if (v !== undefined) return v === NULL ? null : v
    let p = inFlight.get(key)
    if (!p) {
      p = sem.run(() => dps.get(key)).finally(() => inFlight.delete(key))
      inFlight.set(key, p)
    }
    const value = await p
    if (value && kind === 'immutable' && lru) lru.set(key, value)
    // An answer read before the data provider moved is kept only for that generation.
    else if (gen === dps.generation && (kind === 'volatile' || !value || o.disableLru)) volatileMap().set(key, value ?? NULL)
    return value
  }

  const meta = async (headernum: number): Promise<RangeMetaRecord | null> => {
    let raw = await get(`rangeByParentBlock:${headernum}:pb`, 'volatile')
    if (!raw) {
      // prb's per-height index: a worker whose next header is not a range start (restarted at any height).
      const k = await get(`rangeCoverByParentBlock:${headernum}`, 'immutable')
      if (k) raw = await get(text.decode(k), 'volatile')
    }
    return raw ? decodeRangeMeta(raw) : null
  }

  const merged = new Map<string, Promise<Uint8Array>>()
  const mergedHeaders = new Map<string, Promise<{ body: Uint8Array; after: NextHeaders } | null>>()
  /** Where each merged request leaves the pRuntime (its body is in the LRU). */
  const mergedAfter = new LRUCache<string, NextHeaders>({ max: 4096 })
  const mergeMaxBytes = o.headerMergeMaxBytes ?? HEADER_MERGE_MAX_BYTES

  /** The header request of a range for a pRuntime whose next para header is `paraNext` (upstream's choice). */
  const headerKey = (m: RangeMetaRecord, paraNext: number): string =>
    // Upstream: the very first para header comes from the dry range ("justification from start").
    paraNext === 1 ? m.drySyncHeaderReqKey : (m.blobSyncHeaderReqKey || m.drySyncHeaderReqKey)
  /** The last relay and para numbers the request of headerKey(m, paraNext) delivers. */
  const coverage = (m: RangeMetaRecord, paraNext: number): { relay: number; para: number } =>
    paraNext !== 1 && m.blobSyncHeaderReqKey
      ? { relay: m.blobParentStopBlock, para: m.blobParaStopBlock }
      : { relay: m.parentStopBlock, para: m.paraStopBlock }

  /**
   * The ranges after `first` joined to it while they stay in one authority set (the data provider
   * marks the range where the set changes with a new latestSetId), up to HEADER_MERGE_MAX_RANGES;
   * their blobs are fetched together. Null when nothing follows (the first range is sent alone).
   */
  const mergeFrom = async (id: string, first: RangeMetaRecord, firstBody: Uint8Array, headernum: number, paraHeadernum: number): Promise<{ body: Uint8Array; after: NextHeaders } | null> => {
    const bodies: Array<Promise<Uint8Array | null>> = [Promise.resolve(firstBody)]
    // Each range's meta names where the next one starts, but ranges are mostly of one length (the
    // data provider's justification period): the metas of the next few are asked for at once, at
    // the starts that length predicts, instead of one round trip after the other. A wrong guess is
    // one read too many.
    const asked = new Map<number, Promise<RangeMetaRecord | null>>()
    const metaAt = (n: number): Promise<RangeMetaRecord | null> => {
      let p = asked.get(n)
      if (!p) {
        p = meta(n)
        p.catch(() => undefined)
        asked.set(n, p)
      }
      return p
    }
    let m = first
    let from = headernum
    let paraNext = paraHeadernum
    let approxBytes = firstBody.byteLength
    for (;;) {
      const c = coverage(m, paraNext)
      if (c.para >= paraNext) paraNext = c.para + 1
      if (bodies.length >= HEADER_MERGE_MAX_RANGES || approxBytes > mergeMaxBytes) break
      const length = Math.max(1, c.relay + 1 - from)
      // (not beyond what the data provider has: at the tip nothing is guessed)
      const top = dps.info()?.parentProcessedHeight ?? 0
      for (let k = 1; k <= META_LOOKAHEAD && c.relay + 1 + k * length <= top; k++) void metaAt(c.relay + 1 + k * length)
      from = c.relay + 1
      const next = await metaAt(c.relay + 1)
      if (!next || next.parentStartBlock > c.relay + 1) break
      const key = headerKey(next, paraNext)
      const body = get(key, 'immutable')
      body.catch(() => undefined)
      bodies.push(body)
      approxBytes += (coverage(next, paraNext).relay - c.relay) * APPROX_HEADER_BYTES
      if (next.latestSetId !== m.latestSetId) break // the set changes at its end: nothing can follow it
      m = next
    }
    if (bodies.length < 2) return null
    const got: Uint8Array[] = []
    for (const b of await Promise.all(bodies.map((b) => b.catch(() => null)))) {
      if (!b) break
      got.push(b)
    }
    const r = mergeHeaderRanges(got, headernum, paraHeadernum, mergeMaxBytes)
    if (!r) return null
    const after = { headernum: r.relayTo + 1, paraHeadernum: r.paraNext }
    lru?.set(id, r.body)
    mergedAfter.set(id, after)
    return { body: r.body, after }
  }

  return {
    get,
    async headers(headernum, paraHeadernum) {
      const m = await meta(headernum)
      if (!m) return null
      const key = headerKey(m, paraHeadernum)
      const body = await get(key, 'immutable')
      if (!body) throw new DataProviderInconsistentError(`the data provider names ${key} in the RangeMeta at ${m.parentStartBlock} but does not have it; retrying`)
      const c = coverage(m, paraHeadernum)
      const single: PreparedRequest = { action: 'sync_combined_headers', id: key, body, after: { headernum: c.relay + 1, paraHeadernum: c.para >= paraHeadernum ? c.para + 1 : paraHeadernum } }
      if (mergeMaxBytes <= 0) return single
      const id = `prb:headers:${headernum}:${paraHeadernum}`
      const cached = lru?.get(id)
      const cachedAfter = mergedAfter.get(id)
      if (cached && cachedAfter) return { action: 'sync_combined_headers', id, body: cached, after: cachedAfter }
      let p = mergedHeaders.get(id)
      if (!p) {
        p = mergeFrom(id, m, body, headernum, paraHeadernum).finally(() => mergedHeaders.delete(id))
        mergedHeaders.set(id, p)
      }
      const merged = await p
      return merged ? { action: 'sync_combined_headers', id, body: merged.body, after: merged.after } : single
    },
    async blocks(blocknum, paraHeadernum) {
      const last = paraHeadernum - 1
      if (blocknum > last) return null
      const kRaw = await get(`rangeParaBlock:key:${blocknum}`, 'volatile')
      if (kRaw) {
        const k = JSON.parse(text.decode(kRaw)) as { bufferKey?: string; firstBlockNumber: number; lastBlockNumber: number }
        if (k.bufferKey && last >= k.lastBlockNumber && k.firstBlockNumber === blocknum) {
          const body = await get(k.bufferKey, 'immutable')
          if (body) return { action: 'dispatch_block', id: k.bufferKey, body }
        }
      }
      // Single-block blobs merged into one call; the batch ends on a multiple of blocksPerDispatch so
      // workers moving together ask for the same batch and share it.
      const end = Math.min(last, blocknum + (perDispatch - ((blocknum - 1) % perDispatch)) - 1)
      const id = `prb:dispatch:${blocknum}:${end}`
      const cached = lru?.get(id)
      if (cached) return { action: 'dispatch_block', id, body: cached }
      let p = merged.get(id)
      if (!p) {
        p = (async () => {
          const parts = await Promise.all(Array.from({ length: end - blocknum + 1 }, (_, i) => get(`dryParaBlock:${blocknum + i}`, 'immutable')))
          const elems: Uint8Array[] = []
          for (let i = 0; i < parts.length; i++) {
            const b = parts[i]
            if (!b) {
              if (i === 0) throw new MissingBlock(blocknum)
              break // a shorter batch; the rest next time
            }
            // Each dryParaBlock is SCALE Vec<BlockHeaderWithChanges> of one element: compact(1) = 0x04.
            if (b[0] !== 0x04) throw new DataProviderInconsistentError(`dryParaBlock:${blocknum + i} is not a one-block Vec (first byte ${b[0]}); the data provider's format changed?`)
            elems.push(b.subarray(1))
          }
          const size = elems.reduce((n, e) => n + e.byteLength, 1)
          const out = new Uint8Array(size)
          out[0] = elems.length << 2
          let at = 1
          for (const e of elems) {
            out.set(e, at)
            at += e.byteLength
          }
          if (elems.length === end - blocknum + 1) lru?.set(id, out)
          return out
        })().finally(() => merged.delete(id))
        merged.set(id, p)
      }
      try {
        return { action: 'dispatch_block', id, body: await p }
      } catch (e) {
        if (e instanceof MissingBlock) return null
        throw e
      }
    },
    async provableParaHead(fromRelay, toRelay) {
      // Covered relay heights are one run from the start: binary search for its end.
      const cover = (n: number) => get(`rangeCoverByParentBlock:${n}`, 'immutable')
      if (!(await cover(fromRelay))) return null
      let lo = fromRelay
      let hi = Math.max(fromRelay, toRelay)
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2)
        if (await cover(mid)) lo = mid
        else hi = mid - 1
      }
      // The newest range that delivers para headers (a range may hold none).
      for (let n = lo; ;) {
        const k = await cover(n)
        const raw = k ? await get(text.decode(k), 'volatile') : null
        if (!raw) return null
        const m = decodeRangeMeta(raw)
        if (m.paraStopBlock >= 1) return m.paraStopBlock
        if (m.parentStartBlock <= fromRelay) return null
        n = m.parentStartBlock - 1
      }
    },
    stats() {
      return { cached: lru?.size ?? 0, cachedBytes: lru?.calculatedSize ?? 0, inFlight: inFlight.size, queued: sem.queued }
    },
    clear() {
      lru?.clear()
      mergedAfter.clear()
      volatile.clear()
    },
  }
}

class MissingBlock extends Error {
  constructor(readonly n: number) {
    super(`dryParaBlock:${n} not there yet`)
  }
}
