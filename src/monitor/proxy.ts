/**
 * The JSON side of upstream's monitor (upstream-trade-walkie-monitor.md C.1): the peers met through
 * Walkie as `/ptp/discover` lists them, and one proxied Walkie call turned into
 * `{data, hasError, error, meta}` with protobufjs toJSON conventions (camelCase, uint64 as decimal
 * strings, enums as names, bytes as base64, only the fields present on the wire).
 *
 * Beyond upstream, a call that never reached a peer answers with an HTTP status that says why
 * (404 unknown peer or method, 400 bad body, 502 unreachable, 504 deadline) and
 * `error: {code, message}` instead of upstream's 500 `{}`.
 */
import type protobuf from 'protobufjs'
import { JSON_OBJECT, type Codec } from '../common/codec.js'
import { WalkieError, WalkieRoles, type WalkiePeer } from '../walkie/index.js'

/** What the proxy needs of a Walkie node (the real one, or a stub in tests). */
export interface ProxyWalkie {
  peers(opts?: { includeIncompatible?: boolean }): WalkiePeer[]
  callRaw(peerId: string, method: string, request: Uint8Array, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Uint8Array>
}

/** One `/ptp/discover` entry, exactly upstream's keys. */
export interface DiscoverEntry {
  peerId: string
  hostname: string
  role: number
  chainIdentity: string
  bridgeIdentity: string
  remoteAddr: string
}

export interface DiscoverReply {
  dataProviders: DiscoverEntry[]
  lifecycleManagers: DiscoverEntry[]
}

export interface ProxyReply {
  status: number
  body: {
    data?: Record<string, unknown>
    hasError: boolean
    error?: { type: number; message: string } | { code: string; message: string }
    meta: Record<string, unknown> | null
  }
  /** For the log and metrics: the method's outcome in one word. */
  outcome: 'ok' | 'remote_error' | 'bad_request' | 'unknown_peer' | 'unknown_method' | 'timeout' | 'unreachable' | 'failed'
}

export interface ProxyInit {
  /** Deadline of one proxied call (PHALA_MONITOR_PROXY_TIMEOUT). */
  timeoutMs: number
  /**
   * Aborted when the monitor stops: calls still open answer 503 at once, so the HTTP server closes
   * without waiting out their deadline.
   */
  stopping?: AbortSignal
}

export interface Proxy {
  discover(): DiscoverReply
  /** Send `body` (camelCase JSON, `{}` when absent) as `method`'s request to `peerId`. */
  call(peerId: string, method: string, body: unknown, signal?: AbortSignal): Promise<ProxyReply>
  /** Names of every method of `service WalkieRpc`. */
  methods(): string[]
}

const RESPONSE_WRAPPER = 'prb.WalkieRpcResponseWrapper'
/** Calls that change nothing: one retry after a failed stream is safe for them (never for the others). */
const READ_ONLY = new Set(['Hello', 'GetDataProviderInfo', 'GetBlobByKey', 'ListPool', 'ListWorker', 'GetWorkerStatus'])
const ERROR_TYPES = ['UNKNOWN', 'SERVER', 'NOT_FOUND', 'DUPLICATED', 'UNAUTHORIZED']

function localError(status: number, outcome: ProxyReply['outcome'], code: string, message: string): ProxyReply {
  return { status, outcome, body: { hasError: true, error: { code, message }, meta: null } }
}

export function createProxy(init: ProxyInit, deps: { walkie: ProxyWalkie; codec: Codec }): Proxy {
  const { walkie, codec } = deps
  const service = codec.service('prb.WalkieRpc')
  const types = new Map<string, { request: protobuf.Type; response: protobuf.Type }>()
  for (const [name, m] of Object.entries(service.methods)) {
    m.resolve()
    types.set(name, { request: m.resolvedRequestType!, response: m.resolvedResponseType! })
  }
  const wrapper = codec.type(RESPONSE_WRAPPER)
  // The address a peer was last reached at: upstream kept the handshake connection's address.
  const lastAddr = new Map<string, string>()
  // Identical read-only calls in flight share one Walkie call (every open page polls the same lists).
  const inflight = new Map<string, Promise<Uint8Array>>()

  const entry = (p: WalkiePeer): DiscoverEntry => {
    // upstream's remoteAddr carries no /p2p/<id> (libp2p 0.35 kept it apart)
    if (p.addresses[0]) lastAddr.set(p.peerId, p.addresses[0].replace(/\/p2p\/[^/]+$/, ''))
    return {
      peerId: p.peerId,
      hostname: p.hostname,
      role: WalkieRoles[p.role],
      chainIdentity: p.chainIdentity,
      bridgeIdentity: p.bridgeIdentity,
      remoteAddr: lastAddr.get(p.peerId) ?? '',
    }
  }

  const discover = (): DiscoverReply => {
    const all = walkie.peers({ includeIncompatible: true })
    const known = new Set(all.map((p) => p.peerId))
    for (const id of lastAddr.keys()) if (!known.has(id)) lastAddr.delete(id)
    return {
      dataProviders: all.filter((p) => p.role === 'WR_DATA_PROVIDER_INT').map(entry),
      lifecycleManagers: all.filter((p) => p.role === 'WR_LIFECYCLE_MANAGER').map(entry),
    }
  }

  const call = async (peerId: string, method: string, body: unknown, signal?: AbortSignal): Promise<ProxyReply> => {
    const t = types.get(method)
    if (!t) {
      return localError(404, 'unknown_method', 'ERR_MONITOR_UNKNOWN_METHOD', `"${method}" is not a Walkie method; use one of ${[...types.keys()].join(', ')}`)
    }
    if (!walkie.peers({ includeIncompatible: true }).some((p) => p.peerId === peerId)) {
      return localError(404, 'unknown_peer', 'ERR_MONITOR_UNKNOWN_PEER', `no peer ${peerId} is known to this monitor (it left, or was never met); see GET /ptp/discover for the peers it knows`)
    }
    const value = body === undefined || body === null ? {} : body
    if (typeof value !== 'object' || Array.isArray(value)) {
      return localError(400, 'bad_request', 'ERR_MONITOR_BAD_BODY', `the body of ${method} must be a JSON object (camelCase fields of ${t.request.fullName.slice(1)}), not ${Array.isArray(value) ? 'an array' : typeof value}`)
    }
    let request: Uint8Array
    try {
      // As upstream: camelCase keys, unknown keys ignored, uint64 as a number or a decimal string.
      const msg = t.request.fromObject(value as Record<string, unknown>)
      const err = t.request.verify(msg)
      if (err) throw new Error(err)
      request = t.request.encode(msg).finish()
    } catch (e) {
      return localError(400, 'bad_request', 'ERR_MONITOR_BAD_BODY', `the body is not a valid ${t.request.fullName.slice(1)}: ${(e as Error).message}`)
    }

    let raw: Uint8Array
    const deadline = Date.now() + init.timeoutMs
    const callSignal = signal && init.stopping ? AbortSignal.any([signal, init.stopping]) : signal ?? init.stopping
    const send = () => walkie.callRaw(peerId, method, request, { timeoutMs: Math.max(1, deadline - Date.now()), ...(callSignal ? { signal: callSignal } : {}) })
    const attempt = async (): Promise<Uint8Array> => {
      try {
        return await send()
      } catch (err) {
        const code = err instanceof WalkieError ? err.code : ''
        if (!READ_ONLY.has(method) || (code !== 'ERR_WALKIE_UNREACHABLE' && code !== 'ERR_WALKIE_STREAM') || Date.now() >= deadline) throw err
        return send()
      }
    }
    try {
      if (READ_ONLY.has(method) && !signal) {
        const key = `${peerId}/${method}/${Buffer.from(request).toString('base64')}`
        let p = inflight.get(key)
        if (!p) {
          p = attempt().finally(() => inflight.delete(key))
          inflight.set(key, p)
        }
        raw = await p
      } else {
        raw = await attempt()
      }
    } catch (err) {
      const code = err instanceof WalkieError ? err.code : 'ERR_MONITOR_PROXY'
      const message = (err as Error).message
      if (init.stopping?.aborted) return localError(503, 'failed', 'ERR_MONITOR_STOPPING', `the monitor is stopping: ${method} to ${peerId} was cut off (the peer may still finish it); call again once the monitor is back`)
      if (code === 'ERR_WALKIE_TIMEOUT') return localError(504, 'timeout', code, `${message}; the peer may still finish the call (PHALA_MONITOR_PROXY_TIMEOUT sets the deadline)`)
      if (code === 'ERR_WALKIE_UNREACHABLE' || code === 'ERR_WALKIE_STREAM') return localError(502, 'unreachable', code, message)
      return localError(502, 'failed', code, message)
    }

    const res = wrapper.decode(raw) as protobuf.Message & { data?: Uint8Array; hasError?: boolean; error?: { type?: number; message?: string } | null }
    const meta = wrapper.toObject(res, JSON_OBJECT)
    delete meta.data
    if (res.hasError) {
      const type = res.error?.type ?? 0
      return {
        status: 200,
        outcome: 'remote_error',
        body: { hasError: true, error: { type, message: res.error?.message ?? `${ERROR_TYPES[type] ?? 'UNKNOWN'} error without a message` }, meta },
      }
    }
    let data: Record<string, unknown>
    try {
      data = t.response.toObject(t.response.decode(res.data ?? new Uint8Array()), JSON_OBJECT)
    } catch (e) {
      return localError(502, 'failed', 'ERR_MONITOR_BAD_RESPONSE', `${peerId} answered ${method} with a malformed ${t.response.fullName.slice(1)}: ${(e as Error).message}`)
    }
    return { status: 200, outcome: 'ok', body: { data, hasError: false, meta } }
  }

  return { discover, call, methods: () => [...types.keys()] }
}
