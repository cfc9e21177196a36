/**
 * Builds the metadata of the devnet parachain (Phala's or Khala's): the shipped asset-hub-kusama V15
 * metadata (@polkadot/types-support) cut down to the standard pallets prb touches, re-indexed to
 * the chain's construct_runtime indices, with the Phala pallets appended, the ProxyType, the signed
 * extensions (CheckMqSequence, ChargeTransactionPayment) and the constants of the real runtimes.
 * Served as V14 (what state_getMetadata and Metadata_metadata give on a v1.2.0-era node, and all an
 * older client can decode) and as V15 through Metadata_metadata_at_version(15).
 */
import baseHex from '@polkadot/types-support/metadata/v15/asset-hub-kusama-hex'
import { Metadata, TypeRegistry } from '@polkadot/types'
import { blake2AsHex } from '@polkadot/util-crypto'
import { bnToU8a, u8aToHex } from '@polkadot/util'
import { Lookup, variant, type TypeJson } from './lookup.js'
import { addPhalaTypes, type PhalaTypeIds } from './phala-types.js'
import { phalaPallets, KHALA_INDICES, type PalletIndices, type PalletJson } from './phala-pallets-meta.js'
import { identityOf, type ChainIdentity } from '../identity.js'

export const SPEC_VERSION = 1290
/** Khala's transaction_version (Phala's is 5: see identity.ts). */
export const TRANSACTION_VERSION = 6
export const SS58_PREFIX = 30
export const EXISTENTIAL_DEPOSIT = 10_000_000_000n
export const MILLISECS_PER_BLOCK = 12_000
export const MAGIC_NUMBER = 0x6174656d
/** For @polkadot/api clients (`ApiPromise.create({signedExtensions})`): CheckMqSequence adds no bytes. */
export const USER_EXTENSIONS = { CheckMqSequence: { extrinsic: {}, payload: {} } }

/** Runtime APIs a v1.2.0-era Khala node reports, with their versions (names hashed as Substrate does). */
const API_VERSIONS: [string, number][] = [
  ['AuraApi', 1], ['Core', 4], ['Metadata', 2], ['BlockBuilder', 6], ['TaggedTransactionQueue', 3], ['OffchainWorkerApi', 2],
  ['SessionKeys', 1], ['AccountNonceApi', 1], ['TransactionPaymentApi', 4], ['TransactionPaymentCallApi', 3],
  ['CollectCollationInfo', 2], ['MqApi', 1],
]

export function runtimeApis(): [string, number][] {
  return API_VERSIONS.map(([name, v]) => [blake2AsHex(name, 64), v])
}

export interface RuntimeVersionJson {
  specName: string; implName: string; authoringVersion: number; specVersion: number; implVersion: number
  apis: [string, number][]; transactionVersion: number; stateVersion: number
}

export function runtimeVersion(identity: ChainIdentity = identityOf(undefined)): RuntimeVersionJson {
  const name = identity.para.specName
  // stateVersion 0: every value sits inline in the trie (the engine and the fake pRuntime read this).
  return { specName: name, implName: name, authoringVersion: 1, specVersion: SPEC_VERSION, implVersion: 0, apis: runtimeApis(), transactionVersion: identity.para.transactionVersion, stateVersion: 0 }
}

export interface BuiltMetadata {
  /** V15 */
  hex: string
  /** The same metadata as V14 (state_getMetadata, Metadata_metadata). */
  v14Hex: string
  metadata: Metadata
  registry: TypeRegistry
  /** Lookup ids of the types the pallets encode with. */
  ids: PhalaTypeIds & { phase: number; accountInfo: number; eventRecords: number; digestItem: number; runtimeCall: number; validationData: number; assetAccount: number; aura: number }
}

const KEPT = ['System', 'Timestamp', 'Utility', 'Proxy', 'ParachainInfo', 'ParachainSystem', 'Balances', 'TransactionPayment', 'Aura', 'Assets'] as const
const KEEP_APIS = new Set(['AuraApi', 'Core', 'Metadata', 'BlockBuilder', 'TaggedTransactionQueue', 'OffchainWorkerApi', 'SessionKeys', 'AccountNonceApi', 'TransactionPaymentApi', 'TransactionPaymentCallApi', 'CollectCollationInfo'])

