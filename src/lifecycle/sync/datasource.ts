/**
 * The data providers as the engine sees them (upstream-lifecycle.md §7.1-§7.4): found in the Walkie
 * registry by role WR_DATA_PROVIDER_INT (the node already keeps only peers of our chain identity and,
 * unless PHALA_PTP_IGNORE_BRIDGE_IDENTITY, our bridge identity), their Info read every `infoPollMs`,
 * one TCP blob client each at the IP of the Walkie connection and the Info's blobServerPort.
 *
 * Beyond upstream: a fetch goes to the most advanced live provider and fails over to the next one at
 * once when it errs (upstream picked one at random per request and retried the same way); a provider
 * whose Info fails is left out until it answers again. `generation` grows whenever a provider's
 * heights move, so workers waiting at the tip wake up on new data instead of polling.
 */
import { EventEmitter } from 'node:events'
import { createBlobClient, decodeGenesis, type BlobClient, type GenesisRecord } from '../../data_provider/index.js'
import type { Logger } from '../../common/logger.js'
import { PrbError } from '../../common/errors.js'
import { AbortedError, sleep } from '../../common/retry.js'
import type { DataProviderInfo, Walkie } from '../../walkie/index.js'

export class NoDataProviderError extends PrbError {
  override name = 'NoDataProviderError'
  constructor(detail: string) {
    super('ERR_NO_DATA_PROVIDER', `No data provider available, waiting... (${detail}); check that a data provider of this chain runs and that PHALA_WALKIE_BOOT_NODES reaches it`)
  }
}

interface Source {
  peerId: string
  host: string
  port: number
  info: DataProviderInfo
  client: BlobClient
  /** Left out of fetches until its next good Info. */
  down: boolean
  lastError?: string
  /** Info calls in a row that ran past their deadline (one is tolerated: a busy provider, not a dead one). */
  lateInfos: number
}

export interface DataProvidersOptions {
  infoPollMs: number
  blobGetTimeoutMs: number
  blobSecret?: string
  /** Deadline of a Walkie call (Info, genesis). */
  callTimeoutMs?: number
}

export interface DataProvidersDeps {
  walkie: Walkie
  logger: Logger
  /** Called once per blob actually requested from a provider (the benchmark counts them). */
  onFetch?: (key: string) => void
}

export interface DataProviderSummary {
  peerId: string
  host: string
  port: number
  down: boolean
  paraProcessedHeight: number
  parentProcessedHeight: number
  lastError?: string
}

export interface DataProviders {
  start(): void
  stop(): Promise<void>
  /** The most advanced live provider's Info, or undefined before the first answer. */
  info(): DataProviderInfo | undefined
  /** Bumped whenever a provider's heights change. */
  readonly generation: number
  /** Resolves when `generation` passes `since`, or after `ms`; true when it moved. */
  waitForProgress(since: number, ms: number, signal?: AbortSignal): Promise<boolean>
  /** A blob by key, from the best live provider, failing over to the others; null = not there (yet). */
  get(key: string): Promise<Uint8Array | null>
  /** The genesis record, by Walkie GetBlobByKey (as upstream). */
  genesis(signal?: AbortSignal): Promise<GenesisRecord>
  /** Every known provider, the one fetches go to first. */
  sources(): DataProviderSummary[]
}

const HEIGHT_FIELDS = ['parentProcessedHeight', 'parentCommittedHeight', 'paraFetchedHeight', 'paraProcessedHeight', 'paraCommittedHeight'] as const

