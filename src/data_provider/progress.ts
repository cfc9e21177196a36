/**
 * The data provider's progress line. It is checked every few seconds but written only when a
 * height or a chain's reachability changed (at most every `minIntervalMs`), or once per
 * `idleIntervalMs` when nothing did: an idle or stalled data provider no longer repeats the same
 * line every 5 s.
 *
 * It tells the truth during an outage: a chain that cannot be reached is named with the time since
 * when, the heights are the last ones reached, and no ETA is given (a frozen target made the old
 * line claim "caught up"). Rates are measured over the last `rateWindowMs`, so the overall ETA (the
 * later of the two chains) does not swing with each batch. The DB size is on every line.
 */
import type { Logger } from '../common/logger.js'
import type { InfoHeights } from './service.js'

export interface ChainReach {
  reachable: boolean
  /** ms epoch since when it is unreachable (set when not reachable) */
  downSince?: number
}

export interface ProgressSnapshot {
  heights: InfoHeights
  /** Info status: S_IDLE once both chains are processed to their targets */
  status: string
  /** blocks committed since start, per chain (rates) */
  relayDone: number
  paraDone: number
  relayFailures: number
  paraFailures: number
  relay: ChainReach
  para: ChainReach
  /** false until genesis, identity and the fetcher are up */
  booted: boolean
  /** bytes of the DB directory on disk */
  dbBytes: number
}

export interface ProgressReporterOptions {
  /** Shortest time between two lines when something changes (default 5 s). */
  minIntervalMs?: number
  /** A line at least this often even when nothing changed (default 60 s). */
  idleIntervalMs?: number
  /** Rates over this window (default 60 s). */
  rateWindowMs?: number
}

export interface ProgressReporterDeps {
  logger: Logger
  now?: () => number
}

interface Sample { t: number; relay: number; para: number }

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 120) return `${m} min`
  const h = Math.floor(m / 60)
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`
}

/** Seconds left at `bps`; 0 when nothing is left, undefined when nothing moves. */
function secondsLeft(left: number, bps: number): number | undefined {
  if (left <= 0) return 0
  return bps > 0 ? Math.ceil(left / bps) : undefined
}

export class ProgressReporter {
  readonly #log: Logger
  readonly #now: () => number
  readonly #min: number
  readonly #idle: number
  readonly #window: number
  #samples: Sample[] = []
  #lastKey: string | undefined
  #lastAt = -Infinity

  constructor(opts: ProgressReporterOptions, deps: ProgressReporterDeps) {
    this.#log = deps.logger
    this.#now = deps.now ?? Date.now
    this.#min = opts.minIntervalMs ?? 5000
    this.#idle = opts.idleIntervalMs ?? 60_000
    this.#window = opts.rateWindowMs ?? 60_000
  }

  /** Look at the state; write the line when due. Returns whether a line was written. */
  tick(s: ProgressSnapshot): boolean {
    const now = this.#now()
    this.#samples.push({ t: now, relay: s.relayDone, para: s.paraDone })
    while (this.#samples.length > 2 && now - this.#samples[1]!.t >= this.#window) this.#samples.shift()
    const h = s.heights
    // What counts as a change: heights and reachability, not rates, failures or the DB size.
    const key = JSON.stringify([h.parentTarget, h.parentFetchedHeight, h.parentProcessedHeight, h.parentCommittedHeight, h.paraTarget, h.paraFetchedHeight, h.paraProcessedHeight, s.relay.reachable, s.para.reachable, s.booted])
    const since = now - this.#lastAt
    const due = key !== this.#lastKey ? since >= this.#min : since >= this.#idle
    if (!due) return false
    this.#lastKey = key
    this.#lastAt = now
    this.#write(s, now)
    return true
  }

  #write(s: ProgressSnapshot, now: number): void {
    const h = s.heights
    const first = this.#samples[0]!
    const dt = (now - first.t) / 1000
    const relayBps = dt > 0 ? (s.relayDone - first.relay) / dt : 0
    const paraBps = dt > 0 ? (s.paraDone - first.para) / dt : 0
    const down = (['relay', 'para'] as const).filter((c) => !s[c].reachable)
    const db = `DB ${formatBytes(s.dbBytes)}`
    const fields = {
      relay: { fetched: h.parentFetchedHeight, target: h.parentTarget, processed: h.parentProcessedHeight, committed: h.parentCommittedHeight, bps: round1(relayBps), failures: s.relayFailures, reachable: s.relay.reachable, ...(s.relay.reachable ? {} : { downSince: iso(s.relay.downSince) }) },
      para: { fetched: h.paraFetchedHeight, target: h.paraTarget, processed: h.paraProcessedHeight, bps: round1(paraBps), failures: s.paraFailures, reachable: s.para.reachable, ...(s.para.reachable ? {} : { downSince: iso(s.para.downSince) }) },
      dbBytes: s.dbBytes,
    }
    if (down.length > 0) {
      const what = down.map((c) => `${c} chain unreachable since ${iso(s[c].downSince)} (${formatDuration(now - (s[c].downSince ?? now))})`).join(', ')
      const last = s.booted
        ? `last relay block fetched ${h.parentFetchedHeight} (target ${h.parentTarget} when last seen), para ${h.paraFetchedHeight} (target ${h.paraTarget}); ranges to ${h.parentProcessedHeight}, para payloads to ${h.paraProcessedHeight}`
        : 'not started syncing yet (waiting for the chains to read the genesis)'
      this.#log.warn({ ...fields, eta: null, caughtUp: false }, `sync stalled: ${what}; ${last}; no ETA until it is back; ${db}`)
      return
    }
    if (!s.booted) {
      this.#log.info({ ...fields, eta: null, caughtUp: false }, `sync starting: chains reachable, reading the genesis and the chain identity; ${db}`)
      return
    }
    const relayEta = secondsLeft(h.parentTarget - h.parentFetchedHeight, relayBps)
    const paraEta = secondsLeft(h.paraTarget - h.paraFetchedHeight, paraBps)
    const caughtUp = relayEta === 0 && paraEta === 0 && s.status === 'S_IDLE'
    const overall = relayEta === undefined || paraEta === undefined ? undefined : Math.max(relayEta, paraEta)
    const eta = (e: number | undefined): string => (e === 0 ? 'caught up' : e === undefined ? 'unknown' : `${e} s`)
    const overallText = caughtUp ? 'caught up' : overall === undefined ? 'unknown (no progress over the last minute)' : overall === 0 ? 'processing the last blocks' : formatDuration(overall * 1000)
    this.#log.info({ ...fields, eta: caughtUp ? 0 : overall ?? null, caughtUp },
      `sync: relay ${h.parentFetchedHeight}/${h.parentTarget} (${relayBps.toFixed(1)} blk/s, ETA ${eta(relayEta)}), para ${h.paraFetchedHeight}/${h.paraTarget} (${paraBps.toFixed(1)} blk/s, ETA ${eta(paraEta)}); overall ETA ${overallText}; ranges to ${h.parentProcessedHeight}, para payloads to ${h.paraProcessedHeight}; ${db}`)
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}

function iso(t: number | undefined): string {
  return t === undefined ? 'unknown' : new Date(t).toISOString()
}
