/**
 * The range/window builder (upstream-data-provider.md §6): walks the stored relay blocks in order
 * and writes, per justified relay block, one dry range (SyncCombinedHeadersReq + RangeMeta +
 * indexes) and, per GRANDPA authority set, one window blob linked from every RangeMeta of that
 * window.
 *
 * Crash safety: all the keys of one range (and, at a set change, of the whole window end) plus the
 * resume cursor go into ONE atomic LevelDB batch. Nothing is written between commits, so a crash
 * anywhere leaves the DB exactly at the last commit and the walk resumes from the cursor with no
 * gap and no half-written record.
 *
 * Memory: only the current dry range's header bytes and para headers are held; the window blob is
 * assembled from the DB when the window ends (upstream held every full block of the window).
 *
 * Where we depart from upstream (weaknesses §11):
 *  - para headers of a range are computed exactly: (para head delivered so far, para head recorded
 *    at the range's last relay block]. Upstream's pointer-equality match (at most one per relay
 *    block) gives the same list on a normal chain but stalls for good if the head ever jumps by 2;
 *    the window para start heuristic of §6.2 step 3 is gone for the same reason.
 *  - a window ends at a JUSTIFIED block whose set id is above the set id before the window; on a
 *    normal chain that is the set-change block itself (it always carries a justification), and a
 *    blob can never end on an unjustified header.
 *  - `authoritySetChange` of a dry range is Some when the set id rose since the end of the previous
 *    range (= upstream's "since the previous relay block" on a normal chain).
 *  - a window with no para header records paraStop = paraStart − 1 and blob_para_stop_block = −1
 *    (upstream wrote paraStop = paraStart, claiming a para block that was not there).
 *  - every relay height gets `rangeCoverByParentBlock:<n>` and every delivered para header
 *    `rangeCoverByParaBlock:<n>` (keys.ts).
 */
import type { Logger } from '../common/logger.js'
import { AbortedError, retry } from '../common/retry.js'
import { keys, MARKER, rangeSuffix } from './keys.js'
import { headerToSyncWithoutJustification, SCALE_NONE, syncCombinedHeadersReq } from './scale.js'
import {
  decodeRangeMeta, encodeParentBlock, encodeRangeMeta, encodeWindow, StoreError, WriteBatch,
  type DataProviderStore, type GenesisRecord, type ParentBlockRecord, type RangeMetaRecord,
} from './store.js'
import { Wakeup } from './wakeup.js'

/** Where the walk resumes; stored as JSON under `prb:builder:cursor` with every range commit. */
export interface BuilderCursor {
  /** first relay block not yet in a committed dry range */
  nextParent: number
  /** set id of relay block nextParent − 1 */
  prevSetId: number
  /** last para header delivered by a committed range */
  paraHead: number
  windowId: number
  windowStart: number
  windowParaStart: number
  /** set id before the window: the window ends at a justified block above it */
  windowBaseSetId: number
  /** set id of the window's first block (Window.set_id), −1 until its first range commits */
  windowFirstSetId: number
  /** stop of the last finished window, −1 before the first */
  lastWindowStop: number
  /**
   * Set while dry ranges end at live justifications: the start of the first such range since the
   * last range that ended at a justification the node keeps, and the para head before it. Absent
   * otherwise (so a history sync writes the cursor as before).
   */
  liveSince?: number
  liveParaHead?: number
  /** Dry payloads superseded by a covering one, deleted once the walk passes `after` (see LIVE RANGES). */
  prune?: Array<{ after: number; keys: string[] }>
}

export interface RangeBuilderProgress {
  /** last relay block read by the walk */
  parentProcessedHeight: number
  /** last relay block inside a committed dry range: every height up to it has a RangeMeta */
  parentRangeHeight: number
  /** stop of the last finished window: every RangeMeta up to it is final (blob fields set) */
  parentCommittedHeight: number
}

