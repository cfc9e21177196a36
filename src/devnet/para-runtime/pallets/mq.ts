/**
 * PhalaMq (index 85): sync_offchain_message with the checks of chain.md §2.5 in order, then the
 * message is handed to the pallets subscribed to its topic; push_message from an account.
 */
import { u8aConcat, u8aToString, bnToU8a } from '@polkadot/util'
import { moduleErr } from '../core.js'
import { verifySig } from '../extrinsic.js'
import { ensureSigned, type Dispatcher, type Handler } from '../dispatch.js'
import { onRegistryMessage, REGISTRY_EVENT_TOPIC } from './registry.js'
import { onWorkingReport, WORKING_REPORT_TOPIC } from './computation.js'

const BAD_DESTINATION_FIRST = new Set('`~!@#$%&*_+-=|<>?,./;:\'')

/** Path::is_valid: non-empty and not starting with a reserved character ('^' marks a "secure" topic). */
function destinationValid(dest: Uint8Array): boolean {
  return dest.length > 0 && !BAD_DESTINATION_FIRST.has(String.fromCharCode(dest[0]))
}

/** Dispatch a verified off-chain message to the pallets that subscribe to its topic. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function deliver(d: Dispatcher, message: any): void {
  const topic = u8aToString(message.destination.toU8a(true))
  if (topic === REGISTRY_EVENT_TOPIC) onRegistryMessage(d, message)
  else if (topic === WORKING_REPORT_TOPIC) onWorkingReport(d, message)
  // Other topics have no on-chain subscriber in the devnet: accepted and dropped.
}

export const mqHandlers: Record<string, Handler> = {
  'phalaMq.syncOffchainMessage': (d, origin, a) => {
    ensureSigned(origin)
    const sm = a.signedMessage
    const sender = sm.message.sender
    const kind: string = sender.type
    if (!['Worker', 'Contract', 'Cluster', 'Gatekeeper'].includes(kind)) throw moduleErr('PhalaMq', 'BadSender')
    if (!destinationValid(sm.message.destination.toU8a(true))) throw moduleErr('PhalaMq', 'BadDestination')
    // Encoded bytes as the key: the codec's JSON form ({worker: ...}) does not round-trip into the enum.
    const senderJson = sender.toU8a()
    const ingress = d.it.offchainIngress.get(d.env.state, senderJson)
    const expected: bigint = ingress ? ingress.toBigInt() : 0n
    const seq: bigint = sm.sequence.toBigInt()
    if (seq !== expected) throw moduleErr('PhalaMq', 'BadSequence')
    let pubkey: Uint8Array
    if (kind === 'Worker') pubkey = sender.asWorker.toU8a()
    else if (kind === 'Contract') throw moduleErr('PhalaRegistry', 'UnknownContract')
    else if (kind === 'Cluster') throw moduleErr('PhalaRegistry', 'UnknownCluster')
    else throw moduleErr('PhalaRegistry', 'MasterKeyUninitialized')
    const sig: Uint8Array = sm.signature.toU8a(true)
    if (sig.length !== 64) throw moduleErr('PhalaRegistry', 'InvalidSignatureLength')
    const signed = u8aConcat(sm.message.toU8a(), bnToU8a(seq, { bitLength: 64, isLe: true }))
    if (!verifySig(1, signed, sig, pubkey)) throw moduleErr('PhalaRegistry', 'InvalidSignature')
    d.it.offchainIngress.put(d.env.state, senderJson, seq + 1n)
    deliver(d, sm.message)
  },
  'phalaMq.pushMessage': (d, origin, a) => {
    const who = ensureSigned(origin)
    d.env.pushMessage({ AccountId: who }, u8aToString(a.destination.toU8a(true)), a.payload.toU8a(true))
  },
}
