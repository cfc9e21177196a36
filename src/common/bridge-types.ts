/**
 * The SCALE types that travel between the bridge and pRuntime (and pRuntime's egress), on a
 * @polkadot/types TypeRegistry. The data provider ENCODES with this module and the devnet pRuntime
 * DECODES with it, so both sides share one definition. Names and field order follow prb v2's
 * typedefs and pRuntime's `crates/phactory/api/src/blocks.rs` (chain.md §2.3, §6.1).
 *
 * Decoding is strict: @polkadot/types silently zero-fills a short input and ignores trailing bytes,
 * so `decodeExact` re-encodes and demands the very same bytes (which also rejects non-canonical
 * compacts, as parity-scale-codec does).
 */
import { TypeRegistry } from '@polkadot/types'
import type { Codec, RegistryTypes } from '@polkadot/types/types'
import type { Header } from '@polkadot/types/interfaces'
import { u8aEq, u8aConcat, compactToU8a, u8aToU8a, u8aToHex } from '@polkadot/util'

type Bytes = Uint8Array
type HexOrBytes = string | Uint8Array

function messageOriginEnum(): Record<string, string> {
  // MessageOrigin has variants 0..6 and Reserved = 255; the gap must keep its indices.
  const e: Record<string, string> = {
    Pallet: 'Bytes',
    Contract: 'H256',
    Worker: '[u8;32]',
    AccountId: 'H256',
    MultiLocation: 'Bytes',
    Gatekeeper: 'Null',
    Cluster: 'H256',
  }
  for (let i = 7; i < 255; i++) e[`__Unused${i}`] = 'Null'
  e.Reserved = 'Null'
  return e
}