export function createDataProviders(o: DataProvidersOptions, deps: DataProvidersDeps): DataProviders {
  const log = deps.logger
  const sources = new Map<string, Source>()
  const events = new EventEmitter()
  events.setMaxListeners(0)
  const abort = new AbortController()
  let generation = 0
  let loop: Promise<void> | undefined
  const callTimeoutMs = o.callTimeoutMs ?? 10_000
  let warnedEmpty = false

  const bump = (): void => {
    generation++
    events.emit('progress', generation)
  }

  const ranked = (): Source[] =>
    [...sources.values()].filter((s) => !s.down).sort((a, b) => b.info.paraProcessedHeight - a.info.paraProcessedHeight || b.info.parentProcessedHeight - a.info.parentProcessedHeight)

  const poll = async (): Promise<void> => {
    const peers = deps.walkie.peers({ role: 'WR_DATA_PROVIDER_INT' })
    const seen = new Set<string>()
    await Promise.all(peers.map(async (p) => {
      seen.add(p.peerId)
      const prev = sources.get(p.peerId)
      try {
        const info = await deps.walkie.call(p.peerId, 'GetDataProviderInfo', {}, { timeoutMs: callTimeoutMs, signal: abort.signal })
        const host = deps.walkie.peers({ role: 'WR_DATA_PROVIDER_INT' }).find((x) => x.peerId === p.peerId)?.host ?? p.host ?? p.hostname
        if (!info.blobServerPort || !host) {
          if (prev) prev.down = true
          return
        }
        if (prev && (prev.host !== host || prev.port !== info.blobServerPort)) {
          await prev.client.close().catch(() => undefined)
          sources.delete(p.peerId)
        }
        const cur = sources.get(p.peerId)
        if (!cur) {
          const client = createBlobClient({ host, port: info.blobServerPort, timeoutMs: o.blobGetTimeoutMs, ...(o.blobSecret ? { secret: o.blobSecret } : {}) }, { logger: log })
          sources.set(p.peerId, { peerId: p.peerId, host, port: info.blobServerPort, info, client, down: false, lateInfos: 0 })
          log.info({ peerId: p.peerId, host, port: info.blobServerPort, paraProcessedHeight: info.paraProcessedHeight }, 'data provider found')
          bump()
          return
        }
        const moved = HEIGHT_FIELDS.some((k) => info[k] !== cur.info[k]) || cur.down
        if (cur.down) log.info({ peerId: p.peerId }, 'data provider answers again')
        cur.info = info
        cur.down = false
        cur.lastError = undefined
        cur.lateInfos = 0
        if (moved) bump()
      } catch (err) {
        if (abort.signal.aborted) return
        // One late answer from a provider whose blobs still arrive (a failed blob fetch leaves it out
        // at once) must not take it away from every worker: it is left out at the second in a row,
        // or at once when the call failed otherwise (connection refused, stream reset).
        if (prev && !prev.down && (err as { code?: string }).code === 'ERR_WALKIE_TIMEOUT' && ++prev.lateInfos < 2) {
          log.info({ peerId: p.peerId, err: (err as Error).message }, 'data provider Info ran past its deadline; kept in use unless the next one does too')
          return
        }
        if (prev && !prev.down) log.warn({ peerId: p.peerId, err: (err as Error).message }, 'data provider Info failed; leaving it out until it answers')
        if (prev) {
          prev.down = true
          prev.lastError = (err as Error).message
        }
      }
    }))
    for (const [id, s] of sources) {
      if (seen.has(id)) continue
      log.warn({ peerId: id }, 'data provider gone from the Walkie registry')
      sources.delete(id)
      await s.client.close().catch(() => undefined)
    }
    const live = ranked().length
    if (live === 0 && !warnedEmpty) log.warn('No data provider available, waiting...')
    warnedEmpty = live === 0
  }

  const waitForProgress = (since: number, ms: number, signal?: AbortSignal): Promise<boolean> => {
    if (generation !== since) return Promise.resolve(true)
    return new Promise<boolean>((resolve, reject) => {
      const done = (v: boolean | Error): void => {
        clearTimeout(timer)
        events.off('progress', onProgress)
        signal?.removeEventListener('abort', onAbort)
        if (v instanceof Error) reject(v)
        else resolve(v)
      }
      const onProgress = (): void => done(true)
      const onAbort = (): void => done(new AbortedError())
      const timer = setTimeout(() => done(false), ms)
      events.on('progress', onProgress)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        await poll()
      } catch (err) {
        log.warn({ err }, 'data provider scan failed')
      }
      await sleep(o.infoPollMs, abort.signal).catch(() => undefined)
    }
  }

  return {
    start() {
      loop ??= run()
    },
    async stop() {
      abort.abort()
      await loop
      await Promise.all([...sources.values()].map((s) => s.client.close().catch(() => undefined)))
      sources.clear()
    },
    info() {
      return ranked()[0]?.info
    },
    get generation() {
      return generation
    },
    waitForProgress,
    async get(key) {
      const order = ranked()
      if (order.length === 0) throw new NoDataProviderError(sources.size ? `${sources.size} known, none answering` : 'none found over Walkie')
      let lastErr: unknown
      for (const s of order) {
        try {
          deps.onFetch?.(key)
          return await s.client.get(key)
        } catch (err) {
          lastErr = err
          if (!s.down) log.warn({ peerId: s.peerId, key, err: (err as Error).message }, 'blob fetch failed; failing over to the next data provider')
          s.down = true
          s.lastError = (err as Error).message
        }
      }
      throw new NoDataProviderError(`every data provider failed; last: ${(lastErr as Error)?.message}`)
    },
    async genesis(signal) {
      for (;;) {
        const order = ranked()
        for (const s of order) {
          try {
            const key = `genesis:${s.info.paraId}:pb`
            const r = await deps.walkie.call(s.peerId, 'GetBlobByKey', { key }, { timeoutMs: Math.max(callTimeoutMs, 60_000), signal })
            if (!r.empty) return decodeGenesis(r.data)
            log.warn({ peerId: s.peerId, key }, 'data provider has no genesis yet')
          } catch (err) {
            if (signal?.aborted) throw new AbortedError()
            log.warn({ peerId: s.peerId, err: (err as Error).message }, 'genesis fetch failed; trying another data provider')
          }
        }
        // upstream TIMEOUT_DP_WAIT between tries; with no provider known yet (a fresh engine before
        // its first Info answer), as soon as one is found.
        if (order.length === 0) await waitForProgress(generation, 500, signal)
        else await sleep(3000, signal)
      }
    },
    sources() {
      const live = ranked()
      return [...live, ...[...sources.values()].filter((s) => !live.includes(s))].map((s) => ({
        peerId: s.peerId, host: s.host, port: s.port, down: s.down,
        paraProcessedHeight: s.info.paraProcessedHeight, parentProcessedHeight: s.info.parentProcessedHeight,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      }))
    },
  }
}