export type RangeCommit =
  | { kind: 'range'; start: number; stop: number; paraStart: number; paraStop: number }
  | { kind: 'window'; windowId: number; start: number; stop: number; paraStart: number; paraStop: number; blobKey: string }

/** Relay blocks a superseded dry payload stays readable (~1 h of 6 s blocks; see LIVE RANGES). */
export const DEFAULT_LIVE_PRUNE_GRACE_BLOCKS = 600

export interface RangeBuilderOptions {
  paraId: number
  /** Relay blocks a dry payload superseded by a covering one stays readable (default 600). */
  livePruneGraceBlocks?: number
  /** Safety net for a lost notification, ms; 0 = wait for notifications only. */
  recheckMs?: number
  /**
   * First para header window 0 delivers. Default genesis.paraNumber + 1 (upstream v2 HEAD); pRuntime
   * HEAD counts para headers from #0 (chain.md §6.3), so the data provider passes 0 (as upstream's
   * unmerged `phat` branch did). Only read when the walk starts from an empty DB.
   */
  firstParaHeader?: number
}

export interface RangeBuilderDeps {
  store: DataProviderStore
  logger: Logger
  /** Called after each atomic commit (a range, then the window when one ends there). */
  onCommit?: (c: RangeCommit) => void
  /** Called each time the walk parks waiting for a block. */
  onPark?: () => void
}

interface RangeWalk {
  start: number
  last: ParentBlockRecord
  headers: Uint8Array[]
}

export class RangeBuilder {
  readonly #opts: Required<Omit<RangeBuilderOptions, 'firstParaHeader' | 'livePruneGraceBlocks'>> & Pick<RangeBuilderOptions, 'firstParaHeader'> & { livePruneGraceBlocks: number }
  readonly #store: DataProviderStore
  readonly #log: Logger
  readonly #onCommit: ((c: RangeCommit) => void) | undefined
  readonly parentWakeup: Wakeup
  readonly paraWakeup: Wakeup
  #abort = new AbortController()
  #running: Promise<void> | undefined
  #stopping: Promise<void> | undefined
  #progress: RangeBuilderProgress = { parentProcessedHeight: -1, parentRangeHeight: -1, parentCommittedHeight: -1 }

  constructor(opts: RangeBuilderOptions, deps: RangeBuilderDeps) {
    this.#opts = { recheckMs: 10_000, ...opts, livePruneGraceBlocks: opts.livePruneGraceBlocks ?? DEFAULT_LIVE_PRUNE_GRACE_BLOCKS }
    this.#store = deps.store
    this.#log = deps.logger
    this.#onCommit = deps.onCommit
    this.parentWakeup = new Wakeup(deps.onPark)
    this.paraWakeup = new Wakeup(deps.onPark)
  }

