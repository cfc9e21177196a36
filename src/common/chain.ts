/**
 * A reconnecting connection to one Substrate node over WebSocket (@polkadot/api's WsProvider).
 *
 * - Reconnects on its own with exponential backoff (retry.ts `backoffDelay`) capped at a few seconds
 *   (`reconnect.maxMs`), forever, until stop();
 *   the process never exits because a socket dropped (upstream exited with 255, weakness 10).
 * - Every call has a deadline; while disconnected a call waits for the connection up to that same
 *   deadline, then fails with ERR_CHAIN_NOT_READY. Calls in flight when the socket drops reject at
 *   once (the provider does it) and the caller's retry decides what to do.
 * - `ready` / `whenReady()` say whether the node is reachable now ("not ready" while disconnected).
 * - `api()` builds an ApiPromise on the same provider, on first use (lifecycle, trader); it
 *   re-initialises by itself after a reconnect. The data provider only uses raw `rpc()` calls.
 */
import { EventEmitter } from 'node:events'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { PrbError, TimeoutError } from './errors.js'
import type { Logger } from './logger.js'
import { AbortedError, backoffDelay, type BackoffOptions } from './retry.js'

export class ChainError extends PrbError {
  override name = 'ChainError'
}

export interface ChainConnectionOptions {
  /** ws:// or wss:// endpoint. */
  url: string
  /** For logs and errors: "relay", "para". */
  name: string
  /** Deadline of one call, waiting for the connection included (default 60 s). */
  callTimeoutMs?: number
  /** Reconnect backoff (default 500 ms doubling to DEFAULT_RECONNECT_MAX_MS). */
  reconnect?: BackoffOptions
  /**
   * Calls timing out in a row on an open socket before it is closed and reopened (default 3): a
   * half-open TCP connection never reports "closed" by itself.
   */
  timeoutsBeforeReconnect?: number
}

/**
 * The reconnect cap when none is given (PHALA_CHAIN_RECONNECT_MAX_MS's default): a node restarted
 * next to us is back in seconds, and a 30 s cap left us away from it for up to 30 s more.
 */
export const DEFAULT_RECONNECT_MAX_MS = 3000

export interface ChainConnectionDeps {
  logger: Logger
}

export interface CallOpts {
  timeoutMs?: number
  signal?: AbortSignal
}

export interface SubscriptionSpec {
  /** e.g. grandpa_subscribeJustifications */
  method: string
  /** e.g. grandpa_unsubscribeJustifications */
  unsubscribe: string
  /** notification method, e.g. grandpa_justifications */
  notification: string
  params?: unknown[]
}

export interface ChainConnection {
  readonly name: string
  readonly url: string
  /** Connected right now. */
  readonly ready: boolean
  /** Begin connecting (returns at once; use whenReady to wait). */
  start(): void
  /** Resolves when connected (now or later); rejects on timeout / abort / stop. */
  whenReady(opts?: CallOpts): Promise<void>
  /** One JSON-RPC call with a deadline. */
  rpc<T = unknown>(method: string, params?: unknown[], opts?: CallOpts): Promise<T>
  /**
   * A JSON-RPC subscription (waits for the connection like a call). The provider re-creates it by
   * itself each time the socket reopens; resolves with the unsubscribe function once the node took it.
   */
  subscribe<T = unknown>(s: SubscriptionSpec, onValue: (value: T) => void, opts?: CallOpts): Promise<() => Promise<void>>
  /** An ApiPromise over this connection (created once, on first use). */
  api(opts?: CallOpts): Promise<ApiPromise>
  /** 'connected' / 'disconnected' events. */
  readonly events: EventEmitter
  /** Times the connection was (re)established. */
  readonly connects: number
  /** Idempotent. */
  stop(): Promise<void>
}

