/**
 * JSON-RPC 2.0 over WebSocket and HTTP POST on one port, as a Substrate node serves it: a table
 * from method name to handler (calls) and subscription methods with their notification and
 * unsubscribe names. Survives garbage frames, oversized requests and clients that vanish.
 *
 * Bounded as a node's server (jsonrpsee) is: a request above 15 MiB answers -32007, a batch of more
 * than `maxBatchLength` calls answers -32010 without running any, a subscription beyond 1024 on one
 * connection answers -32006, a reply above 15 MiB answers -32008 (one call) or -32011 (a batch,
 * whose calls stop running once the limit is passed). Every reply is serialized before the HTTP
 * status goes out, so a failure answers a JSON-RPC error instead of a half-sent 200, and every
 * failure path ends the response.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import type { Logger } from '../../common/logger.js'
import { RpcError } from './rpc-error.js'
import { answerClientError, requestUrl } from '../http-target.js'

export type Params = unknown[]

export interface CallCtx {
  /** Connection id (0 for HTTP). */
  conn: number
}

export type CallHandler = (params: Params, ctx: CallCtx) => unknown

export interface SubSink {
  emit(result: unknown): void
  /** Server-side end: no more notifications will be sent (e.g. a watched tx got finalized). */
  close(): void
  readonly closed: boolean
}

export interface SubscriptionMethod {
  notification: string
  unsubscribe: string[]
  /** Start sending to `sink`; returns the teardown. Throwing an RpcError rejects the subscribe call. */
  subscribe(params: Params, sink: SubSink, ctx: CallCtx): (() => void) | Promise<() => void>
}

export interface MethodTable {
  calls: Map<string, CallHandler>
  subs: Map<string, SubscriptionMethod>
}

export interface RpcServerInit {
  name: string
  host: string
  port: number
  latencyMs: number
  /** Largest request accepted (default 15 MiB, like a node). */
  maxRequestBytes?: number
  /** Largest reply, one call or a whole batch (default 15 MiB, a node's --rpc-max-response-size). */
  maxResponseBytes?: number
  /** Most calls in one batch (default 1000; a node's --rpc-max-batch-request-len). */
  maxBatchLength?: number
  /** Replies a WebSocket client may leave unread before it is disconnected (default 4 × maxResponseBytes). */
  maxUnreadBytes?: number
  /** Subscriptions one WebSocket may hold (default 1024, a node's --rpc-max-subscriptions-per-connection). */
  maxSubscriptionsPerConnection?: number
  table: MethodTable
  logger: Logger
}

export interface RpcServer {
  readonly port: number
  readonly url: string
  readonly httpUrl: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Close every WebSocket (clients see a dropped connection). */
  dropAll(): number
  readonly connections: number
}

const DEFAULT_MAX = 15 * 1024 * 1024
export const DEFAULT_MAX_BATCH_LENGTH = 1000

/** jsonrpsee's codes and messages for the server's limits. */
const TOO_MANY_SUBSCRIPTIONS = -32006
const OVERSIZED_REQUEST = -32007
const OVERSIZED_RESPONSE = -32008
const TOO_BIG_BATCH_REQUEST = -32010
const TOO_BIG_BATCH_RESPONSE = -32011

const errorText = (code: number, message: string, id: unknown, data?: string): string =>
  JSON.stringify({ jsonrpc: '2.0', error: data === undefined ? { code, message } : { code, message, data }, id: id ?? null })

interface Conn {
  id: number
  ws: WebSocket
  subs: Map<string, { teardown?: () => void; sink: SubSink }>
}

