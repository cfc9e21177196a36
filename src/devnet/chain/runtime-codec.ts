/** SCALE answers of the runtime APIs the node serves through state_call (sp_runtime / sp_transaction_payment types). */
import { compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import type { FeeDetails, TxValidity } from '../runtime-api.js'

export function u128Le(v: bigint): Uint8Array {
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

const u64Le = (v: bigint | number): Uint8Array => u128Le(BigInt(v)).subarray(0, 8)

/** FeeDetails { inclusion_fee: Option<InclusionFee { base_fee, len_fee, adjusted_weight_fee }>, tip } */
export function encodeFeeDetails(fd: FeeDetails): string {
  const fee = fd.inclusionFee
  const inclusion = fee
    ? u8aConcat(new Uint8Array([1]), u128Le(BigInt(fee.baseFee)), u128Le(BigInt(fee.lenFee)), u128Le(BigInt(fee.adjustedWeightFee)))
    : new Uint8Array([0])
  return u8aToHex(u8aConcat(inclusion, u128Le(BigInt(fd.tip))))
}

/** InvalidTransaction variants by the node's error text (chain.md §8). */
const INVALID: Record<string, number> = {
  'Transaction call is not expected': 0, 'Inability to pay some fees (e.g. account balance too low)': 1,
  'Transaction will be valid in the future': 2, 'Transaction is outdated': 3, 'Transaction has a bad signature': 4,
  'Transaction has an ancient birth block': 5, 'Transaction would exhaust the block limits': 6, 'Invalid signing address': 10,
}
const UNKNOWN: Record<string, number> = { CannotLookup: 0, NoUnsignedValidator: 1 }

const vecBytes = (items: string[]): Uint8Array => {
  const parts = items.map((h) => {
    const b = Buffer.from(h.replace(/^0x/, ''), 'hex')
    return u8aConcat(compactToU8a(b.length), b)
  })
  return u8aConcat(compactToU8a(items.length), ...parts)
}

/**
 * TransactionValidity = Result<ValidTransaction { priority u64, requires, provides: Vec<Vec<u8>>,
 * longevity u64, propagate bool }, TransactionValidityError { Invalid(InvalidTransaction), Unknown(UnknownTransaction) }>.
 */
export function encodeValidity(v: TxValidity): string {
  if (v.ok) {
    return u8aToHex(u8aConcat(new Uint8Array([0]), u64Le(v.priority), vecBytes(v.requires), vecBytes(v.provides), u64Le(2n ** 64n - 1n), new Uint8Array([1])))
  }
  const data = v.error.data ?? ''
  const custom = /^Custom error: (\d+)$/.exec(data) ?? /^Custom\((\d+)\)$/.exec(data)
  if (v.error.code === 1011) {
    const u = custom ? [2, Number(custom[1])] : [UNKNOWN[data] ?? 0]
    return u8aToHex(new Uint8Array([1, 1, ...u]))
  }
  const i = custom ? [7, Number(custom[1])] : [INVALID[data] ?? 0]
  return u8aToHex(new Uint8Array([1, 0, ...i]))
}

/** The relay accepts no transactions: every one is `Invalid(Call)`. */
export const RELAY_VALIDITY = u8aToHex(new Uint8Array([1, 0, 0]))