/** The custom type definitions (chain.md §2.3, §5, §6.1, §7; upstream-data-provider.md §4.1). */
export const BRIDGE_TYPES = {
  StorageProof: 'Vec<Bytes>',
  GrandpaAuthorityId: '[u8;32]',
  GrandpaAuthorityList: 'Vec<(GrandpaAuthorityId, u64)>',
  /** The raw `:grandpa_authorities` value. */
  VersionedAuthorityList: { version: 'u8', authorityList: 'GrandpaAuthorityList' },
  /** pRuntime AuthoritySet { list, id }; prb v2 names. */
  AuthoritySet: { authoritySet: 'GrandpaAuthorityList', setId: 'u64' },
  AuthoritySetChange: { authoritySet: 'AuthoritySet', authorityProof: 'StorageProof' },
  HeaderToSync: { header: 'Header', justification: 'Option<Bytes>' },
  StorageCollection: 'Vec<(Bytes, Option<Bytes>)>',
  ChildStorageCollection: 'Vec<(Bytes, StorageCollection)>',
  StorageChanges: { mainStorageChanges: 'StorageCollection', childStorageChanges: 'ChildStorageCollection' },
  BlockHeaderWithChanges: { blockHeader: 'Header', storageChanges: 'StorageChanges' },
  SyncHeaderReq: { headers: 'Vec<HeaderToSync>', authoritySetChange: 'Option<AuthoritySetChange>' },
  SyncParachainHeaderReq: { headers: 'Vec<Header>', proof: 'StorageProof' },
  SyncCombinedHeadersReq: {
    relaychainHeaders: 'Vec<HeaderToSync>',
    authoritySetChange: 'Option<AuthoritySetChange>',
    parachainHeaders: 'Vec<Header>',
    proof: 'StorageProof',
  },
  DispatchBlockReq: { blocks: 'Vec<BlockHeaderWithChanges>' },
  /** pRuntime GenesisBlockInfo { block_header, authority_set, proof }. */
  GenesisInfo: { header: 'Header', authoritySet: 'AuthoritySet', proof: 'StorageProof' },
  /** InitRuntime encoded_genesis_state. */
  StorageState: 'Vec<(Bytes, Bytes)>',
  MessageOrigin: { _enum: messageOriginEnum() },
  PhalaMqMessage: { sender: 'MessageOrigin', destination: 'Bytes', payload: 'Bytes' },
  SignedMessage: { message: 'PhalaMqMessage', sequence: 'u64', signature: 'Bytes' },
  EgressMessages: 'Vec<(MessageOrigin, Vec<SignedMessage>)>',
  WorkerRegistrationInfo: {
    version: 'u32',
    machineId: 'Bytes',
    pubkey: '[u8;32]',
    ecdhPubkey: '[u8;32]',
    genesisBlockHash: 'H256',
    features: 'Vec<u32>',
    operator: 'Option<AccountId32>',
  },
  WorkerRegistrationInfoV2: {
    version: 'u32',
    machineId: 'Bytes',
    pubkey: '[u8;32]',
    ecdhPubkey: '[u8;32]',
    genesisBlockHash: 'H256',
    features: 'Vec<u32>',
    operator: 'Option<AccountId32>',
    paraId: 'u32',
    maxConsensusVersion: 'u32',
  },
  SgxIasReport: { raReport: 'Bytes', signature: 'Bytes', rawSigningCert: 'Bytes' },
  /** Legacy registry v1 attestation (register_worker). */
  PhalaAttestation: { _enum: { SgxIas: 'SgxIasReport' } },
  SgxV30QuoteCollateral: {
    pckCrlIssuerChain: 'Text',
    rootCaCrl: 'Text',
    pckCrl: 'Text',
    tcbInfoIssuerChain: 'Text',
    tcbInfo: 'Text',
    tcbInfoSignature: 'Bytes',
    qeIdentityIssuerChain: 'Text',
    qeIdentity: 'Text',
    qeIdentitySignature: 'Bytes',
  },
  SgxCollateral: { _enum: { SgxV30: 'SgxV30QuoteCollateral' } },
  /** pink_types::sgx::AttestationReport (register_worker_v2, InitRuntimeResponse.attestation.encoded_report). */
  AttestationReport: { _enum: { SgxIas: 'SgxIasReport', SgxDcap: { quote: 'Bytes', collateral: 'Option<SgxCollateral>' } } },
  AttestationProvider: { _enum: ['Root', 'Ias', 'Dcap'] },
  WorkingReportEvent: {
    _enum: {
      Heartbeat: { sessionId: 'u32', challengeBlock: 'u32', challengeTime: 'u64', iterations: 'u64' },
      HeartbeatV2: { sessionId: 'u32', challengeBlock: 'u32', challengeTime: 'u64', iterations: 'u64', nClusters: 'u32', nContracts: 'u32' },
    },
  },
  RegistryEvent: { _enum: { BenchReport: { startTime: 'u64', iterations: 'u64' }, MasterPubkey: { masterPubkey: '[u8;32]' } } },
} as const

export type BridgeTypeName = keyof typeof BRIDGE_TYPES

/** A fresh registry with the bridge types (and the standard Substrate Header etc.). */
export function createBridgeRegistry(): TypeRegistry {
  const registry = new TypeRegistry()
  registry.register(BRIDGE_TYPES as unknown as RegistryTypes)
  return registry
}

let shared: TypeRegistry | undefined
/** One shared registry: type definitions are immutable, so a process needs only one. */
export function bridgeRegistry(): TypeRegistry {
  shared ??= createBridgeRegistry()
  return shared
}

export class ScaleDecodeError extends Error {
  override name = 'ScaleDecodeError'
  readonly code = 'ERR_SCALE_DECODE'
}

/**
 * Byte inputs as hex: @polkadot/types reads a Uint8Array given for `Bytes` as already length-prefixed,
 * but hex as the content itself. As hex, a struct (Header) is still decoded from its SCALE bytes.
 */
function hexify(value: unknown): unknown {
  if (value instanceof Uint8Array) return u8aToHex(value)
  if (Array.isArray(value)) return value.map(hexify)
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = hexify(v)
    return out
  }
  return value // Codec instances, numbers, bigints, strings, null
}

