/**
 * Upstream's actions (upstream-trade-walkie-monitor.md A.3): a job's payload → its calls. Checked
 * here once, so a bad job fails at once with a message naming the field (upstream built the error
 * but never threw it).
 */
import type { ApiPromise } from '@polkadot/api'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import { hexToU8a, u8aConcat } from '@polkadot/util'
import { TRADE_ACTIONS, type TradeJobData } from '../common/trade-queue.js'
import { TradeError } from './errors.js'

const HEX = /^0x([0-9a-fA-F]{2})*$/
const KEY = /^0x[0-9a-fA-F]{64}$/
const DEC = /^\d+$/

function bad(what: string): TradeError {
  return new TradeError('ERR_TRADE_BAD_JOB', `bad trade job: ${what}; the producer must send {action, payload} as upstream's lifecycle does`)
}

/** The job's pool id (decimal string, u64). */
export function jobPid(data: unknown): string {
  const d = data as { action?: unknown; payload?: { pid?: unknown } }
  if (!d || typeof d !== 'object' || !d.payload || typeof d.payload !== 'object') throw bad('no payload')
  const pid = typeof d.payload.pid === 'number' ? String(d.payload.pid) : d.payload.pid
  if (typeof pid !== 'string' || !DEC.test(pid) || BigInt(pid) >= 1n << 64n) throw bad(`payload.pid ${JSON.stringify(d.payload.pid)} is not a decimal u64`)
  return pid
}

function field(p: Record<string, unknown>, name: string, re: RegExp, what: string): string {
  const v = p[name]
  if (typeof v !== 'string' || !re.test(v)) throw bad(`payload.${name} must be ${what}, got ${JSON.stringify(v)?.slice(0, 80)}`)
  return v
}

/** A call as @polkadot/api builds it. */
export type TradeCall = SubmittableExtrinsic<'promise'>['method']

/** Validate a job's data (throws TradeError ERR_TRADE_BAD_JOB). */
export function checkJob(data: unknown): TradeJobData {
  const d = data as { action?: unknown; payload?: Record<string, unknown> }
  if (!d || typeof d !== 'object') throw bad('the job data is not an object')
  if (typeof d.action !== 'string' || !(TRADE_ACTIONS as readonly string[]).includes(d.action)) {
    throw bad(`unknown action ${JSON.stringify(d.action)}; expected one of ${TRADE_ACTIONS.join(', ')}`)
  }
  jobPid(d)
  const p = d.payload!
  switch (d.action) {
    case 'BATCH_SYNC_MQ_MESSAGE': {
      const m = p.messages
      if (!Array.isArray(m) || m.length === 0 || m.some((x) => typeof x !== 'string' || !HEX.test(x) || x.length < 4)) {
        throw bad('payload.messages must be a non-empty array of 0x-hex SCALE SignedMessage')
      }
      break
    }
    case 'REGISTER_WORKER':
      field(p, 'runtimeInfo', HEX, '0x-hex of the encoded runtime info')
      field(p, 'attestation', HEX, '0x-hex of the SCALE Attestation')
      break
    case 'ADD_WORKER': case 'STOP_COMPUTING': case 'RECLAIM_POOL_WORKER': case 'REMOVE_WORKER':
      field(p, 'publicKey', KEY, 'the 0x-hex 32-byte worker public key')
      break
    case 'START_COMPUTING': case 'RESTART_COMPUTING':
      field(p, 'publicKey', KEY, 'the 0x-hex 32-byte worker public key')
      field(p, 'stake', DEC, 'a decimal amount in plancks')
      break
  }
  return d as unknown as TradeJobData
}

/** The calls of a (checked) job, built on `api`'s metadata. */
export function callsOf(api: ApiPromise, data: TradeJobData): TradeCall[] {
  const tx = api.tx
  const reg = api.registry
  try {
    switch (data.action) {
      case 'BATCH_SYNC_MQ_MESSAGE':
        return data.payload.messages.map((m) => tx.phalaMq.syncOffchainMessage(reg.createType('PhalaMqSignedMessage', m)).method)
      case 'REGISTER_WORKER': {
        // WorkerRegistrationInfo (v1, the bridge-era pRuntime) → registerWorker; the longer
        // WorkerRegistrationInfoV2 of pRuntime HEAD → registerWorkerV2 with Some(AttestationReport)
        // (upstream's phat branch). Both attestations encode SgxIas alike.
        const info = hexToU8a(data.payload.runtimeInfo)
        const v1 = reg.createType('PhalaTypesWorkerRegistrationInfo', info)
        if (v1.encodedLength === info.length) {
          return [tx.phalaRegistry.registerWorker(v1, reg.createType('PhalaPalletsUtilsAttestationLegacyAttestation', data.payload.attestation)).method]
        }
        return [tx.phalaRegistry.registerWorkerV2(info, u8aConcat(new Uint8Array([1]), hexToU8a(data.payload.attestation))).method]
      }
      case 'ADD_WORKER':
        return [tx.phalaStakePoolv2.addWorker(data.payload.pid, data.payload.publicKey).method]
      case 'START_COMPUTING':
        return [tx.phalaStakePoolv2.startComputing(data.payload.pid, data.payload.publicKey, data.payload.stake).method]
      case 'STOP_COMPUTING':
        return [tx.phalaStakePoolv2.stopComputing(data.payload.pid, data.payload.publicKey).method]
      case 'RESTART_COMPUTING':
        return [tx.phalaStakePoolv2.restartComputing(data.payload.pid, data.payload.publicKey, data.payload.stake).method]
      case 'RECLAIM_POOL_WORKER':
        return [tx.phalaStakePoolv2.reclaimPoolWorker(data.payload.pid, data.payload.publicKey).method]
      case 'REMOVE_WORKER':
        return [tx.phalaStakePoolv2.removeWorker(data.payload.pid, data.payload.publicKey).method]
    }
  } catch (e) {
    throw bad(`${data.action}: its payload does not encode on this chain (${(e as Error).message.split('\n')[0]})`)
  }
}