  get progress(): RangeBuilderProgress {
    return { ...this.#progress }
  }

  /** True while the walk is parked waiting for a block that is not stored yet. */
  get waiting(): boolean {
    return this.parentWakeup.waiting || this.paraWakeup.waiting
  }

  start(): void {
    if (this.#running || this.#stopping) return
    this.#running = this.#run().catch((err) => {
      if (!(err instanceof AbortedError)) this.#log.error({ err }, 'range builder stopped on an unexpected error')
    })
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort()
      await this.#running
    })()
    return this.#stopping
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal
    let cursor = await retry(() => this.#loadOrInitCursor(), { what: 'range builder start', logger: this.#log, signal })
    this.#progress = { parentProcessedHeight: cursor.nextParent - 1, parentRangeHeight: cursor.nextParent - 1, parentCommittedHeight: cursor.lastWindowStop }
    this.#log.info({ cursor }, 'range builder resumes')
    for (;;) {
      const c = cursor
      cursor = await retry(() => this.#buildOneRange(c), { what: `dry range from relay block ${c.nextParent}`, logger: this.#log, signal, retryable: (e) => !(e instanceof AbortedError) })
    }
  }

  #waitGenesis(): Promise<GenesisRecord> {
    return this.parentWakeup.until(() => this.#store.getGenesis(this.#opts.paraId), this.#abort.signal, this.#opts.recheckMs)
  }

  #waitParent(n: number): Promise<ParentBlockRecord> {
    return this.parentWakeup.until(() => this.#store.getParentBlock(n), this.#abort.signal, this.#opts.recheckMs)
  }

  async #waitParaHeader(n: number): Promise<Uint8Array> {
    return (await this.paraWakeup.until(() => this.#store.getParaBlock(n), this.#abort.signal, this.#opts.recheckMs)).header
  }

  async #loadOrInitCursor(): Promise<BuilderCursor> {
    const saved = await this.#store.getJson<BuilderCursor>(keys.builderCursor)
    if (saved) return saved
    const genesis = await this.#waitGenesis()
    const before = await this.#waitParent(genesis.parentNumber)
    const start = genesis.parentNumber + 1
    const firstPara = this.#opts.firstParaHeader ?? genesis.paraNumber + 1
    const cursor: BuilderCursor = {
      nextParent: start,
      prevSetId: before.setId,
      paraHead: firstPara - 1,
      windowId: 0,
      windowStart: start,
      windowParaStart: firstPara,
      windowBaseSetId: before.setId,
      windowFirstSetId: -1,
      lastWindowStop: -1,
    }
    const batch = new WriteBatch()
      .put(keys.window(0), encodeWindow({ parentStartBlock: start, parentStopBlock: -1, paraStartBlock: cursor.windowParaStart, paraStopBlock: -1, windowId: 0, setId: -1, isFinished: false }))
      .putJson(keys.builderCursor, cursor)
    await this.#store.write(batch)
    return cursor
  }

  /** Read relay blocks from the cursor up to the next justified one. */
  async #walkRange(c: BuilderCursor): Promise<RangeWalk> {
    const headers: Uint8Array[] = []
    for (let n = c.nextParent; ; n++) {
      const b = await this.#waitParent(n)
      headers.push(b.syncHeaderData)
      if (n > this.#progress.parentProcessedHeight) this.#progress.parentProcessedHeight = n
      if (b.hasJustification) return { start: c.nextParent, last: b, headers }
    }
  }

  async #buildOneRange(c: BuilderCursor): Promise<BuilderCursor> {
    const walk = await this.#walkRange(c)
    const { start, last } = walk
    const stop = last.number
    if (last.paraNumber < c.paraHead) {
      this.#log.warn({ relay: stop, paraNumber: last.paraNumber, paraHead: c.paraHead }, 'para head recorded at this relay block is below the one already delivered; no para header in this range')
    }
    const paraNums: number[] = []
    for (let p = c.paraHead + 1; p <= last.paraNumber; p++) paraNums.push(p)
    const paraHeaders: Uint8Array[] = []
    for (const p of paraNums) paraHeaders.push(await this.#waitParaHeader(p))

    const setIdChanged = last.setId > c.prevSetId
    const authoritySetChange = setIdChanged ? last.authoritySetChange : new Uint8Array(0)
    const paraStart = paraNums.length > 0 ? paraNums[0]! : -1
    const paraStop = paraNums.length > 0 ? paraNums[paraNums.length - 1]! : -1
    const suffix = rangeSuffix(start, stop, paraStart, paraStop)
    const live = last.liveJustification === true
    const batch = new WriteBatch()
    // LIVE RANGES: after ranges that ended at live justifications, this range ends at one the node
    // keeps: one covering payload replaces theirs (and this range's own).
    const covering = !live && c.liveSince !== undefined ? await this.#supersedeLiveRanges(batch, c, start, last, walk.headers, authoritySetChange) : undefined
    const dryKey = covering?.key ?? keys.drySyncHeader(suffix)
    if (!covering) {
      batch.put(dryKey, syncCombinedHeadersReq({ relaychainHeaders: walk.headers, authoritySetChange, parachainHeaders: paraHeaders, proof: last.paraProof }))
    }
    if (live) {
      // The justification is now in the dry payload: the record no longer carries a copy (stored once).
      batch.put(keys.parentBlock(stop), encodeParentBlock({ ...last, hasJustification: false, syncHeaderData: headerToSyncWithoutJustification(last.header), authoritySetChange: SCALE_NONE, liveJustification: false }))
    }
    const parentRange: number[] = []
    for (let n = start; n <= stop; n++) parentRange.push(n)
    const meta: RangeMetaRecord = {
      parentStartBlock: start,
      parentStopBlock: stop,
      paraStartBlock: paraStart,
      paraStopBlock: paraStop,
      parentRange,
      paraRange: paraNums,
      drySyncHeaderReqKey: dryKey,
      latestSetId: last.setId,
      blobParentStopBlock: 0,
      blobParaStopBlock: 0,
      blobSyncHeaderReqKey: '',
    }
    const metaKey = keys.rangeByParentBlock(start)
    const dryMetaBytes = encodeRangeMeta(meta)

    batch
      .put(keys.rangeWritten(suffix), MARKER)
      .put(metaKey, dryMetaBytes)
      .put(keys.rangeByParaBlockUpstream(start), dryMetaBytes)
    for (let n = start; n <= stop; n++) batch.put(keys.rangeCoverByParentBlock(n), metaKey)
    for (const p of paraNums) batch.put(keys.rangeCoverByParaBlock(p), metaKey)

    const windowFirstSetId = c.windowFirstSetId === -1 && start === c.windowStart ? (await this.#firstSetId(start, last)) : c.windowFirstSetId
    const next: BuilderCursor = {
      ...c,
      nextParent: stop + 1,
      prevSetId: last.setId,
      paraHead: Math.max(c.paraHead, last.paraNumber),
      windowFirstSetId,
    }
    const windowEnds = last.setId > c.windowBaseSetId
    if (live && windowEnds) {
      // Only on a chain whose set changed at an unjustified block: a covering payload must not span
      // a window end (pRuntime switches sets only at a batch's last header), so these stay as they are.
      delete next.liveSince
      delete next.liveParaHead
    } else if (live && c.liveSince === undefined) {
      next.liveSince = start
      next.liveParaHead = c.paraHead
    }
    if (covering) {
      delete next.liveSince
      delete next.liveParaHead
      next.prune = [...(c.prune ?? []), { after: stop + this.#opts.livePruneGraceBlocks, keys: covering.superseded }]
    }
    // Superseded payloads whose grace has passed.
    const due = next.prune?.filter((p) => p.after <= stop) ?? []
    if (due.length > 0) {
      for (const p of due) for (const k of p.keys) batch.del(k)
      next.prune = next.prune!.filter((p) => p.after > stop)
    }
    if (next.prune?.length === 0) delete next.prune
    let windowCommit: RangeCommit | undefined
    if (windowEnds) {
      windowCommit = await this.#addWindowEnd(batch, c, meta, last, next.paraHead)
      next.windowId = c.windowId + 1
      next.windowStart = stop + 1
      next.windowParaStart = next.paraHead + 1
      next.windowBaseSetId = last.setId
      next.windowFirstSetId = -1
      next.lastWindowStop = stop
      batch.put(keys.window(next.windowId), encodeWindow({ parentStartBlock: next.windowStart, parentStopBlock: -1, paraStartBlock: next.windowParaStart, paraStopBlock: -1, windowId: next.windowId, setId: -1, isFinished: false }))
    } else {
      batch.put(keys.window(c.windowId), encodeWindow({ parentStartBlock: c.windowStart, parentStopBlock: -1, paraStartBlock: c.windowParaStart, paraStopBlock: -1, windowId: c.windowId, setId: windowFirstSetId, isFinished: false }))
    }
    batch.putJson(keys.builderCursor, next)

    if (this.#abort.signal.aborted) throw new AbortedError()
    await this.#store.write(batch)

    this.#progress.parentRangeHeight = stop
    if (windowEnds) this.#progress.parentCommittedHeight = stop
    this.#log.debug({ start, stop, paraStart, paraStop, setId: last.setId, windowEnds }, 'dry range committed')
    this.#onCommit?.({ kind: 'range', start, stop, paraStart, paraStop })
    if (windowCommit) {
      this.#log.info(windowCommit, 'window committed')
      this.#onCommit?.(windowCommit)
    }
    return next
  }

  /**
   * LIVE RANGES. Near the tip, dry ranges end at live justifications (fetch/live.ts): ~92 KB each on
   * Kusama, one every few blocks, which the node itself does not keep. Once the walk reaches a block
   * with a justification the node keeps (the period one or a set change), they are no longer needed:
   *
   *  - one covering dry payload is written, from the first live-ended range's start (`liveSince`) to
   *    this block: its relay headers without justification but the last, the para headers from the
   *    para head before `liveSince`, the proof at this block. It is valid for a worker whose next
   *    relay header is ANY height in it: pRuntime drops the relay and para headers it already has
   *    (chain.md §6.3), and a worker at relay n has every para header up to the head at n − 1.
   *  - every RangeMeta since `liveSince` (this range's included) keeps its numbers and keys but names
   *    the covering payload as drySyncHeaderReqKey. So every key a worker or lifecycle (ours or
   *    upstream's) asks for still exists — `rangeByParentBlock:<start>:pb` at each former start, the
   *    per-height cover index — and leads to a payload pRuntime accepts. Their own range ended
   *    earlier, but a lifecycle takes the synced heights from pRuntime's answer, not from the meta.
   *  - the live-ended ranges' own payloads (already served, maybe cached with their meta by a
   *    lifecycle: upstream's blob cache keeps entries 30 min) stay readable for
   *    `livePruneGraceBlocks` more relay blocks (default 600, ~1 h), then are deleted in the commit
   *    that passes that height. Until then they remain valid pRuntime input too. Deleting them at
   *    once could leave a lifecycle holding a cached meta that names a missing key (upstream's waits
   *    on a missing payload without re-reading the meta).
   *
   * Each live justification is thus stored once (its record drops it when its range commits) and
   * only until the node's own justification covers its range. A window never ends at a live
   * justification, so window blobs never held one. Returns the covering key and the keys to delete.
   */
  async #supersedeLiveRanges(batch: WriteBatch, c: BuilderCursor, start: number, last: ParentBlockRecord, ownHeaders: Uint8Array[], authoritySetChange: Uint8Array): Promise<{ key: string; superseded: string[] }> {
    const from = c.liveSince!
    const relaychainHeaders: Uint8Array[] = []
    for (let n = from; n < start; n++) relaychainHeaders.push(headerToSyncWithoutJustification((await this.#waitParent(n)).header))
    relaychainHeaders.push(...ownHeaders)
    const paraNums: number[] = []
    for (let p = c.liveParaHead! + 1; p <= last.paraNumber; p++) paraNums.push(p)
    const parachainHeaders: Uint8Array[] = []
    for (const p of paraNums) parachainHeaders.push(await this.#waitParaHeader(p))
    const key = keys.drySyncHeader(rangeSuffix(from, last.number, paraNums[0] ?? -1, paraNums.at(-1) ?? -1))
    batch.put(key, syncCombinedHeadersReq({ relaychainHeaders, authoritySetChange, parachainHeaders, proof: last.paraProof }))
    const superseded: string[] = []
    for (let s = from; s < start;) {
      const raw = await this.#store.get(keys.rangeByParentBlock(s))
      if (!raw) throw new StoreError('ERR_STORE_CORRUPT', `no RangeMeta at relay block ${s} although the builder cursor is past it; the DB is damaged, rebuild it from an empty directory`)
      const m = decodeRangeMeta(raw)
      superseded.push(m.drySyncHeaderReqKey)
      // No window ended since liveSince (only set changes end one, and they reset it): a dry meta.
      const bytes = encodeRangeMeta({ ...m, drySyncHeaderReqKey: key })
      batch.put(keys.rangeByParentBlock(s), bytes).put(keys.rangeByParaBlockUpstream(s), bytes)
      s = m.parentStopBlock + 1
    }
    return { key, superseded }
  }

  /** The set id of the window's first block; it is `last` itself for a one-block range. */
  async #firstSetId(start: number, last: ParentBlockRecord): Promise<number> {
    if (last.number === start) return last.setId
    return (await this.#waitParent(start)).setId
  }

  /**
   * Add the window end to `batch`: the window blob, blob fields on every RangeMeta of the window
   * (the current range's `meta` included), the finished Window record, the upstream markers.
   */
  async #addWindowEnd(batch: WriteBatch, c: BuilderCursor, meta: RangeMetaRecord, last: ParentBlockRecord, paraHead: number): Promise<RangeCommit> {
    const start = c.windowStart
    const stop = last.number
    const hasPara = paraHead >= c.windowParaStart
    const paraStart = hasPara ? c.windowParaStart : -1
    const paraStop = hasPara ? paraHead : -1
    const suffix = rangeSuffix(start, stop, paraStart, paraStop)
    const blobKey = keys.blobRange(suffix)

    // Relay headers from the DB: all but the last without justification, the last as stored.
    const relaychainHeaders: Uint8Array[] = []
    for (let n = start; n < stop; n++) relaychainHeaders.push(headerToSyncWithoutJustification((await this.#waitParent(n)).header))
    relaychainHeaders.push(last.syncHeaderData)
    const parachainHeaders: Uint8Array[] = []
    if (hasPara) for (let p = c.windowParaStart; p <= paraHead; p++) parachainHeaders.push(await this.#waitParaHeader(p))
    const blob = syncCombinedHeadersReq({ relaychainHeaders, authoritySetChange: last.authoritySetChange, parachainHeaders, proof: last.paraProof })
    batch.put(blobKey, blob).put(keys.blobRangeCommitted(suffix), MARKER)

    const withBlob = (m: RangeMetaRecord): RangeMetaRecord => ({ ...m, blobParentStopBlock: stop, blobParaStopBlock: paraStop, blobSyncHeaderReqKey: blobKey })
    // Earlier ranges of the window, found by following the committed metas start → stop + 1.
    for (let s = start; s < meta.parentStartBlock;) {
      // This batch may already rewrite it (LIVE RANGES).
      const raw = batch.ops.get(keys.rangeByParentBlock(s)) ?? await this.#store.get(keys.rangeByParentBlock(s))
      if (!raw) throw new StoreError('ERR_STORE_CORRUPT', `window ${c.windowId}: no RangeMeta at relay block ${s} although the builder cursor is past it; the DB is damaged, rebuild it from an empty directory`)
      const m = decodeRangeMeta(raw)
      batch.put(keys.rangeByParentBlock(s), encodeRangeMeta(withBlob(m)))
      s = m.parentStopBlock + 1
    }
    batch.put(keys.rangeByParentBlock(meta.parentStartBlock), encodeRangeMeta(withBlob(meta)))

    const firstSetId = c.windowFirstSetId !== -1 ? c.windowFirstSetId : await this.#firstSetId(start, last)
    batch.put(keys.window(c.windowId), encodeWindow({
      parentStartBlock: start,
      parentStopBlock: stop,
      paraStartBlock: c.windowParaStart,
      paraStopBlock: hasPara ? paraHead : c.windowParaStart - 1,
      windowId: c.windowId,
      setId: firstSetId,
      isFinished: true,
    }))
    batch.putJson(keys.lastCommittedParentBlock, stop)
    return { kind: 'window', windowId: c.windowId, start, stop, paraStart, paraStop, blobKey }
  }
}
