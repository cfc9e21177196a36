import { AbortedError } from '../common/retry.js'

/**
 * A wake-up signal for a loop that waits for data another component writes ("block N stored").
 * No polling: the writer calls `notify()`. A generation counter closes the race between "read
 * found nothing" and "start waiting": take `gen` BEFORE the read, and `wait(gen)` returns at once
 * if a notification came in between. `recheckMs` is only a safety net for a lost notification.
 */
export class Wakeup {
  #gen = 0
  #waiters = new Set<() => void>()
  #waiting = 0
  #onWaiting: (() => void) | undefined

  constructor(onWaiting?: () => void) {
    this.#onWaiting = onWaiting
  }

  get gen(): number {
    return this.#gen
  }

  /** True while a loop is parked here with nothing new to read. */
  get waiting(): boolean {
    return this.#waiting > 0
  }

  notify(): void {
    this.#gen++
    this.#waiting = 0
    const ws = [...this.#waiters]
    this.#waiters.clear()
    for (const w of ws) w()
  }

  /** Read until `read` finds something, parked here between tries (the gen is taken before each read). */
  async until<T>(read: () => Promise<T | undefined>, signal: AbortSignal, recheckMs: number): Promise<T> {
    for (;;) {
      const gen = this.#gen
      const v = await read()
      if (v !== undefined) return v
      await this.wait(gen, signal, recheckMs)
    }
  }

  wait(sinceGen: number, signal: AbortSignal, recheckMs: number): Promise<void> {
    if (signal.aborted) return Promise.reject(new AbortedError())
    if (sinceGen !== this.#gen) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        if (timer) clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.#waiters.delete(done)
        if (this.#waiting > 0) this.#waiting--
        resolve()
      }
      const onAbort = () => {
        if (timer) clearTimeout(timer)
        this.#waiters.delete(done)
        if (this.#waiting > 0) this.#waiting--
        reject(new AbortedError())
      }
      this.#waiters.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
      if (recheckMs > 0) {
        timer = setTimeout(done, recheckMs)
        timer.unref()
      }
      this.#waiting++
      this.#onWaiting?.()
    })
  }
}
