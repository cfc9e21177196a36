/**
 * Metadata of the Phala pallets at Khala's indices (chain.md §1.2, §2.2-§2.5, §3.1): calls, events,
 * errors, storage and constants of what prb touches. Call and error indices are the Rust enum
 * positions, so DispatchError::Module {index, error} decodes by name with registry.findMetaError.
 */
import { Lookup, variant, type FieldSpec } from './lookup.js'
import type { PhalaTypeIds } from './phala-types.js'
import { u8aToHex, bnToU8a } from '@polkadot/util'
import type { ChainIdentity } from '../identity.js'
import { errorDocs } from './error-docs.js'

export const KHALA_INDICES = {
  System: 0, Timestamp: 1, Utility: 3, Proxy: 5, ParachainInfo: 20, ParachainSystem: 21, Aura: 53,
  Balances: 40, TransactionPayment: 41, Assets: 89,
  PhalaMq: 85, PhalaRegistry: 86, PhalaComputation: 87, PhalaStakePoolv2: 93, PhalaBasePool: 96,
} as const

/** The construct_runtime indices of one chain: Khala's, with Phala's where they differ. */
export type PalletIndices = { [K in keyof typeof KHALA_INDICES]: number }

export function palletIndices(identity: ChainIdentity): PalletIndices {
  return { ...KHALA_INDICES, ...identity.para.indices }
}

export const ERRORS = {
  PhalaMq: ['BadSender', 'BadSequence', 'BadDestination'],
  PhalaRegistry: ['CannotHandleUnknownMessage', 'InvalidSender', 'InvalidPubKey', 'MalformedSignature', 'InvalidSignatureLength', 'InvalidSignature', 'UnknownContract', 'InvalidIASSigningCert', 'InvalidReport', 'InvalidQuoteStatus', 'BadIASReport', 'OutdatedIASReport', 'UnknownQuoteBodyFormat', 'InvalidDCAPQuote', 'InvalidRuntimeInfoHash', 'InvalidRuntimeInfo', 'InvalidInput', 'InvalidBenchReport', 'WorkerNotFound', 'NoneAttestationDisabled', 'InvalidGatekeeper', 'InvalidMasterPubkey', 'MasterKeyMismatch', 'MasterKeyUninitialized', 'GenesisBlockHashRejected', 'GenesisBlockHashAlreadyExists', 'GenesisBlockHashNotFound', 'PRuntimeRejected', 'PRuntimeAlreadyExists', 'PRuntimeNotFound', 'UnknownCluster', 'NotImplemented', 'CannotRemoveLastGatekeeper', 'MasterKeyInRotation', 'InvalidRotatedMasterPubkey', 'InvalidEndpointSigningTime', 'NotMigrationRoot', 'ParachainIdMismatch', 'InvalidConsensusVersion', 'UnsupportedAttestationType'],
  PhalaComputation: ['BadSender', '_InvalidMessage', 'WorkerNotRegistered', '_GatekeeperNotRegistered', 'DuplicateBoundSession', 'BenchmarkMissing', 'SessionNotFound', 'SessionNotBound', 'WorkerNotReady', 'WorkerNotComputing', 'WorkerNotBound', 'CoolDownNotReady', 'InsufficientStake', 'TooMuchStake', 'InternalErrorBadTokenomicParameters', 'DuplicateBoundWorker', 'BenchmarkTooLow', 'InternalErrorCannotStartWithExistingStake', 'NotMigrationRoot', 'NonceIndexInvalid', 'BudgetUpdateBlockInvalid', 'BudgetExceedMaxLimit', 'WorkerReregisterNeeded'],
  PhalaStakePoolv2: ['WorkerNotRegistered', 'BenchmarkMissing', 'WorkerExists', 'WorkerAlreadyStopped', 'WorkerDoesNotExist', 'WorkerInAnotherPool', 'UnauthorizedOperator', 'UnauthorizedPoolOwner', 'InadequateCapacity', 'StakeExceedsCapacity', 'PoolDoesNotExist', '_PoolIsBusy', 'InsufficientContribution', 'NoNftToWithdraw', 'InsufficientBalance', 'PoolStakeNotFound', 'InsufficientFreeStake', 'InvalidWithdrawalAmount', 'FailedToBindSessionAndWorker', 'InternalSubsidyPoolCannotWithdraw', 'PoolBankrupt', 'NoRewardToClaim', 'FeatureNotEnabled', 'WorkersExceedLimit', 'CannotRestartWithLessStake', 'InvalidForceRewardAmount', 'WithdrawQueueNotEmpty', 'MissingCollectionId', 'VaultIsLocked', 'SessionDoesNotExist', 'WorkerIsNotReady', 'LockAccountStakeError', 'NoLegacyRewardToClaim'],
  PhalaBasePool: ['MissCollectionId', 'PoolBankrupt', 'InvalidShareToWithdraw', 'InvalidWithdrawalAmount', 'RmrkError', 'PoolDoesNotExist', 'PoolTypeNotMatch', 'NftIdNotFound', 'InvalidSharePrice', 'AttrLocked', 'UnauthorizedPoolOwner', 'AlreadyInContributeWhitelist', 'NotInContributeWhitelist', 'ExceedWhitelistMaxLen', 'NoWhitelistCreated', 'ExceedMaxDescriptionLen', 'NotMigrationRoot'],
} as const

