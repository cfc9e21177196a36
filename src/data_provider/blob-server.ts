/**
 * The TCP blob server (upstream-data-provider.md §7), byte-compatible with prb v2's lifecycle:
 *
 *   request  payload: id(8) ‖ UTF-8 key (trimmed)
 *   reply    payload: id(8)                                  not found / empty value / lookup error
 *                     id(8) ‖ crc(8) ‖ value                 crc = CRC-32C of value as a big-endian
 *                                                            signed int64 (high 4 bytes zero)
 *
 * Frames are varint length-prefixed (framing.ts). Lookups of one connection run concurrently and
 * replies go out in completion order (clients match by id).
 *
 * Limits (upstream had none, weakness 16):
 *  - a request frame above `maxFrameBytes` (default 16 KiB: ids and keys are tiny) or a malformed
 *    length prefix or a payload shorter than the 8-byte id is logged and closes that connection only;
 *  - per connection at most `maxInflight` lookups run and at most `maxPendingBytes` of replies wait
 *    in the socket's write buffer; beyond either, the server stops reading that socket until the
 *    client drains its replies, so a slow or greedy client is throttled by TCP itself and no queue
 *    grows without bound. A single value larger than the limit is still sent, one at a time.
 *  - an optional shared secret (blob-auth.ts);
 *  - a connection with no lookup running that receives and sends nothing for `idleTimeoutMs` is
 *    closed (idle sockets, half-sent frames, clients that stopped reading their replies);
 *  - at `maxConnections`, a new connection evicts the idlest one (never-served first) instead of
 *    being reset, so a reconnecting lifecycle is not locked out by idle sockets; it is refused only
 *    when every connection has a lookup running or replies unread, and the refusal is logged;
 *  - warnings a stranger can trigger (bad frames, failed handshakes, refusals) are rate-limited
 *    (log-limit.ts), each kind at most once per `warnIntervalMs` with the count not logged.
 * Upstream's quirks kept for compatibility: zero-length frames are skipped; a payload of exactly
 * 8 bytes (empty key) is answered "not found" (upstream stayed silent).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { crc32c } from '@node-rs/crc32'
import type { Logger } from '../common/logger.js'
import { makeChallenge, verifyResponse } from './blob-auth.js'
import { encodeVarint, FrameDecoder, FrameError } from './framing.js'
import { createLogLimiter } from './log-limit.js'

export const DEFAULT_BLOB_SERVER_PORT = 8012
export const DEFAULT_MAX_REQUEST_FRAME_BYTES = 16 * 1024
export const DEFAULT_BLOB_IDLE_TIMEOUT_MS = 120_000
export const DEFAULT_BLOB_MAX_CONNECTIONS = 1024
const ID_BYTES = 8

export interface BlobServerOptions {
  /** Bind address; default: all interfaces, IPv4 and IPv6 (Node's default, as upstream). */
  host?: string
  /** TCP port (PHALA_DATA_PROVIDER_LOCAL_SERVER, default 8012); 0 picks a free port. */
  port: number
  /** Shared secret; absent or empty = off (upstream-compatible). */
  secret?: string
  maxFrameBytes?: number
  maxInflight?: number
  maxPendingBytes?: number
  /** Time a connection has to complete the secret handshake. */
  authTimeoutMs?: number
  /**
   * Connections held at most (default 1024). One more evicts the idlest connection; it is refused
   * only when every connection has a lookup running or replies unread.
   */
  maxConnections?: number
  /** A connection with no lookup running that receives and sends nothing this long is closed, ms; 0 = never. Default 120 000. */
  idleTimeoutMs?: number
  /** Warnings about bad, refused or evicted connections: at most one line of each kind per period, ms. Default 60 000. */
  warnIntervalMs?: number
  /** Period of the traffic log line (only when there was traffic), ms; 0 = off. Default 60 000. */
  statsIntervalMs?: number
}

export interface BlobServerDeps {
  logger: Logger
  /** The stored value, or undefined when the key is missing. */
  lookup: (key: string) => Promise<Uint8Array | undefined>
}

