import { randomUUID } from 'node:crypto'
import { hostname as osHostname } from 'node:os'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { mplex } from '@libp2p/mplex'
import { identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { mdns } from '@libp2p/mdns'
import { preSharedKey } from '@libp2p/pnet'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId, PeerInfo, Stream } from '@libp2p/interface'
import { getCodec, type Codec } from '../common/codec.js'
import type { Logger } from '../common/logger.js'
import { retry, sleep } from '../common/retry.js'
import { ephemeralIdentity, keyFileMode, keyFilePath, loadOrCreateIdentity, type WalkieIdentity } from './identity.js'
import { swarmKeyFromSecret } from './psk.js'
import { PeerRegistry } from './registry.js'
import { reportUpgradeFailures, UpgradeFailureLog } from './upgrade-log.js'
import {
  DEFAULT_MAX_MESSAGE_BYTES, MethodTable, RPC_PROTOCOL, decodeAs, decodeResponse, encodeAs, encodeRequest, readAll,
  serveStream, writeAll, type DecodedResponse, type MethodTypes, type RpcHandler, type WalkieMessage, type WalkieMethod,
} from './rpc.js'
import type { In, RequestOf, ResponseOf } from './messages.js'
import { WalkieError, roleName, type WalkieKeyName, type WalkiePeer, type WalkieRole, type WalkieRoleName } from './types.js'

export const DEFAULT_LISTEN_ADDRESSES = ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0']

export type WalkieIdentityInit =
  | { peerIdPrefix: string; name: WalkieKeyName }
  | { ephemeral: true }
  | { preloaded: WalkieIdentity }

export interface WalkieInit {
  role: WalkieRole
  /** Upstream: hex of the parachain's block #1 hash; the monitor uses `client`. */
  chainIdentity: string
  /** PHALA_BRIDGE_IDENTITY, default `default`. */
  bridgeIdentity: string
  /** PHALA_PTP_IGNORE_BRIDGE_IDENTITY: count peers of any bridge identity (chain must still match). */
  ignoreBridgeIdentity?: boolean
  /** Count every peer whatever its identities (the monitor). */
  acceptAnyIdentity?: boolean
  identity: WalkieIdentityInit
  /** Default `/ip4/0.0.0.0/tcp/0`, `/ip6/::/tcp/0`. Empty: dial-only (runners, monitor). */
  listenAddresses?: string[]
  /**
   * Multiaddrs to keep a connection to; `/p2p/<id>` is optional. The caller decides upstream's
   * "fall back to the listen addresses" quirk; unspecified hosts and port 0 are skipped with a warning.
   */
  bootNodes?: string[]
  disableMdns?: boolean
  /** mDNS query interval; upstream 20 s. */
  mdnsIntervalMs?: number
  /** Per-call deadline for outbound calls, and for serving one inbound call. Default 30 s. */
  rpcTimeoutMs?: number
  /** Largest request or response; larger ones abort the stream. Default 64 MiB. */
  maxMessageBytes?: number
  /** PHALA_WALKIE_PSK: a libp2p private network; peers without the same key cannot connect at all. */
  psk?: string
  /** How often known peers are pinged (or redialled). Default 10 s. */
  livenessIntervalMs?: number
  /** A peer not heard from for this long leaves the registry. Default 30 s. */
  staleAfterMs?: number
  /** Backoff bounds for redialling boot nodes. Default 1 s to 30 s. */
  bootRetryMinMs?: number
  bootRetryMaxMs?: number
  /** Sent in Hello; os.hostname() by default. */
  hostname?: string
  /** Failed connection upgrades are logged at most once per this many ms per remote host. Default 60 s. */
  upgradeLogIntervalMs?: number
}

export interface WalkieDeps {
  logger: Logger
  codec?: Codec
  /**
   * Scrubs secrets from the error texts this node sends to peers (a module passes its
   * SecretGuard's `redact`). The node's own PSK is always scrubbed.
   */
  redact?: (text: string) => string
}

export interface WalkieConnection {
  /** libp2p's id of the connection: the same id means the same connection. */
  id: string
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  /** The stream multiplexer chosen, e.g. /yamux/1.0.0 or /mplex/6.7.0 (upstream v2 peers). */
  multiplexer?: string
  encryption?: string
}

