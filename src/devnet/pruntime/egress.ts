/**
 * A worker's outgoing message queue (chain.md §7): messages from MessageOrigin::Worker(pubkey),
 * each signed by the identity key over SCALE(message) ++ u64 LE sequence, sequenced from the
 * on-chain PhalaMq.OffchainIngress and purged once the chain has taken them.
 */
import { u8aConcat, compactToU8a, stringToU8a } from '@polkadot/util'
import { encodeBridge, mqSigningPayload, workerOrigin } from '../../common/bridge-types.js'
import { sign, type Keypair } from './identity.js'

export const REGISTRY_EVENT_TOPIC = '^phala/registry/event'
export const MINING_REPORT_TOPIC = 'phala/mining/report'

export interface QueuedMessage {
  sequence: bigint
  /** SCALE SignedMessage. */
  encoded: Uint8Array
}

export class EgressQueue {
  readonly origin: Uint8Array
  #nextSequence = 0n
  #messages: QueuedMessage[] = []

  constructor(private readonly identity: Keypair) {
    this.origin = workerOrigin(identity.publicKey)
  }

  get pending(): number {
    return this.#messages.length
  }

  get nextSequence(): bigint {
    return this.#nextSequence
  }

  /** Sign and queue a message to `topic`; returns its sequence. */
  push(topic: string, payload: Uint8Array): bigint {
    const sequence = this.#nextSequence++
    const message = u8aConcat(this.origin, encodeVec(stringToU8a(topic)), encodeVec(payload))
    const signature = sign(this.identity, mqSigningPayload(message, sequence))
    const seq = new Uint8Array(8)
    new DataView(seq.buffer).setBigUint64(0, sequence, true)
    this.#messages.push({ sequence, encoded: u8aConcat(message, seq, encodeVec(signature)) })
    return sequence
  }

  /** Drop what the chain has taken (sequence below `onChainNext`) and never reuse those numbers. */
  purge(onChainNext: bigint): void {
    if (onChainNext > this.#nextSequence) this.#nextSequence = onChainNext
    this.#messages = this.#messages.filter((m) => m.sequence >= onChainNext)
  }

  /** GetEgressMessages.encoded_messages: SCALE Vec<(MessageOrigin, Vec<SignedMessage>)>; empty Vec when idle. */
  encode(): Uint8Array {
    if (this.#messages.length === 0) return new Uint8Array([0])
    return u8aConcat(compactToU8a(1), this.origin, compactToU8a(this.#messages.length), ...this.#messages.map((m) => m.encoded))
  }
}

function encodeVec(b: Uint8Array): Uint8Array {
  return u8aConcat(compactToU8a(b.length), b)
}

/** SCALE RegistryEvent::BenchReport{start_time, iterations}. */
export function benchReportPayload(startTimeSec: bigint, iterations: bigint): Uint8Array {
  return encodeBridge('RegistryEvent', { BenchReport: { startTime: startTimeSec, iterations } })
}

/** SCALE WorkingReportEvent::Heartbeat{session_id, challenge_block, challenge_time, iterations}. */
export function heartbeatPayload(h: { sessionId: number; challengeBlock: number; challengeTime: bigint; iterations: bigint }): Uint8Array {
  return encodeBridge('WorkingReportEvent', { Heartbeat: h })
}
