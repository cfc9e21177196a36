/**
 * The devnet fee model, one formula for payment_queryInfo and for what is charged:
 *   fee = weightToFee(BASE_EXTRINSIC_WEIGHT) + BYTE_FEE * encoded_len + weightToFee(call weight) + tip
 *   weightToFee(w) = w.refTime * WEIGHT_FEE_PER_REF_TIME          (fee multiplier fixed at 1)
 * Call weights come from a small table (utility/proxy add their inner calls). No refunds: the
 * fee withdrawn before dispatch is the actual fee (TransactionFeePaid.actual_fee); it is burned.
 */
import type { Call } from '@polkadot/types/interfaces'

export interface Weight { refTime: number; proofSize: number }

export const FEE_MODEL = {
  baseExtrinsicWeight: { refTime: 125_000_000, proofSize: 0 } as Weight,
  byteFee: 1_000_000n, // 1e6 plancks per byte
  weightFeePerRefTime: 10n, // 0.001 PHA per 1e8 refTime
  defaultCallWeight: { refTime: 200_000_000, proofSize: 5_000 } as Weight,
  batchItemOverhead: { refTime: 5_000_000, proofSize: 0 } as Weight,
}

/** Weights of the calls that differ from the default. register_worker(_v2) and MQ sync are weight 0 on Khala. */
const CALL_WEIGHTS: Record<string, Weight> = {
  'timestamp.set': { refTime: 10_000_000, proofSize: 1_500 },
  'parachainSystem.setValidationData': { refTime: 50_000_000, proofSize: 5_000 },
  'phalaRegistry.registerWorker': { refTime: 0, proofSize: 0 },
  'phalaRegistry.registerWorkerV2': { refTime: 0, proofSize: 0 },
  'phalaMq.syncOffchainMessage': { refTime: 0, proofSize: 0 },
  'balances.transferKeepAlive': { refTime: 150_000_000, proofSize: 3_600 },
  'balances.transferAllowDeath': { refTime: 150_000_000, proofSize: 3_600 },
}

const add = (a: Weight, b: Weight): Weight => ({ refTime: a.refTime + b.refTime, proofSize: a.proofSize + b.proofSize })

export function callWeight(call: Call): Weight {
  const key = `${call.section}.${call.method}`
  if (call.section === 'utility' && ['batch', 'batchAll', 'forceBatch'].includes(call.method)) {
    let w: Weight = { refTime: 20_000_000, proofSize: 0 }
    for (const c of call.args[0] as unknown as Call[]) w = add(w, add(callWeight(c), FEE_MODEL.batchItemOverhead))
    return w
  }
  if (key === 'proxy.proxy') return add({ refTime: 30_000_000, proofSize: 4_000 }, callWeight(call.args[2] as unknown as Call))
  return CALL_WEIGHTS[key] ?? FEE_MODEL.defaultCallWeight
}

export function weightToFee(w: Weight): bigint {
  return BigInt(w.refTime) * FEE_MODEL.weightFeePerRefTime
}

/** The fee without tip for an extrinsic of `len` encoded bytes carrying `call`. */
export function feeFor(len: number, call: Call): bigint {
  return weightToFee(FEE_MODEL.baseExtrinsicWeight) + FEE_MODEL.byteFee * BigInt(len) + weightToFee(callWeight(call))
}

/** The weight frame_system reports in ExtrinsicSuccess/Failed: call weight plus the base extrinsic weight. */
export function reportedWeight(call: Call): Weight {
  return add(callWeight(call), FEE_MODEL.baseExtrinsicWeight)
}