export function createRpcServer(init: RpcServerInit): RpcServer {
  const { logger, table } = init
  const maxBytes = init.maxRequestBytes ?? DEFAULT_MAX
  const maxResponse = init.maxResponseBytes ?? DEFAULT_MAX
  const maxBatch = init.maxBatchLength ?? DEFAULT_MAX_BATCH_LENGTH
  const maxUnread = init.maxUnreadBytes ?? 4 * maxResponse
  const maxSubs = init.maxSubscriptionsPerConnection ?? 1024
  const unsubscribeNames = new Map<string, string>() // unsubscribe method -> notification
  for (const s of table.subs.values()) for (const u of s.unsubscribe) unsubscribeNames.set(u, s.notification)
  const conns = new Set<Conn>()
  let nextConn = 1
  let nextSub = 1
  let port = 0
  let started = false
  let stopping: Promise<void> | undefined

  const delay = <T>(v: T): Promise<T> => (init.latencyMs > 0 ? new Promise((r) => setTimeout(() => r(v), init.latencyMs)) : Promise.resolve(v))

  const errorReply = (id: unknown, e: unknown): object => {
    if (e instanceof RpcError) return { jsonrpc: '2.0', error: e.toJSON(), id }
    logger.warn({ err: e }, 'rpc handler failed')
    return { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error', data: String((e as Error)?.message ?? e) }, id }
  }

  async function handleOne(req: unknown, conn: Conn | undefined): Promise<object | undefined> {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id: null }
    }
    const r = req as { id?: unknown; method?: unknown; params?: unknown; jsonrpc?: unknown }
    const id = r.id ?? null
    const isNotification = !('id' in r)
    if (typeof r.method !== 'string' || r.jsonrpc !== '2.0') {
      return { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id }
    }
    if (r.params !== undefined && r.params !== null && !Array.isArray(r.params)) {
      return errorReply(id, RpcError.invalidParams('named parameters are not supported, use an array'))
    }
    const params = (r.params as Params | undefined) ?? []
    const ctx: CallCtx = { conn: conn?.id ?? 0 }
    try {
      const call = table.calls.get(r.method)
      if (call) {
        const result = await call(params, ctx)
        return isNotification ? undefined : { jsonrpc: '2.0', result: result === undefined ? null : result, id }
      }
      const sub = table.subs.get(r.method)
      if (sub) {
        if (!conn) throw new RpcError(-32601, 'Method not found', 'subscriptions need a WebSocket connection')
        if (conn.subs.size >= maxSubs) throw new RpcError(TOO_MANY_SUBSCRIPTIONS, 'Too many subscriptions on the connection', `Exceeded max limit of ${maxSubs}`)
        const subId = (nextSub++).toString(16).padStart(16, '0')
        const notify = (result: unknown): void => send(conn, { jsonrpc: '2.0', method: sub.notification, params: { subscription: subId, result } })
        // The id reply goes out before the first notification, as a node does: under RPC latency the
        // notifications made meanwhile wait for it, even those of a subscription the server ended
        // meanwhile (a watched transaction finalized or dropped at once keeps its last statuses).
        const pending: unknown[] = []
        let replied = false
        const sink: SubSink = {
          closed: false,
          emit(result) {
            if (this.closed || conn.ws.readyState !== WebSocket.OPEN) return
            if (replied) notify(result)
            else pending.push(result)
          },
          close() {
            if (this.closed) return
            ;(this as { closed: boolean }).closed = true
            const entry = conn.subs.get(subId)
            conn.subs.delete(subId)
            entry?.teardown?.()
          },
        }
        const entry: { teardown?: () => void; sink: SubSink } = { sink }
        conn.subs.set(subId, entry)
        let teardown: () => void
        try {
          teardown = await sub.subscribe(params, sink, ctx)
        } catch (e) {
          conn.subs.delete(subId)
          throw e
        }
        if (sink.closed || !conns.has(conn)) teardown()
        else entry.teardown = teardown
        const reply = { jsonrpc: '2.0', result: subId, id }
        void delay(null).then(() => {
          send(conn, reply)
          replied = true
          for (const p of pending.splice(0)) notify(p)
        })
        return undefined
      }
      const notif = unsubscribeNames.get(r.method)
      if (notif !== undefined) {
        if (!conn) return { jsonrpc: '2.0', result: false, id }
        const sid = params[0]
        if (typeof sid !== 'string' && typeof sid !== 'number') throw RpcError.invalidParams('subscription id expected')
        const entry = conn.subs.get(String(sid))
        if (!entry) return { jsonrpc: '2.0', result: false, id }
        entry.sink.close()
        return { jsonrpc: '2.0', result: true, id }
      }
      throw new RpcError(-32601, 'Method not found')
    } catch (e) {
      return isNotification ? undefined : errorReply(id, e)
    }
  }

  /** One reply as JSON text: -32008 in its place when above the limit, -32603 when it cannot be serialized. */
  function encodeReply(reply: object): string {
    const id = (reply as { id?: unknown }).id ?? null
    let text: string
    try {
      text = JSON.stringify(reply)
    } catch (e) {
      // e.g. RangeError: Invalid string length, a result larger than a string can hold.
      logger.warn({ err: e }, 'rpc reply cannot be serialized; answering Internal error')
      return errorText(-32603, 'Internal error', id, `the reply cannot be serialized: ${String((e as Error)?.message ?? e)}`)
    }
    if (Buffer.byteLength(text) > maxResponse) {
      return errorText(OVERSIZED_RESPONSE, 'Response is too big', id, `Exceeded max limit of ${maxResponse}`)
    }
    return text
  }

  /** The answer to one request text, serialized; undefined when nothing is to be sent. */
  async function handleText(text: string, conn: Conn | undefined): Promise<string | undefined> {
    let msg: unknown
    try {
      msg = JSON.parse(text)
    } catch {
      return errorText(-32700, 'Parse error', null)
    }
    if (!Array.isArray(msg)) {
      const reply = await handleOne(msg, conn)
      return reply === undefined ? undefined : encodeReply(reply)
    }
    if (msg.length === 0) return errorText(-32600, 'Invalid request', null)
    if (msg.length > maxBatch) return errorText(TOO_BIG_BATCH_REQUEST, 'The batch request was too large', null, `Exceeded max limit of ${maxBatch}`)
    // One call at a time, each serialized as it completes: memory holds at most the limit plus one reply,
    // and the calls after the limit is passed never run.
    const parts: string[] = []
    let bytes = 2
    for (const m of msg) {
      const reply = await handleOne(m, conn)
      if (reply === undefined) continue
      const part = encodeReply(reply)
      bytes += Buffer.byteLength(part) + (parts.length ? 1 : 0)
      if (bytes > maxResponse) return errorText(TOO_BIG_BATCH_RESPONSE, 'The batch response was too large', null, `Exceeded max limit of ${maxResponse}`)
      parts.push(part)
    }
    return parts.length ? `[${parts.join(',')}]` : undefined
  }

  function send(conn: Conn, msg: object | string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return
    // A client that sends but never reads would grow the write buffer without bound.
    if (conn.ws.bufferedAmount > maxUnread) {
      logger.warn({ conn: conn.id, unreadBytes: conn.ws.bufferedAmount, limit: maxUnread }, 'ws client does not read its replies; disconnecting it')
      conn.ws.terminate()
      return
    }
    try {
      conn.ws.send(typeof msg === 'string' ? msg : encodeReply(msg))
    } catch (e) {
      logger.debug({ err: e, conn: conn.id }, 'send failed')
    }
  }

  const tooBig = errorText(OVERSIZED_REQUEST, 'Request is too big', null, `Exceeded max limit of ${maxBytes}`)

  const server = http.createServer((req, res) => {
    if (!requestUrl(req, res)) return
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('Used HTTP Method is not allowed. POST is required\n')
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let aborted = false
    req.on('data', (c: Buffer) => {
      if (aborted) return
      size += c.length
      if (size > maxBytes) {
        aborted = true
        chunks.length = 0
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(tooBig)
        req.resume()
        return
      }
      chunks.push(c)
    })
    // The client went away mid-request: nothing to answer, free the socket.
    req.on('error', () => res.destroy())
    req.on('end', () => {
      if (aborted) return
      void handleText(Buffer.concat(chunks).toString('utf8'), undefined)
        .then((reply) => delay(reply))
        .then((reply) => {
          const body = reply ?? ''
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
          res.end(body)
        })
        .catch((e: unknown) => {
          logger.warn({ err: e }, 'http rpc failed')
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json', connection: 'close' })
            res.end(errorText(-32603, 'Internal error', null, String((e as Error)?.message ?? e)))
          } else res.destroy()
        })
    })
  })
  server.on('clientError', answerClientError)

  // Frames up to twice the limit are read and answered "too big"; beyond that ws closes with 1009.
  const wss = new WebSocketServer({ server, maxPayload: maxBytes * 2 })
  wss.on('connection', (ws) => {
    const conn: Conn = { id: nextConn++, ws, subs: new Map() }
    conns.add(conn)
    logger.debug({ conn: conn.id }, 'ws connected')
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
      if (buf.length > maxBytes) {
        send(conn, tooBig)
        return
      }
      void handleText(isBinary ? buf.toString('utf8') : buf.toString('utf8'), conn)
        .then((reply) => (reply === undefined ? undefined : delay(reply)))
        .then((reply) => reply !== undefined && send(conn, reply))
        .catch((e: unknown) => logger.warn({ err: e }, 'ws rpc failed'))
    })
    const cleanup = (): void => {
      if (!conns.delete(conn)) return
      for (const entry of [...conn.subs.values()]) entry.sink.close()
      logger.debug({ conn: conn.id }, 'ws closed')
    }
    ws.on('close', cleanup)
    ws.on('error', (e) => {
      logger.debug({ err: e, conn: conn.id }, 'ws error')
      cleanup()
      ws.terminate()
    })
  })
  wss.on('error', (e) => logger.warn({ err: e }, 'ws server error'))

  return {
    get port() {
      return port
    },
    get url() {
      return `ws://${init.host}:${port}`
    },
    get httpUrl() {
      return `http://${init.host}:${port}`
    },
    get connections() {
      return conns.size
    },
    async start() {
      if (started) return
      started = true
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(init.port, init.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      port = (server.address() as AddressInfo).port
    },
    stop() {
      // Every caller waits for the one shutdown: a second stop() must not resolve while the port is still open.
      stopping ??= (async () => {
        for (const c of [...conns]) {
          for (const entry of [...c.subs.values()]) entry.sink.close()
          c.ws.terminate()
        }
        conns.clear()
        await new Promise<void>((r) => wss.close(() => r()))
        server.closeAllConnections()
        if (started) await new Promise<void>((r) => server.close(() => r()))
      })()
      return stopping
    },
    dropAll() {
      const n = conns.size
      for (const c of [...conns]) c.ws.terminate()
      return n
    },
  }
}
