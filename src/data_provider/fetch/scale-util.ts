/**
 * Storage keys the fetcher reads and the small SCALE pieces it assembles at the byte level
 * (upstream-data-provider.md §3.4, §4.1): headers from JSON-RPC, HeaderToSync, StorageProof,
 * Option<AuthoritySetChange>.
 */
import { compactToU8a, hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { blake2AsU8a, xxhashAsU8a } from '@polkadot/util-crypto'
import { decodeGrandpaAuthoritiesValue, encodeHeader, GRANDPA_AUTHORITIES_KEY, readAuthorityList, ScaleReader, u32Le, u64Le } from '../../common/grandpa.js'
import { PrbError } from '../../common/errors.js'

const twox128 = (s: string): Uint8Array => xxhashAsU8a(stringToU8a(s), 128)
const valueKey = (pallet: string, item: string): string => u8aToHex(u8aConcat(twox128(pallet), twox128(item)))

export const STORAGE_KEYS = {
  /** relay Grandpa.CurrentSetId (u64) */
  grandpaSetId: valueKey('Grandpa', 'CurrentSetId'),
  /** relay well-known `:grandpa_authorities` (VersionedAuthorityList): where the list was before pallet-grandpa's v5 migration */
  grandpaAuthorities: GRANDPA_AUTHORITIES_KEY,
  /** relay Grandpa.Authorities (AuthorityList): where Polkadot and Kusama keep the list today */
  grandpaAuthoritiesV5: valueKey('Grandpa', 'Authorities'),
  /** para ParachainInfo.ParachainId (u32) */
  parachainId: valueKey('ParachainInfo', 'ParachainId'),
  /** para ParachainSystem.ValidationData (Option<PersistedValidationData>) */
  validationData: valueKey('ParachainSystem', 'ValidationData'),
} as const

/** relay Paras.Heads(paraId): Twox64Concat of the u32 para id. */
export function parasHeadsKey(paraId: number): string {
  const id = u32Le(paraId)
  return u8aToHex(u8aConcat(twox128('Paras'), twox128('Heads'), xxhashAsU8a(id, 64), id))
}

export class FetchError extends PrbError {
  override name = 'FetchError'
}

export interface HeaderJson {
  parentHash: string
  number: string | number
  stateRoot: string
  extrinsicsRoot: string
  digest: { logs: string[] }
}

export function headerNumber(h: HeaderJson): number {
  return typeof h.number === 'number' ? h.number : Number(h.number)
}

/** SCALE header from the node's JSON, checked against its hash (a header that does not re-encode to its hash is refused). */
export function headerBytes(json: HeaderJson, expectedHash: string, what: string): Uint8Array {
  const bytes = encodeHeader({ parentHash: json.parentHash, number: headerNumber(json), stateRoot: json.stateRoot, extrinsicsRoot: json.extrinsicsRoot, digest: json.digest.logs })
  const hash = u8aToHex(blake2AsU8a(bytes, 256))
  if (hash !== expectedHash.toLowerCase()) {
    throw new FetchError('ERR_HEADER_HASH', `${what}: the header the node returned hashes to ${hash}, not to the block hash ${expectedHash}; the node's database may be corrupted (upstream exited with 254 here); retrying`)
  }
  return bytes
}

/** A GRANDPA consensus digest (ScheduledChange / ForcedChange ...) in the header: the block may change the set. */
export function hasGrandpaDigest(json: HeaderJson): boolean {
  return json.digest.logs.some((l) => l.toLowerCase().startsWith('0x0446524e4b'))
}

/** SCALE Vec<Bytes> (StorageProof) from the node's hex nodes. */
export function encodeProof(nodes: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [compactToU8a(nodes.length)]
  for (const n of nodes) {
    const b = hexToU8a(n)
    parts.push(compactToU8a(b.length), b)
  }
  return u8aConcat(...parts)
}

export const NONE = Uint8Array.of(0)

/** HeaderToSync { header, justification: Option<Bytes> }. */
export function headerToSync(header: Uint8Array, justification: Uint8Array | undefined): Uint8Array {
  if (!justification) return u8aConcat(header, NONE)
  return u8aConcat(header, Uint8Array.of(1), compactToU8a(justification.length), justification)
}

/**
 * The SCALE AuthorityList of a relay block from its two possible homes: `Grandpa.Authorities`
 * (a plain list) first, else `:grandpa_authorities` (version byte 1 ++ list); undefined when neither holds it.
 */
export function authorityListBytes(v5Value: string | null | undefined, legacyValue: string | null | undefined): Uint8Array | undefined {
  if (v5Value) {
    const r = new ScaleReader(v5Value)
    readAuthorityList(r)
    if (r.pos !== hexToU8a(v5Value).length) throw new Error('Grandpa.Authorities has trailing bytes; not an authority list')
    return hexToU8a(v5Value)
  }
  if (legacyValue) {
    // Decoding validates the version byte and the list; the list bytes then travel unchanged.
    decodeGrandpaAuthoritiesValue(legacyValue)
    return hexToU8a(legacyValue).subarray(1)
  }
  return undefined
}

/** Some(AuthoritySetChange { authoritySet: { list, setId }, authorityProof }) from the SCALE authority list. */
export function someAuthoritySetChange(list: Uint8Array, setId: bigint, proof: readonly string[]): Uint8Array {
  return u8aConcat(Uint8Array.of(1), list, u64Le(setId), encodeProof(proof))
}

export function u64FromStorage(v: string | null | undefined): bigint {
  return v ? new ScaleReader(v).u64() : 0n
}

/** Para head number from the raw `Paras.Heads` value (HeadData = Bytes of a para header); 0 when None. */
export function paraHeadNumber(v: string | null | undefined): number {
  if (!v) return 0
  const r = new ScaleReader(v)
  const head = r.bytes()
  if (head.length < 33) return 0
  return new ScaleReader(head.subarray(32)).compact()
}

/** relay_parent_number of PersistedValidationData, or undefined when None. */
export function relayParentNumber(v: string | null | undefined): number | undefined {
  if (!v) return undefined
  const r = new ScaleReader(v)
  r.bytes() // parent_head
  return r.u32()
}

/** The FRNK justification of a chain_getBlock answer (engine ids and bytes as number arrays or hex). */
export function grandpaJustification(justifications: Array<[number[] | string, number[] | string]> | null | undefined): Uint8Array | undefined {
  for (const [engine, data] of justifications ?? []) {
    const id = typeof engine === 'string' ? engine.toLowerCase() : u8aToHex(new Uint8Array(engine))
    if (id === '0x46524e4b') return typeof data === 'string' ? hexToU8a(data) : new Uint8Array(data)
  }
  return undefined
}

/**
 * The relay Grandpa.CurrentSetId (u64) as the number the records store. Every stored set id also
 * lands in an int32 RangeMeta.latest_set_id (upstream's proto, weakness 12), so anything above
 * 2^31 - 1 is refused here, at the block that carries it, rather than wrapped later.
 */
export function storedSetId(setId: bigint, what: string): number {
  if (setId > 0x7fff_ffffn) {
    throw new FetchError('ERR_SET_ID_RANGE', `${what}: GRANDPA set id ${setId} is above 2^31-1, which the upstream-compatible DB records (int32 RangeMeta.latest_set_id, uint32 ParentBlock.set_id) cannot hold without wrapping; this data provider cannot serve this chain`)
  }
  return Number(setId)
}
