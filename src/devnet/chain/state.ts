/**
 * Storage of a linear chain, kept per key as a version history (block number -> value), so any
 * block's state is readable without copying the whole state per block. The tip's state is also
 * kept as a plain map because block production reads it all the time.
 *
 * Listing a past block's whole state (read proofs build its trie from it) must not cost the
 * history: keys that lived once (e.g. System.BlockHash entries pruned long ago) pile up in the
 * list of every key ever written. So every CHECKPOINT_EVERY blocks the live keys are kept sorted,
 * with the keys each block wrote; a block's keys are its checkpoint's plus those written since.
 */
import type { StateView } from '../runtime-api.js'

/** Blocks between live-key checkpoints: listing a state costs at most this many blocks' writes beyond its size. */
export const CHECKPOINT_EVERY = 64

interface History {
  at: number[]
  val: (string | null)[]
}

export class VersionedState {
  readonly #hist = new Map<string, History>()
  /** Every key ever written, sorted (keys are lower-case hex of equal prefix form, so string order = byte order). */
  #sorted: string[] = []
  #unsortedAdds: string[] = []
  readonly #tip = new Map<string, string>()
  #tipNumber = -1
  /** Keys written by each block (index = block number). */
  readonly #written: string[][] = []
  /** Live keys, sorted, at every CHECKPOINT_EVERY-th block. */
  readonly #checkpoints = new Map<number, string[]>()

  get tipNumber(): number {
    return this.#tipNumber
  }

  /** Apply the writes of block `number` (must be tipNumber + 1). */
  apply(number: number, changes: Iterable<readonly [string, string | null]>): void {
    if (number !== this.#tipNumber + 1) throw new Error(`state: block ${number} applied after ${this.#tipNumber}`)
    const written: string[] = []
    for (const [k, v] of changes) {
      written.push(k)
      let h = this.#hist.get(k)
      if (!h) {
        if (v === null) continue
        h = { at: [], val: [] }
        this.#hist.set(k, h)
        this.#unsortedAdds.push(k)
      }
      const last = h.at.length - 1
      if (last >= 0 && h.at[last] === number) h.val[last] = v
      else {
        h.at.push(number)
        h.val.push(v)
      }
      if (v === null) this.#tip.delete(k)
      else this.#tip.set(k, v)
    }
    this.#tipNumber = number
    this.#written[number] = written
    if (number % CHECKPOINT_EVERY === 0) this.#checkpoints.set(number, [...this.#tip.keys()].sort())
  }

  /** Undo the writes of the tip block `number` (a retracted block); the state is then that of `number - 1`. */
  revert(number: number, keys: Iterable<string>): void {
    if (number !== this.#tipNumber || number < 1) throw new Error(`state: cannot revert block ${number} at tip ${this.#tipNumber}`)
    for (const k of keys) {
      const h = this.#hist.get(k)
      if (!h || h.at[h.at.length - 1] !== number) continue
      h.at.pop()
      h.val.pop()
      const prev = h.val.length ? h.val[h.val.length - 1] : null
      if (prev === null || prev === undefined) this.#tip.delete(k)
      else this.#tip.set(k, prev)
    }
    this.#tipNumber = number - 1
    this.#written.length = number
    this.#checkpoints.delete(number)
  }

  get(key: string, number: number): string | undefined {
    if (number >= this.#tipNumber) return this.#tip.get(key)
    const h = this.#hist.get(key)
    if (!h) return undefined
    // Last version at or before `number`.
    let lo = 0
    let hi = h.at.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (h.at[mid]! <= number) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (found < 0) return undefined
    return h.val[found] ?? undefined
  }

  #keys(): string[] {
    if (this.#unsortedAdds.length) {
      // Merge the few new keys in (a block adds a handful): re-sorting every key ever written per block cost the history.
      const adds = this.#unsortedAdds.sort()
      const old = this.#sorted
      const out = new Array<string>(old.length + adds.length)
      let i = 0
      let j = 0
      let o = 0
      while (i < old.length && j < adds.length) out[o++] = old[i]! < adds[j]! ? old[i++]! : adds[j++]!
      while (i < old.length) out[o++] = old[i++]!
      while (j < adds.length) out[o++] = adds[j++]!
      this.#sorted = out
      this.#unsortedAdds = []
    }
    return this.#sorted
  }

  /** The keys that exist at block `number`, sorted: its checkpoint's and those written since (cost independent of the history). */
  #liveKeys(number: number): string[] {
    if (number >= this.#tipNumber) return [...this.#tip.keys()].sort()
    const base = Math.floor(number / CHECKPOINT_EVERY) * CHECKPOINT_EVERY
    const since = new Set<string>()
    for (let b = base + 1; b <= number; b++) for (const k of this.#written[b] ?? []) since.add(k)
    const out: string[] = []
    for (const k of this.#checkpoints.get(base) ?? []) if (!since.has(k)) out.push(k)
    for (const k of since) if (this.get(k, number) !== undefined) out.push(k)
    if (since.size > 0) out.sort()
    return out
  }

  /** Keys with `prefix` that exist at block `number`, ascending; optionally only those > `after`. */
  keysWithPrefix(prefix: string, number: number, after?: string, limit = Infinity): string[] {
    // A narrow prefix scans the keys ever written under it; the whole state is listed from its checkpoint instead.
    const keys = prefix === '0x' || prefix === '' ? this.#liveKeys(number) : this.#keys()
    let lo = 0
    let hi = keys.length
    const from = after !== undefined && after > prefix ? after : prefix
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (keys[mid]! < from) lo = mid + 1
      else hi = mid
    }
    const out: string[] = []
    for (let i = lo; i < keys.length && out.length < limit; i++) {
      const k = keys[i]!
      if (!k.startsWith(prefix)) break
      if (after !== undefined && k <= after) continue
      if (this.get(k, number) !== undefined) out.push(k)
    }
    return out
  }

  /** All pairs at block `number`, sorted by key. */
  entries(number: number): [string, string][] {
    if (number >= this.#tipNumber) return [...this.#tip.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    return this.#liveKeys(number).map((k) => [k, this.get(k, number)!])
  }

  view(number: number): StateView {
    return {
      get: (key) => this.get(key.toLowerCase(), number),
      keysWithPrefix: (prefix) => this.keysWithPrefix(prefix.toLowerCase(), number),
    }
  }
}
