import { EventEmitter, on } from 'node:events'
import { WalkieError, roleName, type WalkiePeer, type WalkiePeerEvent, type WalkieRole } from './types.js'

export interface PeerRegistryEvents {
  peer: [WalkiePeerEvent]
}

/**
 * The peers this node has shaken hands with. Owned by the Walkie node: it alone mutates entries;
 * everyone else reads snapshots or listens to `peer` events ({type: up | update | down}).
 */
export class PeerRegistry extends EventEmitter<PeerRegistryEvents> {
  readonly #peers = new Map<string, WalkiePeer>()

  constructor() {
    super()
    // The monitor, each client and tests may all listen.
    this.setMaxListeners(100)
  }

  get(peerId: string): WalkiePeer | undefined {
    const p = this.#peers.get(peerId)
    return p ? { ...p, addresses: [...p.addresses] } : undefined
  }

  has(peerId: string): boolean {
    return this.#peers.has(peerId)
  }

  /** Snapshots; incompatible peers (other chain or bridge) only when asked. */
  list(opts: { role?: WalkieRole; includeIncompatible?: boolean; connectedOnly?: boolean } = {}): WalkiePeer[] {
    const role = opts.role === undefined ? undefined : roleName(opts.role)
    const out: WalkiePeer[] = []
    for (const p of this.#peers.values()) {
      if (!p.compatible && !opts.includeIncompatible) continue
      if (role !== undefined && p.role !== role) continue
      if (opts.connectedOnly && !p.connected) continue
      out.push({ ...p, addresses: [...p.addresses] })
    }
    return out
  }

  /**
   * A compatible peer of `role`, chosen at random among the connected ones (upstream picks at
   * random too, which spreads load over several data providers); `exclude` skips peers a caller
   * just failed on.
   */
  pick(role: WalkieRole, exclude: ReadonlySet<string> = new Set()): WalkiePeer {
    const all = this.list({ role }).filter((p) => !exclude.has(p.peerId))
    const live = all.filter((p) => p.connected)
    const pool = live.length > 0 ? live : all
    if (pool.length === 0) {
      throw new WalkieError('NOT_FOUND', `no ${roleName(role)} peer of our chain and bridge identity is known${exclude.size ? ` (besides ${exclude.size} that failed)` : ''}; check PHALA_WALKIE_BOOT_NODES, PHALA_BRIDGE_IDENTITY and that the peer runs`, 'ERR_WALKIE_NO_PEER')
    }
    return pool[Math.floor(Math.random() * pool.length)]
  }

  upsert(peer: WalkiePeer): void {
    const prev = this.#peers.get(peer.peerId)
    const next = prev ? { ...peer, firstSeen: prev.firstSeen } : peer
    this.#peers.set(peer.peerId, next)
    this.emit('peer', { type: prev ? 'update' : 'up', peer: { ...next, addresses: [...next.addresses] } })
  }

  /** Change fields of a known peer; emits `update` only when something visible changed. */
  patch(peerId: string, fields: Partial<Pick<WalkiePeer, 'connected' | 'addresses' | 'host' | 'lastSeen' | 'rttMs'>>): void {
    const prev = this.#peers.get(peerId)
    if (!prev) return
    const next = { ...prev, ...fields }
    this.#peers.set(peerId, next)
    const visible = prev.connected !== next.connected || prev.addresses.join() !== next.addresses.join()
    if (visible) this.emit('peer', { type: 'update', peer: { ...next, addresses: [...next.addresses] } })
  }

  remove(peerId: string, reason: string): void {
    const prev = this.#peers.get(peerId)
    if (!prev) return
    this.#peers.delete(peerId)
    this.emit('peer', { type: 'down', peer: { ...prev, connected: false, addresses: [] }, reason })
  }

  clear(reason: string): void {
    for (const id of [...this.#peers.keys()]) this.remove(id, reason)
  }

  /** Live updates as an async iterator; ends when `signal` aborts. */
  async *updates(signal?: AbortSignal): AsyncGenerator<WalkiePeerEvent> {
    try {
      for await (const [ev] of on(this, 'peer', { signal })) yield ev as WalkiePeerEvent
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e
    }
  }
}
