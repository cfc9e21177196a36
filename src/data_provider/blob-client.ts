/**
 * Client of the TCP blob server (blob-server.ts; upstream-lifecycle.md §7.4): one long-lived,
 * pipelined connection, opened on demand and reopened on the next `get` after it drops. Replies
 * are matched by request id, so out-of-order replies are fine. Each `get` has its own timeout; when
 * the connection closes, every pending `get` rejects at once. A reply's CRC-32C is checked
 * ("CRC Mismatch!"). With a secret, the connection first completes the handshake of blob-auth.ts.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { crc32c } from '@node-rs/crc32'
import { PrbError, TimeoutError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import { answerChallenge, isChallenge, verifyAck } from './blob-auth.js'
import { encodeVarint, FrameDecoder, FrameError } from './framing.js'

const ID_BYTES = 8
const REPLY_HEAD = 16

export class BlobClientError extends PrbError {
  override name = 'BlobClientError'
}

export interface BlobClientOptions {
  host: string
  port: number
  /** Shared secret of the server; absent = none. */
  secret?: string
  /** Per-request timeout (upstream TIMEOUT_DP_GET: 30 s). */
  timeoutMs?: number
  /** Time to connect and, with a secret, finish the handshake. */
  connectTimeoutMs?: number
  /** Largest reply frame accepted (the genesis state can be large). */
  maxFrameBytes?: number
}

export interface BlobClientDeps {
  logger?: Logger
}

export interface BlobClient {
  /** The value, or null when the server has no such key. */
  get(key: string): Promise<Uint8Array | null>
  /** Open the connection now (otherwise the first `get` does). */
  connect(): Promise<void>
  close(): Promise<void>
  readonly connected: boolean
}

interface Pending {
  key: string
  resolve: (v: Uint8Array | null) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

interface Conn {
  socket: Socket
  ready: Promise<void>
  pending: Map<bigint, Pending>
  closed: boolean
  fail: (reason: string) => void
}

export function createBlobClient(opts: BlobClientOptions, deps: BlobClientDeps = {}): BlobClient {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
  const maxFrameBytes = opts.maxFrameBytes ?? 1024 * 1024 * 1024
  const secret = opts.secret ? opts.secret : undefined
  const where = `${opts.host}:${opts.port}`
  const log = deps.logger
  let conn: Conn | undefined
  let closedForGood = false
  // A per-client random prefix keeps ids unique across reconnects; the low 32 bits count.
  const idPrefix = randomBytes(4).readUInt32BE(0)
  let counter = 0

  function open(): Conn {
    const socket = connect({ host: opts.host, port: opts.port, noDelay: true })
    const decoder = new FrameDecoder(maxFrameBytes)
    const pending = new Map<bigint, Pending>()
    const c: Conn = { socket, ready: Promise.resolve(), pending, closed: false, fail: (reason) => fail(reason) }
    let closeReason: string | undefined
    let handshake: { serverNonce: Buffer; clientNonce: Buffer } | undefined
    let readyDone = false
    let readyResolve!: () => void
    let readyReject!: (e: Error) => void
    c.ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve
      readyReject = reject
    })
    c.ready.catch(() => undefined)
    const connectTimer = setTimeout(() => {
      fail(secret ? `no secret handshake from the blob server at ${where} within ${connectTimeoutMs} ms (is PHALA_DATA_PROVIDER_BLOB_SECRET set on the data provider?)` : `cannot connect to the blob server at ${where} within ${connectTimeoutMs} ms`)
    }, connectTimeoutMs)

    const markReady = () => {
      readyDone = true
      clearTimeout(connectTimer)
      readyResolve()
    }

    const fail = (reason: string) => {
      closeReason ??= reason
      socket.destroy()
    }

