/**
 * JSON-RPC 2.0 over WebSocket and HTTP POST on one port, as a Substrate node serves it: a table
 * from method name to handler (calls) and subscription methods with their notification and
 * unsubscribe names. Survives garbage frames, oversized requests and clients that vanish.
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

interface Conn {
  id: number
  ws: WebSocket
  subs: Map<string, { teardown?: () => void; sink: SubSink }>
}

export function createRpcServer(init: RpcServerInit): RpcServer {
  const { logger, table } = init
  const maxBytes = init.maxRequestBytes ?? DEFAULT_MAX
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
        const subId = (nextSub++).toString(16).padStart(16, '0')
        const sink: SubSink = {
          closed: false,
          emit(result) {
            if (this.closed || conn.ws.readyState !== WebSocket.OPEN) return
            send(conn, { jsonrpc: '2.0', method: sub.notification, params: { subscription: subId, result } })
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
        // Reply with the id before the first notification, as a node does.
        let teardown: () => void
        const pending: unknown[] = []
        let replied = false
        const realEmit = sink.emit.bind(sink)
        sink.emit = (res) => (replied ? realEmit(res) : void pending.push(res))
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
          for (const p of pending) realEmit(p)
          sink.emit = realEmit
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

  async function handleText(text: string, conn: Conn | undefined): Promise<object | object[] | undefined> {
    let msg: unknown
    try {
      msg = JSON.parse(text)
    } catch {
      return { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) return { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id: null }
      const out = (await Promise.all(msg.map((m) => handleOne(m, conn)))).filter((x): x is object => x !== undefined)
      return out.length ? out : undefined
    }
    return handleOne(msg, conn)
  }

  function send(conn: Conn, obj: object): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return
    try {
      conn.ws.send(JSON.stringify(obj))
    } catch (e) {
      logger.debug({ err: e, conn: conn.id }, 'send failed')
    }
  }

  const tooBig = { jsonrpc: '2.0', error: { code: -32007, message: 'Request is too big' }, id: null }

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
        res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify(tooBig))
        req.resume()
        return
      }
      chunks.push(c)
    })
    req.on('error', () => undefined)
    req.on('end', () => {
      if (aborted) return
      void handleText(Buffer.concat(chunks).toString('utf8'), undefined)
        .then((reply) => delay(reply))
        .then((reply) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
          res.end(reply === undefined ? '' : JSON.stringify(reply))
        })
        .catch((e: unknown) => {
          logger.warn({ err: e }, 'http rpc failed')
          if (!res.headersSent) res.writeHead(500).end()
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
