/** Typed accessors for the storage items the runtime reads and writes (keys per chain.md §3). */
import { bnToU8a } from '@polkadot/util'
import type { StateView } from '../runtime-api.js'
import type { Core } from './core.js'
import { mapKey, valueKey, type Hasher, type Overlay } from './storage.js'

export const WPHA_ASSET_ID = 1
export const BLOCK_HASH_COUNT = 4096

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Decoded = any
type Writable = Pick<Overlay, 'set'>

export interface MapItem<K> {
  key(k: K): string
  get(s: StateView, k: K): Decoded | undefined
  put(s: Writable, k: K, v: unknown): void
  del(s: Writable, k: K): void
}
export interface ValueItem {
  key: string
  get(s: StateView): Decoded | undefined
  put(s: Writable, v: unknown): void
  del(s: Writable): void
}

export function makeItems(core: Core) {
  const { codec } = core
  const ids = core.meta.ids
  const map = <K>(pallet: string, item: string, keyType: number, valType: number, hasher: Hasher = 'Twox64Concat'): MapItem<K> => {
    const key = (k: K): string => mapKey(pallet, item, [hasher, codec.encode(keyType, k)])
    return {
      key,
      get: (s, k) => { const v = s.get(key(k)); return v === undefined ? undefined : codec.decode(valType, v) },
      put: (s, k, v) => s.set(key(k), codec.encode(valType, v)),
      del: (s, k) => s.set(key(k), null),
    }
  }
  const value = (pallet: string, item: string, valType: number): ValueItem => {
    const key = valueKey(pallet, item)
    return {
      key,
      get: (s) => { const v = s.get(key); return v === undefined ? undefined : codec.decode(valType, v) },
      put: (s, v) => s.set(key, codec.encode(valType, v)),
      del: (s) => s.set(key, null),
    }
  }
  const assetAccountKey = (who: Uint8Array): string =>
    mapKey('Assets', 'Account', ['Blake2_128Concat', bnToU8a(WPHA_ASSET_ID, { bitLength: 32, isLe: true })], ['Blake2_128Concat', who])
  return {
    // System
    account: map<Uint8Array>('System', 'Account', ids.accountId, ids.accountInfo, 'Blake2_128Concat'),
    blockHash: map<number>('System', 'BlockHash', ids.u32, ids.h256),
    number: value('System', 'Number', ids.u32),
    parentHash: value('System', 'ParentHash', ids.h256),
    events: value('System', 'Events', ids.eventRecords),
    eventCount: value('System', 'EventCount', ids.u32),
    digest: { key: valueKey('System', 'Digest') },
    upgradedToU32RefCount: value('System', 'UpgradedToU32RefCount', ids.bool),
    upgradedToTripleRefCount: value('System', 'UpgradedToTripleRefCount', ids.bool),
    // Timestamp, Aura, parachain
    timestampNow: value('Timestamp', 'Now', ids.u64),
    auraAuthorities: value('Aura', 'Authorities', ids.aura),
    auraCurrentSlot: value('Aura', 'CurrentSlot', ids.u64),
    parachainId: value('ParachainInfo', 'ParachainId', ids.u32),
    validationData: value('ParachainSystem', 'ValidationData', ids.validationData),
    lastRelayChainBlockNumber: value('ParachainSystem', 'LastRelayChainBlockNumber', ids.u32),
    // Balances, fees, W-PHA
    totalIssuance: value('Balances', 'TotalIssuance', ids.u128),
    nextFeeMultiplier: value('TransactionPayment', 'NextFeeMultiplier', ids.u128),
    assetAccount: {
      key: assetAccountKey,
      get: (s: StateView, who: Uint8Array): Decoded | undefined => { const v = s.get(assetAccountKey(who)); return v === undefined ? undefined : codec.decode(ids.assetAccount, v) },
      put: (s: Writable, who: Uint8Array, v: unknown): void => s.set(assetAccountKey(who), codec.encode(ids.assetAccount, v)),
    },
    // Proxy: Proxies(AccountId) -> (BoundedVec<ProxyDefinition>, Balance)
    proxiesKey: (who: Uint8Array): string => mapKey('Proxy', 'Proxies', ['Twox64Concat', who]),
    // PhalaMq
    offchainIngress: map<unknown>('PhalaMq', 'OffchainIngress', ids.messageOrigin, ids.u64),
    outboundMessages: value('PhalaMq', 'OutboundMessages', outboundType(core)),
    // PhalaRegistry
    workers: map<Uint8Array>('PhalaRegistry', 'Workers', ids.workerPublicKey, ids.workerInfoV2),
    workerAddedAt: map<Uint8Array>('PhalaRegistry', 'WorkerAddedAt', ids.workerPublicKey, ids.u32),
    benchmarkDuration: value('PhalaRegistry', 'BenchmarkDuration', ids.u32),
    pruntimeAllowList: value('PhalaRegistry', 'PRuntimeAllowList', ids.vecBytes),
    relayGenesisAllowList: value('PhalaRegistry', 'RelaychainGenesisBlockHashAllowList', ids.vecH256),
    gatekeeper: value('PhalaRegistry', 'Gatekeeper', ids.vecWorkerPublicKey),
    // PhalaComputation
    workerBindings: map<Uint8Array>('PhalaComputation', 'WorkerBindings', ids.workerPublicKey, ids.accountId),
    sessionBindings: map<Uint8Array>('PhalaComputation', 'SessionBindings', ids.accountId, ids.workerPublicKey),
    sessions: map<Uint8Array>('PhalaComputation', 'Sessions', ids.accountId, ids.sessionInfo),
    stakes: map<Uint8Array>('PhalaComputation', 'Stakes', ids.accountId, ids.u128),
    onlineWorkers: value('PhalaComputation', 'OnlineWorkers', ids.u32),
    nextSessionId: value('PhalaComputation', 'NextSessionId', ids.u32),
    tokenomicParameters: value('PhalaComputation', 'TokenomicParameters', ids.tokenomicParameters),
    coolDownPeriod: value('PhalaComputation', 'CoolDownPeriod', ids.u64),
    heartbeatAnsweredAt: map<Uint8Array>('PhalaComputation', 'DevnetHeartbeatAnsweredAt', ids.accountId, ids.u32),
    sessionsPrefix: mapKey('PhalaComputation', 'Sessions'),
    // PhalaStakePoolv2 / PhalaBasePool
    workerAssignments: map<Uint8Array>('PhalaStakePoolv2', 'WorkerAssignments', ids.workerPublicKey, ids.u64),
    subAccountPreimages: map<Uint8Array>('PhalaStakePoolv2', 'SubAccountPreimages', ids.accountId, ids.u64WorkerTuple),
    pools: map<number | bigint>('PhalaBasePool', 'Pools', ids.u64, ids.poolProxy),
    poolCount: value('PhalaBasePool', 'PoolCount', ids.u64),
  }
}

function outboundType(core: Core): number {
  // Vec<Message> exists in the lookup (PhalaMq.OutboundMessages' own type).
  const pallet = core.meta.metadata.asLatest.pallets.find((p) => p.name.toString() === 'PhalaMq')
  const item = pallet?.storage.unwrap().items.find((i) => i.name.toString() === 'OutboundMessages')
  if (!item) throw new Error('PhalaMq.OutboundMessages missing from metadata')
  return item.type.asPlain.toNumber()
}

export type Items = ReturnType<typeof makeItems>