export const MIN_INIT_P = 50
export const EXPECTED_BLOCK_TIME_SEC = 12
export const MAX_POOL_WORKERS = 200

const PALLET_OF_PATH = new Map([
  ['phala_pallets::mq::pallet', 'PhalaMq'], ['phala_pallets::registry::pallet', 'PhalaRegistry'],
  ['phala_pallets::compute::computation::pallet', 'PhalaComputation'], ['phala_pallets::compute::stake_pool_v2::pallet', 'PhalaStakePoolv2'],
  ['phala_pallets::compute::base_pool::pallet', 'PhalaBasePool'],
])

type StorageItem = Record<string, unknown>
function plain(name: string, value: number, optional: boolean, fallback = '0x00'): StorageItem {
  return { name, modifier: optional ? 'Optional' : 'Default', type: { plain: value }, fallback, docs: [] }
}
function map(name: string, key: number, value: number, hasher = 'Twox64Concat'): StorageItem {
  return { name, modifier: 'Optional', type: { map: { hashers: [hasher], key, value } }, fallback: '0x00', docs: [] }
}
function constant(name: string, type: number, value: Uint8Array): Record<string, unknown> {
  return { name, type, value: u8aToHex(value), docs: [] }
}
const le = (v: number | bigint, bits: number): Uint8Array => bnToU8a(v, { bitLength: bits, isLe: true })

export interface PalletJson { name: string; index: number; storage: unknown; calls: { type: number } | null; events: { type: number } | null; errors: { type: number } | null; constants: unknown[]; docs: string[] }

