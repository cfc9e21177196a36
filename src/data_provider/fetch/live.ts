/**
 * Live GRANDPA justifications (weakness 4 of upstream-data-provider.md §11): a node stores a
 * justification only at set changes and every `justification_period` blocks (512 on Kusama), so
 * dry ranges closed only there and workers near the tip lagged up to ~50 minutes. Its voter,
 * however, announces a justification for every block it finalizes (grandpa_subscribeJustifications).
 * We keep those of finalized relay blocks the fetcher has not committed yet; when the fetcher
 * commits block n in order and holds one for n (same hash), the record is justified with it, so
 * near the tip a dry range closes at every finalized block.
 *
 * Records then depend on what was announced while we were subscribed: a block finalized while the
 * data provider was down or disconnected has no live justification and its range simply ends at the
 * next justified block. Both forms are valid pRuntime input (the justification is the voter's,
 * checked by pRuntime against the set it tracks). History far behind the tip is unaffected: the
 * map keeps only the newest `maxEntries` blocks, and a run that syncs history with no block
 * finalized meanwhile writes exactly the same DB as without live justifications.
 * A live justification never ends a window: windows end at set-change blocks, which are always
 * justified by the node's stored justification first (range-builder.ts). It is used only when it
 * verifies against the block's authority set (relay.ts), and only `liveJustificationGap` blocks
 * after the previous justified block (~92 KB each on Kusama). The range builder stores each once and
 * drops it once the node's own justification covers its range (range-builder.ts, LIVE RANGES); the
 * record carries a flag (`liveJustification`) so the builder can tell.
 */
import { hexToU8a, u8aToHex } from '@polkadot/util'
import type { CallOpts, SubscriptionSpec } from '../../common/chain.js'
import type { Logger } from '../../common/logger.js'
import { AbortedError, retry } from '../../common/retry.js'

export const JUSTIFICATION_SUBSCRIPTION: SubscriptionSpec = {
  method: 'grandpa_subscribeJustifications',
  unsubscribe: 'grandpa_unsubscribeJustifications',
  notification: 'grandpa_justifications',
}

export interface Subscriber {
  readonly name: string
  subscribe<T = unknown>(s: SubscriptionSpec, onValue: (value: T) => void, opts?: CallOpts): Promise<() => Promise<void>>
  readonly events?: { on(e: 'connected', fn: () => void): unknown; off(e: 'connected', fn: () => void): unknown }
}

export interface LiveJustificationStats {
  subscribed: boolean
  received: number
  used: number
  held: number
}

/** Commit target of an encoded GrandpaJustification: round u64, then target hash and number. */
export function justificationTarget(j: Uint8Array): { hash: string; number: number } | undefined {
  if (j.length < 8 + 32 + 4) return undefined
  const hash = u8aToHex(j.subarray(8, 40))
  const number = new DataView(j.buffer, j.byteOffset + 40, 4).getUint32(0, true)
  return { hash, number }
}

export class LiveJustifications {
  readonly #held = new Map<number, { hash: string; justification: Uint8Array }>()
  #committed = -1
  #received = 0
  #used = 0
  #subscribed = false

  constructor(
    private readonly maxEntries = 256,
    private readonly onFinalized?: (n: number) => void,
  ) {}

  stats(): LiveJustificationStats {
    return { subscribed: this.#subscribed, received: this.#received, used: this.#used, held: this.#held.size }
  }

  /** One notification (hex or bytes of the SCALE justification). */
  add(value: string | Uint8Array): void {
    const j = typeof value === 'string' ? hexToU8a(value) : value
    const t = justificationTarget(j)
    if (!t) return
    this.#received++
    if (t.number > this.#committed) this.#held.set(t.number, { hash: t.hash.toLowerCase(), justification: j })
    // Held first, then the target raised: the fetcher reaching this block finds its justification.
    this.onFinalized?.(t.number)
    // Too far ahead of the fetcher to matter soon: forget the oldest (lowest) first.
    while (this.#held.size > this.maxEntries) {
      let min = Infinity
      for (const k of this.#held.keys()) if (k < min) min = k
      this.#held.delete(min)
    }
  }

  /** The live justification of block `n` when its commit target is `hash`. */
  get(n: number, hash: string): Uint8Array | undefined {
    const e = this.#held.get(n)
    return e && e.hash === hash.toLowerCase() ? e.justification : undefined
  }

  /** Block `n` will be committed with this justification (counts it). */
  use(n: number): void {
    if (this.#held.has(n)) this.#used++
  }

  /** Blocks up to `n` are committed: drop what they held. */
  committed(n: number): void {
    this.#committed = Math.max(this.#committed, n)
    for (const k of this.#held.keys()) if (k <= n) this.#held.delete(k)
  }

  /**
   * Subscribe on `chain` until `signal` aborts (the connection re-creates the subscription after a
   * reconnect). A node without the method is logged once and live justifications stay off.
   */
  async run(chain: Subscriber, log: Logger, signal: AbortSignal, gap = 1): Promise<void> {
    let unsubscribe: (() => Promise<void>) | undefined
    try {
      unsubscribe = await retry(() => chain.subscribe<string>(JUSTIFICATION_SUBSCRIPTION, (v) => this.add(v), { signal }), {
        what: `subscribe to ${chain.name} GRANDPA justifications`,
        logger: log,
        signal,
        minMs: 500,
        maxMs: 30_000,
        retryable: (e) => !isMethodNotFound(e),
      })
    } catch (err) {
      if (err instanceof AbortedError || signal.aborted) return
      log.warn({ err, chain: chain.name }, `the ${chain.name} node does not serve grandpa_subscribeJustifications; live justifications are off, dry ranges close only at stored justifications (every justification period)`)
      return
    }
    this.#subscribed = true
    log.info({ chain: chain.name, gap }, `live GRANDPA justifications in use: near the tip a dry range closes at ${gap === 1 ? 'every finalized relay block' : `a finalized relay block ${gap} blocks after the previous justified one`}`)
    const onUp = (): void => log.info({ chain: chain.name }, 'live GRANDPA justifications: subscription renewed after the reconnect (blocks finalized meanwhile close no range)')
    chain.events?.on('connected', onUp)
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve()
        signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      chain.events?.off('connected', onUp)
      this.#subscribed = false
      await unsubscribe().catch(() => undefined)
    }
  }
}

function isMethodNotFound(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e)
  return /-32601|method not found/i.test(m)
}
