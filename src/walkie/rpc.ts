import { randomUUID } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import type protobuf from 'protobufjs'
import type { Codec } from '../common/codec.js'
import type { Logger } from '../common/logger.js'
import { WalkieError, errorTypeName, type ResponseErrorTypeName } from './types.js'
import type { In, RequestOf, ResponseOf, WalkieMethod } from './messages.js'

/** Upstream's RPC protocol id: one RPC per stream, no length prefix, each side half-closes. */
export const RPC_PROTOCOL = '/pb'
/** Upstream writes messages in 1 MiB chunks. */
const CHUNK = 1024 * 1024
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

const REQUEST = 'prb.WalkieRpcRequestWrapper'
const RESPONSE = 'prb.WalkieRpcResponseWrapper'
const SERVICE = 'prb.WalkieRpc'

export type { WalkieMethod }

/** A decoded protobuf message as a plain object (camelCase, uint64 as number, enums as names, bytes as Buffer). */
export type WalkieMessage = Record<string, any>

export interface RpcContext {
  /** The caller's peer id (authenticated by Noise). */
  peerId: string
  method: WalkieMethod
  signal: AbortSignal
  /**
   * The request as it came on the wire: a handler that must tell a field sent as its default
   * (`enabled: false`) from one not sent (partial updates) decodes it without defaults.
   * Always set by the node; optional so handlers can be called directly (tests).
   */
  raw?: Uint8Array
}

/** Gets the decoded request; returns the response as a (partial) plain object, or throws WalkieError. */
export type RpcHandler<M extends WalkieMethod = WalkieMethod> = (request: RequestOf<M>, ctx: RpcContext) => In<ResponseOf<M>> | Promise<In<ResponseOf<M>>>

export interface MethodTypes {
  request: protobuf.Type
  response: protobuf.Type
}

/** Resolves method names to their request and response types once, from the service definition. */
export class MethodTable {
  readonly #methods = new Map<string, MethodTypes>()
  constructor(readonly codec: Codec) {
    const service = codec.service(SERVICE)
    for (const [name, m] of Object.entries(service.methods)) {
      m.resolve()
      this.#methods.set(name, { request: m.resolvedRequestType!, response: m.resolvedResponseType! })
    }
  }

  get(method: string): MethodTypes | undefined {
    return this.#methods.get(method)
  }

  names(): WalkieMethod[] {
    return [...this.#methods.keys()] as WalkieMethod[]
  }
}

/** Encode a plain object as `type`, refusing values protobufjs would silently drop or mangle. */
export function encodeAs(type: protobuf.Type, value: WalkieMessage | undefined | null): Uint8Array {
  const msg = type.fromObject((value ?? {}) as Record<string, unknown>)
  const err = type.verify(msg)
  if (err) throw new Error(`invalid ${type.fullName.slice(1)}: ${err}`)
  return type.encode(msg).finish()
}

export function decodeAs(codec: Codec, type: protobuf.Type, bytes: Uint8Array): WalkieMessage {
  return codec.decode(type.fullName.slice(1), bytes)
}

/** Read a stream to its end; abort it (and throw) once it carries more than `max` bytes. */
export async function readAll(stream: Stream, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let total = 0
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    total += bytes.byteLength
    if (total > max) {
      const err = new WalkieError('UNKNOWN', `message exceeds the Walkie limit of ${max} bytes`, 'ERR_WALKIE_TOO_LARGE')
      stream.abort(err)
      throw err
    }
    parts.push(bytes)
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total)
}

/** Write `bytes` in upstream's 1 MiB chunks, honouring back-pressure, then half-close. */
export async function writeAll(stream: Stream, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  for (let off = 0; off < bytes.byteLength; off += CHUNK) {
    const ok = stream.send(bytes.subarray(off, Math.min(off + CHUNK, bytes.byteLength)))
    if (!ok) await stream.onDrain({ signal })
  }
  await stream.close({ signal })
}

export function encodeRequest(codec: Codec, method: string, data: Uint8Array, nonce: string): Uint8Array {
  const type = codec.type(REQUEST)
  return type.encode(type.create({ createdAt: Date.now(), nonce, data, method })).finish()
}

export interface DecodedRequest {
  createdAt: number
  nonce: string
  data: Uint8Array
  method: string
}

export function decodeRequest(codec: Codec, bytes: Uint8Array): DecodedRequest {
  const r = codec.decode<{ createdAt: number; nonce: string; data: Uint8Array; method: string }>(REQUEST, bytes)
  return { createdAt: Number(r.createdAt), nonce: r.nonce, data: r.data, method: r.method }
}

