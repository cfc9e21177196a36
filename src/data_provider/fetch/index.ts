/**
 * The fetcher: both chains' finalized-head trackers and ordered fetch pipelines over one store.
 * The relay walk starts at the genesis relay block (upstream §2.5), the para walk at block 0 (as
 * upstream: pRuntime HEAD syncs para header #0 first; its storage changes are the genesis state). Each walk
 * resumes from its own cursor, written atomically with its records:
 *   prb:fetch:parent  JSON RelayCursor { next, justifiedPeriod }
 *   prb:fetch:para    JSON ParaCursor  { next, prevHash }
 */
import { setMaxListeners } from 'node:events'
import type { Logger } from '../../common/logger.js'
import { AbortedError } from '../../common/retry.js'
import type { DataProviderStore, GenesisRecord } from '../store.js'
import { HashLoader, type RpcClient } from './hashes.js'
import { checkParaContinuity, fetchParaBlock, putParaBlock, type FetchedParaBlock, type ParaCursor } from './para.js'
import { FetchPipeline, type PipelineStats } from './pipeline.js'
import { fetchRelayBlock, probeRelayJustification, relayFetchContext, putRelayBlock, type FetchedRelayBlock, type RelayCursor } from './relay.js'
import { parasHeadsKey } from './scale-util.js'
import { LiveJustifications, type LiveJustificationStats, type Subscriber } from './live.js'
import { followFinalizedHeads, TargetTracker } from './target.js'

export { readParaId, readChainIdentity, computeGenesis, loadOrCreateGenesis, checkGenesisChain, WrongChainError } from './genesis.js'
export { HashLoader, type RpcClient } from './hashes.js'
export type { PipelineStats } from './pipeline.js'
export type { LiveJustificationStats } from './live.js'

export const FETCH_CURSOR_KEYS = { parent: 'prb:fetch:parent', para: 'prb:fetch:para' } as const

export const DEFAULT_PARENT_PARALLEL = 64
export const DEFAULT_PARA_PARALLEL = 32
export const DEFAULT_JUSTIFICATION_PERIOD = 512
/** 4 relay blocks (~24 s on Kusama): a worker stays well inside a heartbeat window, and a quarter of the live justifications (~92 KB each on Kusama) are verified and held until covered. */
export const DEFAULT_LIVE_JUSTIFICATION_GAP = 4
/** Live justifications held ahead of the fetcher (~25 min of Kusama blocks); older ones are not "near the tip". */
export const LIVE_JUSTIFICATIONS_HELD = 256

export interface FetcherOptions {
  genesis: GenesisRecord
  /** Relay blocks in flight (PHALA_PARENT_PARALLEL_BLOCKS); 1 = upstream's one at a time. */
  parentParallel: number
  /** Para blocks in flight (PHALA_PARA_PARALLEL_BLOCKS). */
  paraParallel: number
  /** The relay node's GRANDPA justification period; 0 = chain_getBlock for every relay block. */
  justificationPeriod?: number
  /**
   * Close dry ranges at the live GRANDPA justifications the relay node announces for every block it
   * finalizes (live.ts), not only at its stored ones, and follow the para node's finalized heads by
   * subscription besides the poll. Default true; needs clients that can subscribe (a relay node
   * without grandpa_subscribeJustifications is logged and falls back).
   */
  liveJustifications?: boolean
  /**
   * With live justifications: at least this many relay blocks from one justified block to the next
   * live-justified one (default DEFAULT_LIVE_JUSTIFICATION_GAP). Each live justification is stored once, in its dry
   * range, until the node's own justification covers that range (range-builder.ts, LIVE RANGES): on
   * Kusama (~1000 voters) one is ~92 KB and takes ~240 ms to verify, so a gap of g holds about
   * (512 + 600) / g of them at a time (an open period, then the grace) and adds up to g blocks of lag.
   */
  liveJustificationGap?: number
  /** Finalized-head poll interval, ms (upstream 3000). */
  targetPollMs?: number
  maxBlocksPerCommit?: number
}

export interface FetcherDeps {
  relay: RpcClient & Partial<Subscriber>
  para: RpcClient & Partial<Subscriber>
  store: DataProviderStore
  logger: Logger
  onParentCommit?: (last: number) => void
  onParaCommit?: (last: number) => void
}

export interface FetcherProgress {
  parentTarget: number
  parentFetchedHeight: number
  paraTarget: number
  paraFetchedHeight: number
  relay: PipelineStats
  para: PipelineStats
  /** undefined when live justifications are off */
  live?: LiveJustificationStats
}

export interface Fetcher {
  start(): void
  stop(): Promise<void>
  progress(): FetcherProgress
}

