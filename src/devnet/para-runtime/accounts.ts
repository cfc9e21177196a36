/** Derived accounts of the stake pools and the tokenomic maths (U64F64 fixed point as bigint bits). */
import { blake2AsU8a } from '@polkadot/util-crypto'
import { bnToU8a, stringToU8a, u8aConcat } from '@polkadot/util'
import { DOLLARS } from './core.js'

const le64 = (v: number | bigint): Uint8Array => bnToU8a(v, { bitLength: 64, isLe: true })

/** AccountId = TrailingZeroInput(SCALE((prefix: [u8;4], blake2_256(data)))) = prefix ++ hash[..28]. */
function subAccount(prefix: string, data: Uint8Array): Uint8Array {
  return u8aConcat(stringToU8a(prefix), blake2AsU8a(data, 256).subarray(0, 28))
}

/** The worker's session account: pool_sub_account(pid, pubkey) (chain.md §2.5). */
export function poolSubAccount(pid: number | bigint, workerPubkey: Uint8Array): Uint8Array {
  return subAccount('spm/', u8aConcat(le64(pid), workerPubkey))
}

/** Devnet choice (the real derivations were not in the spec): pool, lock and owner-reward accounts. */
export function poolAccount(pid: number | bigint): Uint8Array {
  return subAccount('bpl/', le64(pid))
}
export function lockAccount(pid: number | bigint): Uint8Array {
  return subAccount('spl/', le64(pid))
}
export function ownerRewardAccount(pid: number | bigint): Uint8Array {
  return subAccount('spr/', le64(pid))
}

export const FP_ONE = 1n << 64n

/** A decimal like '0.0415625' as U64F64 bits. */
export function fp(dec: string): bigint {
  const [i, f = ''] = dec.split('.')
  const scale = 10n ** BigInt(f.length)
  return (BigInt(i) * scale + BigInt(f || '0')) * FP_ONE / scale
}

/** Khala's genesis tokenomic parameters (phala-blockchain defaults), as U64F64 bits. */
export function defaultTokenomicParameters(): Record<string, bigint | number> {
  return {
    phaRate: fp('0.83'), rho: fp('1.000000666600231'), budgetPerBlock: fp('100'), vMax: fp('30000'),
    costK: fp('0.0415625'), costB: fp('88.59375'), slashRate: fp('0.001'), treasuryRatio: fp('0.2'),
    heartbeatWindow: 10, rigK: fp('0.3'), rigB: fp('0'), re: fp('1.5'), k: fp('50'), kappa: fp('1'),
  }
}

export interface TokenomicParams { vMax: bigint; rigK: bigint; rigB: bigint; re: bigint; k: bigint }

function isqrt(n: bigint): bigint {
  if (n < 2n) return n
  let x = n, y = (x + 1n) / 2n
  while (y < x) { x = y; y = (x + n / x) / 2n }
  return x
}

/** minimum_stake(p) = k * sqrt(p) PHA, in plancks. */
export function minimumStake(t: TokenomicParams, p: number): bigint {
  const sqrtP = isqrt(BigInt(p) * FP_ONE * FP_ONE) // sqrt(p) in U64F64 bits
  return (t.k * sqrtP / FP_ONE) * DOLLARS / FP_ONE
}

function confidenceScore(level: number): bigint {
  if (level >= 1 && level <= 3) return FP_ONE
  if (level === 4) return fp('0.8')
  if (level === 5) return fp('0.7')
  return 0n
}

/** ve = ((re - 1) * confidence + 1) * (stake + rig_k * p + rig_b), U64F64 bits. */
export function ve(t: TokenomicParams, stake: bigint, p: number, confidenceLevel: number): bigint {
  const tweakedRe = (t.re - FP_ONE) * confidenceScore(confidenceLevel) / FP_ONE + FP_ONE
  const s = stake * FP_ONE / DOLLARS
  const cost = t.rigK * BigInt(p) + t.rigB
  return tweakedRe * (s + cost) / FP_ONE
}

/** Initial score from a worker's BenchReport: iterations per 6 s, capped at 6000 (devnet reading of the spec). */
export function benchScore(startTimeSecs: bigint, iterations: bigint, nowSecs: bigint): number | undefined {
  if (nowSecs <= startTimeSecs) return undefined
  const score = iterations * 6n / (nowSecs - startTimeSecs)
  return Number(score > 6000n ? 6000n : score)
}