/**
 * Encode `value` as `type`. Plain objects and arrays as @polkadot/types takes them; every
 * Uint8Array stands for its content (a header's bytes for Header, a proof node for Bytes).
 */
export function encodeBridge(type: string, value: unknown, registry: TypeRegistry = bridgeRegistry()): Uint8Array {
  return registry.createType(type, hexify(value)).toU8a()
}

/** Decode exactly `bytes` as `type`: the bytes must be the canonical encoding, with nothing left over. */
export function decodeExact<T extends Codec = Codec>(type: string, bytes: Uint8Array, registry: TypeRegistry = bridgeRegistry()): T {
  let value: T
  try {
    value = registry.createType(type, bytes) as unknown as T
  } catch (e) {
    throw new ScaleDecodeError(`cannot decode ${type} from ${bytes.length} bytes: ${(e as Error).message}`)
  }
  const again = value.toU8a()
  if (!u8aEq(again, bytes)) {
    throw new ScaleDecodeError(`cannot decode ${type}: input of ${bytes.length} bytes is not a canonical encoding (re-encodes to ${again.length} bytes)`)
  }
  return value
}

// ---- plain shapes for encoders (what the data provider hands in) ------------------------------

/** A header as a Header codec, its SCALE bytes, or a JSON-RPC header object. */
export type HeaderInput = Header | Uint8Array | Record<string, unknown>
export type AuthorityListInput = Array<[HexOrBytes, number | bigint]>

export interface AuthoritySetInput {
  authoritySet: AuthorityListInput
  setId: number | bigint
}

export interface AuthoritySetChangeInput {
  authoritySet: AuthoritySetInput
  authorityProof: HexOrBytes[]
}

export interface HeaderToSyncInput {
  header: HeaderInput
  /** SCALE GrandpaJustification, or null. */
  justification: HexOrBytes | null
}

export interface SyncCombinedHeadersInput {
  relaychainHeaders: HeaderToSyncInput[]
  authoritySetChange: AuthoritySetChangeInput | null
  parachainHeaders: HeaderInput[]
  proof: HexOrBytes[]
}

export interface GenesisInfoInput {
  header: HeaderInput
  authoritySet: AuthoritySetInput
  proof: HexOrBytes[]
}

export type StorageCollectionInput = Array<[HexOrBytes, HexOrBytes | null]>
export interface StorageChangesInput {
  mainStorageChanges: StorageCollectionInput
  childStorageChanges: Array<[HexOrBytes, StorageCollectionInput]>
}

export function encodeSyncCombinedHeadersReq(v: SyncCombinedHeadersInput, registry?: TypeRegistry): Uint8Array {
  return encodeBridge('SyncCombinedHeadersReq', v, registry)
}

export function encodeSyncHeaderReq(v: { headers: HeaderToSyncInput[]; authoritySetChange: AuthoritySetChangeInput | null }, registry?: TypeRegistry): Uint8Array {
  return encodeBridge('SyncHeaderReq', v, registry)
}

export function encodeSyncParachainHeaderReq(v: { headers: HeaderInput[]; proof: HexOrBytes[] }, registry?: TypeRegistry): Uint8Array {
  return encodeBridge('SyncParachainHeaderReq', v, registry)
}

export function encodeGenesisInfo(v: GenesisInfoInput, registry?: TypeRegistry): Uint8Array {
  return encodeBridge('GenesisInfo', v, registry)
}

export function encodeStorageState(pairs: Array<[HexOrBytes, HexOrBytes]>, registry?: TypeRegistry): Uint8Array {
  return encodeBridge('StorageState', pairs, registry)
}

export function encodeStorageChanges(v: StorageChangesInput, registry?: TypeRegistry): Uint8Array {
  return encodeBridge('StorageChanges', v, registry)
}

/**
 * One BlockHeaderWithChanges from an encoded header and the raw SCALE StorageChanges exactly as
 * `pha_getStorageChangesAt` returned them (spliced, never re-encoded, as prb v2 does).
 */
