/**
 * Builds the Khala-shaped metadata (V15) of the devnet parachain: the shipped asset-hub-kusama V15
 * metadata (@polkadot/types-support) cut down to the standard pallets prb touches, re-indexed to
 * Khala's construct_runtime indices, with the Phala pallets appended, Khala's ProxyType, Khala's
 * signed extensions (CheckMqSequence, ChargeTransactionPayment) and Khala's constants.
 */
import baseHex from '@polkadot/types-support/metadata/v15/asset-hub-kusama-hex'
import { Metadata, TypeRegistry } from '@polkadot/types'
import { blake2AsHex } from '@polkadot/util-crypto'
import { bnToU8a, u8aToHex } from '@polkadot/util'
import { Lookup, variant, type TypeJson } from './lookup.js'
import { addPhalaTypes, type PhalaTypeIds } from './phala-types.js'
import { phalaPallets, KHALA_INDICES, type PalletJson } from './phala-pallets-meta.js'

export const SPEC_NAME = 'khala'
export const SPEC_VERSION = 1290
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

export function runtimeVersion(): RuntimeVersionJson {
  // stateVersion 0: every value sits inline in the trie (the engine and the fake pRuntime read this).
  return { specName: SPEC_NAME, implName: SPEC_NAME, authoringVersion: 1, specVersion: SPEC_VERSION, implVersion: 0, apis: runtimeApis(), transactionVersion: TRANSACTION_VERSION, stateVersion: 0 }
}

export interface BuiltMetadata {
  hex: string
  metadata: Metadata
  registry: TypeRegistry
  /** Lookup ids of the types the pallets encode with. */
  ids: PhalaTypeIds & { phase: number; accountInfo: number; eventRecords: number; digestItem: number; runtimeCall: number; validationData: number; assetAccount: number; aura: number }
}

const KEEP: Record<string, number> = {
  System: KHALA_INDICES.System, Timestamp: KHALA_INDICES.Timestamp, Utility: KHALA_INDICES.Utility, Proxy: KHALA_INDICES.Proxy,
  ParachainInfo: KHALA_INDICES.ParachainInfo, ParachainSystem: KHALA_INDICES.ParachainSystem, Balances: KHALA_INDICES.Balances,
  TransactionPayment: KHALA_INDICES.TransactionPayment, Aura: KHALA_INDICES.Aura, Assets: KHALA_INDICES.Assets,
}
const KEEP_APIS = new Set(['AuraApi', 'Core', 'Metadata', 'BlockBuilder', 'TaggedTransactionQueue', 'OffchainWorkerApi', 'SessionKeys', 'AccountNonceApi', 'TransactionPaymentApi', 'TransactionPaymentCallApi', 'CollectCollationInfo'])

const le = (v: number | bigint, bits: number): string => u8aToHex(bnToU8a(v, { bitLength: bits, isLe: true }))

export function buildMetadata(opts: { paraId: number }): BuiltMetadata {
  const baseRegistry = new TypeRegistry()
  // The shipped hex is the Option<OpaqueMetadata> of Metadata_metadata_at_version: 0x01 ++ compact len ++ metadata.
  const base = new Metadata(baseRegistry, `0x${baseHex.slice(baseHex.indexOf('6d657461'))}`)
  baseRegistry.setMetadata(base)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const v = (base.toJSON() as any).metadata.v15
  const l = new Lookup(v.lookup.types as TypeJson[])

  for (const t of l.types) {
    if (t.type.path[0] === 'asset_hub_kusama_runtime') t.type.path = ['khala_parachain_runtime', ...t.type.path.slice(1)]
  }
  // Khala's ProxyType (chain.md §1.2).
  const proxyType = l.byPath('khala_parachain_runtime::ProxyType')
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
  pallets.push(...phalaPallets(l, ids))
  pallets.sort((a, b) => a.index - b.index)

  setConstant(pallets, 'System', 'SS58Prefix', le(SS58_PREFIX, 16))
  setConstant(pallets, 'Balances', 'ExistentialDeposit', le(EXISTENTIAL_DEPOSIT, 128))
  setConstant(pallets, 'Timestamp', 'MinimumPeriod', le(MILLISECS_PER_BLOCK / 2, 64))
  setConstant(pallets, 'Aura', 'SlotDuration', le(MILLISECS_PER_BLOCK, 64))
  setConstant(pallets, 'ParachainSystem', 'SelfParaId', le(opts.paraId, 32))
  const rv = runtimeVersion()
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
  // Re-decode from bytes so the registry sees exactly what a client sees.
  const final = new Metadata(registry, hex)
  registry.setMetadata(final, undefined, USER_EXTENSIONS)
  registry.setChainProperties(registry.createType('ChainProperties', { ss58Format: SS58_PREFIX, tokenDecimals: [12], tokenSymbol: ['PHA'] }) as never)
  const find = (path: string): number => l.byPath(path)
  return {
    hex,
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
