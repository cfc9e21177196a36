/**
 * pRuntime's HTTP surface for one simulated worker (chain.md §6.1):
 *   POST /prpc/PhactoryAPI.<Method>   protobuf body (JSON with `?json` or a JSON content type)
 *   GET  /prpc/PhactoryAPI.<Method>   JSON, for methods without input
 *   POST /bin_api/<action>            SCALE body -> 200 {status, payload (JSON text), signature}
 *   POST /kick                        when enabled: the worker "exits" (its state is lost)
 *   GET|POST /get_info, GET /info
 * Faults (hang, delay, 500s) are injected here, per worker, by the control handle.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type protobuf from 'protobufjs'
import { hexToU8a, isHex, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import type { Logger } from '../../common/logger.js'
import { getCodec, PLAIN_OBJECT } from '../../common/codec.js'
import {
  decodeDispatchBlockReq,
  decodeHeaders,
  decodeHeadersToSync,
  decodeSyncHeaderReq,
  decodeSyncParachainHeaderReq,
} from '../../common/bridge-types.js'
import type { RelayHeaderIn } from './light-client.js'
import { decodeSyncCombinedHeaders } from '../../common/sync-request.js'
import { PRuntimeDecodeError, PRuntimeError } from './errors.js'
import { sign } from './identity.js'
import type { Phactory } from './phactory.js'
import { answerClientError, requestUrl } from '../http-target.js'

/** pRuntime's default body limit. */
export const BODY_LIMIT = 100 * 1024 * 1024

export interface Faults {
  /** Accept requests, never answer. */
  hang: boolean
  /** Answer every request with HTTP 500. */
  error: boolean
  /** Wait this long before handling each request. */
  delayMs: number
}

export interface ServerHooks {
  /** The worker instance behind the server (replaced on crash/kick). */
  phactory(): Phactory
  faults: Faults
  enableKick: boolean
  /** Called for /kick: the worker loses its state. */
  onKick(): void
  logger: Logger
}

type Json = Record<string, unknown>

function relayIn(h: { header: { toU8a(): Uint8Array }; justification: Uint8Array | null }): RelayHeaderIn {
  return { encoded: h.header.toU8a(), justification: h.justification }
}

function decodeOrThrow<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw new PRuntimeDecodeError((e as Error).message)
  }
}

/** prpc methods: request type, response type, handler on the decoded plain request. */
const PRPC: Record<string, { req: string; res: string; run: (p: Phactory, r: Json) => Promise<Json> | Json }> = {
  GetInfo: { req: 'google.protobuf.Empty', res: 'pruntime_rpc.PhactoryInfo', run: (p) => p.info() },
  InitRuntime: {
    req: 'pruntime_rpc.InitRuntimeRequest',
    res: 'pruntime_rpc.InitRuntimeResponse',
    run: async (p, r) => (await p.initRuntime(r)) as unknown as Json,
  },
  GetRuntimeInfo: {
    req: 'pruntime_rpc.GetRuntimeInfoRequest',
    res: 'pruntime_rpc.InitRuntimeResponse',
    run: (p, r) => p.getRuntimeInfo(!!r.forceRefreshRa, r.encodedOperator as Uint8Array | undefined) as unknown as Json,
  },
  GetEgressMessages: { req: 'google.protobuf.Empty', res: 'pruntime_rpc.GetEgressMessagesResponse', run: (p) => ({ encodedMessages: p.egressMessages() }) },
  SyncHeader: {
    req: 'pruntime_rpc.HeadersToSync',
    res: 'pruntime_rpc.SyncedTo',
    run: (p, r) => {
      const headers = decodeOrThrow(() => decodeHeadersToSync(bytesOf(r.encodedHeaders)))
      return { syncedTo: p.syncHeader(headers.map(relayIn)) }
    },
  },
  SyncParaHeader: {
    req: 'pruntime_rpc.ParaHeadersToSync',
    res: 'pruntime_rpc.SyncedTo',
    run: (p, r) => {
      const headers = decodeOrThrow(() => decodeHeaders(bytesOf(r.encodedHeaders)))
      return { syncedTo: p.syncParaHeader(headers.map((h) => h.toU8a()), (r.proof as Uint8Array[]) ?? []) }
    },
  },
  SyncCombinedHeaders: {
    req: 'pruntime_rpc.CombinedHeadersToSync',
    res: 'pruntime_rpc.HeadersSyncedTo',
    run: (p, r) => {
      const relay = decodeOrThrow(() => decodeHeadersToSync(bytesOf(r.encodedRelaychainHeaders)))
      const para = decodeOrThrow(() => decodeHeaders(bytesOf(r.encodedParachainHeaders)))
      return p.syncCombinedHeaders(relay.map(relayIn), para.map((h) => h.toU8a()), (r.proof as Uint8Array[]) ?? [])
    },
  },
  DispatchBlocks: {
    req: 'pruntime_rpc.Blocks',
    res: 'pruntime_rpc.SyncedTo',
    run: async (p, r) => ({ syncedTo: await p.dispatchBlocks(decodeOrThrow(() => decodeDispatchBlockReq(bytesOf(r.encodedBlocks)))) }),
  },
  LoadChainState: {
    req: 'pruntime_rpc.ChainState',
    res: 'google.protobuf.Empty',
    run: async (p, r) => {
      await p.loadChainState(Number(r.blockNumber ?? 0), bytesOf(r.encodedState))
      return {}
    },
  },
  Echo: { req: 'pruntime_rpc.EchoMessage', res: 'pruntime_rpc.EchoMessage', run: (_p, r) => ({ echoMsg: r.echoMsg }) },
}