export interface CallOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

export interface Walkie {
  start(): Promise<void>
  /** Idempotent: a second call returns the same promise. */
  stop(): Promise<void>
  /** Our base58 peer id (after start). */
  readonly peerId: string
  /** Our key (after start); the lifecycle encrypts operator keys with `identity.rsa`. */
  readonly identity: WalkieIdentity
  /** Listen addresses with `/p2p/<id>`, for boot lists. */
  multiaddrs(): string[]
  /** Serve `method`; handlers get decoded plain objects and return plain objects. */
  handle<M extends WalkieMethod>(method: M, handler: RpcHandler<M>): void
  /** Call one peer. Remote errors throw WalkieError with `remote = true` and the peer's type. */
  call<M extends WalkieMethod>(peerId: string, method: M, request?: In<RequestOf<M>>, opts?: CallOptions): Promise<ResponseOf<M>>
  /**
   * Call one peer with an encoded request; resolves with the response wrapper exactly as received
   * (the monitor's proxy shows it as upstream did). Fails as call() does when no answer comes.
   */
  callRaw(peerId: string, method: string, request: Uint8Array, opts?: CallOptions): Promise<Uint8Array>
  /** Call a peer of `role`, failing over to another one while peers are unreachable. */
  callRole<M extends WalkieMethod>(role: WalkieRole, method: M, request?: In<RequestOf<M>>, opts?: CallOptions): Promise<{ peer: WalkiePeer; response: ResponseOf<M> }>
  /** A live compatible peer of `role`, at random (throws ERR_WALKIE_NO_PEER). */
  pick(role: WalkieRole): WalkiePeer
  peers(opts?: { role?: WalkieRole; includeIncompatible?: boolean; connectedOnly?: boolean }): WalkiePeer[]
  /** Resolves with the first compatible peer of `role` (now or later). */
  waitForPeer(role: WalkieRole, opts?: CallOptions): Promise<WalkiePeer>
  /** The open libp2p connections (to one peer, or all): one entry per connection, not per address. */
  connections(peerId?: string): WalkieConnection[]
  /** Connect to a multiaddr now (tests, the monitor); resolves with the remote peer id. */
  dial(address: string, opts?: CallOptions): Promise<string>
  /** Peer events ({type: up | update | down}) and `updates()` as an async iterator. */
  readonly registry: PeerRegistry
}

function isUnspecified(ma: Multiaddr): boolean {
  const parts = ma.getComponents()
  const host = parts.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
  const port = parts.find((c) => c.name === 'tcp')?.value
  return host === '0.0.0.0' || host === '::' || port === '0'
}

/** libp2p refuses to dial its own peer id: a boot list that names this node (upstream's default). */
function isSelfDial(err: unknown): boolean {
  return err instanceof Error && /dial self/i.test(err.message)
}

class WalkieNode implements Walkie {
  readonly registry = new PeerRegistry()
  readonly #init: WalkieInit
  readonly #log: Logger
  readonly #codec: Codec
  readonly #methods: MethodTable
  readonly #handlers = new Map<string, RpcHandler<any>>()
  readonly #handshakes = new Map<string, Promise<void>>()
  readonly #abort = new AbortController()
  readonly #role: WalkieRoleName
  readonly #rpcTimeoutMs: number
  readonly #maxBytes: number
  readonly #redact: (text: string) => string
  #node?: Libp2p<{ ping: Ping; identify: unknown }>
  #identity?: WalkieIdentity
  #hostname: string
  #loops: Promise<void>[] = []
  #starting?: Promise<void>
  #stopping?: Promise<void>

  constructor(init: WalkieInit, deps: WalkieDeps) {
    this.#init = init
    this.#log = deps.logger
    this.#codec = deps.codec ?? getCodec()
    this.#methods = new MethodTable(this.#codec)
    this.#role = roleName(init.role)
    this.#rpcTimeoutMs = init.rpcTimeoutMs ?? 30_000
    this.#maxBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.#hostname = init.hostname ?? osHostname()
    if (init.psk !== undefined) swarmKeyFromSecret(init.psk) // fail at construction on a bad key
    const psk = init.psk?.trim()
    const outer = deps.redact ?? ((t: string) => t)
    this.#redact = psk ? (t) => outer(t.split(psk).join('[REDACTED]')) : outer
    this.#handlers.set('Hello', ((req, ctx) => this.#onHello(req, ctx.peerId)) satisfies RpcHandler<'Hello'>)
  }

