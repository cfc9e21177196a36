/**
 * The storage keys a worker reads from its own copy of the chain state (chain.md §3):
 * twox128(pallet) ++ twox128(item) [++ twox64(SCALE(key)) ++ SCALE(key)].
 */
import { xxhashAsU8a } from '@polkadot/util-crypto'
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { u32Le } from '../../common/grandpa.js'

const twox128 = (s: string): Uint8Array => xxhashAsU8a(stringToU8a(s), 128)

export function valueKey(pallet: string, item: string): string {
  return u8aToHex(u8aConcat(twox128(pallet), twox128(item)))
}

/** A Twox64Concat map key for an already SCALE-encoded key. */
export function twox64ConcatKey(pallet: string, item: string, encodedKey: Uint8Array): string {
  return u8aToHex(u8aConcat(twox128(pallet), twox128(item), xxhashAsU8a(encodedKey, 64), encodedKey))
}

/** Relay: Paras.Heads(paraId); the value is HeadData = SCALE(Vec<u8>) of the para header. */
export function parasHeadsKey(paraId: number): string {
  return twox64ConcatKey('Paras', 'Heads', u32Le(paraId))
}

/** Relay: Grandpa.CurrentSetId (u64). */
export const GRANDPA_CURRENT_SET_ID_KEY = valueKey('Grandpa', 'CurrentSetId')
/** Relay (polkadot-sdk >= 1.5): Grandpa.Authorities, checked by pRuntime HEAD before the well-known key. */
export const GRANDPA_AUTHORITIES_STORAGE_KEY = valueKey('Grandpa', 'Authorities')

/** Para: ParachainInfo.ParachainId (u32, default 100). */
export const PARACHAIN_ID_KEY = valueKey('ParachainInfo', 'ParachainId')
/** Para: Timestamp.Now (u64 ms). */
export const TIMESTAMP_NOW_KEY = valueKey('Timestamp', 'Now')
/** Para: System.Number (u32). */
export const SYSTEM_NUMBER_KEY = valueKey('System', 'Number')

/** Para: PhalaRegistry.Workers(pubkey). */
export function registryWorkersKey(pubkey: Uint8Array): string {
  return twox64ConcatKey('PhalaRegistry', 'Workers', pubkey)
}

/** Para: PhalaMq.OffchainIngress(MessageOrigin) = next expected sequence (u64). */
export function offchainIngressKey(encodedOrigin: Uint8Array): string {
  return twox64ConcatKey('PhalaMq', 'OffchainIngress', encodedOrigin)
}

/** Para: PhalaComputation.WorkerBindings(pubkey) = session AccountId32. */
export function workerBindingsKey(pubkey: Uint8Array): string {
  return twox64ConcatKey('PhalaComputation', 'WorkerBindings', pubkey)
}

/** Para: PhalaComputation.Sessions(session) = SessionInfo; its first byte is the WorkerState. */
export function sessionsKey(session: Uint8Array): string {
  return twox64ConcatKey('PhalaComputation', 'Sessions', session)
}