    const onFrame = (frame: Buffer) => {
      if (!readyDone) {
        if (!secret) return // unreachable: without a secret we are ready at connect
        if (!handshake) {
          if (!isChallenge(frame)) return fail(`the blob server at ${where} did not start the secret handshake: it has no secret configured, or it is not a prb blob server`)
          const a = answerChallenge(secret, frame)
          handshake = { serverNonce: a.serverNonce, clientNonce: a.clientNonce }
          socket.write(Buffer.concat([encodeVarint(a.frame.length), a.frame]))
          return
        }
        if (!verifyAck(secret, handshake.serverNonce, handshake.clientNonce, frame)) return fail(`the blob server at ${where} failed the secret handshake: it does not know our secret (check PHALA_DATA_PROVIDER_BLOB_SECRET on both sides)`)
        markReady()
        return
      }
      if (frame.length < ID_BYTES) {
        log?.warn({ server: where, bytes: frame.length }, 'Received invalid data from the blob server; ignored')
        return
      }
      const id = frame.readBigUInt64BE(0)
      const p = pending.get(id)
      if (!p) {
        if (!secret && isChallenge(frame)) return fail(`the blob server at ${where} requires a shared secret; set the same PHALA_DATA_PROVIDER_BLOB_SECRET on this side`)
        log?.warn({ server: where }, 'reply with an unknown request id (timed out?); ignored')
        return
      }
      pending.delete(id)
      clearTimeout(p.timer)
      if (frame.length <= REPLY_HEAD) return p.resolve(null)
      const value = frame.subarray(REPLY_HEAD)
      const expected = frame.readUInt32BE(12)
      if (frame.readUInt32BE(8) !== 0 || (crc32c(value) >>> 0) !== expected) {
        return p.reject(new BlobClientError('ERR_BLOB_CRC', `CRC Mismatch! The value of '${p.key}' from the blob server at ${where} is damaged; retry the request`))
      }
      // A small reply inside a large socket chunk is copied out, so a cached value does not pin the chunk.
      p.resolve(value.byteLength * 2 < value.buffer.byteLength ? Buffer.from(value) : value)
    }

    socket.on('connect', () => {
      if (!secret) markReady()
    })
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk)
      try {
        for (let f = decoder.next(); f; f = decoder.next()) {
          onFrame(f)
          if (c.closed) return
        }
      } catch (e) {
        if (e instanceof FrameError) fail(`bad frame from the blob server at ${where}: ${e.message}`)
        else throw e
      }
    })
    socket.on('error', (err) => {
      closeReason ??= `${err.message}`
    })
    socket.on('close', () => {
      c.closed = true
      clearTimeout(connectTimer)
      if (conn === c) conn = undefined
      const why = closeReason ?? 'closed by the server (it stopped, restarted or dropped us); the next request reconnects'
      const err = new BlobClientError('ERR_BLOB_CONNECTION_CLOSED', `Connection closed. Blob server ${where}: ${why}`)
      if (!readyDone) readyReject(err)
      for (const p of pending.values()) {
        clearTimeout(p.timer)
        p.reject(err)
      }
      pending.clear()
      log?.debug({ server: where, reason: why }, 'blob client connection closed')
    })
    return c
  }

  function current(): Conn {
    if (closedForGood) throw new BlobClientError('ERR_BLOB_CLIENT_CLOSED', `blob client for ${where} is closed (close() was called); create a new client`)
    if (!conn || conn.closed) conn = open()
    return conn
  }

  return {
    get connected() {
      return conn !== undefined && !conn.closed
    },
    async connect() {
      await current().ready
    },
    async get(key: string) {
      const c = current()
      await c.ready
      if (c.closed) throw new BlobClientError('ERR_BLOB_CONNECTION_CLOSED', `Connection closed. Blob server ${where} dropped the connection before the request was sent; retry (the next request reconnects)`)
      const id = (BigInt(idPrefix) << 32n) | BigInt(counter = (counter + 1) >>> 0)
      const keyBytes = Buffer.from(key, 'utf8')
      const frame = Buffer.allocUnsafe(ID_BYTES + keyBytes.length)
      frame.writeBigUInt64BE(id, 0)
      keyBytes.copy(frame, ID_BYTES)
      return new Promise<Uint8Array | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          c.pending.delete(id)
          reject(new TimeoutError(`Timeout when getting key '${key}'. The blob server at ${where} did not answer within ${timeoutMs} ms`))
        }, timeoutMs)
        c.pending.set(id, { key, resolve, reject, timer })
        c.socket.write(Buffer.concat([encodeVarint(frame.length), frame]))
      })
    },
    async close() {
      closedForGood = true
      const c = conn
      if (!c || c.closed) return
      const done = new Promise<void>((resolve) => c.socket.once('close', () => resolve()))
      c.fail('closed by the client')
      await done
    },
  }
}