const le = (v: number | bigint, bits: number): string => u8aToHex(bnToU8a(v, { bitLength: bits, isLe: true }))

export function buildMetadata(opts: { paraId: number; identity?: ChainIdentity; indices?: PalletIndices }): BuiltMetadata {
  const identity = opts.identity ?? identityOf(undefined)
  const indices = opts.indices ?? KHALA_INDICES
  const KEEP: Record<string, number> = Object.fromEntries(KEPT.map((n) => [n, indices[n]]))
  const runtimePath = `${identity.para.specName}_parachain_runtime`
  const baseRegistry = new TypeRegistry()
  // The shipped hex is the Option<OpaqueMetadata> of Metadata_metadata_at_version: 0x01 ++ compact len ++ metadata.
  const base = new Metadata(baseRegistry, `0x${baseHex.slice(baseHex.indexOf('6d657461'))}`)
  baseRegistry.setMetadata(base)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const v = (base.toJSON() as any).metadata.v15
  const l = new Lookup(v.lookup.types as TypeJson[])

  for (const t of l.types) {
    if (t.type.path[0] === 'asset_hub_kusama_runtime') t.type.path = [runtimePath, ...t.type.path.slice(1)]
  }
  // Khala's and Phala's ProxyType (chain.md §1.2).
  const proxyType = l.byPath(`${runtimePath}::ProxyType`)
  l.get(proxyType).type.def = { variant: { variants: ['Any', 'NonTransfer', 'CancelProxy', 'Governance', 'Collator', 'StakePoolManager'].map((n, i) => variant(n, i, [])) } }
  // v1.2.0 names the event payload DispatchInfo; its encoding is the same three fields.
  l.get(l.byPath('frame_system::DispatchEventInfo')).type.path = ['frame_support', 'dispatch', 'DispatchInfo']

  // v1.2.0 ParachainSystem.set_validation_data(data: ParachainInherentData).
  const u32 = l.prim('u32'), bytes = l.seq(l.prim('u8'))
  const pvd = l.byPath('polkadot_primitives::v8::PersistedValidationData')
  const storageProof = l.byPath('sp_trie::storage_proof::StorageProof')
  const paraIdT = l.byPath('polkadot_parachain_primitives::primitives::Id')
  const dmq = l.composite(['polkadot_core_primitives', 'InboundDownwardMessage'], [['sent_at', u32, 'BlockNumber'], ['msg', bytes, 'DownwardMessage']], [{ name: 'BlockNumber', type: u32 }])
  const hrmp = l.composite(['polkadot_core_primitives', 'InboundHrmpMessage'], [['sent_at', u32, 'BlockNumber'], ['data', bytes, 'sp_std::vec::Vec<u8>']], [{ name: 'BlockNumber', type: u32 }])
  const vecHrmp = l.seq(hrmp)
  const hrmpMap = l.composite(['BTreeMap'], [[null, l.seq(l.tuple([paraIdT, vecHrmp]))]], [{ name: 'K', type: paraIdT }, { name: 'V', type: vecHrmp }])
  const inherentData = l.composite(['cumulus_primitives_parachain_inherent', 'ParachainInherentData'], [
    ['validation_data', pvd, 'PersistedValidationData'], ['relay_chain_state', storageProof, 'sp_trie::StorageProof'],
    ['downward_messages', l.seq(dmq), 'Vec<InboundDownwardMessage>'], ['horizontal_messages', hrmpMap, 'BTreeMap<ParaId, Vec<InboundHrmpMessage>>'],
  ])
  const psCall = l.get(l.byPath('cumulus_pallet_parachain_system::pallet::Call'))
  const psVariants = (psCall.type.def.variant as { variants: ReturnType<typeof variant>[] }).variants
  psVariants[0] = variant('set_validation_data', 0, [['data', inherentData, 'ParachainInherentData']], psVariants[0].docs)

  const ids = addPhalaTypes(l)
  const pallets: PalletJson[] = []
  for (const p of v.pallets as PalletJson[]) {
    if (!(p.name in KEEP)) continue
    p.index = KEEP[p.name]
    if (p.name === 'Assets') p.calls = null // W-PHA balances only; the devnet does not dispatch asset calls
    pallets.push(p)
  }
  pallets.push(...phalaPallets(l, ids, indices))
  // frame_system v1.2.0 has six errors; the devnet appends one for the calls it does not implement.
  const sysErr = l.get((pallets.find((p) => p.name === 'System')!.errors as { type: number }).type)
  const sysVariants = (sysErr.type.def.variant as { variants: ReturnType<typeof variant>[] }).variants.slice(0, 6)
  sysVariants.push(variant('NotSupportedByDevnet', 6, [], ['The prb devnet does not implement this call (it is not supported by the devnet); no fee was charged.']))
  sysErr.type.def = { variant: { variants: sysVariants } }
  pallets.sort((a, b) => a.index - b.index)

  setConstant(pallets, 'System', 'SS58Prefix', le(SS58_PREFIX, 16))
  setConstant(pallets, 'Balances', 'ExistentialDeposit', le(EXISTENTIAL_DEPOSIT, 128))
  setConstant(pallets, 'Timestamp', 'MinimumPeriod', le(MILLISECS_PER_BLOCK / 2, 64))
  setConstant(pallets, 'Aura', 'SlotDuration', le(MILLISECS_PER_BLOCK, 64))
  setConstant(pallets, 'ParachainSystem', 'SelfParaId', le(opts.paraId, 32))
  const rv = runtimeVersion(identity)
  const rvType = baseRegistry.createLookupType(l.byPath('sp_version::RuntimeVersion'))
  setConstant(pallets, 'System', 'Version', baseRegistry.createTypeUnsafe(rvType, [{
    specName: rv.specName, implName: rv.implName, authoringVersion: rv.authoringVersion, specVersion: rv.specVersion,
    implVersion: rv.implVersion, apis: rv.apis, transactionVersion: rv.transactionVersion, systemVersion: rv.stateVersion,
  }]).toHex())

  // The outer enums (RuntimeCall / RuntimeEvent / RuntimeError) list exactly the kept pallets at their new indices.
  const outer = v.outerEnums as { callType: number; eventType: number; errorType: number }
  const hidden = 'self::sp_api_hidden_includes_construct_runtime::hidden_include::dispatch\n::CallableCallFor'
  const outerOf = (id: number, pick: (p: PalletJson) => number | undefined, typeName: (p: PalletJson) => string): void => {
    l.get(id).type.def = { variant: { variants: pallets.flatMap((p) => { const t = pick(p); return t === undefined ? [] : [variant(p.name, p.index, [[null, t, typeName(p)]])] }) } }
  }
  outerOf(outer.callType, (p) => p.calls?.type, (p) => `${hidden}<${p.name}, Runtime>`)
  outerOf(outer.eventType, (p) => p.events?.type, (p) => `${p.name}::Event<Runtime>`)
  outerOf(outer.errorType, (p) => p.errors?.type, (p) => `${p.name}::Error<Runtime>`)

  // Khala's signed extensions (chain.md §8).
  const ext = v.extrinsic as { extraType: number; signedExtensions: { identifier: string; type: number; additionalSigned: number }[] }
  const byId = new Map(ext.signedExtensions.map((e) => [e.identifier, e]))
  const unit = l.tuple([])
  const checkMq = l.composite(['phala_pallets', 'mq', 'check_seq', 'CheckMqSequence'], [], [{ name: 'T', type: null }])
  const chargeTx = l.composite(['pallet_transaction_payment', 'ChargeTransactionPayment'], [[null, l.compact(l.prim('u128')), 'BalanceOf<T>']], [{ name: 'T', type: null }])
  const order = ['CheckNonZeroSender', 'CheckSpecVersion', 'CheckTxVersion', 'CheckGenesis', 'CheckMortality', 'CheckNonce', 'CheckWeight', 'CheckMqSequence', 'ChargeTransactionPayment', 'CheckMetadataHash']
  ext.signedExtensions = order.map((identifier) => {
    if (identifier === 'CheckMqSequence') return { identifier, type: checkMq, additionalSigned: unit }
    if (identifier === 'ChargeTransactionPayment') return { identifier, type: chargeTx, additionalSigned: unit }
    const e = byId.get(identifier)
    if (!e) throw new Error(`base metadata lacks signed extension ${identifier}`)
    return e
  })
  ext.extraType = l.tuple(ext.signedExtensions.map((e) => e.type))

  v.pallets = pallets
  v.apis = (v.apis as { name: string }[]).filter((a) => KEEP_APIS.has(a.name))
  v.custom = { map: {} }

  const registry = new TypeRegistry()
  const metadata = new Metadata(registry, { magicNumber: MAGIC_NUMBER, metadata: { v15: v } } as never)
  const hex = metadata.toHex()
  const v14Hex = toV14Hex(v, l, runtimePath)
  // Re-decode from bytes so the registry sees exactly what a client sees.
  const final = new Metadata(registry, hex)
  registry.setMetadata(final, undefined, USER_EXTENSIONS)
  registry.setChainProperties(registry.createType('ChainProperties', { ss58Format: SS58_PREFIX, tokenDecimals: [12], tokenSymbol: ['PHA'] }) as never)
  const find = (path: string): number => l.byPath(path)
  return {
    hex,
    v14Hex,
    metadata: final,
    registry,
    ids: {
      ...ids,
      phase: find('frame_system::Phase'),
      accountInfo: find('frame_system::AccountInfo'),
      eventRecords: storageType(pallets, 'System', 'Events'),
      digestItem: find('sp_runtime::generic::digest::DigestItem'),
      runtimeCall: outer.callType,
      validationData: pvd,
      assetAccount: find('pallet_assets::types::AssetAccount'),
      aura: storageType(pallets, 'Aura', 'Authorities'),
    },
  }
}