/** has_error is written explicitly even when false, as upstream (protobufjs 6) does. */
export function encodeResponse(codec: Codec, requestNonce: string, result: { data: Uint8Array } | { error: { type: ResponseErrorTypeName; message: string } }): Uint8Array {
  const type = codec.type(RESPONSE)
  const base = { createdAt: Date.now(), requestNonce, nonce: randomUUID() }
  const msg = 'data' in result
    ? type.create({ ...base, data: result.data, hasError: false })
    : type.create({ ...base, hasError: true, error: codec.type('prb.error.ResponseError').fromObject(result.error) })
  return type.encode(msg).finish()
}

export interface DecodedResponse {
  requestNonce: string
  hasError: boolean
  data: Uint8Array
  error?: { type: ResponseErrorTypeName; message: string }
}

export function decodeResponse(codec: Codec, bytes: Uint8Array): DecodedResponse {
  const r = codec.decode<{ requestNonce: string; hasError: boolean; data: Uint8Array; error?: { type: string; message: string } | null }>(RESPONSE, bytes)
  return {
    requestNonce: r.requestNonce,
    hasError: r.hasError,
    data: r.data,
    error: r.error ? { type: errorTypeName(r.error.type), message: r.error.message } : undefined,
  }
}

export interface ServeOptions {
  codec: Codec
  methods: MethodTable
  handlers: ReadonlyMap<string, RpcHandler<any>>
  maxMessageBytes: number
  /** The whole exchange (read request, run handler, write answer) must end within this. */
  timeoutMs: number
  logger: Logger
  /** Applied to every error text sent to the peer, so no secret a handler's error carries leaves the node. */
  redact?: (text: string) => string
}

/**
 * Serve one inbound `/pb` stream. A malformed or oversized request aborts only this stream; a
 * handler's exception becomes an error answer; nothing here throws.
 */
export async function serveStream(stream: Stream, remotePeer: string, opts: ServeOptions): Promise<void> {
  const { codec, logger } = opts
  const signal = AbortSignal.timeout(opts.timeoutMs)
  const onAbort = () => stream.abort(new WalkieError('UNKNOWN', `Walkie request from ${remotePeer} took longer than ${opts.timeoutMs} ms`, 'ERR_WALKIE_TIMEOUT'))
  signal.addEventListener('abort', onAbort, { once: true })
  let req: DecodedRequest
  try {
    req = decodeRequest(codec, await readAll(stream, opts.maxMessageBytes))
  } catch (err) {
    logger.warn({ err, peer: remotePeer }, 'Dropped a malformed Walkie request stream.')
    if (stream.status === 'open') stream.abort(err as Error)
    signal.removeEventListener('abort', onAbort)
    return
  }

  const method = req.method as WalkieMethod
  let answer: Parameters<typeof encodeResponse>[2]
  const types = opts.methods.get(method)
  const handler = opts.handlers.get(method)
  if (!types) {
    // Upstream answers SERVER with a TypeError here; NOT_FOUND says what happened.
    answer = { error: { type: 'NOT_FOUND', message: `Unknown method "${req.method}": not in service WalkieRpc.` } }
  } else if (!handler) {
    answer = { error: { type: 'NOT_FOUND', message: 'Handler not implemented.' } }
  } else {
    try {
      let request: WalkieMessage
      try {
        request = decodeAs(codec, types.request, req.data)
      } catch (e) {
        throw new WalkieError('SERVER', `malformed ${method} request: ${(e as Error).message}`)
      }
      const result = (await handler(request as never, { peerId: remotePeer, method, signal, raw: req.data })) as WalkieMessage
      let data: Uint8Array
      try {
        data = encodeAs(types.response, result)
      } catch (e) {
        throw new Error(`handler returned a bad ${method} response: ${(e as Error).message}`)
      }
      answer = { data }
    } catch (err) {
      const redact = opts.redact ?? ((t: string) => t)
      if (err instanceof WalkieError) {
        const message = redact(err.message)
        answer = { error: { type: err.type, message } }
        logger.debug({ peer: remotePeer, method, type: err.type, errorMessage: message }, 'Walkie handler answered an error.')
      } else {
        answer = { error: { type: 'SERVER', message: redact(String(err)) } }
        logger.warn({ err, peer: remotePeer, method }, `Walkie handler for ${method} failed.`)
      }
    }
  }
  try {
    await writeAll(stream, encodeResponse(codec, req.nonce, answer), signal)
  } catch (err) {
    logger.debug({ err, peer: remotePeer, method }, 'Could not write a Walkie response; the caller is gone.')
    if (stream.status === 'open') stream.abort(err as Error)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
