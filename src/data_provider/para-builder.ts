/**
 * Dry para blocks and para batches (upstream-data-provider.md §6.5): for every stored para block n
 * from genesis.paraNumber + 1 on, `dryParaBlock:<n>` (Vec<BlockHeaderWithChanges> of one) and
 * `rangeParaBlock:key:<n>`; with batches on, every `batchSize` blocks `rangeParaBlock:buffer:<first>`
 * and the batch pointer in `rangeParaBlock:key:<first>`.
 *
 * One loop does both, so nothing races (upstream ran two uncoordinated loops and its batch
 * skip-check was never awaited): a batch is written only once its dry blocks are committed, so
 * the batch pointer at `<first>` is never overwritten by a dry entry afterwards. Each commit is an
 * atomic batch holding its LAST_COMMITTED_PARA_BLOCK(_BATCH) marker. While catching up, many
 * blocks go into one commit (bounded by count and bytes).
 */
import type { Logger } from '../common/logger.js'
import { AbortedError, retry } from '../common/retry.js'
import { keys } from './keys.js'
import { blockHeadersWithChanges } from './scale.js'
import { encodeParaRangeKey, StoreError, WriteBatch, type DataProviderStore, type GenesisRecord } from './store.js'
import { Wakeup } from './wakeup.js'

export interface ParaBuilderOptions {
  paraId: number
  /** Para blocks per batch; 0 = no batches (upstream default: PHALA_ENABLE_PARA_BATCH_SYNC off, size 15). */
  batchSize?: number
  /** Caps of one commit while catching up. */
  maxBlocksPerCommit?: number
  maxBytesPerCommit?: number
  /** Safety net for a lost notification, ms; 0 = notifications only. */
  recheckMs?: number
}

export interface ParaBuilderDeps {
  store: DataProviderStore
  logger: Logger
  onCommit?: (c: { kind: 'dry'; first: number; last: number } | { kind: 'batch'; first: number; last: number }) => void
  /** Called each time the walk parks waiting for a block. */
  onPark?: () => void
}

export class ParaBuilder {
  readonly #opts: Required<ParaBuilderOptions>
  readonly #store: DataProviderStore
  readonly #log: Logger
  readonly #onCommit: ParaBuilderDeps['onCommit']
  readonly wakeup: Wakeup
  #abort = new AbortController()
  #running: Promise<void> | undefined
  #stopping: Promise<void> | undefined
  #committed = -1
  #batchCommitted = -1

  constructor(opts: ParaBuilderOptions, deps: ParaBuilderDeps) {
    this.#opts = { batchSize: 0, maxBlocksPerCommit: 256, maxBytesPerCommit: 16 << 20, recheckMs: 10_000, ...opts }
    if (!Number.isInteger(this.#opts.batchSize) || this.#opts.batchSize < 0) throw new RangeError(`para batch size must be a non-negative integer, got ${this.#opts.batchSize}`)
    this.#store = deps.store
    this.#log = deps.logger
    this.#onCommit = deps.onCommit
    this.wakeup = new Wakeup(deps.onPark)
  }

  /** Last para block with its dry payload committed (−1 before the first). */
  get committedHeight(): number {
    return this.#committed
  }

  get batchCommittedHeight(): number {
    return this.#batchCommitted
  }

  get waiting(): boolean {
    return this.wakeup.waiting
  }

  start(): void {
    if (this.#running || this.#stopping) return
    this.#running = this.#run().catch((err) => {
      if (!(err instanceof AbortedError)) this.#log.error({ err }, 'para builder stopped on an unexpected error')
    })
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort()
      await this.#running
    })()
    return this.#stopping
  }

  #waitGenesis(): Promise<GenesisRecord> {
    return this.wakeup.until(() => this.#store.getGenesis(this.#opts.paraId), this.#abort.signal, this.#opts.recheckMs)
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal
    const genesis = await retry(() => this.#waitGenesis(), { what: 'para builder start', logger: this.#log, signal })
    const base = genesis.paraNumber
    this.#committed = (await this.#store.getJson<number>(keys.lastCommittedParaBlock)) ?? base
    this.#batchCommitted = (await this.#store.getJson<number>(keys.lastCommittedParaBlockBatch)) ?? base
    this.#log.info({ committed: this.#committed, batchCommitted: this.#batchCommitted, batchSize: this.#opts.batchSize }, 'para builder resumes')
    for (;;) {
      const gen = this.wakeup.gen
      const wrote = await retry(() => this.#step(), { what: `dry para blocks from ${this.#committed + 1}`, logger: this.#log, signal })
      if (!wrote) await this.wakeup.wait(gen, signal, this.#opts.recheckMs)
    }
  }

  /** One commit of dry blocks, then any batch now complete; false when nothing new was stored. */
  async #step(): Promise<boolean> {
    const batch = new WriteBatch()
    const first = this.#committed + 1
    let n = first
    while (n - first < this.#opts.maxBlocksPerCommit && batch.bytes < this.#opts.maxBytesPerCommit) {
      const b = await this.#store.getParaBlock(n)
      if (!b) break
      batch.put(keys.dryParaBlock(n), blockHeadersWithChanges([b.dispatchBlockData]))
      batch.put(keys.rangeParaBlockKey(n), encodeParaRangeKey({ firstBlockNumber: n, lastBlockNumber: n }))
      n++
    }
    const last = n - 1
    if (last >= first) {
      batch.putJson(keys.lastCommittedParaBlock, last)
      if (this.#abort.signal.aborted) throw new AbortedError()
      await this.#store.write(batch)
      this.#committed = last
      this.#onCommit?.({ kind: 'dry', first, last })
    }
    let batches = false
    const size = this.#opts.batchSize
    while (size > 0 && this.#batchCommitted + size <= this.#committed) {
      await this.#writeParaBatch(this.#batchCommitted + 1, this.#batchCommitted + size)
      batches = true
    }
    return last >= first || batches
  }

  async #writeParaBatch(first: number, last: number): Promise<void> {
    const data: Uint8Array[] = []
    for (let n = first; n <= last; n++) {
      const b = await this.#store.getParaBlock(n)
      if (!b) throw new StoreError('ERR_STORE_CORRUPT', `para:${n}:pb is missing although dryParaBlock:${n} was committed; the DB is damaged`)
      data.push(b.dispatchBlockData)
    }
    const bufferKey = keys.rangeParaBlockBuffer(first)
    const batch = new WriteBatch()
      .put(bufferKey, blockHeadersWithChanges(data))
      .put(keys.rangeParaBlockKey(first), encodeParaRangeKey({ bufferKey, firstBlockNumber: first, lastBlockNumber: last }))
      .putJson(keys.lastCommittedParaBlockBatch, last)
    if (this.#abort.signal.aborted) throw new AbortedError()
    await this.#store.write(batch)
    this.#batchCommitted = last
    this.#onCommit?.({ kind: 'batch', first, last })
  }
}
