/**
 * The Phala types of the Khala runtime (chain.md §2.3, §3.1) appended to the lookup, and the ids of
 * the types the pallets encode with. Paths follow the Rust crates so @polkadot/types names them sensibly.
 */
import { Lookup, variant } from './lookup.js'

export interface PhalaTypeIds {
  u8: number; u16: number; u32: number; u64: number; u128: number; bool: number
  bytes: number; h256: number; accountId: number; dispatchError: number; dispatchResult: number
  u8a32: number; workerPublicKey: number
  messageOrigin: number; message: number; signedMessage: number
  attestationProvider: number; workerRegistrationInfo: number; workerRegistrationInfoV2: number
  attestation: number; attestationReport: number; workerInfoV2: number
  versionedWorkerEndpoints: number; workerEndpointPayload: number
  sessionInfo: number; workerState: number; tokenomicParameters: number
  poolProxy: number; withdrawInfo: number
  optAccountId: number; optU32: number; optU64: number; optAttestationProvider: number
  vecBytes: number; vecH256: number; vecWorkerPublicKey: number; u64WorkerTuple: number
  /** Chain -> worker messages (SystemEvent on topic phala/system/event) and the worker's RegistryEvent. */
  systemEvent: number; registryEvent: number; workingReportEvent: number
}

