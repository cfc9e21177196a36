/**
 * Connections that fail to become libp2p connections (private-network key, Noise, multiplexer)
 * are otherwise only in libp2p's debug output: an upstream v2 peer that speaks only mplex, or a
 * node with another PHALA_WALKIE_PSK, simply never appeared. The transport is wrapped so both
 * directions pass through one place that logs the remote address and the cause, once a minute
 * per remote host (a peer redials every few seconds; more lines would only repeat it).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../common/logger.js'

export const UPGRADE_LOG_INTERVAL_MS = 60_000

export interface UpgradeFailure {
  direction: 'inbound' | 'outbound'
  remoteAddr: Multiaddr
  err: unknown
}

/** What the operator most likely has to fix, from the failing step. */
function explain(err: unknown, pskOn: boolean): { stage: string; hint: string } {
  const name = (err as Error | undefined)?.name ?? ''
  const message = String((err as Error | undefined)?.message ?? err)
  if (name === 'MuxerUnavailableError' || /protocol selection failed|no common muxers/i.test(message)) {
    return { stage: 'multiplexer', hint: 'the peer offers no stream multiplexer we speak (we offer yamux and mplex)' }
  }
  if (name === 'EncryptionFailedError' || name === 'InvalidCryptoExchangeError' || /noise|handshake|decrypt/i.test(message)) {
    return {
      stage: 'encryption',
      hint: pskOn
        ? 'the Noise handshake failed; both sides need the same PHALA_WALKIE_PSK (a peer without it, or with another one, fails here)'
        : 'the Noise handshake failed; if the peer runs a private network (PHALA_WALKIE_PSK), set the same key here',
    }
  }
  return { stage: 'connection', hint: pskOn ? 'the connection ended during the upgrade; a peer without our PHALA_WALKIE_PSK fails this way' : 'the connection ended during the upgrade' }
}

function hostOf(ma: Multiaddr): string {
  const parts = ma.getComponents()
  return parts.find((c) => c.name === 'ip4' || c.name === 'ip6' || c.name === 'dns' || c.name === 'dns4' || c.name === 'dns6')?.value ?? ma.toString()
}

/** One reporter per node; `report` returns whether a line was written (tests). */
export class UpgradeFailureLog {
  readonly #log: Logger
  readonly #pskOn: boolean
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #last = new Map<string, { at: number; suppressed: number }>()

  constructor(log: Logger, opts: { pskOn: boolean; intervalMs?: number; now?: () => number }) {
    this.#log = log
    this.#pskOn = opts.pskOn
    this.#intervalMs = opts.intervalMs ?? UPGRADE_LOG_INTERVAL_MS
    this.#now = opts.now ?? Date.now
  }

  report(f: UpgradeFailure): boolean {
    const host = hostOf(f.remoteAddr)
    const now = this.#now()
    const prev = this.#last.get(host)
    if (prev && now - prev.at < this.#intervalMs) {
      prev.suppressed++
      this.#log.debug({ remoteAddr: f.remoteAddr.toString(), direction: f.direction, reason: String((f.err as Error | undefined)?.message ?? f.err) }, 'Walkie connection upgrade failed again (not logged above debug within a minute).')
      return false
    }
    // bounded: hosts whose entry has expired are forgotten
    if (this.#last.size > 1024) for (const [h, v] of this.#last) if (now - v.at >= this.#intervalMs) this.#last.delete(h)
    this.#last.set(host, { at: now, suppressed: 0 })
    const { stage, hint } = explain(f.err, this.#pskOn)
    const reason = String((f.err as Error | undefined)?.message ?? f.err)
    this.#log.warn(
      { remoteAddr: f.remoteAddr.toString(), direction: f.direction, stage, reason, suppressedBefore: prev?.suppressed ?? 0 },
      `Walkie ${f.direction} connection ${f.direction === 'inbound' ? 'from' : 'to'} ${f.remoteAddr.toString()} failed to upgrade (${stage}): ${reason}; ${hint}. Repeats from ${host} are logged at most once a minute.`,
    )
    return true
  }
}

interface UpgraderLike {
  upgradeInbound(maConn: { remoteAddr: Multiaddr }, opts: unknown): Promise<void>
  upgradeOutbound(maConn: { remoteAddr: Multiaddr }, opts: unknown): Promise<unknown>
}

interface TransportLike {
  dial(ma: Multiaddr, opts: { upgrader: UpgraderLike; signal?: AbortSignal }): Promise<unknown>
  createListener(opts: { upgrader: UpgraderLike }): unknown
}

/**
 * Wrap a libp2p transport factory (tcp()) so every upgrade, inbound and outbound, reports its
 * failure. The transport object itself is kept (its symbols tell libp2p what it is); only its
 * `dial` and `createListener` see a wrapped upgrader. Failures while stopping are not reported.
 */
export function reportUpgradeFailures<F extends (components: any) => any>(factory: F, reporter: UpgradeFailureLog, stopping: () => boolean): F {
  const wrap = (up: UpgraderLike): UpgraderLike => {
    const upgradeInbound: UpgraderLike['upgradeInbound'] = async (maConn, opts) => {
      try {
        return await up.upgradeInbound(maConn, opts)
      } catch (err) {
        if (!stopping()) reporter.report({ direction: 'inbound', remoteAddr: maConn.remoteAddr, err })
        throw err
      }
    }
    const upgradeOutbound: UpgraderLike['upgradeOutbound'] = async (maConn, opts) => {
      try {
        return await up.upgradeOutbound(maConn, opts)
      } catch (err) {
        // a dial we gave up on, or one that reached ourselves, is no peer's failure
        const aborted = (opts as { signal?: AbortSignal } | undefined)?.signal?.aborted === true
        if (!stopping() && !aborted && (err as Error)?.name !== 'InvalidPeerIdError') reporter.report({ direction: 'outbound', remoteAddr: maConn.remoteAddr, err })
        throw err
      }
    }
    // the upgrader is a class instance: every other member stays the original's
    return new Proxy(up, {
      get(target, prop) {
        if (prop === 'upgradeInbound') return upgradeInbound
        if (prop === 'upgradeOutbound') return upgradeOutbound
        const v = Reflect.get(target, prop, target)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
  }
  return ((components: unknown) => {
    const t = factory(components) as TransportLike
    const dial = t.dial.bind(t)
    const createListener = t.createListener.bind(t)
    t.dial = (ma, opts) => dial(ma, { ...opts, upgrader: wrap(opts.upgrader) })
    t.createListener = (opts) => createListener({ ...opts, upgrader: wrap(opts.upgrader) })
    return t
  }) as F
}
