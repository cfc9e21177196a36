/**
 * What the lifecycle keeps per pool and per worker (upstream's `pools` / `workers` columns, §3.3-3.4),
 * and how a record shows on the wire (`prb.db.Pool` / `prb.db.Worker`, §3.7).
 */
import { encodeAddress } from '@polkadot/util-crypto'
import type { PoolView, WorkerView } from './contract.js'

export interface PoolRecord {
  uuid: string
  /** On-chain pool id (u64) as a decimal string. */
  pid: string
  name: string
  /** The proxied pool owner (upstream `proxiedAccountSs58`); '' when the operator owns the pool. */
  realPhalaSs58: string
  /** Hex (no 0x) of upstream's `EncPb` bytes: the operator keystore under the LIFECYCLE key. */
  encryptedOperator: string
  /** The operator's address (ss58 format 30) and public key (0x hex): public, kept so listing needs no decryption. */
  operatorSs58: string
  operatorPublicKey: string
  enabled: boolean
  syncOnly: boolean
  /** Creation order (lists keep it, as upstream's rowid order). */
  seq: number
  createdAt: string
  updatedAt: string
}

export interface WorkerRecord {
  uuid: string
  name: string
  endpoint: string
  /** Plancks, decimal string. */
  stake: string
  enabled: boolean
  syncOnly: boolean
  poolUuid: string
  seq: number
  createdAt: string
  updatedAt: string
}

/** Upstream's Phala ss58 format and the Polkadot one ListPool also shows. */
const SS58_PHALA = 30
const SS58_POLKADOT = 0

export function poolToWire(p: PoolRecord): Record<string, unknown> {
  return {
    uuid: p.uuid,
    owner: {
      polkadotJson: p.encryptedOperator,
      ss58Phala: encodeAddress(p.operatorPublicKey, SS58_PHALA),
      ss58Polkadot: encodeAddress(p.operatorPublicKey, SS58_POLKADOT),
    },
    pid: p.pid,
    name: p.name,
    enabled: p.enabled,
    deleted: false,
    realPhalaSs58: p.realPhalaSs58,
    syncOnly: p.syncOnly,
  }
}

export function workerToWire(w: WorkerRecord, pool: PoolRecord): Record<string, unknown> {
  return {
    uuid: w.uuid,
    pid: pool.pid,
    name: w.name,
    endpoint: w.endpoint,
    enabled: w.enabled,
    deleted: false,
    stake: w.stake,
    syncOnly: w.syncOnly,
  }
}

export function poolView(p: PoolRecord): PoolView {
  return {
    uuid: p.uuid,
    pid: p.pid,
    name: p.name,
    enabled: p.enabled,
    syncOnly: p.syncOnly,
    ...(p.realPhalaSs58 ? { realPhalaSs58: p.realPhalaSs58 } : {}),
    operatorSs58: p.operatorSs58,
    operatorPublicKey: p.operatorPublicKey,
  }
}

export function workerView(w: WorkerRecord, pool: PoolRecord): WorkerView {
  return {
    uuid: w.uuid,
    name: w.name,
    endpoint: w.endpoint,
    stake: w.stake,
    enabled: w.enabled,
    syncOnly: w.syncOnly,
    pool: poolView(pool),
  }
}