export function encodeBlockHeaderWithChanges(header: HeaderInput, rawStorageChanges: HexOrBytes, registry: TypeRegistry = bridgeRegistry()): Uint8Array {
  const headerBytes = header instanceof Uint8Array ? header : registry.createType('Header', header).toU8a()
  return u8aConcat(headerBytes, u8aToU8a(rawStorageChanges))
}

/** `Vec<BlockHeaderWithChanges>` (= DispatchBlockReq) from already-encoded elements. */
export function encodeDispatchBlockReq(encodedBlocks: Uint8Array[]): Uint8Array {
  return u8aConcat(compactToU8a(encodedBlocks.length), ...encodedBlocks)
}

// ---- decoded shapes (what pRuntime reads) -----------------------------------------------------

export interface DecodedAuthoritySet {
  list: Array<{ id: Uint8Array; weight: bigint }>
  id: bigint
}

export interface DecodedHeaderToSync {
  header: Header
  justification: Uint8Array | null
}

export interface DecodedSyncCombinedHeadersReq {
  relaychainHeaders: DecodedHeaderToSync[]
  authoritySetChange: { authoritySet: DecodedAuthoritySet; authorityProof: Uint8Array[] } | null
  parachainHeaders: Header[]
  proof: Uint8Array[]
}

export interface DecodedStorageChanges {
  main: Array<[Uint8Array, Uint8Array | null]>
  child: Array<[Uint8Array, Array<[Uint8Array, Uint8Array | null]>]>
}

export interface DecodedBlock {
  header: Header
  changes: DecodedStorageChanges
}