export interface BlobServerStats {
  connections: number
  requests: number
  hits: number
  misses: number
  bytesSent: number
  /** connections refused: at the limit with none to evict, or a failed secret handshake */
  refused: number
  /** idle connections closed to make room for a new one */
  evicted: number
  /** connections closed after idleTimeoutMs without traffic */
  idleClosed: number
  badFrames: number
  /** connections whose reads are paused right now by the in-flight / pending-bytes limits */
  pausedConnections: number
  /** lookups running now, all connections */
  inflight: number
}

export interface BlobServer {
  start(): Promise<{ host: string; port: number }>
  stop(): Promise<void>
  address(): { host: string; port: number } | undefined
  stats(): BlobServerStats
}

interface Conn {
  socket: Socket
  remote: string
  /** Last byte received or reply queued or drained (ms since epoch). */
  lastActivity: number
  /** Requests answered or running. */
  served: number
  inflight: () => number
  close: (reason: string, kind?: string) => void
}

export function crcField(value: Uint8Array): Buffer {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(crc32c(value) >>> 0, 4)
  return b
}

export function createBlobServer(opts: BlobServerOptions, deps: BlobServerDeps): BlobServer {
  const host = opts.host
  const secret = opts.secret ? opts.secret : undefined
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_REQUEST_FRAME_BYTES
  const maxInflight = opts.maxInflight ?? 64
  const maxPendingBytes = opts.maxPendingBytes ?? 16 * 1024 * 1024
  const authTimeoutMs = opts.authTimeoutMs ?? 10_000
  const maxConnections = opts.maxConnections ?? DEFAULT_BLOB_MAX_CONNECTIONS
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_BLOB_IDLE_TIMEOUT_MS
  const log = deps.logger
  const limited = createLogLimiter(log, opts.warnIntervalMs ?? 60_000)
  const conns = new Map<Socket, Conn>()
  const stats: BlobServerStats = { connections: 0, requests: 0, hits: 0, misses: 0, bytesSent: 0, refused: 0, evicted: 0, idleClosed: 0, badFrames: 0, pausedConnections: 0, inflight: 0 }
  let server: Server | undefined
  let bound: { host: string; port: number } | undefined
  let starting: Promise<{ host: string; port: number }> | undefined
  let stopping: Promise<void> | undefined
  let statsTimer: NodeJS.Timeout | undefined
  let idleTimer: NodeJS.Timeout | undefined
  let lastLogged = { requests: 0, bytesSent: 0, at: Date.now() }

  /** The connection a new one may replace: no lookup running, no reply unread; never-served first, then the longest idle. */
  function evictable(): Conn | undefined {
    const before = (a: Conn, b: Conn): boolean => (a.served === 0) !== (b.served === 0) ? a.served === 0 : a.lastActivity < b.lastActivity
    let best: Conn | undefined
    for (const c of conns.values()) {
      if (c.inflight() > 0 || c.socket.writableLength > 0) continue
      if (!best || before(c, best)) best = c
    }
    return best
  }

  /** Whether a new connection from `remote` may be served, evicting an idle one when at the limit. */
  function admit(socket: Socket, remote: string): boolean {
    if (conns.size < maxConnections) return true
    const victim = evictable()
    if (victim) {
      const idleMs = Date.now() - victim.lastActivity
      stats.evicted++
      limited.log('evicted', 'info', { remote: victim.remote, idleMs, served: victim.served, newcomer: remote, maxConnections }, 'blob connection evicted to make room')
      victim.close(`evicted after ${idleMs} ms idle: the server is at its limit of ${maxConnections} connections and ${remote} connected`)
      return true
    }
    stats.refused++
    limited.log('refused', 'warn', {
      remote, connections: conns.size, maxConnections,
      reason: `all ${maxConnections} connections are busy (a lookup running or replies unread), none idle to evict; raise maxConnections or find the clients holding them`,
    }, 'blob connection refused')
    socket.destroy()
    return false
  }

  function closeIdle(): void {
    const now = Date.now()
    for (const c of [...conns.values()]) {
      if (c.inflight() === 0 && now - c.lastActivity > idleTimeoutMs) {
        stats.idleClosed++
        c.close(`idle for more than ${idleTimeoutMs} ms (no request, no reply read); the client reconnects on demand`)
      }
    }
  }

  function serve(socket: Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`
    socket.on('error', (err) => log.debug({ err, remote }, 'blob connection error'))
    if (!admit(socket, remote)) return
    const decoder = new FrameDecoder(maxFrameBytes)
    let inflight = 0
    let closed = false
    let released = false
    let paused = false
    let serverNonce: Buffer | undefined
    let authTimer: NodeJS.Timeout | undefined
    stats.connections++
    socket.setNoDelay(true)

    // Once, at the first of close() and the socket's 'close': the slot is free at once for the next connection.
    const release = () => {
      if (released) return
      released = true
      if (paused) stats.pausedConnections--
      paused = false
      if (authTimer) clearTimeout(authTimer)
      conns.delete(socket)
      stats.connections--
    }

    /** Close this connection; `kind` makes it a rate-limited warning (something a stranger did wrong). */
    const close = (reason: string, kind?: string) => {
      if (closed) return
      closed = true
      if (kind) limited.log(kind, 'warn', { remote, reason }, 'blob connection closed')
      else log.debug({ remote, reason }, 'blob connection closed')
      release()
      socket.destroy()
    }
    const conn: Conn = { socket, remote, lastActivity: Date.now(), served: 0, inflight: () => inflight, close }
    conns.set(socket, conn)

    const full = () => inflight >= maxInflight || socket.writableLength >= maxPendingBytes

    const reply = (id: Buffer, value: Uint8Array | undefined) => {
      if (closed || socket.destroyed) return
      conn.lastActivity = Date.now()
      if (!value || value.length === 0) {
        stats.misses++
        socket.write(Buffer.concat([encodeVarint(ID_BYTES), id]))
        return
      }
      stats.hits++
      const prefix = encodeVarint(ID_BYTES + 8 + value.length)
      const head = Buffer.concat([prefix, id, crcField(value)])
      socket.cork()
      socket.write(head)
      socket.write(value)
      socket.uncork()
      stats.bytesSent += head.length + value.length
    }

    const handle = (frame: Buffer) => {
      if (serverNonce) {
        const ack = verifyResponse(secret!, serverNonce, frame)
        if (!ack) {
          stats.refused++
          close('refused: the first frame is not a valid secret handshake (wrong or missing PHALA_DATA_PROVIDER_BLOB_SECRET on the client)', 'handshake')
          return
        }
        serverNonce = undefined
        if (authTimer) clearTimeout(authTimer)
        socket.write(Buffer.concat([encodeVarint(ack.length), ack]))
        return
      }
      if (frame.length < ID_BYTES) {
        stats.badFrames++
        close(`bad frame: ${frame.length}-byte payload, shorter than the 8-byte request id`, 'bad-frame')
        return
      }
      stats.requests++
      conn.served++
      const id = Buffer.from(frame.subarray(0, ID_BYTES))
      const key = frame.toString('utf8', ID_BYTES).trim()
      if (key.length === 0) {
        reply(id, undefined)
        return
      }
      inflight++
      stats.inflight++
      deps.lookup(key).then(
        (value) => reply(id, value),
        (err) => {
          limited.log('lookup-failed', 'warn', { err, key, remote }, 'blob lookup failed; answering not found')
          reply(id, undefined)
        },
      ).finally(() => {
        inflight--
        stats.inflight--
        pump()
      })
    }

    const pump = () => {
      try {
        while (!closed && !full()) {
          const frame = decoder.next()
          if (!frame) break
          handle(frame)
        }
      } catch (e) {
        if (e instanceof FrameError) {
          stats.badFrames++
          close(`bad frame: ${e.message} (request frames are at most ${maxFrameBytes} bytes)`, 'bad-frame')
          return
        }
        throw e
      }
      if (closed) return
      if (full()) {
        if (!paused) {
          paused = true
          stats.pausedConnections++
          socket.pause()
        }
      } else if (paused) {
        paused = false
        stats.pausedConnections--
        socket.resume()
      }
    }

    socket.on('data', (chunk: Buffer) => {
      conn.lastActivity = Date.now()
      decoder.push(chunk)
      pump()
    })
    socket.on('drain', () => {
      conn.lastActivity = Date.now()
      pump()
    })
    socket.on('close', () => {
      closed = true
      release()
    })
    if (secret) {
      const { frame, serverNonce: nonce } = makeChallenge()
      serverNonce = nonce
      socket.write(Buffer.concat([encodeVarint(frame.length), frame]))
      authTimer = setTimeout(() => {
        stats.refused++
        close(`refused: no secret handshake within ${authTimeoutMs} ms`, 'handshake-timeout')
      }, authTimeoutMs)
    }
  }

  // Once: concurrent calls share one listen; a failed one may be retried; stop() waits for it.
  const start = (): Promise<{ host: string; port: number }> => {
    if (stopping) return Promise.reject(new Error('blob server was stopped; create a new one to serve again'))
    starting ??= listen().catch((err: unknown) => {
      starting = undefined
      throw err
    })
    return starting
  }

  async function listen(): Promise<{ host: string; port: number }> {
    const srv = createServer({ noDelay: true }, serve)
    // No srv.maxConnections: Node would reset the connections beyond it silently; admit() decides and logs.
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`blob server cannot listen on ${host ?? '*'}:${opts.port}: ${err.message}; pick another port (PHALA_DATA_PROVIDER_LOCAL_SERVER) or stop the process using it`, { cause: err }))
      srv.once('error', onError)
      srv.listen(opts.port, host, () => {
        srv.off('error', onError)
        resolve()
      })
    })
    srv.on('error', (err) => log.error({ err }, 'blob server error'))
    server = srv
    const a = srv.address() as AddressInfo
    bound = { host: a.address, port: a.port }
    // Not a field named `secret`: the logger redacts any field of that name, "off" included.
    log.info({ ...bound, sharedSecret: secret ? 'on' : 'off', maxFrameBytes, maxInflight, maxPendingBytes }, `blob server listening on ${bound.host}:${bound.port}, shared secret ${secret ? 'on: clients must present PHALA_DATA_PROVIDER_BLOB_SECRET' : 'off'}`)
    if (idleTimeoutMs > 0) {
      idleTimer = setInterval(closeIdle, Math.min(5000, Math.max(25, Math.floor(idleTimeoutMs / 4))))
      idleTimer.unref()
    }
    const every = opts.statsIntervalMs ?? 60_000
    if (every > 0) {
      statsTimer = setInterval(() => {
        if (stats.requests === lastLogged.requests) return
        const secs = (Date.now() - lastLogged.at) / 1000
        log.info({ ...stats, requestsPerSec: Math.round((stats.requests - lastLogged.requests) / secs), mibPerSec: Math.round(((stats.bytesSent - lastLogged.bytesSent) / secs / 1048576) * 10) / 10 }, 'blob server traffic')
        lastLogged = { requests: stats.requests, bytesSent: stats.bytesSent, at: Date.now() }
      }, every)
      statsTimer.unref()
    }
    return bound
  }

  return {
    start,
    stop() {
      stopping ??= (async () => {
        await starting?.catch(() => undefined)
        if (statsTimer) clearInterval(statsTimer)
        if (idleTimer) clearInterval(idleTimer)
        const srv = server
        if (!srv) return
        const closedP = new Promise<void>((resolve) => srv.close(() => resolve()))
        for (const s of [...conns.keys()]) s.destroy()
        await closedP
        log.info(stats, 'blob server stopped')
      })()
      return stopping
    },
    address: () => bound,
    stats: () => ({ ...stats }),
  }
}
