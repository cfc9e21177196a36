/**
 * TypeScript shapes of the Walkie messages as handlers receive them and callers get them back:
 * protobufjs plain objects with camelCase fields, every scalar present (defaults filled in),
 * uint64 as number, enums as names, bytes as Buffer, absent sub-messages as null.
 * Requests and handler results may be partial: absent fields are not written, as upstream.
 */

export type DataProviderStatus = 'S_UNKNOWN' | 'S_SYHCHING' | 'S_IDLE'
export type BlobType = 'BT_UNKNOWN' | 'BT_PARENT_BLOCK' | 'BT_PARA_BLOCK'
export type WorkerStatus = 'S_IDLE' | 'S_STARTING' | 'S_SYNCHING' | 'S_SYNCHED' | 'S_PRE_ACTIVE' | 'S_ACTIVE' | 'S_KICKED' | 'S_ERROR'
export type AuthStatus = 'AS_NONE' | 'AS_NEED_AUTH' | 'AS_GRANTED' | 'AS_REJECTED' | 'AS_BLOCKED'
export type AuthType = 'AT_NONE' | 'AT_PSK' | 'AT_WHITE_LIST'
export type RoleName = 'WR_CLIENT' | 'WR_DATA_PROVIDER_INT' | 'WR_DATA_PROVIDER_EXT' | 'WR_LIFECYCLE_MANAGER' | 'WR_TRADER'

/** uint64 on input: a number, a decimal string or a Long. */
export type Uint64In = number | string | { low: number; high: number; unsigned?: boolean }
/** Deep partial for inputs; enums may also be given as numbers, uint64 as strings. */
export type In<T> = T extends Buffer ? Uint8Array
  : T extends Array<infer U> ? Array<In<U>>
  : T extends object ? { [K in keyof T]?: In<T[K]> | null }
  : T extends number ? Uint64In
  : T extends string ? string | number
  : T

export interface Empty {}

export interface FullAccount { mnemonic: string; polkadotJson: string; ss58Phala: string; ss58Polkadot: string }

export interface WalkieSystemInfo { hostname: string; peerId: string; role: RoleName; chainIdentity: string; bridgeIdentity: string; auth: AuthStatus }
export interface AuthRequest { type: AuthType; authString: string }
export interface AuthResponse { status: AuthStatus; type: AuthType; peerId: string }

export interface DataProviderInfo {
  status: DataProviderStatus
  paraId: number
  parentStartHeader: number
  parentTarget: number
  parentFetchedHeight: number
  parentProcessedHeight: number
  parentCommittedHeight: number
  paraTarget: number
  paraFetchedHeight: number
  paraProcessedHeight: number
  paraCommittedHeight: number
  blobServerPort: number
  /** prb: bytes of the DB on disk (0 from an upstream data provider) */
  dbBytes: number
}
export interface GetBlobByKey { key: string }
export interface RawBlob { key: string; empty: boolean; data: Buffer }
export interface WantBlob { number: number; type: BlobType }
export interface BlobMeta { number: number; hash: Buffer; originPeer: string; type: BlobType; getToken: string; tokenExpiresAt: number }
export interface GetBlob { token: string }
export interface Blob { type: BlobType; number: number; data: Buffer }

export interface Pool { uuid: string; owner: FullAccount | null; pid: number; name: string; enabled: boolean; deleted: boolean; realPhalaSs58: string; syncOnly: boolean }
export interface Worker { uuid: string; pid: number; name: string; endpoint: string; enabled: boolean; deleted: boolean; stake: string; syncOnly: boolean }

/** `oneof identity`: exactly one of uuid, name, pid; `identity` names the one set. */
export interface PoolOrWorkerQueryIdentity { uuid?: string; name?: string; pid?: number; identity?: 'uuid' | 'name' | 'pid' }
export interface WorkerState {
  status: WorkerStatus
  parentHeaderSynchedTo: number
  paraHeaderSynchedTo: number
  paraBlockDispatchedTo: number
  initialized: boolean
  worker: Worker | null
  publicKey: string
  lastMessage: string
  sessionInfoJson: string
  workerAccountId: string
}
export interface WorkerStateUpdate { workerStates: WorkerState[] }

export interface UuidQueryRequest { ids: string[] }
export interface CreatePool { pools: Pool[] }
export interface UpdatePool { items: Array<{ id: PoolOrWorkerQueryIdentity | null; pool: Pool | null }> }
export interface CreateWorker { workers: Worker[] }
export interface UpdateWorker { items: Array<{ id: PoolOrWorkerQueryIdentity | null; worker: Worker | null }> }
export interface PoolList { pools: Pool[] }
export interface WorkerList { workers: Worker[] }

/** Request and response type of every method of `service WalkieRpc`. */
export interface WalkieRpcTypes {
  Hello: [WalkieSystemInfo, WalkieSystemInfo]
  Auth: [AuthRequest, AuthResponse]
  GetDataProviderInfo: [Empty, DataProviderInfo]
  GetBlobByKey: [GetBlobByKey, RawBlob]
  WantBlob: [WantBlob, BlobMeta]
  GetBlobWithToken: [GetBlob, Blob]
  ListPool: [Empty, PoolList]
  CreatePool: [CreatePool, PoolList]
  UpdatePool: [UpdatePool, PoolList]
  ListWorker: [Empty, WorkerList]
  CreateWorker: [CreateWorker, WorkerList]
  UpdateWorker: [UpdateWorker, WorkerList]
  RestartWorker: [UuidQueryRequest, WorkerStateUpdate]
  RefreshRaAndRestartWorker: [UuidQueryRequest, WorkerStateUpdate]
  KickWorker: [UuidQueryRequest, WorkerStateUpdate]
  GetWorkerStatus: [UuidQueryRequest, WorkerStateUpdate]
}
export type WalkieMethod = keyof WalkieRpcTypes
/** What a handler receives / a caller gets back. */
export type RequestOf<M extends WalkieMethod> = WalkieRpcTypes[M][0]
export type ResponseOf<M extends WalkieMethod> = WalkieRpcTypes[M][1]
