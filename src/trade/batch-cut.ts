/**
 * Cutting a pool's waiting calls into one extrinsic: at most `batchSize` calls, and below the
 * chain's per-extrinsic limits in all three dimensions (encoded length, ref time, proof size), with
 * a margin (a quarter) for what the estimate leaves out: the forceBatch and proxy wrappers, the
 * signature and extensions, weights that grow with state. A call that alone exceeds the limits is
 * never sent: the chain would refuse it (1010 ExhaustsResources) however often it went.
 */

/** One call's cost: encoded length and weight (as the chain's payment info reports it). */
export interface CallCost {
  bytes: number
  refTime: bigint
  proofSize: bigint
}

/** The chain's per-extrinsic limits (System.BlockLength normal, System.BlockWeights normal maxExtrinsic). */
export interface ExtrinsicLimits {
  maxBytes: number
  maxRefTime: bigint
  maxProofSize: bigint
}

/** Bytes every extrinsic carries besides its calls (signature, extensions, wrappers). */
export const EXTRINSIC_OVERHEAD_BYTES = 200
/** Ref time added to each call's estimate (forceBatch's per-item overhead and more). */
export const PER_CALL_REF_TIME = 10_000_000n

/** The budget of one extrinsic: three quarters of each limit. */
export function budgetOf(l: ExtrinsicLimits): ExtrinsicLimits {
  return { maxBytes: Math.floor(l.maxBytes * 0.75), maxRefTime: (l.maxRefTime * 3n) / 4n, maxProofSize: (l.maxProofSize * 3n) / 4n }
}

/** Why a single call can never fit in an extrinsic (undefined: it fits). */
export function tooLarge(c: CallCost, l: ExtrinsicLimits): string | undefined {
  const b = budgetOf(l)
  if (EXTRINSIC_OVERHEAD_BYTES + c.bytes > b.maxBytes) return `it is ${c.bytes} bytes, more than an extrinsic may carry (${b.maxBytes} of the chain's ${l.maxBytes})`
  if (c.refTime + PER_CALL_REF_TIME > b.maxRefTime) return `its weight (ref time ${c.refTime}) is more than an extrinsic may use (${b.maxRefTime} of the chain's ${l.maxRefTime})`
  if (c.proofSize > b.maxProofSize) return `its proof size (${c.proofSize}) is more than an extrinsic may use (${b.maxProofSize} of the chain's ${l.maxProofSize})`
  return undefined
}

/**
 * How many of `costs` (in order) go into the next extrinsic: at least one (the caller has set aside
 * calls that are `tooLarge`), at most `batchSize`, staying within the budget of every limit.
 */
export function cutCount(costs: readonly CallCost[], limits: ExtrinsicLimits, batchSize: number): number {
  const b = budgetOf(limits)
  let bytes = EXTRINSIC_OVERHEAD_BYTES
  let refTime = 0n
  let proofSize = 0n
  let n = 0
  for (const c of costs) {
    if (n >= batchSize) break
    const r = c.refTime + PER_CALL_REF_TIME
    if (n > 0 && (bytes + c.bytes > b.maxBytes || refTime + r > b.maxRefTime || proofSize + c.proofSize > b.maxProofSize)) break
    bytes += c.bytes
    refTime += r
    proofSize += c.proofSize
    n++
  }
  return n
}