export interface DecodedGenesisInfo {
  header: Header
  authoritySet: DecodedAuthoritySet
  proof: Uint8Array[]
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function authoritySetOf(c: any): DecodedAuthoritySet {
  return {
    list: (c.authoritySet as any[]).map((t: any) => ({ id: t[0].toU8a(), weight: t[1].toBigInt() })),
    id: c.setId.toBigInt(),
  }
}

function bytesList(c: any): Uint8Array[] {
  return (c as any[]).map((b: any) => b.toU8a(true))
}

function headerToSyncOf(c: any): DecodedHeaderToSync {
  return { header: c.header as Header, justification: c.justification.isSome ? c.justification.unwrap().toU8a(true) : null }
}

function collectionOf(c: any): Array<[Uint8Array, Uint8Array | null]> {
  return (c as any[]).map((t: any) => [t[0].toU8a(true), t[1].isSome ? t[1].unwrap().toU8a(true) : null])
}

function changesOf(c: any): DecodedStorageChanges {
  return {
    main: collectionOf(c.mainStorageChanges),
    child: (c.childStorageChanges as any[]).map((t: any) => [t[0].toU8a(true), collectionOf(t[1])]),
  }
}

export function decodeSyncCombinedHeadersReq(bytes: Uint8Array, registry?: TypeRegistry): DecodedSyncCombinedHeadersReq {
  const c: any = decodeExact('SyncCombinedHeadersReq', bytes, registry)
  return {
    relaychainHeaders: (c.relaychainHeaders as any[]).map(headerToSyncOf),
    authoritySetChange: c.authoritySetChange.isSome
      ? { authoritySet: authoritySetOf(c.authoritySetChange.unwrap().authoritySet), authorityProof: bytesList(c.authoritySetChange.unwrap().authorityProof) }
      : null,
    parachainHeaders: [...c.parachainHeaders] as Header[],
    proof: bytesList(c.proof),
  }
}

export function decodeSyncHeaderReq(bytes: Uint8Array, registry?: TypeRegistry): { headers: DecodedHeaderToSync[]; authoritySetChange: DecodedSyncCombinedHeadersReq['authoritySetChange'] } {
  const c: any = decodeExact('SyncHeaderReq', bytes, registry)
  return {
    headers: (c.headers as any[]).map(headerToSyncOf),
    authoritySetChange: c.authoritySetChange.isSome
      ? { authoritySet: authoritySetOf(c.authoritySetChange.unwrap().authoritySet), authorityProof: bytesList(c.authoritySetChange.unwrap().authorityProof) }
      : null,
  }
}

export function decodeHeadersToSync(bytes: Uint8Array, registry?: TypeRegistry): DecodedHeaderToSync[] {
  return ([...decodeExact<any>('Vec<HeaderToSync>', bytes, registry)] as any[]).map(headerToSyncOf)
}

export function decodeHeaders(bytes: Uint8Array, registry?: TypeRegistry): Header[] {
  return [...decodeExact<any>('Vec<Header>', bytes, registry)] as Header[]
}

export function decodeAuthoritySetChange(bytes: Uint8Array, registry?: TypeRegistry): NonNullable<DecodedSyncCombinedHeadersReq['authoritySetChange']> {
  const c: any = decodeExact('AuthoritySetChange', bytes, registry)
  return { authoritySet: authoritySetOf(c.authoritySet), authorityProof: bytesList(c.authorityProof) }
}

export function decodeSyncParachainHeaderReq(bytes: Uint8Array, registry?: TypeRegistry): { headers: Header[]; proof: Uint8Array[] } {
  const c: any = decodeExact('SyncParachainHeaderReq', bytes, registry)
  return { headers: [...c.headers] as Header[], proof: bytesList(c.proof) }
}

/** `DispatchBlockReq` and a bare `Vec<BlockHeaderWithChanges>` are the same bytes. */
export function decodeDispatchBlockReq(bytes: Uint8Array, registry?: TypeRegistry): DecodedBlock[] {
  const c: any = decodeExact('Vec<BlockHeaderWithChanges>', bytes, registry)
  return (c as any[]).map((b: any) => ({ header: b.blockHeader as Header, changes: changesOf(b.storageChanges) }))
}

export function decodeStorageChanges(bytes: Uint8Array, registry?: TypeRegistry): DecodedStorageChanges {
  return changesOf(decodeExact('StorageChanges', bytes, registry))
}

export function decodeGenesisInfo(bytes: Uint8Array, registry?: TypeRegistry): DecodedGenesisInfo {
  const c: any = decodeExact('GenesisInfo', bytes, registry)
  return { header: c.header as Header, authoritySet: authoritySetOf(c.authoritySet), proof: bytesList(c.proof) }
}

export function decodeStorageState(bytes: Uint8Array, registry?: TypeRegistry): Array<[Uint8Array, Uint8Array]> {
  const c: any = decodeExact('StorageState', bytes, registry)
  return (c as any[]).map((t: any) => [t[0].toU8a(true), t[1].toU8a(true)])
}

export interface DecodedSignedMessage {
  sender: Uint8Array
  destination: Uint8Array
  payload: Uint8Array
  sequence: bigint
  signature: Uint8Array
}

export function decodeEgressMessages(bytes: Uint8Array, registry?: TypeRegistry): Array<{ origin: Uint8Array; messages: DecodedSignedMessage[] }> {
  const c: any = decodeExact('EgressMessages', bytes, registry)
  return (c as any[]).map((t: any) => ({
    origin: t[0].toU8a(),
    messages: (t[1] as any[]).map((m: any) => ({
      sender: m.message.sender.toU8a(),
      destination: m.message.destination.toU8a(true),
      payload: m.message.payload.toU8a(true),
      sequence: m.sequence.toBigInt(),
      signature: m.signature.toU8a(true),
    })),
  }))
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The bytes an MQ signature covers: SCALE(Message) ++ u64 LE sequence (chain.md §2.3). */
export function mqSigningPayload(encodedMessage: Uint8Array, sequence: bigint): Uint8Array {
  const seq = new Uint8Array(8)
  new DataView(seq.buffer).setBigUint64(0, sequence, true)
  return u8aConcat(encodedMessage, seq)
}

/** SCALE MessageOrigin::Worker(pubkey) = 0x02 ++ pubkey. */
export function workerOrigin(pubkey: Uint8Array): Uint8Array {
  return u8aConcat(new Uint8Array([2]), pubkey)
}
