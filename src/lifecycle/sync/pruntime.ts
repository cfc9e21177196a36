/**
 * The engine's pRuntime client (upstream-lifecycle.md §5.1): prpc (protobuf in and out, PrpcError
 * decoded on 4xx/5xx, as upstream should have) and bin_api (SCALE in, JSON out). Every call has a
 * whole-request deadline (a hung pRuntime that accepted the connection still times out), and every
 * failure is one of two kinds the worker loop acts on:
 *   PruntimeUnreachableError  no answer (refused, reset, deadline): retry with backoff;
 *   PruntimeRejectedError     pRuntime answered with an error: its own message is kept for the status.
 */
import { Agent, request } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { getCodec } from '../../common/codec.js'
import { PrbError } from '../../common/errors.js'

export class PruntimeUnreachableError extends PrbError {
  override name = 'PruntimeUnreachableError'
  constructor(readonly endpoint: string, what: string, cause: string) {
    super('ERR_PRUNTIME_UNREACHABLE', `pRuntime at ${endpoint} did not answer ${what}: ${cause}; check that it runs and is reachable from the lifecycle`)
  }
}

export class PruntimeRejectedError extends PrbError {
  override name = 'PruntimeRejectedError'
  constructor(readonly endpoint: string, readonly what: string, readonly status: number, readonly pruntimeMessage: string) {
    super('ERR_PRUNTIME_REJECTED', `pRuntime at ${endpoint} refused ${what} (HTTP ${status}): ${pruntimeMessage}`)
  }
}

/** PhactoryInfo as a plain object (camelCase, longs as numbers); only the fields the engine reads are typed. */
export interface PhactoryInfo {
  initialized: boolean
  registered: boolean
  publicKey?: string
  headernum: number
  paraHeadernum: number
  blocknum: number
  version?: string
  gitRevision?: string
  memoryUsage?: { rustUsed: number; rustPeakUsed: number; totalPeakUsed: number } | null
  canLoadChainState?: boolean
  [k: string]: unknown
}

export interface PruntimeAgents {
  http: Agent
  https: HttpsAgent
  destroy(): void
}

/** One socket pool per runner: keep-alive as WORKER_KEEPALIVE_ENABLED says. */
export function createAgents(keepAlive: boolean, keepAliveTimeoutMs: number): PruntimeAgents {
  const o = keepAlive ? { keepAlive: true, timeout: keepAliveTimeoutMs } : { keepAlive: false }
  const http = new Agent(o)
  const https = new HttpsAgent(o)
  return { http, https, destroy: () => { http.destroy(); https.destroy() } }
}

export interface PruntimeClientOptions {
  endpoint: string
  prpcTimeoutMs: number
  binApiTimeoutMs: number
  agents: PruntimeAgents
}

export interface PruntimeClient {
  readonly endpoint: string
  getInfo(signal?: AbortSignal): Promise<PhactoryInfo>
  prpc<T = Record<string, unknown>>(method: string, reqType: string, resType: string, value?: object, signal?: AbortSignal): Promise<T>
  binApi<T = Record<string, unknown>>(action: string, body: Uint8Array, signal?: AbortSignal): Promise<T>
  /** POST /kick: the pRuntime exits; its failure to answer is expected. */
  kick(): Promise<void>
}

export function createPruntimeClient(o: PruntimeClientOptions): PruntimeClient {
  const base = o.endpoint.replace(/\/+$/, '')
  const codec = getCodec()

  const post = (path: string, body: Uint8Array, timeoutMs: number, what: string, signal?: AbortSignal, retried = false): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      let url: URL
      try {
        url = new URL(base + path)
      } catch {
        reject(new PruntimeUnreachableError(o.endpoint, what, 'the endpoint is not a valid URL (expected e.g. http://10.0.0.5:8000)'))
        return
      }
      const https = url.protocol === 'https:'
      const send = https ? httpsRequest : request
      let done = false
      const finish = (err: Error | undefined, v?: { status: number; body: Buffer }): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve(v!)
      }
      const req = send(url, {
        method: 'POST',
        agent: https ? o.agents.https : o.agents.http,
        headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
        res.on('error', (e) => finish(new PruntimeUnreachableError(o.endpoint, what, e.message)))
      })
      const timer = setTimeout(() => {
        finish(new PruntimeUnreachableError(o.endpoint, what, `no answer within ${timeoutMs} ms`))
        req.destroy()
      }, timeoutMs)
      const onAbort = (): void => {
        finish(new PruntimeUnreachableError(o.endpoint, what, 'aborted (the worker was stopped)'))
        req.destroy()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A keep-alive socket the server closed just as we reused it (the idle-timeout race): the
        // request never reached pRuntime; send it once more on a new socket instead of backing off.
        if (!retried && !done && req.reusedSocket && e.code === 'ECONNRESET' && !signal?.aborted) {
          done = true
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          post(path, body, timeoutMs, what, signal, true).then(resolve, reject)
          return
        }
        finish(new PruntimeUnreachableError(o.endpoint, what, e.code ? `${e.code} ${e.message}` : e.message))
      })
      req.end(body)
    })

  const prpc = async <T>(method: string, reqType: string, resType: string, value: object = {}, signal?: AbortSignal): Promise<T> => {
    const res = await post(`/prpc/PhactoryAPI.${method}`, codec.encode(reqType, value), o.prpcTimeoutMs, method, signal)
    if (res.status !== 200) {
      let msg: string
      try {
        msg = codec.decode<{ message: string }>('prpc.PrpcError', res.body).message
      } catch {
        msg = res.body.toString('utf8')
      }
      throw new PruntimeRejectedError(o.endpoint, method, res.status, msg || `HTTP ${res.status}`)
    }
    try {
      return codec.decode<T>(resType, res.body)
    } catch (e) {
      throw new PruntimeRejectedError(o.endpoint, method, res.status, `undecodable answer: ${(e as Error).message}`)
    }
  }

  return {
    endpoint: o.endpoint,
    prpc,
    getInfo: (signal) => prpc<PhactoryInfo>('GetInfo', 'google.protobuf.Empty', 'pruntime_rpc.PhactoryInfo', {}, signal),
    async binApi<T>(action: string, body: Uint8Array, signal?: AbortSignal): Promise<T> {
      const res = await post(`/bin_api/${action}`, body, o.binApiTimeoutMs, action, signal)
      const text = res.body.toString('utf8')
      if (res.status !== 200) throw new PruntimeRejectedError(o.endpoint, action, res.status, text || `HTTP ${res.status}`)
      let j: { status?: string; payload?: string }
      try {
        j = JSON.parse(text) as { status?: string; payload?: string }
      } catch {
        throw new PruntimeRejectedError(o.endpoint, action, res.status, `not JSON: ${text.slice(0, 200)}`)
      }
      let payload: unknown = j.payload
      try {
        payload = JSON.parse(String(j.payload))
      } catch {
        // plain text payloads ("Entity too large")
      }
      if (j.status !== 'ok') {
        const msg = typeof payload === 'object' && payload !== null && 'message' in payload ? String((payload as { message: unknown }).message) : String(payload)
        throw new PruntimeRejectedError(o.endpoint, action, res.status, msg)
      }
      return payload as T
    },
    async kick() {
      await post('/kick', new Uint8Array(), o.prpcTimeoutMs, 'kick').catch(() => undefined)
    },
  }
}