export function addPhalaTypes(l: Lookup): PhalaTypeIds {
  const u8 = l.prim('u8'), u16 = l.prim('u16'), u32 = l.prim('u32'), u64 = l.prim('u64'), u128 = l.prim('u128'), bool = l.prim('bool')
  const str = l.prim('str')
  const bytes = l.seq(u8)
  const h256 = l.byPath('primitive_types::H256')
  const accountId = l.byPath('sp_core::crypto::AccountId32')
  const dispatchError = l.byPath('sp_runtime::DispatchError')
  const u8a32 = l.arr(32, u8)
  const unit = l.tuple([])
  const dispatchResult = l.variant(['Result'], [variant('Ok', 0, [[null, unit]]), variant('Err', 1, [[null, dispatchError]])], [
    { name: 'T', type: unit },
    { name: 'E', type: dispatchError },
  ])
  const workerPublicKey = l.composite(['sp_core', 'sr25519', 'Public'], [[null, u8a32, '[u8; 32]']])
  const u256 = l.composite(['primitive_types', 'U256'], [[null, l.arr(4, u64), '[u64; 4]']])

  const messageOrigin = l.variant(['phala_mq', 'types', 'MessageOrigin'], [
    variant('Pallet', 0, [[null, bytes, 'Vec<u8>']]),
    variant('Contract', 1, [[null, h256, 'ContractId']]),
    variant('Worker', 2, [[null, workerPublicKey, 'sr25519::Public']]),
    variant('AccountId', 3, [[null, h256, 'AccountId']]),
    variant('MultiLocation', 4, [[null, bytes, 'Vec<u8>']]),
    variant('Gatekeeper', 5, []),
    variant('Cluster', 6, [[null, h256, 'ContractClusterId']]),
    variant('Reserved', 255, []),
  ])
  const message = l.composite(['phala_mq', 'types', 'Message'], [['sender', messageOrigin, 'MessageOrigin'], ['destination', bytes, 'Topic'], ['payload', bytes, 'Vec<u8>']])
  const signedMessage = l.composite(['phala_mq', 'types', 'SignedMessage'], [['message', message, 'Message'], ['sequence', u64, 'u64'], ['signature', bytes, 'Vec<u8>']])

  const attestationProvider = l.enumOf(['phala_types', 'AttestationProvider'], ['Root', 'Ias', 'Dcap'])
  const optAccountId = l.option(accountId)
  const regFields: [string, number, string][] = [
    ['version', u32, 'u32'],
    ['machine_id', bytes, 'Vec<u8>'],
    ['pubkey', workerPublicKey, 'WorkerPublicKey'],
    ['ecdh_pubkey', workerPublicKey, 'EcdhPublicKey'],
    ['genesis_block_hash', h256, 'H256'],
    ['features', l.seq(u32), 'Vec<u32>'],
    ['operator', optAccountId, 'Option<AccountId>'],
  ]
  const accParam = [{ name: 'AccountId', type: accountId }]
  const workerRegistrationInfo = l.composite(['phala_types', 'WorkerRegistrationInfo'], regFields, accParam)
  const workerRegistrationInfoV2 = l.composite(['phala_types', 'WorkerRegistrationInfoV2'], [...regFields, ['para_id', u32, 'u32'], ['max_consensus_version', u32, 'u32']], accParam)
  const iasFields: [string, number, string][] = [['ra_report', bytes, 'Vec<u8>'], ['signature', bytes, 'Vec<u8>'], ['raw_signing_cert', bytes, 'Vec<u8>']]
  const attestation = l.variant(['phala_pallets', 'utils', 'attestation_legacy', 'Attestation'], [variant('SgxIas', 0, iasFields)])
  const sgxV30 = l.composite(['sgx_attestation', 'dcap', 'SgxV30QuoteCollateral'], [
    ['pck_crl_issuer_chain', str, 'String'], ['root_ca_crl', str, 'String'], ['pck_crl', str, 'String'],
    ['tcb_info_issuer_chain', str, 'String'], ['tcb_info', str, 'String'], ['tcb_info_signature', bytes, 'Vec<u8>'],
    ['qe_identity_issuer_chain', str, 'String'], ['qe_identity', str, 'String'], ['qe_identity_signature', bytes, 'Vec<u8>'],
  ])
  const collateral = l.variant(['sgx_attestation', 'types', 'Collateral'], [variant('SgxV30', 0, [[null, sgxV30, 'SgxV30QuoteCollateral']])])
  const attestationReport = l.variant(['sgx_attestation', 'types', 'AttestationReport'], [
    variant('SgxIas', 0, iasFields),
    variant('SgxDcap', 1, [['quote', bytes, 'Vec<u8>'], ['collateral', l.option(collateral), 'Option<Collateral>']]),
  ])
  const optAttestationProvider = l.option(attestationProvider)
  const optU32 = l.option(u32)
  const optU64 = l.option(u64)
  const workerInfoV2 = l.composite(['phala_pallets', 'registry', 'pallet', 'WorkerInfoV2'], [
    ['pubkey', workerPublicKey, 'WorkerPublicKey'],
    ['ecdh_pubkey', workerPublicKey, 'EcdhPublicKey'],
    ['runtime_version', u32, 'u32'],
    ['last_updated', u64, 'u64'],
    ['operator', optAccountId, 'Option<AccountId>'],
    ['attestation_provider', optAttestationProvider, 'Option<AttestationProvider>'],
    ['confidence_level', u8, 'u8'],
    ['initial_score', optU32, 'Option<u32>'],
    ['features', l.seq(u32), 'Vec<u32>'],
  ], accParam)
  const versionedWorkerEndpoints = l.variant(['phala_types', 'VersionedWorkerEndpoints'], [variant('V1', 0, [[null, l.seq(str), 'Vec<String>']])])
  const workerEndpointPayload = l.composite(['phala_types', 'WorkerEndpointPayload'], [
    ['pubkey', workerPublicKey, 'WorkerPublicKey'], ['versioned_endpoints', versionedWorkerEndpoints, 'VersionedWorkerEndpoints'], ['signing_time', u64, 'u64'],
  ])

  const comp = ['phala_pallets', 'compute', 'computation', 'pallet']
  const workerState = l.enumOf([...comp, 'WorkerState'], ['Ready', 'WorkerIdle', '_Unused', 'WorkerUnresponsive', 'WorkerCoolingDown'])
  const benchmark = l.composite([...comp, 'Benchmark'], [
    ['p_init', u32, 'u32'], ['p_instant', u32, 'u32'], ['iterations', u64, 'u64'], ['working_start_time', u64, 'u64'], ['challenge_time_last', u64, 'u64'],
  ])
  const sessionStats = l.composite([...comp, 'SessionStats'], [['total_reward', u128, 'u128']])
  const sessionInfo = l.composite([...comp, 'SessionInfo'], [
    ['state', workerState, 'WorkerState'], ['ve', u128, 'u128'], ['v', u128, 'u128'], ['v_updated_at', u64, 'u64'],
    ['benchmark', benchmark, 'Benchmark'], ['cool_down_start', u64, 'u64'], ['stats', sessionStats, 'SessionStats'],
  ])
  const tokenomicParameters = l.composite(['phala_types', 'messaging', 'TokenomicParameters'], [
    ['pha_rate', u128, 'U64F64Bits'], ['rho', u128, 'U64F64Bits'], ['budget_per_block', u128, 'U64F64Bits'], ['v_max', u128, 'U64F64Bits'],
    ['cost_k', u128, 'U64F64Bits'], ['cost_b', u128, 'U64F64Bits'], ['slash_rate', u128, 'U64F64Bits'], ['treasury_ratio', u128, 'U64F64Bits'],
    ['heartbeat_window', u32, 'u32'], ['rig_k', u128, 'U64F64Bits'], ['rig_b', u128, 'U64F64Bits'], ['re', u128, 'U64F64Bits'],
    ['k', u128, 'U64F64Bits'], ['kappa', u128, 'U64F64Bits'],
  ])

  const bp = ['phala_pallets', 'compute', 'base_pool', 'pallet']
  const permill = l.byPath('sp_arithmetic::per_things::Permill')
  const optPermill = l.option(permill)
  const withdrawInfo = l.composite([...bp, 'WithdrawInfo'], [['user', accountId, 'AccountId'], ['start_time', u64, 'u64'], ['nft_id', u32, 'NftId']], accParam)
  const basePool = l.composite([...bp, 'BasePool'], [
    ['pid', u64, 'u64'], ['owner', accountId, 'AccountId'], ['total_shares', u128, 'Balance'], ['total_value', u128, 'Balance'],
    ['withdraw_queue', l.seq(withdrawInfo), 'VecDeque<WithdrawInfo<AccountId>>'], ['value_subscribers', l.seq(u64), 'VecDeque<u64>'],
    ['cid', u32, 'CollectionId'], ['pool_account_id', accountId, 'AccountId'],
  ], accParam)
  const vecWorkerPublicKey = l.seq(workerPublicKey)
  const stakePool = l.composite(['phala_pallets', 'compute', 'stake_pool_v2', 'pallet', 'StakePool'], [
    ['basepool', basePool, 'BasePool<AccountId, Balance>'], ['payout_commission', optPermill, 'Option<Permill>'], ['cap', l.option(u128), 'Option<Balance>'],
    ['workers', vecWorkerPublicKey, 'VecDeque<WorkerPublicKey>'], ['cd_workers', vecWorkerPublicKey, 'VecDeque<WorkerPublicKey>'],
    ['lock_account', accountId, 'AccountId'], ['owner_reward_account', accountId, 'AccountId'],
  ], accParam)
  const vault = l.composite(['phala_pallets', 'compute', 'vault', 'pallet', 'Vault'], [
    ['basepool', basePool, 'BasePool<AccountId, Balance>'], ['last_share_price_checkpoint', u128, 'Balance'], ['commission', optPermill, 'Option<Permill>'],
    ['owner_shares', u128, 'Balance'], ['invest_pools', l.seq(u64), 'VecDeque<u64>'],
  ], accParam)
  const poolProxy = l.variant([...bp, 'PoolProxy'], [
    variant('StakePool', 0, [[null, stakePool, 'StakePool<AccountId, Balance>']]),
    variant('Vault', 1, [[null, vault, 'Vault<AccountId, Balance>']]),
  ], accParam)

  // Messages between the chain and workers (phala_types::messaging), for the MQ payloads.
  const workerIdentity = l.composite(['phala_types', 'WorkerIdentity'], [['pubkey', workerPublicKey, 'WorkerPublicKey'], ['ecdh_pubkey', workerPublicKey, 'EcdhPublicKey']])
  const workerEvent = l.variant(['phala_types', 'messaging', 'WorkerEvent'], [
    variant('Registered', 0, [[null, workerIdentity, 'WorkerIdentity']]),
    variant('BenchStart', 1, [['duration', u32, 'u32']]),
    variant('BenchScore', 2, [[null, u32, 'u32']]),
    variant('Started', 3, [['session_id', u32, 'u32'], ['init_v', u128, 'U64F64Bits'], ['init_p', u32, 'u32']]),
    variant('Stopped', 4, []),
    variant('EnterUnresponsive', 5, []),
    variant('ExitUnresponsive', 6, []),
  ])
  const workerEventWithKey = l.composite(['phala_types', 'messaging', 'WorkerEventWithKey'], [['pubkey', workerPublicKey, 'WorkerPublicKey'], ['event', workerEvent, 'WorkerEvent']])
  const heartbeatChallenge = l.composite(['phala_types', 'messaging', 'HeartbeatChallenge'], [['seed', u256, 'U256'], ['online_target', u256, 'U256']])
  const systemEvent = l.variant(['phala_types', 'messaging', 'SystemEvent'], [
    variant('WorkerEvent', 0, [[null, workerEventWithKey, 'WorkerEventWithKey']]),
    variant('HeartbeatChallenge', 1, [[null, heartbeatChallenge, 'HeartbeatChallenge']]),
  ])
  const registryEvent = l.variant(['phala_types', 'messaging', 'RegistryEvent'], [
    variant('BenchReport', 0, [['start_time', u64, 'u64'], ['iterations', u64, 'u64']]),
    variant('MasterPubkey', 1, [['master_pubkey', workerPublicKey, 'MasterPublicKey']]),
  ])
  const workingReportEvent = l.variant(['phala_types', 'messaging', 'WorkingReportEvent'], [
    variant('Heartbeat', 0, [['session_id', u32, 'u32'], ['challenge_block', u32, 'u32'], ['challenge_time', u64, 'u64'], ['iterations', u64, 'u64']]),
    variant('HeartbeatV2', 1, [['session_id', u32, 'u32'], ['challenge_block', u32, 'u32'], ['challenge_time', u64, 'u64'], ['iterations', u64, 'u64'], ['n_clusters', u32, 'u32'], ['n_contracts', u32, 'u32']]),
  ])

  return {
    u8, u16, u32, u64, u128, bool, bytes, h256, accountId, dispatchError, dispatchResult, u8a32, workerPublicKey,
    messageOrigin, message, signedMessage, attestationProvider, workerRegistrationInfo, workerRegistrationInfoV2,
    attestation, attestationReport, workerInfoV2, versionedWorkerEndpoints, workerEndpointPayload,
    sessionInfo, workerState, tokenomicParameters, poolProxy, withdrawInfo,
    optAccountId, optU32, optU64, optAttestationProvider,
    vecBytes: l.seq(bytes), vecH256: l.seq(h256), vecWorkerPublicKey, u64WorkerTuple: l.tuple([u64, workerPublicKey]),
    systemEvent, registryEvent, workingReportEvent,
  }
}