/** bin_api actions: SCALE body -> JSON payload object. */
const BIN_API: Record<string, (p: Phactory, body: Uint8Array) => Promise<Json> | Json> = {
  sync_header: (p, body) => {
    const req = decodeOrThrow(() => decodeSyncHeaderReq(body))
    return { synced_to: p.syncHeader(req.headers.map(relayIn)) }
  },
  sync_para_header: (p, body) => {
    const req = decodeOrThrow(() => decodeSyncParachainHeaderReq(body))
    return { synced_to: p.syncParaHeader(req.headers.map((h) => h.toU8a()), req.proof) }
  },
  sync_combined_headers: (p, body) => {
    const req = decodedOnce('sync_combined_headers', body, decodeSyncCombinedHeaders)
    const r = p.syncCombinedHeaders(req.relay, req.para, req.proof)
    return { relaychain_synced_to: r.relaychainSyncedTo, parachain_synced_to: r.parachainSyncedTo }
  },
  dispatch_block: async (p, body) => {
    const blocks = decodedOnce('dispatch_block', body, decodeDispatchBlockReq)
    return { dispatched_to: await p.dispatchBlocks(blocks) }
  },
}

/**
 * Decoded bin_api requests by the digest of their bytes, shared by every simulated worker of the
 * process: the lifecycle sends the same bytes to many workers, and decoding (SCALE through the type
 * registry) cost more than the checks. The decoded values are read-only to the workers.
 */
const decodedRequests = new LRUCache<string, object>({ max: 128 })

/** Forget the shared decoded requests (a benchmark measuring one worker's own cost). */
export function clearDecodedRequests(): void {
  decodedRequests.clear()
}

function decodedOnce<T extends object>(action: string, body: Uint8Array, decode: (b: Uint8Array) => T): T {
  const key = `${action}:${createHash('sha256').update(body).digest('hex')}`
  let v = decodedRequests.get(key) as T | undefined
  if (!v) {
    v = decodeOrThrow(() => decode(body))
    decodedRequests.set(key, v)
  }
  return v
}

function bytesOf(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array()
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limit) {
      reject(new BodyTooLarge())
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        req.removeAllListeners('data')
        reject(new BodyTooLarge())
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks, size))))
    req.on('error', reject)
  })
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

/** JSON prpc input: snake_case (or camelCase) keys, bytes as 0x-hex (or base64). */
function jsonToPlain(type: protobuf.Type, value: unknown): Json {
  const out: Json = {}
  if (!value || typeof value !== 'object') return out
  for (const [k, v] of Object.entries(value as Json)) {
    const field = type.fields[camel(k)]
    if (!field) continue
    const conv = (x: unknown): unknown => {
      if (field.type === 'bytes' && typeof x === 'string' && isHex(x)) return hexToU8a(x)
      if (field.resolvedType && 'fields' in field.resolvedType) return jsonToPlain(field.resolvedType as protobuf.Type, x)
      return x
    }
    out[field.name] = Array.isArray(v) ? v.map(conv) : conv(v)
  }
  return out
}

/** JSON prpc output: snake_case keys, bytes as 0x-hex. */
function plainToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return u8aToHex(value)
  if (Array.isArray(value)) return value.map(plainToJson)
  if (value && typeof value === 'object') {
    const out: Json = {}
    for (const [k, v] of Object.entries(value as Json)) if (v !== undefined) out[snake(k)] = plainToJson(v)
    return out
  }
  return value
}

export interface PruntimeServer {
  server: Server
  /** Stop listening, drop every connection and cancel answers still held by the "slow" fault. */
  close(): Promise<void>
}

