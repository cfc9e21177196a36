import type { Logger } from './logger.js'

export interface BackoffOptions {
  /** First delay, ms. */
  minMs?: number
  /** Largest delay, ms. */
  maxMs?: number
  factor?: number
  /** 0..1: the share of each delay that is random. */
  jitter?: number
}

export class AbortedError extends Error {
  override name = 'AbortedError'
  readonly code = 'ERR_ABORTED'
  constructor(message = 'operation aborted') {
    super(message)
  }
}

/** The delay before attempt `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const min = opts.minMs ?? 1000
  const max = opts.maxMs ?? 30_000
  const factor = opts.factor ?? 2
  const jitter = opts.jitter ?? 0.2
  const raw = Math.min(max, min * Math.pow(factor, Math.max(0, attempt - 1)))
  return Math.round(raw * (1 - jitter) + raw * jitter * random())
}

/** Sleep that ends early (rejecting with AbortedError) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError())
    const onAbort = () => {
      clearTimeout(timer)
      reject(new AbortedError())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * `sleep`, cut short when `events` (a chain connection's) emits 'connected': a retry after a long
 * outage runs as soon as the node is back, not when a backoff grown to its cap runs out.
 */
export function sleepUntilReconnected(ms: number, events: { once(e: 'connected', fn: () => void): unknown; off(e: 'connected', fn: () => void): unknown } | undefined, signal?: AbortSignal): Promise<void> {
  if (!events) return sleep(ms, signal)
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError())
    const done = (): void => {
      clearTimeout(timer)
      events.off('connected', done)
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      events.off('connected', done)
      reject(new AbortedError())
    }
    const timer = setTimeout(done, ms)
    events.once('connected', done)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export interface RetryOptions extends BackoffOptions {
  /** What is being retried, for the log line. */
  what: string
  logger?: Logger
  signal?: AbortSignal
  /** Give up after this many attempts; unlimited when absent. */
  maxAttempts?: number
  /** Return false for errors that must not be retried. */
  retryable?: (err: unknown) => boolean
}

/**
 * The one retry helper: exponential backoff with jitter and a cap, a log line per failed attempt
 * with its cause, stops when the signal aborts.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new AbortedError(`${opts.what}: aborted`)
    try {
      return await fn(attempt)
    } catch (err) {
      if (opts.signal?.aborted) throw new AbortedError(`${opts.what}: aborted`)
      const last = opts.maxAttempts !== undefined && attempt >= opts.maxAttempts
      if (last || (opts.retryable && !opts.retryable(err))) throw err
      const delayMs = backoffDelay(attempt, opts)
      opts.logger?.warn({ err, attempt, delayMs, what: opts.what }, `${opts.what} failed (attempt ${attempt}), retrying in ${delayMs} ms`)
      await sleep(delayMs, opts.signal)
    }
  }
}
