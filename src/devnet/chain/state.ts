/**
 * Storage of a linear chain, kept per key as a version history (block number -> value), so any
 * block's state is readable without copying the whole state per block. The tip's state is also
 * kept as a plain map because block production reads it all the time.
 */
import type { StateView } from '../runtime-api.js'

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

  get tipNumber(): number {
    return this.#tipNumber
  }

  /** Apply the writes of block `number` (must be tipNumber + 1). */
  apply(number: number, changes: Iterable<readonly [string, string | null]>): void {
    if (number !== this.#tipNumber + 1) throw new Error(`state: block ${number} applied after ${this.#tipNumber}`)
    for (const [k, v] of changes) {
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
      this.#sorted = this.#sorted.concat(this.#unsortedAdds).sort()
      this.#unsortedAdds = []
    }
    return this.#sorted
  }

  /** Keys with `prefix` that exist at block `number`, ascending; optionally only those > `after`. */
  keysWithPrefix(prefix: string, number: number, after?: string, limit = Infinity): string[] {
    const keys = this.#keys()
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
    const out: [string, string][] = []
    for (const k of this.#keys()) {
      const v = this.get(k, number)
      if (v !== undefined) out.push([k, v])
    }
    return out
  }

  view(number: number): StateView {
    return {
      get: (key) => this.get(key.toLowerCase(), number),
      keysWithPrefix: (prefix) => this.keysWithPrefix(prefix.toLowerCase(), number),
    }
  }
}
