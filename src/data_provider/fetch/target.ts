/**
 * Finalized-head tracking for one chain: poll `chain_getFinalizedHead` (+ `chain_getHeader` when it
 * moved) every `pollMs`. A failed poll is logged and retried with backoff, forever; tracking never
 * stops while the process runs (upstream's stopped for good after one failure, weakness 7).
 */
import type { Logger } from '../../common/logger.js'
import { AbortedError, backoffDelay, retry, sleep, sleepUntilReconnected } from '../../common/retry.js'
import type { Subscriber } from './live.js'
import { Wakeup } from '../wakeup.js'
import type { RpcClient } from './hashes.js'
import { headerNumber, type HeaderJson } from './scale-util.js'

export class TargetTracker {
  /** Finalized height; -1 until known. */
  target = -1
  readonly changed = new Wakeup()
  #lastHash = ''
  #failures = 0

  constructor(
    private readonly chain: RpcClient,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {}

  /** The chain said block `n` is final by other means (a live justification). */
  raise(n: number): void {
    if (n > this.target) {
      this.target = n
      this.changed.notify()
    }
  }

  /** One poll; returns the target. */
  async poll(signal?: AbortSignal): Promise<number> {
    const hash = await this.chain.rpc<string>('chain_getFinalizedHead', [], { signal })
    if (hash !== this.#lastHash) {
      const h = await this.chain.rpc<HeaderJson>('chain_getHeader', [hash], { signal })
      const n = headerNumber(h)
      this.#lastHash = hash
      if (n > this.target) {
        this.target = n
        this.changed.notify()
      }
    }
    return this.target
  }

  async run(signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        await this.poll(signal)
        if (this.#failures > 0) this.log.info({ chain: this.chain.name, target: this.target, failures: this.#failures }, 'finalized head poll works again')
        this.#failures = 0
        await sleep(this.pollMs, signal)
      } catch (err) {
        if (signal.aborted || err instanceof AbortedError) return
        this.#failures++
        const delayMs = Math.max(this.pollMs, backoffDelay(this.#failures, { minMs: this.pollMs, maxMs: 30_000 }))
        this.log.warn({ err, chain: this.chain.name, attempt: this.#failures, delayMs }, `finalized head poll of the ${this.chain.name} chain failed; retrying in ${delayMs} ms`)
        try {
          await sleepUntilReconnected(delayMs, this.chain.events, signal)
        } catch {
          return
        }
      }
    }
  }
}

/**
 * Near the tip the poll interval (upstream 3 s) is the latency: follow the node's finalized heads
 * as they come too (chain_subscribeFinalizedHeads, renewed by the connection after a reconnect);
 * the poll stays as the fallback. Returns when `signal` aborts.
 */
export async function followFinalizedHeads(chain: Subscriber, tracker: TargetTracker, log: Logger, signal: AbortSignal): Promise<void> {
  let unsubscribe: (() => Promise<void>) | undefined
  try {
    unsubscribe = await retry(() => chain.subscribe<HeaderJson>(
      { method: 'chain_subscribeFinalizedHeads', unsubscribe: 'chain_unsubscribeFinalizedHeads', notification: 'chain_finalizedHead' },
      (h) => tracker.raise(headerNumber(h)),
      { signal },
    ), { what: `subscribe to ${chain.name} finalized heads`, logger: log, signal, minMs: 500, maxMs: 30_000 })
  } catch {
    return // aborted
  }
  try {
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve()
      signal.addEventListener('abort', () => resolve(), { once: true })
    })
  } finally {
    await unsubscribe().catch(() => undefined)
  }
}