  get peerId(): string {
    if (!this.#identity) throw new WalkieError('UNKNOWN', 'Walkie is not started: await start() before asking for its peer id or identity', 'ERR_WALKIE_NOT_STARTED')
    return this.#identity.peerId
  }

  get identity(): WalkieIdentity {
    if (!this.#identity) throw new WalkieError('UNKNOWN', 'Walkie is not started: await start() before asking for its peer id or identity', 'ERR_WALKIE_NOT_STARTED')
    return this.#identity
  }

  #libp2p(): Libp2p<{ ping: Ping; identify: unknown }> {
    if (!this.#node || this.#stopping) throw new WalkieError('UNKNOWN', this.#stopping ? 'Walkie is stopped: create and start a new node' : 'Walkie is not running: await start() first', 'ERR_WALKIE_NOT_STARTED')
    return this.#node
  }

  handle<M extends WalkieMethod>(method: M, handler: RpcHandler<M>): void {
    if (!this.#methods.get(method)) throw new WalkieError('NOT_FOUND', `unknown Walkie method "${method}"; see service WalkieRpc in proto/message.proto`, 'ERR_WALKIE_METHOD')
    if (method === 'Hello') throw new WalkieError('DUPLICATED', 'Hello is built into Walkie and cannot be replaced', 'ERR_WALKIE_METHOD')
    this.#handlers.set(method, handler)
  }

  multiaddrs(): string[] {
    return this.#libp2p().getMultiaddrs().map((m) => m.toString())
  }

  peers(opts?: { role?: WalkieRole; includeIncompatible?: boolean; connectedOnly?: boolean }): WalkiePeer[] {
    return this.registry.list(opts)
  }

  pick(role: WalkieRole): WalkiePeer {
    return this.registry.pick(role)
  }

  /**
   * Once: concurrent calls share one start; after a failed start, the half-made node is stopped
   * and start() may be called again; stop() waits for a start in progress, then stops what it made.
   */
  start(): Promise<void> {
    if (this.#stopping) return Promise.reject(new WalkieError('UNKNOWN', 'Walkie was stopped; create a new node to start again', 'ERR_WALKIE_STOPPED'))
    this.#starting ??= this.#start().catch(async (err: unknown) => {
      const node = this.#node
      this.#node = undefined
      this.#starting = undefined
      try {
        await node?.stop()
      } catch {
        // the start error is the one to report
      }
      throw err
    })
    return this.#starting
  }

  async #start(): Promise<void> {
    const init = this.#init
    const id = init.identity
    if ('preloaded' in id) this.#identity = id.preloaded
    else if ('ephemeral' in id) this.#identity = await ephemeralIdentity()
    else {
      const file = keyFilePath(id.peerIdPrefix, id.name)
      this.#identity = await loadOrCreateIdentity(file)
      if (this.#identity.created) this.#log.info({ file }, `Created a new identity key at ${file}.`)
      const mode = await keyFileMode(file)
      if (mode & 0o077) this.#log.warn({ file, mode: mode.toString(8) }, `Identity key file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it.`)
    }

    const mdnsOn = !init.disableMdns
    const upgradeLog = new UpgradeFailureLog(this.#log, { pskOn: init.psk !== undefined, ...(init.upgradeLogIntervalMs !== undefined ? { intervalMs: init.upgradeLogIntervalMs } : {}) })
    const node = await createLibp2p({
      privateKey: this.#identity.privateKey,
      start: false,
      addresses: { listen: init.listenAddresses ?? DEFAULT_LISTEN_ADDRESSES },
      transports: [reportUpgradeFailures(tcp(), upgradeLog, () => this.#stopping !== undefined)],
      connectionEncrypters: [noise()],
      // yamux first, so two prb nodes pick it; mplex for upstream v2's peers (libp2p 0.35 speaks
      // only /mplex/6.7.0: without it their lifecycle, runners and monitor cannot reach us).
      streamMuxers: [yamux(), mplex()],
      ...(init.psk !== undefined ? { connectionProtector: preSharedKey({ psk: swarmKeyFromSecret(init.psk) }) } : {}),
      peerDiscovery: mdnsOn ? [mdns({ interval: init.mdnsIntervalMs ?? 20_000 })] : [],
      // Two pingers share /ipfs/ping/1.0.0 on each connection: libp2p's connection monitor and the
      // liveness loop below. With the ping service's default of 1 outbound stream, the two overlapping
      // (likelier under load) made the monitor's ping fail "Too many outbound protocol streams" and
      // abort the connection with every Walkie call on it (a lifecycle lost its data provider).
      services: { identify: identify(), ping: ping({ maxOutboundStreams: 4, maxInboundStreams: 8 }) },
      // libp2p's defaults (10 pending upgrades, 10 s each; 5 connections a second per host) let ten
      // idle sockets lock every peer out for 10 s, and reset a v2 lifecycle's runners reconnecting
      // from one host at once: more room, a shorter upgrade deadline, a per-host rate that fits them.
      connectionManager: { maxIncomingPendingConnections: 128, inboundUpgradeTimeout: 5_000, inboundConnectionThreshold: 50 },
    })
    this.#node = node
    await node.handle(RPC_PROTOCOL, (stream, conn) => this.#onStream(stream, conn), { maxInboundStreams: 1024, maxOutboundStreams: 1024 })
    node.addEventListener('connection:open', (ev) => this.#onConnection(ev.detail))
    node.addEventListener('peer:disconnect', (ev) => this.#onDisconnect(ev.detail))
    node.addEventListener('peer:discovery', (ev) => this.#onDiscovery(ev.detail))
    await node.start()

    const addresses = this.multiaddrs()
    if ('peerIdPrefix' in id) {
      this.#log.info({ id: this.#identity.peerId, addresses }, `Got my peer id as ${id.name}.`)
    } else if ('ephemeral' in id) {
      this.#log.info({ id: this.#identity.peerId, addresses }, 'Walkie started with an ephemeral peer id.')
    } else {
      // The owner loaded the key itself (the lifecycle checks it against its store first) and logs it.
      this.#log.info({ id: this.#identity.peerId, addresses }, 'Walkie started with the identity key its owner loaded.')
    }
    this.#log.info({ role: this.#role, chainIdentity: init.chainIdentity, bridgeIdentity: init.bridgeIdentity, mdns: mdnsOn, privateNetwork: init.psk !== undefined, bootNodes: init.bootNodes ?? [] }, 'Walkie is up.')

    const signal = this.#abort.signal
    for (const addr of init.bootNodes ?? []) this.#loops.push(this.#bootLoop(addr, signal))
    this.#loops.push(this.#livenessLoop(signal))
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort()
      await this.#starting?.catch(() => undefined)
      await Promise.allSettled(this.#loops)
      try {
        await this.#node?.stop()
      } catch (err) {
        this.#log.warn({ err }, 'libp2p did not stop cleanly.')
      }
      this.registry.clear('walkie stopped')
      this.#log.info('Walkie stopped.')
    })()
    return this.#stopping
  }

  // --- RPC -------------------------------------------------------------------------------------

  #onStream(stream: Stream, conn: Connection): void {
    void serveStream(stream, conn.remotePeer.toString(), {
      codec: this.#codec,
      methods: this.#methods,
      handlers: this.#handlers,
      maxMessageBytes: this.#maxBytes,
      timeoutMs: this.#rpcTimeoutMs,
      logger: this.#log,
      redact: this.#redact,
    }).catch((err) => this.#log.error({ err }, 'Unexpected failure while serving a Walkie stream.'))
  }

  async call<M extends WalkieMethod>(peerId: string, method: M, request: In<RequestOf<M>> = {} as In<RequestOf<M>>, opts: CallOptions = {}): Promise<ResponseOf<M>> {
    const types = this.#types(method)
    let data: Uint8Array
    try {
      data = encodeAs(types.request, request as WalkieMessage)
    } catch (e) {
      throw new WalkieError('UNKNOWN', `cannot send ${method}: ${(e as Error).message}`, 'ERR_WALKIE_BAD_REQUEST', { cause: e })
    }
    const { res } = await this.#exchange(peerId, method, data, opts)
    if (res.hasError) {
      const e = res.error ?? { type: 'UNKNOWN' as const, message: 'error without details' }
      throw new WalkieError(e.type, e.message, undefined, { remote: true })
    }
    try {
      return decodeAs(this.#codec, types.response, res.data) as ResponseOf<M>
    } catch (e) {
      throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId}: malformed ${method} response (${(e as Error).message})`, 'ERR_WALKIE_PROTOCOL', { cause: e })
    }
  }

  async callRaw(peerId: string, method: string, data: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    this.#types(method)
    return (await this.#exchange(peerId, method, data, opts)).bytes
  }

  #types(method: string): MethodTypes {
    const types = this.#methods.get(method)
    if (!types) throw new WalkieError('NOT_FOUND', `unknown Walkie method "${method}"; see service WalkieRpc in proto/message.proto`, 'ERR_WALKIE_METHOD')
    return types
  }

  /** One request/response exchange: the response wrapper as received, checked to answer this request. */
  async #exchange(peerId: string, method: string, data: Uint8Array, opts: CallOptions): Promise<{ bytes: Uint8Array; res: DecodedResponse }> {
    const node = this.#libp2p()
    let target: PeerId
    try {
      target = peerIdFromString(peerId)
    } catch (e) {
      throw new WalkieError('UNKNOWN', `"${peerId}" is not a peer id`, 'ERR_WALKIE_BAD_REQUEST', { cause: e })
    }
    const timeoutMs = opts.timeoutMs ?? this.#rpcTimeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = AbortSignal.any([timeout, this.#abort.signal, ...(opts.signal ? [opts.signal] : [])])
    const nonce = randomUUID()
    let stream: Stream | undefined
    let bytes: Uint8Array
    const onAbort = () => stream?.abort(new Error(`Walkie call ${method} to ${peerId} aborted`))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      stream = await node.dialProtocol(target, RPC_PROTOCOL, { signal })
      await writeAll(stream, encodeRequest(this.#codec, method, data, nonce), signal)
      bytes = await readAll(stream, this.#maxBytes)
      if (signal.aborted) throw signal.reason
    } catch (err) {
      if (stream && stream.status === 'open') stream.abort(err as Error)
      if (timeout.aborted) {
        throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId} timed out after ${timeoutMs} ms`, 'ERR_WALKIE_TIMEOUT', { cause: err })
      }
      if (this.#abort.signal.aborted) throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId} aborted: Walkie is stopping`, 'ERR_WALKIE_ABORTED', { cause: err })
      if (opts.signal?.aborted) throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId} aborted`, 'ERR_WALKIE_ABORTED', { cause: err })
      if (err instanceof WalkieError && err.code === 'ERR_WALKIE_TOO_LARGE') {
        throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId}: the response ${err.message}`, err.code, { cause: err })
      }
      if (err instanceof WalkieError) throw err
      if (stream) {
        // The peer took the stream, then reset it: it refused the request (too large,
        // malformed) or died mid-call; the call may have run, so this is no failover case.
        throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId} failed mid-call: ${(err as Error).message} (the peer refuses requests over its size limit or stopped)`, 'ERR_WALKIE_STREAM', { cause: err })
      }
      throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId} failed: cannot reach the peer: ${(err as Error).message}`, 'ERR_WALKIE_UNREACHABLE', { cause: err })
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    if (bytes.length === 0) {
      // A real answer always carries the request's nonce; nothing at all means the peer hung up.
      throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId}: the peer closed the stream without answering (it refused the request or stopped mid-call)`, 'ERR_WALKIE_STREAM')
    }
    let res: DecodedResponse
    try {
      res = decodeResponse(this.#codec, bytes)
    } catch (e) {
      throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId}: malformed response (${(e as Error).message})`, 'ERR_WALKIE_PROTOCOL', { cause: e })
    }
    if (res.requestNonce !== nonce) {
      throw new WalkieError('UNKNOWN', `Walkie call ${method} to ${peerId}: the response answers another request`, 'ERR_WALKIE_PROTOCOL')
    }
    return { bytes, res }
  }

  async callRole<M extends WalkieMethod>(role: WalkieRole, method: M, request: In<RequestOf<M>> = {} as In<RequestOf<M>>, opts: CallOptions = {}): Promise<{ peer: WalkiePeer; response: ResponseOf<M> }> {
    const failed = new Set<string>()
    for (;;) {
      const peer = this.registry.pick(role, failed)
      try {
        return { peer, response: await this.call(peer.peerId, method, request, opts) }
      } catch (err) {
        // Only a peer we could not reach is skipped: a timeout may mean the call ran, and
        // repeating a mutation elsewhere could apply it twice.
        if (!(err instanceof WalkieError) || err.code !== 'ERR_WALKIE_UNREACHABLE') throw err
        failed.add(peer.peerId)
        this.registry.patch(peer.peerId, { connected: false, addresses: [] })
        this.#log.warn({ err, peer: peer.peerId, method }, `Walkie peer ${peer.peerId} is unreachable; trying another ${roleName(role)}.`)
      }
    }
  }

  async waitForPeer(role: WalkieRole, opts: CallOptions = {}): Promise<WalkiePeer> {
    const want = roleName(role)
    const signals = [this.#abort.signal, ...(opts.signal ? [opts.signal] : []), ...(opts.timeoutMs !== undefined ? [AbortSignal.timeout(opts.timeoutMs)] : [])]
    const signal = AbortSignal.any(signals)
    const now = this.registry.list({ role: want, connectedOnly: true })[0]
    if (now) return now
    return new Promise((resolve, reject) => {
      const onPeer = (ev: { type: string; peer: WalkiePeer }) => {
        if (ev.type !== 'down' && ev.peer.compatible && ev.peer.role === want && ev.peer.connected) {
          cleanup()
          resolve(ev.peer)
        }
      }
      const onAbort = () => {
        cleanup()
        reject(new WalkieError('NOT_FOUND', `no ${want} peer appeared${opts.timeoutMs !== undefined ? ` within ${opts.timeoutMs} ms` : ''}`, 'ERR_WALKIE_NO_PEER'))
      }
      const cleanup = () => {
        this.registry.off('peer', onPeer)
        signal.removeEventListener('abort', onAbort)
      }
      this.registry.on('peer', onPeer)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  connections(peerId?: string): WalkieConnection[] {
    const node = this.#libp2p()
    const conns = peerId === undefined ? node.getConnections() : node.getConnections(peerIdFromString(peerId))
    return conns.filter((c) => c.status === 'open').map((c) => ({
      id: c.id,
      peerId: c.remotePeer.toString(),
      remoteAddr: c.remoteAddr.toString(),
      direction: c.direction,
      ...(c.multiplexer ? { multiplexer: c.multiplexer } : {}),
      ...(c.encryption ? { encryption: c.encryption } : {}),
    }))
  }

  async dial(address: string, opts: CallOptions = {}): Promise<string> {
    const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? this.#rpcTimeoutMs), this.#abort.signal, ...(opts.signal ? [opts.signal] : [])])
    const conn = await this.#libp2p().dial(multiaddr(address), { signal })
    return conn.remotePeer.toString()
  }

  // --- handshake and registry -------------------------------------------------------------------

  #ownInfo(): In<RequestOf<'Hello'>> {
    return {
      hostname: this.#hostname,
      peerId: this.peerId,
      role: this.#role,
      chainIdentity: this.#init.chainIdentity,
      bridgeIdentity: this.#init.bridgeIdentity,
    }
  }

  #compatible(info: RequestOf<'Hello'>): boolean {
    if (this.#init.acceptAnyIdentity) return true
    if (info.chainIdentity !== this.#init.chainIdentity) return false
    return this.#init.ignoreBridgeIdentity === true || info.bridgeIdentity === this.#init.bridgeIdentity
  }

  #connInfo(peerId: string): { addresses: string[]; host?: string; connected: boolean } {
    const conns = this.#node?.getConnections(peerIdFromString(peerId)) ?? []
    const addresses = conns.map((c) => c.remoteAddr.toString())
    const host = conns[0]?.remoteAddr.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
    return { addresses, host, connected: conns.length > 0 }
  }

  /** Record what a peer says about itself; the peer id is the one Noise authenticated. */
  #record(peerId: string, info: RequestOf<'Hello'>): void {
    if (info.peerId && info.peerId !== peerId) {
      this.#log.warn({ peer: peerId, claimed: info.peerId }, 'A Walkie peer claims another peer id in Hello; using the authenticated one.')
    }
    let role: WalkieRoleName
    try {
      role = roleName(info.role)
    } catch {
      role = 'WR_CLIENT'
    }
    const compatible = this.#compatible(info)
    const prev = this.registry.get(peerId)
    const now = Date.now()
    this.registry.upsert({
      peerId,
      role,
      hostname: String(info.hostname ?? ''),
      chainIdentity: String(info.chainIdentity ?? ''),
      bridgeIdentity: String(info.bridgeIdentity ?? ''),
      compatible,
      ...this.#connInfo(peerId),
      firstSeen: prev?.firstSeen ?? now,
      lastSeen: now,
      rttMs: prev?.rttMs,
    })
    if (!prev) {
      const fields = { peer: peerId, role, hostname: info.hostname, chainIdentity: info.chainIdentity, bridgeIdentity: info.bridgeIdentity }
      if (compatible) this.#log.info(fields, `Met Walkie peer ${peerId} (${role}).`)
      else this.#log.info(fields, `Walkie peer ${peerId} (${role}) has another chain or bridge identity; not counting it.`)
    }
  }

  #onHello(req: RequestOf<'Hello'>, peerId: string): In<ResponseOf<'Hello'>> {
    // Upstream ignores the caller's info; recording it lets the called side know the peer at once.
    if (req.chainIdentity || req.bridgeIdentity || req.peerId) this.#record(peerId, req)
    return this.#ownInfo()
  }

  #handshake(peerId: string): Promise<void> {
    let p = this.#handshakes.get(peerId)
    if (p) return p
    p = (async () => {
      try {
        const info = await this.call(peerId, 'Hello', this.#ownInfo(), { timeoutMs: Math.min(this.#rpcTimeoutMs, 10_000) })
        this.#record(peerId, info)
      } catch (err) {
        this.#log.debug({ err, peer: peerId }, 'Walkie handshake failed.')
      } finally {
        this.#handshakes.delete(peerId)
      }
    })()
    this.#handshakes.set(peerId, p)
    return p
  }

  #onConnection(conn: Connection): void {
    if (this.#stopping) return
    const peerId = conn.remotePeer.toString()
    // Both directions end in a handshake (upstream only handshook its own dials).
    if (this.registry.has(peerId)) this.registry.patch(peerId, { ...this.#connInfo(peerId), lastSeen: Date.now() })
    else void this.#handshake(peerId)
  }

  #onDisconnect(peer: PeerId): void {
    const peerId = peer.toString()
    if (this.registry.has(peerId)) this.registry.patch(peerId, { connected: false, addresses: [], host: undefined })
  }

  #onDiscovery(info: PeerInfo): void {
    if (this.#stopping || !this.#node) return
    const peerId = info.id.toString()
    if (peerId === this.peerId || this.#node.getConnections(info.id).length > 0) return
    const addrs = info.multiaddrs.map((ma) => (ma.getComponents().some((c) => c.name === 'p2p') ? ma : ma.encapsulate(`/p2p/${peerId}`)))
    const target = addrs.length > 0 ? addrs : info.id
    this.#node.dial(target, { signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(10_000)]) }).then(
      () => this.#log.debug({ peer: peerId }, 'Dialled a discovered peer.'),
      (err) => this.#log.debug({ err, peer: peerId }, 'Could not dial a discovered peer.'),
    )
  }

  // --- loops ------------------------------------------------------------------------------------

  /** Keep a connection to one boot node: dial with backoff, then wait until it drops, again. */
  async #bootLoop(addr: string, signal: AbortSignal): Promise<void> {
    let ma: Multiaddr
    try {
      ma = multiaddr(addr)
    } catch (err) {
      this.#log.warn({ err, address: addr }, `Ignoring boot node "${addr}": not a multiaddr.`)
      return
    }
    if (isUnspecified(ma)) {
      this.#log.warn({ address: addr }, `Ignoring boot node ${addr}: an unspecified host or port 0 cannot be dialled; give the boot node's real address.`)
      return
    }
    const pinned = ma.getComponents().find((c) => c.name === 'p2p')?.value
    if (pinned === this.peerId) return
    while (!signal.aborted) {
      try {
        const conn = await retry(
          () => this.#libp2p().dial(ma, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) }),
          { what: `dial Walkie boot node ${addr}`, logger: this.#log, signal, minMs: this.#init.bootRetryMinMs ?? 1000, maxMs: this.#init.bootRetryMaxMs ?? 30_000, retryable: (err) => !isSelfDial(err) },
        )
        await this.#untilDisconnected(conn.remotePeer, signal)
      } catch (err) {
        if (signal.aborted) return
        if (isSelfDial(err)) {
          this.#log.info({ address: addr }, `Boot node ${addr} is this node itself; not dialling it.`)
          return
        }
        this.#log.warn({ err, address: addr }, `Boot node loop for ${addr} failed; restarting it.`)
        await sleep(this.#init.bootRetryMinMs ?? 1000, signal).catch(() => {})
      }
    }
  }

  #untilDisconnected(peer: PeerId, signal: AbortSignal): Promise<void> {
    const node = this.#libp2p()
    return new Promise((resolve) => {
      const done = () => {
        node.removeEventListener('peer:disconnect', onDisc)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const onDisc = (ev: CustomEvent<PeerId>) => {
        if (ev.detail.equals(peer)) done()
      }
      node.addEventListener('peer:disconnect', onDisc)
      signal.addEventListener('abort', done, { once: true })
      if (node.getConnections(peer).length === 0) done()
    })
  }

  /** Ping every known peer; redial the disconnected; drop those silent for `staleAfterMs`. */
  async #livenessLoop(signal: AbortSignal): Promise<void> {
    const interval = this.#init.livenessIntervalMs ?? 10_000
    const staleAfter = this.#init.staleAfterMs ?? 30_000
    const probeTimeout = Math.max(100, Math.min(interval, 5000))
    while (!signal.aborted) {
      try {
        await sleep(interval, signal)
      } catch {
        return
      }
      // a connection whose handshake failed (or raced a restart) gets another Hello
      for (const conn of this.#libp2p().getConnections()) {
        const id = conn.remotePeer.toString()
        if (!this.registry.has(id)) void this.#handshake(id)
      }
      const peers = this.registry.list({ includeIncompatible: true })
      await Promise.allSettled(peers.map(async (p) => {
        const node = this.#libp2p()
        const id = peerIdFromString(p.peerId)
        const probe = AbortSignal.any([signal, AbortSignal.timeout(probeTimeout)])
        try {
          if (node.getConnections(id).length === 0) await node.dial(id, { signal: probe })
          const rttMs = await node.services.ping.ping(id, { signal: probe })
          this.registry.patch(p.peerId, { ...this.#connInfo(p.peerId), lastSeen: Date.now(), rttMs })
        } catch (err) {
          if (signal.aborted) return
          const silentMs = Date.now() - p.lastSeen
          if (silentMs > staleAfter) {
            this.registry.remove(p.peerId, `no answer for ${silentMs} ms`)
            this.#log.info({ peer: p.peerId, role: p.role, silentMs }, `Walkie peer ${p.peerId} (${p.role}) is gone.`)
            await node.hangUp(id).catch(() => {})
          } else {
            this.#log.debug({ err, peer: p.peerId }, 'Walkie liveness probe failed.')
          }
        }
      }))
    }
  }
}

/** The Walkie node of one daemon. `start()` loads the identity, listens and begins discovery. */
export function createWalkie(init: WalkieInit, deps: WalkieDeps): Walkie {
  return new WalkieNode(init, deps)
}