export function createFetcher(opts: FetcherOptions, deps: FetcherDeps): Fetcher {
  const log = deps.logger
  const g = opts.genesis
  const pollMs = opts.targetPollMs ?? 3000
  const period = opts.justificationPeriod ?? DEFAULT_JUSTIFICATION_PERIOD
  if (!Number.isInteger(opts.parentParallel) || opts.parentParallel < 1) throw new RangeError(`parentParallel must be a positive integer, got ${opts.parentParallel}`)
  if (!Number.isInteger(opts.paraParallel) || opts.paraParallel < 1) throw new RangeError(`paraParallel must be a positive integer, got ${opts.paraParallel}`)

  const relayCtx = relayFetchContext(deps.relay, new HashLoader(deps.relay), parasHeadsKey(g.paraId), period)
  const paraCtx = { chain: deps.para, hashes: new HashLoader(deps.para) }
  const relayTarget = new TargetTracker(deps.relay, pollMs, log)
  const relaySub = deps.relay.subscribe ? (deps.relay as RpcClient & Subscriber) : undefined
  const paraSub = deps.para.subscribe ? (deps.para as RpcClient & Subscriber) : undefined
  const wantLive = opts.liveJustifications ?? true
  if (wantLive && !relaySub) log.debug('live justifications: the relay client cannot subscribe; off')
  // An announced justification also says the block is final: the relay target moves without a poll.
  const live = wantLive && relaySub ? new LiveJustifications(LIVE_JUSTIFICATIONS_HELD, (n) => relayTarget.raise(n)) : undefined
  if (live) {
    const gap = opts.liveJustificationGap ?? DEFAULT_LIVE_JUSTIFICATION_GAP
    if (!Number.isInteger(gap) || gap < 1) throw new RangeError(`liveJustificationGap must be a positive integer, got ${gap}`)
    relayCtx.liveGap = gap
    relayCtx.live = live
    relayCtx.onLiveRejected = (block, reason) => log.warn({ block, reason }, `relay block ${block}: the live GRANDPA justification does not verify against the block's authority set (${reason}); not used, the range ends at the next justified block`)
  }
  if (!wantLive) log.info('live GRANDPA justifications off: dry ranges close only at the relay node\'s stored justifications')
  const paraTarget = new TargetTracker(deps.para, pollMs, log)

  const relayPipe = new FetchPipeline<FetchedRelayBlock, RelayCursor>({
    name: 'relay',
    parallel: opts.parentParallel,
    cursorKey: FETCH_CURSOR_KEYS.parent,
    maxBlocksPerCommit: opts.maxBlocksPerCommit,
    chainEvents: deps.relay.events,
    fetch: (n, signal) => fetchRelayBlock(relayCtx, n, signal),
    finalize: (b, cursor, signal) => probeRelayJustification(relayCtx, b, cursor, signal),
    encode: (b, batch) => {
      putRelayBlock(batch, b)
      return b.number
    },
    initialState: async (saved) => {
      const c = saved ?? { next: g.parentNumber, justifiedPeriod: -1 }
      relayCtx.hints.committedPeriod = c.justifiedPeriod
      return c
    },
    onCommit: (last) => {
      live?.committed(last)
      deps.onParentCommit?.(last)
    },
  }, deps.store, relayTarget, log)

  const paraPipe = new FetchPipeline<FetchedParaBlock, ParaCursor>({
    name: 'para',
    parallel: opts.paraParallel,
    cursorKey: FETCH_CURSOR_KEYS.para,
    maxBlocksPerCommit: opts.maxBlocksPerCommit,
    chainEvents: deps.para.events,
    fetch: (n, signal) => fetchParaBlock(paraCtx, n, signal),
    finalize: async (b, cursor) => checkParaContinuity(b, cursor),
    encode: (b, batch, cursor) => {
      putParaBlock(batch, b)
      cursor.prevHash = b.hash.toLowerCase()
      return b.number
    },
    initialState: async (saved) => saved ?? { next: g.paraNumber, prevHash: '' },
    onCommit: (last) => deps.onParaCommit?.(last),
  }, deps.store, paraTarget, log)

  const abort = new AbortController()
  // Every in-flight call and sleep listens on it.
  setMaxListeners(0, abort.signal)
  let running: Promise<unknown> | undefined
  let stopping: Promise<void> | undefined

  const guard = (what: string, p: Promise<void>): Promise<void> =>
    p.catch((err: unknown) => {
      if (err instanceof AbortedError || abort.signal.aborted) return
      // Not expected (every step retries); say so loudly rather than stall silently.
      log.fatal({ err }, `${what} stopped on an unexpected error; the data provider no longer follows this chain`)
    })

  return {
    start() {
      if (running || stopping) return
      running = Promise.all([
        guard('relay finalized-head tracking', relayTarget.run(abort.signal)),
        guard('para finalized-head tracking', paraTarget.run(abort.signal)),
        guard('relay fetch', relayPipe.run(abort.signal)),
        guard('para fetch', paraPipe.run(abort.signal)),
        live && relaySub ? guard('live justification subscription', live.run(relaySub, log, abort.signal, relayCtx.liveGap)) : Promise.resolve(),
        // The para head a live-justified range needs must not wait for the next para poll.
        live && paraSub ? guard('para finalized-head subscription', followFinalizedHeads(paraSub, paraTarget, log, abort.signal)) : Promise.resolve(),
      ])
    },
    stop() {
      stopping ??= (async () => {
        abort.abort()
        await running
      })()
      return stopping
    },
    progress() {
      const r = relayPipe.stats()
      const p = paraPipe.stats()
      return { parentTarget: relayTarget.target, parentFetchedHeight: r.committed, paraTarget: paraTarget.target, paraFetchedHeight: p.committed, relay: r, para: p, ...(live ? { live: live.stats() } : {}) }
    },
  }
}