export function createChainConnection(opts: ChainConnectionOptions, deps: ChainConnectionDeps): ChainConnection {
  const log = deps.logger
  const callTimeoutMs = opts.callTimeoutMs ?? 60_000
  const backoff: BackoffOptions = { minMs: 500, maxMs: DEFAULT_RECONNECT_MAX_MS, ...opts.reconnect }
  const events = new EventEmitter()
  events.setMaxListeners(0)
  // autoConnectMs 0: the provider never reconnects by itself; we do, with backoff.
  const provider = new WsProvider(opts.url, false, {}, callTimeoutMs)
  let started = false
  let stopped = false
  let failures = 0
  let connects = 0
  let timer: NodeJS.Timeout | undefined
  let apiPromise: Promise<ApiPromise> | undefined
  let stopping: Promise<void> | undefined
  let timeoutsInARow = 0
  const timeoutsBeforeReconnect = opts.timeoutsBeforeReconnect ?? 3

  const tryConnect = (): void => {
    timer = undefined
    if (stopped) return
    provider.connect().catch((err: unknown) => {
      log.warn({ err, chain: opts.name }, 'cannot open the WebSocket')
      scheduleReconnect()
    })
  }
  const scheduleReconnect = (): void => {
    if (stopped || timer) return
    failures++
    const delayMs = backoffDelay(failures, backoff)
    log.warn({ chain: opts.name, url: opts.url, attempt: failures, delayMs }, `${opts.name} chain not reachable; reconnecting in ${delayMs} ms`)
    timer = setTimeout(tryConnect, delayMs)
  }

  provider.on('connected', () => {
    connects++
    if (failures > 0) log.info({ chain: opts.name, url: opts.url, after: failures }, `${opts.name} chain reconnected`)
    else log.info({ chain: opts.name, url: opts.url }, `${opts.name} chain connected`)
    failures = 0
    events.emit('connected')
  })
  provider.on('disconnected', () => {
    if (stopped) return
    events.emit('disconnected')
    scheduleReconnect()
  })
  // Errors are followed by 'disconnected'; keep them out of the default 'error' throw path.
  provider.on('error', () => undefined)

  const whenReady = (o: CallOpts = {}): Promise<void> => {
    if (provider.isConnected) return Promise.resolve()
    if (stopped) return Promise.reject(new ChainError('ERR_CHAIN_STOPPED', `${opts.name} chain connection is stopped`))
    const timeoutMs = o.timeoutMs ?? callTimeoutMs
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(t)
        events.off('connected', onUp)
        events.off('stopped', onStop)
        o.signal?.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const onUp = (): void => done()
      const onStop = (): void => done(new ChainError('ERR_CHAIN_STOPPED', `${opts.name} chain connection is stopped`))
      const onAbort = (): void => done(new AbortedError())
      const t = setTimeout(() => done(new ChainError('ERR_CHAIN_NOT_READY', `${opts.name} chain at ${opts.url} not reachable for ${timeoutMs} ms; check the node and the endpoint (it keeps reconnecting)`)), timeoutMs)
      events.on('connected', onUp)
      events.once('stopped', onStop)
      if (o.signal?.aborted) return onAbort()
      o.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  const onTimeout = (): void => {
    timeoutsInARow++
    if (timeoutsInARow < timeoutsBeforeReconnect || !provider.isConnected || stopped) return
    timeoutsInARow = 0
    log.warn({ chain: opts.name, url: opts.url, timeouts: timeoutsBeforeReconnect }, `${opts.name} chain: ${timeoutsBeforeReconnect} calls in a row got no answer; reopening the WebSocket`)
    // Closing fires 'disconnected', which reconnects with backoff.
    provider.disconnect().catch((err: unknown) => log.debug({ err }, 'closing the silent WebSocket failed'))
  }

  const rpc = <T>(method: string, params: unknown[] = [], o: CallOpts = {}): Promise<T> => rpcLike(() => provider.send<T>(method, params), method, o)

  const subscribe = async <T>(s: SubscriptionSpec, onValue: (value: T) => void, o: CallOpts = {}): Promise<() => Promise<void>> => {
    let active = true
    let id: unknown
    try {
      id = await rpcLike(() => provider.subscribe(s.notification, s.method, s.params ?? [], (err: Error | null, v: T) => {
        if (!err && active) onValue(v)
      }), s.method, o)
    } catch (err) {
      active = false // a late success must not deliver to a caller that was told it failed
      throw err
    }
    return async () => {
      active = false
      // After a resubscription the provider knows the subscription under a new id; then this is a no-op.
      await provider.unsubscribe(s.notification, s.unsubscribe, id as string | number).catch(() => false)
    }
  }

  /**
   * One provider request with a deadline (waiting for the connection included) and abort; calls
   * timing out in a row on an open socket reopen it (half-open detection).
   */
  const rpcLike = async <T>(send: () => Promise<T>, method: string, o: CallOpts): Promise<T> => {
    const timeoutMs = o.timeoutMs ?? callTimeoutMs
    const deadline = Date.now() + timeoutMs
    if (!provider.isConnected) await whenReady({ timeoutMs, signal: o.signal })
    const left = Math.max(1, deadline - Date.now())
    let t: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    try {
      const r = await Promise.race([
        send(),
        new Promise<never>((_, reject) => {
          t = setTimeout(() => {
            reject(new TimeoutError(`${opts.name} ${method} got no answer within ${timeoutMs} ms`))
            onTimeout()
          }, left)
          if (o.signal) {
            onAbort = () => reject(new AbortedError())
            o.signal.addEventListener('abort', onAbort, { once: true })
          }
        }),
      ])
      timeoutsInARow = 0
      return r
    } finally {
      clearTimeout(t)
      if (onAbort) o.signal?.removeEventListener('abort', onAbort)
    }
  }

  return {
    name: opts.name,
    url: opts.url,
    events,
    subscribe,
    get ready() {
      return provider.isConnected
    },
    get connects() {
      return connects
    },
    start() {
      if (started || stopped) return
      started = true
      tryConnect()
    },
    whenReady,
    rpc,
    api(o: CallOpts = {}) {
      apiPromise ??= (async () => {
        await whenReady(o)
        const api = new ApiPromise({ provider, noInitWarn: true, throwOnConnect: false })
        await api.isReadyOrError
        return api
      })()
      apiPromise.catch(() => {
        apiPromise = undefined
      })
      return apiPromise
    },
    stop() {
      stopping ??= (async () => {
        stopped = true
        if (timer) clearTimeout(timer)
        timer = undefined
        events.emit('stopped')
        const api = apiPromise ? await apiPromise.catch(() => undefined) : undefined
        try {
          if (api) await api.disconnect()
          else await provider.disconnect()
        } catch (err) {
          log.debug({ err, chain: opts.name }, 'disconnect failed')
        }
      })()
      return stopping
    },
  }
}
