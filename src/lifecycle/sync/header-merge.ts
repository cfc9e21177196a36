/**
 * Consecutive header ranges merged into one sync_combined_headers (beyond upstream, which sends a
 * data provider's range per request). pRuntime checks only the LAST relay header's justification
 * (the ones before are chained to it by parent hash) and only the last para header against the
 * proof (the ones before by parent hash), so ranges of one authority set joined end to end are one
 * request that pRuntime accepts exactly as the ranges one by one: a catch-up across N ranges costs it
 * one justification check, one proof check and one round trip instead of N.
 *
 * A merged request ends where a range ends with an authority set change (pRuntime switches sets
 * only at a request's last header), and at a range whose proof proves its last para header, so
 * that the proof sent matches the para headers sent.
 */
import { decodeHeader, grandpaLogs } from '../../common/grandpa.js'
import { decodeSyncCombinedHeaders, headerNumber, type SyncCombinedHeaders } from '../../common/sync-request.js'
import { compact } from '../../data_provider/index.js'

export interface MergedHeaders {
  body: Uint8Array
  /** How many of the given ranges it holds (≥ 2). */
  ranges: number
  relayTo: number
  /** The pRuntime's next para header once it took the request. */
  paraNext: number
}

/** A GRANDPA ScheduledChange or ForcedChange in the header's digest: pRuntime acts on it only as a request's last header. */
export function changesAuthorities(header: Uint8Array): boolean {
  try {
    for (const log of grandpaLogs(decodeHeader(header))) if (log.type === 'ScheduledChange' || log.type === 'ForcedChange') return true
  } catch {
    return true // unreadable: end the request here, as if it changed the set
  }
  return false
}

/**
 * The longest valid request made of `bodies` (each a data provider's SyncCombinedHeadersReq, in
 * relay order) for a pRuntime whose next relay header is `relayNext` and next para header
 * `paraNext`, at most `maxBytes` long; null when it would hold only the first range (send that
 * one as it is). Headers below the next numbers are left out (pRuntime skips them anyway).
 */
export function mergeHeaderRanges(bodies: readonly Uint8Array[], relayNext: number, paraNext: number, maxBytes: number): MergedHeaders | null {
  if (bodies.length < 2) return null
  const relay: Uint8Array[] = []
  const para: Uint8Array[] = []
  let bytes = 0
  let expectRelay = relayNext
  let expectPara = paraNext
  let best: { ranges: number; relay: number; para: number; last: SyncCombinedHeaders; justification: Uint8Array; relayTo: number; paraNext: number } | undefined
  for (let i = 0; i < bodies.length; i++) {
    let d: SyncCombinedHeaders
    try {
      d = decodeSyncCombinedHeaders(bodies[i]!)
    } catch {
      break // a malformed range is sent by itself, and pRuntime says what is wrong with it
    }
    const rel = d.relay.filter((h) => headerNumber(h.encoded) >= expectRelay)
    if (rel.length === 0 || headerNumber(rel[0]!.encoded) !== expectRelay) break
    const last = rel[rel.length - 1]!
    if (!last.justification) break
    const paraNew = d.para.filter((h) => headerNumber(h) >= expectPara)
    if (paraNew.length > 0 && headerNumber(paraNew[0]!) !== expectPara) break
    const size = rel.reduce((n, h) => n + h.encoded.length + 1, 0) + paraNew.reduce((n, h) => n + h.length, 0) + last.justification.length + d.proofBytes.length
    if (i > 0 && bytes + size > maxBytes) break
    bytes += size
    relay.push(...rel.map((h) => h.encoded))
    para.push(...paraNew)
    expectRelay = headerNumber(last.encoded) + 1
    if (paraNew.length > 0) expectPara = headerNumber(paraNew[paraNew.length - 1]!) + 1
    // This range's proof proves its own last para header: a valid end when that is the last one sent
    // (or when no para header is sent at all).
    const lastPara = d.para[d.para.length - 1]
    if (para.length === 0 || (lastPara !== undefined && headerNumber(lastPara) === expectPara - 1)) {
      best = { ranges: i + 1, relay: relay.length, para: para.length, last: d, justification: last.justification, relayTo: expectRelay - 1, paraNext: expectPara }
    }
    if (d.authoritySetChange !== null || changesAuthorities(last.encoded)) break
  }
  if (!best || best.ranges < 2) return null
  const parts: Uint8Array[] = [compact(best.relay)]
  for (let k = 0; k < best.relay; k++) {
    const h = relay[k]!
    if (k < best.relay - 1) parts.push(h, NONE)
    else parts.push(h, SOME, compact(best.justification.length), best.justification)
  }
  const change = best.last.authoritySetChange
  parts.push(change ? concat([SOME, change]) : NONE, compact(best.para), ...para.slice(0, best.para), best.para > 0 ? best.last.proofBytes : compact(0))
  return { body: concat(parts), ranges: best.ranges, relayTo: best.relayTo, paraNext: best.paraNext }
}

const NONE = Uint8Array.of(0)
const SOME = Uint8Array.of(1)
const concat = (parts: Uint8Array[]): Uint8Array => Buffer.concat(parts)
