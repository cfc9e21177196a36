/**
 * One worker's MQ egress relay (upstream-lifecycle.md §8.5, chain.md §7): pRuntime's
 * GetEgressMessages, decoded as Vec<(MessageOrigin, Vec<SignedMessage>)>; per origin the messages
 * below `phalaMq.offchainIngress(origin)` are dropped (already on chain), and the rest go in
 * sequence, one BATCH_SYNC_MQ_MESSAGE per message (its job id its content, so a restart re-attaches).
 * Beyond upstream: a message already queued or in flight is not queued again (upstream re-sent
 * every pending message on each 3 s pass until its block was read), and a hole in the sequences is logged with the origin and the numbers.
 */
import type { ApiPromise } from '@polkadot/api'
import type { Logger } from '../../common/logger.js'
import type { TradeJobHandle } from '../../common/trade-queue.js'
import type { PruntimeClient } from '../sync/index.js'

export interface EgressDeps {
  client: PruntimeClient
  api: () => Promise<ApiPromise>
  /** Enqueue BATCH_SYNC_MQ_MESSAGE {pid, messages}. */
  send: (messages: string[]) => Promise<TradeJobHandle>
  logger: Logger
}

export interface EgressPass {
  /** Messages queued by this pass. */
  queued: number
  /** Messages still waiting for the chain (queued now or before, not yet seen on chain). */
  pending: number
}

interface OriginMsgs {
  origin: { toHex(): string; toU8a(): Uint8Array }
  messages: Array<{ sequence: { toNumber(): number }; toHex(): string }>
}

export class EgressRelay {
  readonly #d: EgressDeps
  /** origin hex → sequences queued and not settled. */
  readonly #inFlight = new Map<string, Set<number>>()
  #gapLogged = new Map<string, string>()

  constructor(deps: EgressDeps) {
    this.#d = deps
  }

  /** Forget what is in flight (pRuntime restarted: its messages are produced again). */
  reset(): void {
    this.#inFlight.clear()
  }

  async pass(signal?: AbortSignal): Promise<EgressPass> {
    const res = await this.#d.client.prpc<{ encodedMessages?: Uint8Array }>('GetEgressMessages', 'google.protobuf.Empty', 'pruntime_rpc.GetEgressMessagesResponse', {}, signal)
    const bytes = res.encodedMessages ?? new Uint8Array()
    if (bytes.length <= 1) return { queued: 0, pending: this.#pendingCount() }
    const api = await this.#d.api()
    const decoded = api.registry.createType('Vec<(PhalaMqMessageOrigin, Vec<PhalaMqSignedMessage>)>', bytes) as unknown as Array<[OriginMsgs['origin'], OriginMsgs['messages']]>
    const groups = decoded.map(([origin, messages]) => ({ origin, messages }))
    if (groups.length === 0) return { queued: 0, pending: this.#pendingCount() }
    const ingress = await api.queryMulti(groups.map((g) => [api.query.phalaMq.offchainIngress, g.origin] as never)) as unknown as Array<{ isSome: boolean; unwrap(): { toNumber(): number } }>
    const out: Array<{ origin: string; seq: number; hex: string }> = []
    let pending = 0
    groups.forEach((g, i) => {
      const o = g.origin.toHex()
      const next = ingress[i]!.isSome ? ingress[i]!.unwrap().toNumber() : 0
      const flying = this.#inFlight.get(o) ?? new Set<number>()
      for (const s of [...flying]) if (s < next) flying.delete(s) // landed
      let expect = next
      for (const m of g.messages) {
        const seq = m.sequence.toNumber()
        if (seq < next) continue // already on chain ("has been submitted. Skipping...")
        pending++
        if (seq !== expect && !flying.has(expect)) {
          const key = `${expect}-${seq}`
          if (this.#gapLogged.get(o) !== key) {
            this.#gapLogged.set(o, key)
            this.#d.logger.warn({ origin: o, expected: expect, got: seq, onChainNext: next }, `egress sequence gap from ${o}: expected ${expect}, pRuntime has ${seq} next`)
          }
        }
        expect = seq + 1
        if (flying.has(seq)) continue
        out.push({ origin: o, seq, hex: m.toHex() })
      }
      if (flying.size > 0) this.#inFlight.set(o, flying)
      else this.#inFlight.delete(o)
    })
    if (out.length === 0) return { queued: 0, pending }
    for (const m of out) {
      let s = this.#inFlight.get(m.origin)
      if (!s) this.#inFlight.set(m.origin, (s = new Set()))
      s.add(m.seq)
    }
    // One job per message, its id the message itself: a restarted lifecycle (or a pass after a
    // pRuntime restart) that finds a message still queued attaches to that job instead of queueing
    // it again in a differently-composed batch (which landed once and then failed BadSequence).
    // The trader still puts the calls of many jobs in one extrinsic.
    // In sequence: the trader takes jobs in the order they were added, and each origin's messages
    // must land in order.
    for (let i = 0; i < out.length; i++) {
      const m = out[i]!
      const release = (): void => {
        this.#inFlight.get(m.origin)?.delete(m.seq)
      }
      try {
        const h = await this.#d.send([m.hex])
        h.result.then(release, (err: unknown) => {
          release()
          this.#d.logger.warn({ err: (err as Error).message, origin: m.origin, sequence: m.seq }, 'an egress message failed on chain; the next pass sends it again if it is still missing')
        })
      } catch (err) {
        for (const r of out.slice(i)) this.#inFlight.get(r.origin)?.delete(r.seq)
        throw err
      }
    }
    return { queued: out.length, pending }
  }

  #pendingCount(): number {
    let n = 0
    for (const s of this.#inFlight.values()) n += s.size
    return n
  }
}
