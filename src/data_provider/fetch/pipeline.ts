/**
 * The ordered, pipelined fetch loop of one chain (beyond upstream §3.3, which fetched one block at
 * a time with its RPCs in sequence):
 *
 *   - up to `parallel` blocks past the last committed one are in flight at once, each issuing its
 *     RPCs together; nothing beyond that window is fetched, so memory is bounded at any height;
 *   - results are committed strictly in order: each commit takes every consecutive block that is
 *     ready, runs the in-order step (`finalize`: continuity check, justification probe), and writes
 *     records + the resume cursor in ONE atomic LevelDB batch (capped in blocks and bytes);
 *   - a block whose fetch fails is retried with backoff forever, each failure logged with the block
 *     number and cause (error level from the 3rd attempt on); the process never exits for it;
 *   - after a crash the cursor says exactly which block comes next: no gap, no half record.
 */
import type { Logger } from '../../common/logger.js'
import { AbortedError, backoffDelay, sleep, sleepUntilReconnected } from '../../common/retry.js'
import { WriteBatch, type DataProviderStore } from '../store.js'
import type { TargetTracker } from './target.js'

export interface PipelineSpec<R, C> {
  /** "relay" | "para", for logs. */
  name: string
  parallel: number
  cursorKey: string
  /** Fetch everything for block n (may be called again for the same n after a failure). */
  fetch(n: number, signal: AbortSignal): Promise<R>
  /** In-order step before commit; may refuse (throw) to have the block fetched again. */
  finalize(r: R, state: C, signal: AbortSignal): Promise<void>
  /** Add the block's records to the batch and advance the in-memory state. */
  encode(r: R, batch: WriteBatch, state: C): number
  /** The state to persist with each commit (next block included). */
  initialState(cursor: (C & { next: number }) | undefined): Promise<C & { next: number }>
  /** The chain connection's events: a failed fetch is retried as soon as it reconnects. */
  chainEvents?: { once(e: 'connected', fn: () => void): unknown; off(e: 'connected', fn: () => void): unknown }
  /** Called after each commit with the last committed number. */
  onCommit?(last: number): void
  maxBlocksPerCommit?: number
  maxBytesPerCommit?: number
}

interface Slot<R> {
  n: number
  promise: Promise<R>
  settled: boolean
  value?: R
  error?: unknown
}

export interface PipelineStats {
  /** last committed block (-1 before any) */
  committed: number
  target: number
  inFlight: number
  /** blocks committed since start */
  blocksDone: number
  /** failed fetch attempts since start */
  failures: number
}

export class FetchPipeline<R, C extends object> {
  #committed = -1
  #blocksDone = 0
  #failures = 0
  #slots = new Map<number, Slot<R>>()

  constructor(
    private readonly spec: PipelineSpec<R, C>,
    private readonly store: DataProviderStore,
    private readonly tracker: TargetTracker,
    private readonly log: Logger,
  ) {}

  stats(): PipelineStats {
    return { committed: this.#committed, target: this.tracker.target, inFlight: this.#slots.size, blocksDone: this.#blocksDone, failures: this.#failures }
  }

  get committed(): number {
    return this.#committed
  }

  async loadState(): Promise<C & { next: number }> {
    const saved = await this.store.getJson<C & { next: number }>(this.spec.cursorKey)
    const state = await this.spec.initialState(saved)
    this.#committed = state.next - 1
    return state
  }

  /** Fetch with retry; one slot per block number. */
  #start(n: number, signal: AbortSignal): void {
    const slot: Slot<R> = { n, settled: false, promise: undefined as unknown as Promise<R> }
    slot.promise = (async () => {
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) throw new AbortedError()
        try {
          return await this.spec.fetch(n, signal)
        } catch (err) {
          if (signal.aborted) throw new AbortedError()
          this.#failures++
          const delayMs = backoffDelay(attempt, { minMs: 250, maxMs: 30_000 })
          const fields = { err, chain: this.spec.name, block: n, attempt, delayMs }
          const msg = `${this.spec.name} block ${n}: fetch failed (attempt ${attempt}): ${(err as Error)?.message ?? String(err)}; retrying in ${delayMs} ms`
          if (attempt >= 3) this.log.error(fields, msg)
          else this.log.warn(fields, msg)
          await sleepUntilReconnected(delayMs, this.spec.chainEvents, signal)
        }
      }
    })()
    slot.promise.then(
      (v) => {
        slot.settled = true
        slot.value = v
      },
      (e: unknown) => {
        slot.settled = true
        slot.error = e
      },
    )
    this.#slots.set(n, slot)
  }

  async run(signal: AbortSignal): Promise<void> {
    let state = await this.loadState()
    const maxBlocks = this.spec.maxBlocksPerCommit ?? 512
    const maxBytes = this.spec.maxBytesPerCommit ?? 32 << 20
    let next = state.next
    this.log.info({ chain: this.spec.name, next, parallel: this.spec.parallel }, `${this.spec.name} fetch resumes at block ${next}`)
    try {
      for (;;) {
        if (signal.aborted) throw new AbortedError()
        const gen = this.tracker.changed.gen
        // Fill the window.
        while (next <= this.tracker.target && next - this.#committed <= this.spec.parallel) {
          this.#start(next, signal)
          next++
        }
        const head = this.#slots.get(this.#committed + 1)
        if (!head) {
          await this.tracker.changed.wait(gen, signal, 0)
          continue
        }
        try {
          await head.promise
        } catch (err) {
          if (signal.aborted) throw new AbortedError()
          throw err
        }
        // Commit every consecutive ready block.
        const batch = new WriteBatch()
        const working = structuredClone(state)
        let last = this.#committed
        let count = 0
        for (let n = this.#committed + 1; ; n++) {
          const slot = this.#slots.get(n)
          if (!slot || !slot.settled || slot.error !== undefined) break
          const r = slot.value as R
          try {
            await this.spec.finalize(r, working, signal)
          } catch (err) {
            if (signal.aborted) throw new AbortedError()
            this.#failures++
            this.log.error({ err, chain: this.spec.name, block: n }, `${this.spec.name} block ${n} refused before commit: ${(err as Error)?.message ?? String(err)}; fetching it again`)
            this.#slots.delete(n)
            this.#start(n, signal)
            // Back off a little so a persistent mismatch does not spin.
            await sleep(backoffDelay(Math.min(this.#failures, 8), { minMs: 250, maxMs: 10_000 }), signal)
            break
          }
          this.spec.encode(r, batch, working)
          working.next = n + 1
          last = n
          count++
          if (count >= maxBlocks || batch.bytes >= maxBytes) break
        }
        if (count === 0) continue
        batch.putJson(this.spec.cursorKey, working)
        await this.#write(batch, signal)
        for (let n = this.#committed + 1; n <= last; n++) this.#slots.delete(n)
        this.#committed = last
        this.#blocksDone += count
        state = working
        this.spec.onCommit?.(last)
      }
    } finally {
      // Let in-flight fetches see the abort; their rejections are handled by the slot handlers.
      this.#slots.clear()
    }
  }

  async #write(batch: WriteBatch, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.write(batch)
        return
      } catch (err) {
        if (signal.aborted) throw new AbortedError()
        const delayMs = backoffDelay(attempt, { minMs: 500, maxMs: 30_000 })
        this.log.error({ err, chain: this.spec.name, attempt, delayMs }, `${this.spec.name}: writing fetched blocks to the DB failed; retrying in ${delayMs} ms`)
        await sleep(delayMs, signal)
      }
    }
  }
}