/**
 * V14 of the same runtime: no runtime API or outer-enum section, no pallet docs, and the extrinsic
 * described by its UncheckedExtrinsic type, whose params a V14 client reads the address, call,
 * signature and extra types from.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toV14Hex(v: any, l: Lookup, runtimePath: string): string {
  const ext = v.extrinsic as { version: number; addressType: number; callType: number; signatureType: number; extraType: number; signedExtensions: unknown[] }
  const xtType = l.byPath('sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic')
  const x = l.get(xtType).type
  const param = (name: string, type: number): { name: string; type: number } => ({ name, type })
  x.params = [param('Address', ext.addressType), param('Call', ext.callType), param('Signature', ext.signatureType), param('Extra', ext.extraType)]
  const v14 = {
    lookup: v.lookup,
    pallets: (v.pallets as PalletJson[]).map(({ docs: _docs, ...p }) => p),
    extrinsic: { type: xtType, version: ext.version, signedExtensions: ext.signedExtensions },
    type: l.byPath(`${runtimePath}::Runtime`),
  }
  return new Metadata(new TypeRegistry(), { magicNumber: MAGIC_NUMBER, metadata: { v14 } } as never).toHex()
}

function setConstant(pallets: PalletJson[], pallet: string, name: string, value: string): void {
  const c = (pallets.find((p) => p.name === pallet)?.constants as { name: string; value: string }[] | undefined)?.find((x) => x.name === name)
  if (!c) throw new Error(`constant ${pallet}.${name} missing from base metadata`)
  c.value = value
}

function storageType(pallets: PalletJson[], pallet: string, item: string): number {
  const it = (pallets.find((p) => p.name === pallet)?.storage as { items: { name: string; type: { plain?: number } }[] } | undefined)?.items.find((i) => i.name === item)
  if (it?.type.plain === undefined) throw new Error(`storage ${pallet}.${item} missing from base metadata`)
  return it.type.plain
}