export function createPruntimeServer(hooks: ServerHooks): PruntimeServer {
  const codec = getCodec()
  const sockets = new Set<Socket>()
  const delayed = new Set<NodeJS.Timeout>()
  const log = hooks.logger

  const sendPrpcError = (res: ServerResponse, status: number, message: string, json: boolean): void => {
    if (json) {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: `ProtoError { message: ${JSON.stringify(message)} }` }, null, 2))
    } else {
      res.writeHead(status, { 'content-type': 'application/octet-stream' })
      res.end(codec.encode('prpc.PrpcError', { message }))
    }
  }

  const binReply = (res: ServerResponse, ok: boolean, payloadText: string): void => {
    const p = hooks.phactory()
    const signature = p.initialized ? u8aToHex(sign(p.identity.identity, u8aConcat(new Uint8Array([0xff, 0x01]), stringToU8a(payloadText)))).slice(2) : null
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: ok ? 'ok' : 'error', payload: payloadText, signature }))
  }

  const handlePrpc = async (req: IncomingMessage, res: ServerResponse, method: string, json: boolean): Promise<void> => {
    const m = PRPC[method]
    if (!m) return sendPrpcError(res, 404, 'Method Not Found', json)
    let body: Uint8Array
    try {
      body = req.method === 'GET' ? new Uint8Array() : await readBody(req, BODY_LIMIT)
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' })
        res.end('Entity too large')
        return
      }
      throw e
    }
    let input: Json
    try {
      if (json) input = body.length === 0 ? {} : jsonToPlain(codec.type(m.req), JSON.parse(Buffer.from(body).toString('utf8')))
      else input = codec.decode<Json>(m.req, body, PLAIN_OBJECT)
    } catch (e) {
      return sendPrpcError(res, 400, `DecodeError(${(e as Error).message})`, json)
    }
    const p = hooks.phactory()
    let out: Json
    try {
      out = await p.exclusive(() => m.run(p, input))
    } catch (e) {
      if (e instanceof PRuntimeDecodeError) return sendPrpcError(res, 400, `DecodeError(${e.message})`, json)
      if (e instanceof PRuntimeError) return sendPrpcError(res, 500, e.message, json)
      log.error({ err: e, method }, 'prpc handler failed')
      return sendPrpcError(res, 500, (e as Error).message, json)
    }
    if (json) {
      res.writeHead(200, { 'content-type': 'application/json' })
      const plain = codec.decode(m.res, codec.encode(m.res, out), { ...PLAIN_OBJECT, defaults: true })
      res.end(JSON.stringify(plainToJson(plain)))
    } else {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.end(codec.encode(m.res, out))
    }
  }

  const handleBin = async (req: IncomingMessage, res: ServerResponse, action: string): Promise<void> => {
    const fn = BIN_API[action]
    if (!fn) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('Not Found')
      return
    }
    let body: Uint8Array
    try {
      body = await readBody(req, BODY_LIMIT)
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        res.setHeader('connection', 'close')
        return binReply(res, false, 'Entity too large')
      }
      return binReply(res, false, JSON.stringify({ message: 'Io error: Read input data failed' }))
    }
    const p = hooks.phactory()
    try {
      const payload = await p.exclusive(() => fn(p, body))
      binReply(res, true, JSON.stringify(payload))
    } catch (e) {
      if (e instanceof PRuntimeDecodeError) return binReply(res, false, JSON.stringify({ message: 'Decode input parameter failed' }))
      if (!(e instanceof PRuntimeError)) log.error({ err: e, action }, 'bin_api handler failed')
      binReply(res, false, JSON.stringify({ message: (e as Error).message }))
    }
  }

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req, res)
    if (!url) return
    const path = url.pathname
    const json = url.searchParams.has('json') || /json/i.test(String(req.headers['content-type'] ?? ''))
    if (path.startsWith('/prpc/')) {
      const name = path.slice('/prpc/'.length)
      const method = name.startsWith('PhactoryAPI.') ? name.slice('PhactoryAPI.'.length) : name
      if (req.method === 'GET') return handlePrpc(req, res, method, true)
      if (req.method !== 'POST') return sendPrpcError(res, 404, 'Method Not Found', json)
      return handlePrpc(req, res, method, json)
    }
    if (path.startsWith('/bin_api/') && req.method === 'POST') return handleBin(req, res, path.slice('/bin_api/'.length))
    if (path === '/get_info') return handlePrpc(req, res, 'GetInfo', true)
    if (path === '/info' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(`pRuntime ${hooks.phactory().info().version} (prb devnet simulation)`)
      return
    }
    if (path === '/kick' && req.method === 'POST' && hooks.enableKick) {
      log.warn('kicked: the worker exits and loses its state')
      hooks.onKick()
      // The real process dies mid-request: the client sees the connection drop.
      req.socket.destroy()
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('Not Found')
  }

  const server = createServer((req, res) => {
    const f = hooks.faults
    if (f.hang) return // accepted, never answered; stop() destroys the socket
    const go = (): void => {
      if (hooks.faults.hang) return
      if (hooks.faults.error) {
        req.resume()
        return sendPrpcError(res, 500, 'Internal Server Error (injected fault)', false)
      }
      route(req, res).catch((e: unknown) => {
        log.error({ err: e }, 'pRuntime request failed')
        if (!res.headersSent) sendPrpcError(res, 500, (e as Error).message, false)
        else res.destroy()
      })
    }
    if (f.delayMs > 0) {
      const timer = setTimeout(() => {
        delayed.delete(timer)
        go()
      }, f.delayMs)
      timer.unref() // the open socket keeps the loop alive
      delayed.add(timer)
    } else go()
  })
  server.keepAliveTimeout = 5000
  server.on('clientError', answerClientError)
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const t of delayed) clearTimeout(t)
        delayed.clear()
        for (const s of sockets) s.destroy()
      }),
  }
}
