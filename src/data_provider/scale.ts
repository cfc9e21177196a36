/**
 * The SCALE payloads pRuntime consumes (upstream-data-provider.md §4.2), assembled at the byte
 * level from the already-encoded pieces stored in ParentBlock / ParaBlock records. No decoding and
 * re-encoding: the node's bytes travel unchanged (StorageChanges especially is opaque).
 */

/** SCALE Compact<u32/u64> for a non-negative integer below 2^53. */
export function compact(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`compact: ${n} is not a non-negative safe integer`)
  if (n < 1 << 6) return Uint8Array.of(n << 2)
  if (n < 1 << 14) return Uint8Array.of(((n & 0x3f) << 2) | 1, n >>> 6)
  if (n < 2 ** 30) {
    const v = n * 4 + 2
    return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff)
  }
  const out: number[] = []
  let v = n
  while (v > 0) {
    out.push(v % 256)
    v = Math.floor(v / 256)
  }
  return Uint8Array.of(((out.length - 4) << 2) | 3, ...out)
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts as Uint8Array[])
}

/** SCALE Vec<T> of items that are already encoded T. */
export function vec(items: readonly Uint8Array[]): Uint8Array {
  return concat([compact(items.length), ...items])
}

const NONE = Uint8Array.of(0)

/** Option<...> bytes as stored: an empty field (proto3 default) is None. */
function optionOrNone(b: Uint8Array): Uint8Array {
  return b.length === 0 ? NONE : b
}

/** HeaderToSync { header, justification: None }. */
export function headerToSyncWithoutJustification(header: Uint8Array): Uint8Array {
  return concat([header, NONE])
}

export interface CombinedHeadersPieces {
  /** each an encoded HeaderToSync */
  relaychainHeaders: readonly Uint8Array[]
  /** encoded Option<AuthoritySetChange>; empty = None */
  authoritySetChange: Uint8Array
  /** each an encoded para Header */
  parachainHeaders: readonly Uint8Array[]
  /** encoded StorageProof of the last relay block; ignored (written as []) when there is no para header */
  proof: Uint8Array
}

/** SyncCombinedHeadersReq { relaychainHeaders, authoritySetChange, parachainHeaders, proof }. */
export function syncCombinedHeadersReq(p: CombinedHeadersPieces): Uint8Array {
  const proof = p.parachainHeaders.length === 0 || p.proof.length === 0 ? compact(0) : p.proof
  return concat([vec(p.relaychainHeaders), optionOrNone(p.authoritySetChange), vec(p.parachainHeaders), proof])
}

/** Vec<BlockHeaderWithChanges> from each block's stored dispatch_block_data. */
export function blockHeadersWithChanges(dispatchBlockData: readonly Uint8Array[]): Uint8Array {
  return vec(dispatchBlockData)
}

export { NONE as SCALE_NONE }