export function phalaPallets(l: Lookup, t: PhalaTypeIds, indices: PalletIndices = KHALA_INDICES): PalletJson[] {
  const wpk = t.workerPublicKey
  const mqPath = ['phala_pallets', 'mq', 'pallet']
  const regPath = ['phala_pallets', 'registry', 'pallet']
  const compPath = ['phala_pallets', 'compute', 'computation', 'pallet']
  const spPath = ['phala_pallets', 'compute', 'stake_pool_v2', 'pallet']
  const bpPath = ['phala_pallets', 'compute', 'base_pool', 'pallet']
  const T = [{ name: 'T', type: null }]
  const ev = (path: string[], vs: [string, FieldSpec[]][]): number => l.variant([...path, 'Event'], vs.map(([n, f], i) => variant(n, i, f)), T)
  const err = (path: string[], names: readonly string[]): number => {
    const pallet = PALLET_OF_PATH.get(path.join('::'))!
    return l.variant([...path, 'Error'], names.map((n, i) => variant(n, i, [], [errorDocs(pallet, n)])), T)
  }

  const mq: PalletJson = {
    name: 'PhalaMq', index: indices.PhalaMq, docs: [], constants: [], events: null,
    calls: { type: l.variant([...mqPath, 'Call'], [
      variant('sync_offchain_message', 0, [['signed_message', t.signedMessage, 'SignedMessage']]),
      variant('push_message', 1, [['destination', t.bytes, 'Vec<u8>'], ['payload', t.bytes, 'Vec<u8>']]),
    ], T) },
    errors: { type: err(mqPath, ERRORS.PhalaMq) },
    storage: { prefix: 'PhalaMq', items: [
      map('OffchainIngress', t.messageOrigin, t.u64),
      plain('OutboundMessages', l.seq(t.message), false),
    ] },
  }

  const regEventFields: FieldSpec[] = [['pubkey', wpk, 'WorkerPublicKey'], ['attestation_provider', t.optAttestationProvider, 'Option<AttestationProvider>'], ['confidence_level', t.u8, 'u8']]
  const registry: PalletJson = {
    name: 'PhalaRegistry', index: indices.PhalaRegistry, docs: [], constants: [],
    calls: { type: l.variant([...regPath, 'Call'], [
      variant('register_worker', 6, [['pruntime_info', t.workerRegistrationInfo, 'WorkerRegistrationInfo<T::AccountId>'], ['attestation', t.attestation, 'Attestation']]),
      variant('register_worker_v2', 7, [['pruntime_info', t.workerRegistrationInfoV2, 'WorkerRegistrationInfoV2<T::AccountId>'], ['attestation', l.option(t.attestationReport), 'Box<Option<AttestationReport>>']]),
      variant('update_worker_endpoint', 8, [['endpoint_payload', t.workerEndpointPayload, 'WorkerEndpointPayload'], ['signature', t.bytes, 'Vec<u8>']]),
    ], T) },
    events: { type: ev(regPath, [
      ['GatekeeperAdded', [['pubkey', wpk, 'WorkerPublicKey']]],
      ['GatekeeperRemoved', [['pubkey', wpk, 'WorkerPublicKey']]],
      ['WorkerAdded', regEventFields],
      ['WorkerUpdated', regEventFields],
      ['MasterKeyRotated', [['rotation_id', t.u64, 'u64'], ['master_pubkey', wpk, 'MasterPublicKey']]],
      ['MasterKeyRotationFailed', [['rotation_lock', t.optU64, 'Option<u64>'], ['gatekeeper_rotation_id', t.u64, 'u64']]],
      ['InitialScoreSet', [['pubkey', wpk, 'WorkerPublicKey'], ['init_score', t.u32, 'u32']]],
      ['MinimumPRuntimeVersionChangedTo', [[null, t.u32, 'u32'], [null, t.u32, 'u32'], [null, t.u32, 'u32']]],
      ['PRuntimeConsensusVersionChangedTo', [[null, t.u32, 'u32']]],
      ['GatekeeperLaunched', []],
    ]) },
    errors: { type: err(regPath, ERRORS.PhalaRegistry) },
    storage: { prefix: 'PhalaRegistry', items: [
      plain('Gatekeeper', t.vecWorkerPublicKey, false),
      plain('GatekeeperMasterPubkey', wpk, true),
      map('Workers', wpk, t.workerInfoV2),
      map('WorkerAddedAt', wpk, t.u32),
      map('Endpoints', wpk, t.versionedWorkerEndpoints),
      plain('BenchmarkDuration', t.u32, true),
      plain('PRuntimeAllowList', t.vecBytes, false),
      map('PRuntimeAddedAt', t.bytes, t.u32),
      plain('RelaychainGenesisBlockHashAllowList', t.vecH256, false),
    ] },
  }

  const session: FieldSpec = ['session', t.accountId, 'T::AccountId']
  const computation: PalletJson = {
    name: 'PhalaComputation', index: indices.PhalaComputation, docs: [], calls: null,
    constants: [constant('ExpectedBlockTimeSec', t.u32, le(EXPECTED_BLOCK_TIME_SEC, 32)), constant('MinInitP', t.u32, le(MIN_INIT_P, 32))],
    events: { type: ev(compPath, [
      ['CoolDownExpirationChanged', [['period', t.u64, 'u64']]],
      ['WorkerStarted', [session, ['init_v', t.u128, 'u128'], ['init_p', t.u32, 'u32']]],
      ['WorkerStopped', [session]],
      ['WorkerReclaimed', [session, ['original_stake', t.u128, 'BalanceOf<T>'], ['slashed', t.u128, 'BalanceOf<T>']]],
      ['SessionBound', [session, ['worker', wpk, 'WorkerPublicKey']]],
      ['SessionUnbound', [session, ['worker', wpk, 'WorkerPublicKey']]],
      ['WorkerEnterUnresponsive', [session]],
      ['WorkerExitUnresponsive', [session]],
      ['SessionSettled', [session, ['v_bits', t.u128, 'u128'], ['payout_bits', t.u128, 'u128']]],
      ['InternalErrorWorkerSettleFailed', [['worker', wpk, 'WorkerPublicKey']]],
      ['SubsidyBudgetHalved', []],
      ['InternalErrorWrongHalvingConfigured', []],
      ['TokenomicParametersChanged', []],
      ['SessionSettlementDropped', [session, ['v', t.u128, 'u128'], ['payout', t.u128, 'u128']]],
      ['BenchmarkUpdated', [session, ['p_instant', t.u32, 'u32']]],
      ['BudgetUpdated', [['nonce', t.u64, 'u64'], ['budget', t.u128, 'u128']]],
    ]) },
    errors: { type: err(compPath, ERRORS.PhalaComputation) },
    storage: { prefix: 'PhalaComputation', items: [
      map('WorkerBindings', wpk, t.accountId),
      map('SessionBindings', t.accountId, wpk),
      map('Sessions', t.accountId, t.sessionInfo),
      map('Stakes', t.accountId, t.u128),
      plain('OnlineWorkers', t.u32, false, '0x00000000'),
      plain('NextSessionId', t.u32, false, '0x00000000'),
      plain('TokenomicParameters', t.tokenomicParameters, true),
      plain('CoolDownPeriod', t.u64, false, '0x0000000000000000'),
      // Devnet only: the last heartbeat challenge a computing session answered (the real chain's gatekeeper keeps this off chain).
      map('DevnetHeartbeatAnsweredAt', t.accountId, t.u32),
    ] },
  }

  const pid: FieldSpec = ['pid', t.u64, 'u64']
  const amount: FieldSpec = ['amount', t.u128, 'BalanceOf<T>']
  const worker: FieldSpec = ['worker', wpk, 'WorkerPublicKey']
  const user: FieldSpec = ['user', t.accountId, 'T::AccountId']
  const stakePoolv2: PalletJson = {
    name: 'PhalaStakePoolv2', index: indices.PhalaStakePoolv2, docs: [],
    constants: [constant('MaxPoolWorkers', t.u32, le(MAX_POOL_WORKERS, 32))],
    calls: { type: l.variant([...spPath, 'Call'], [
      variant('create', 0, []),
      variant('add_worker', 1, [pid, ['pubkey', wpk, 'WorkerPublicKey']]),
      variant('remove_worker', 2, [pid, worker]),
      variant('set_cap', 3, [pid, ['cap', t.u128, 'BalanceOf<T>']]),
      variant('contribute', 9, [pid, amount, ['as_vault', t.optU64, 'Option<u64>']]),
      variant('start_computing', 13, [pid, worker, ['stake', t.u128, 'BalanceOf<T>']]),
      variant('stop_computing', 14, [pid, worker]),
      variant('reclaim_pool_worker', 15, [pid, worker]),
      variant('restart_computing', 17, [pid, worker, ['stake', t.u128, 'BalanceOf<T>']]),
    ], T) },
    events: { type: ev(spPath, [
      ['PoolCreated', [['owner', t.accountId, 'T::AccountId'], pid, ['cid', t.u32, 'CollectionId'], ['pool_account_id', t.accountId, 'T::AccountId']]],
      ['PoolCommissionSet', [pid, ['commission', t.u32, 'u32']]],
      ['PoolCapacitySet', [pid, ['cap', t.u128, 'BalanceOf<T>']]],
      ['PoolWorkerAdded', [pid, worker, ['session', t.accountId, 'T::AccountId']]],
      ['Contribution', [pid, user, amount, ['shares', t.u128, 'BalanceOf<T>'], ['as_vault', t.optU64, 'Option<u64>']]],
      ['OwnerRewardsWithdrawn', [pid, user, amount]],
      ['PoolSlashed', [pid, amount]],
      ['SlashSettled', [pid, user, amount]],
      ['RewardDismissedNotInPool', [worker, amount]],
      ['RewardDismissedNoShare', [pid, amount]],
      ['RewardDismissedDust', [pid, amount]],
      ['PoolWorkerRemoved', [pid, worker]],
      ['WorkerReclaimed', [pid, worker]],
      ['RewardReceived', [pid, ['to_owner', t.u128, 'BalanceOf<T>'], ['to_stakers', t.u128, 'BalanceOf<T>']]],
      ['WorkingStarted', [pid, worker, amount]],
      ['RewardToOwnerDismissedDust', [pid, amount]],
      ['RewardToDistributionDismissedDust', [pid, amount]],
    ]) },
    errors: { type: err(spPath, ERRORS.PhalaStakePoolv2) },
    storage: { prefix: 'PhalaStakePoolv2', items: [
      map('WorkerAssignments', wpk, t.u64),
      map('SubAccountPreimages', t.accountId, t.u64WorkerTuple),
    ] },
  }

  const basePool: PalletJson = {
    name: 'PhalaBasePool', index: indices.PhalaBasePool, docs: [], calls: null, events: null, constants: [],
    errors: { type: err(bpPath, ERRORS.PhalaBasePool) },
    storage: { prefix: 'PhalaBasePool', items: [
      map('Pools', t.u64, t.poolProxy),
      plain('PoolCount', t.u64, false, '0x0000000000000000'),
    ] },
  }
  return [mq, registry, computation, stakePoolv2, basePool]
}
