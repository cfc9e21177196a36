/**
 * The relay-chain light client of a worker (pRuntime's light_validation + storage_synchronizer,
 * chain.md §5-§6.3): relay headers, GRANDPA justifications against the CURRENT authority set, set
 * switches on ScheduledChange, and para headers proven by Paras.Heads at the last synced relay
 * header's state root. Every function validates first and returns the new state; the caller
 * commits it, so a rejected call changes nothing.
 */
import { u8aConcat, compactToU8a, u8aToHex } from '@polkadot/util'
import { blake2AsU8a } from '@polkadot/util-crypto'
import {
  decodeHeader,
  findScheduledChange,
  hashHeader,
  verifyJustification,
  type Authority,
  type Header as PlainHeader,
} from '../../common/grandpa.js'
import { verifyProof, TrieProofError } from '../../common/trie.js'
import { PRuntimeError } from './errors.js'
import { parasHeadsKey } from './storage-keys.js'
import { headerNumber, type RelayHeaderIn } from '../../common/sync-request.js'

export interface RelayState {
  authorities: Authority[]
  setId: bigint
  /** The last finalized (synced) relay header. */
  lastHash: string
  lastNumber: number
  /** Next relay header number to sync (PhactoryInfo.headernum). */
  nextHeaderNumber: number
  /** State root of the last synced relay header, until a para header batch consumes it. */
  lastRelayStateRoot: string | null
}

export interface ParaHeaderState {
  paraId: number
  /** Next para header number to sync (PhactoryInfo.para_headernum); starts at 0. */
  nextParaHeaderNumber: number
}

export type { RelayHeaderIn } from '../../common/sync-request.js'

export interface Decoded {
  header: PlainHeader
  hash: string
}

/*
 * Results computed from the very same input objects are remembered: the pRuntime server hands every
 * worker the same decoded objects for the same request bytes (server.ts), so hundreds of simulated
 * workers decode a header and check a justification or a proof once. The key of each entry is the
 * input object itself plus every other input the result depends on, so a worker gets exactly the
 * answer it would compute (its own authority set, set id, state root), and rejects what it would reject.
 */
const decodedHeaders = new WeakMap<Uint8Array, Decoded>()
const verdicts = new WeakMap<Uint8Array, Map<string, ReturnType<typeof verifyJustification>>>()
const provenValues = new WeakMap<Uint8Array[], Map<string, string | null | undefined | Error>>()

/*
 * Whole batches too: a batch object validated from an identical light-client state (same last
 * header, next number, authority set and id, relay state root) gives the identical result, shared
 * (states are never mutated, only replaced). A rejected batch is not remembered: it is checked again.
 */
type RelayResult = ReturnType<typeof validateRelayHeaders>
const relayResults = new WeakMap<object, Map<string, RelayResult>>()
const paraResults = new WeakMap<object, WeakMap<object, Map<string, ReturnType<typeof validateParaHeaders>>>>()
const authorityKeys = new WeakMap<readonly Authority[], string>()

function authoritiesKey(a: readonly Authority[]): string {
  let k = authorityKeys.get(a)
  if (k === undefined) {
    k = a.map((x) => `${x.publicKey.toLowerCase()}:${x.weight}`).join(',')
    authorityKeys.set(a, k)
  }
  return k
}

function relayKey(s: RelayState): string {
  return `${s.lastHash}|${s.lastNumber}|${s.nextHeaderNumber}|${s.setId}|${s.lastRelayStateRoot}|${authoritiesKey(s.authorities)}`
}

function memo<T>(cache: WeakMap<object, Map<string, T>>, input: object, key: string, compute: () => T): T {
  let m = cache.get(input)
  const hit = m?.get(key)
  if (hit) return hit
  const v = compute()
  if (!m) cache.set(input, (m = new Map()))
  if (m.size < 16) m.set(key, v)
  return v
}

/** A header's number: from its decoding when made already, else read from its bytes alone. */
function numberOf(encoded: Uint8Array): number {
  const cached = decodedHeaders.get(encoded)
  if (cached) return cached.header.number
  try {
    return headerNumber(encoded)
  } catch {
    return decodeOne(encoded).header.number // let the decoder say why
  }
}

/** Whether `b` holds `expected` at `at`. */
function sameBytes(b: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (b.length < at + expected.length) return false
  for (let i = 0; i < expected.length; i++) if (b[at + i] !== expected[i]) return false
  return true
}

function decodeOne(encoded: Uint8Array): Decoded {
  let d = decodedHeaders.get(encoded)
  if (!d) {
    d = { header: decodeHeader(encoded), hash: hashHeader(encoded) }
    decodedHeaders.set(encoded, d)
  }
  return d
}

function checkJustification(justification: Uint8Array, authorities: readonly Authority[], setId: bigint, target: { hash: string; number: number }): ReturnType<typeof verifyJustification> {
  const key = `${setId}|${target.hash}|${target.number}|${authoritiesKey(authorities)}`
  let m = verdicts.get(justification)
  let v = m?.get(key)
  if (!v) {
    v = verifyJustification(justification, authorities, setId, target)
    if (!m) verdicts.set(justification, (m = new Map()))
    if (m.size < 16) m.set(key, v)
  }
  return v
}

/** The value at `key` proven against `root`; an Error when the proof is bad. */
function provenValue(root: string, proof: Uint8Array[], key: string): string | null | undefined | Error {
  const k = `${root}|${key}`
  let m = provenValues.get(proof)
  if (m?.has(k)) return m.get(k)
  let v: string | null | undefined | Error
  try {
    v = verifyProof(root, proof, [key]).get(key)
  } catch (e) {
    v = e instanceof Error ? e : new Error(String(e))
  }
  if (!m) provenValues.set(proof, (m = new Map()))
  if (m.size < 16) m.set(k, v)
  return v
}

/**
 * Validate a relay header batch. Returns the new relay state and the synced-to number, plus the
 * accepted headers' bytes (solo mode reads their state roots).
 */
export function syncRelayHeaders(state: RelayState, batch: RelayHeaderIn[]): { next: RelayState; syncedTo: number; accepted: Uint8Array[] } {
  return memo(relayResults, batch, relayKey(state), () => validateRelayHeaders(state, batch))
}

/** A decoded relay header (solo mode's state roots). */
export function decodeRelayHeader(encoded: Uint8Array): PlainHeader {
  return decodeOne(encoded).header
}

function validateRelayHeaders(
  state: RelayState,
  batch: RelayHeaderIn[],
): { next: RelayState; syncedTo: number; accepted: Uint8Array[] } {
  // A catch-up batch holds thousands of headers: each is checked by its number, its parent hash
  // and its own hash as bytes (the request decoder walked its structure already); only the last
  // one, whose justification and digest matter, is decoded whole.
  const headers = batch.filter((h) => numberOf(h.encoded) >= state.nextHeaderNumber)
  if (headers.length === 0) return { next: state, syncedTo: state.nextHeaderNumber - 1, accepted: [] }
  const first = headers[0]!
  if (numberOf(first.encoded) !== state.nextHeaderNumber) throw new PRuntimeError('BlockNumberMismatch')
  const lastIn = headers[headers.length - 1]!
  if (!lastIn.justification) throw new PRuntimeError('MissingJustification')
  let prevHash = blake2AsU8a(first.encoded, 256)
  let prevNumber = state.nextHeaderNumber
  for (let i = 1; i < headers.length; i++) {
    const cur = headers[i]!.encoded
    if (numberOf(cur) !== prevNumber + 1 || !sameBytes(cur, 0, prevHash)) throw new PRuntimeError('HeaderHashMismatch')
    prevHash = i === headers.length - 1 ? prevHash : blake2AsU8a(cur, 256)
    prevNumber++
  }
  if (u8aToHex(first.encoded.subarray(0, 32)) !== state.lastHash) {
    throw new PRuntimeError('HeaderValidateFailed(invalid ancestry proof)')
  }
  const last = decodeOne(lastIn.encoded)
  const verdict = checkJustification(lastIn.justification, state.authorities, state.setId, { hash: last.hash, number: last.header.number })
  if (!verdict.ok) {
    if (verdict.error === 'error decoding justification for header') throw new PRuntimeError(`HeaderValidateFailed(${verdict.error})`)
    throw new PRuntimeError(`HeaderValidateFailed(bad justification for header: ${verdict.error})`)
  }
  let authorities = state.authorities
  let setId = state.setId
  let change: ReturnType<typeof findScheduledChange>
  try {
    change = findScheduledChange(last.header)
  } catch {
    change = undefined // a malformed FRNK log is no ScheduledChange to pRuntime either
  }
  if (change) {
    if (change.delay !== 0) throw new PRuntimeError('HeaderValidateFailed(scheduled change should not have delay)')
    authorities = change.nextAuthorities
    setId = state.setId + 1n
  }
  return {
    next: {
      authorities,
      setId,
      lastHash: last.hash,
      lastNumber: last.header.number,
      nextHeaderNumber: last.header.number + 1,
      lastRelayStateRoot: last.header.stateRoot.toLowerCase(),
    },
    syncedTo: last.header.number,
    accepted: headers.map((h) => h.encoded),
  }
}

/**
 * Validate a para header batch against the last synced relay header. Returns the new relay state
 * (its state root consumed), the new para state, and the state roots to queue by para number.
 */
export function syncParaHeaders(relay: RelayState, para: ParaHeaderState, batch: Uint8Array[], proof: Uint8Array[]): ReturnType<typeof validateParaHeaders> {
  const key = `${relayKey(relay)}|${relay.lastRelayStateRoot}|${para.paraId}|${para.nextParaHeaderNumber}`
  let byProof = paraResults.get(batch)
  if (!byProof) paraResults.set(batch, (byProof = new WeakMap()))
  return memo(byProof, proof, key, () => validateParaHeaders(relay, para, batch, proof))
}

function validateParaHeaders(
  relay: RelayState,
  para: ParaHeaderState,
  batch: Uint8Array[],
  proof: Uint8Array[],
): { relay: RelayState; para: ParaHeaderState; syncedTo: number; stateRoots: Array<[number, string]> } {
  // Below the next number (before a loaded state's block, or synced already) pRuntime drops a header
  // unexamined: only its number is read here, not the whole header and its hash.
  const headers = batch.filter((b) => numberOf(b) >= para.nextParaHeaderNumber)
  if (headers.length === 0) return { relay, para, syncedTo: para.nextParaHeaderNumber - 1, stateRoots: [] }
  if (numberOf(headers[0]!) !== para.nextParaHeaderNumber) throw new PRuntimeError('BlockNumberMismatch')
  const root = relay.lastRelayStateRoot
  if (!root) throw new PRuntimeError('RelaychainHeaderNotSynced')
  const last = headers[headers.length - 1]!
  const key = parasHeadsKey(para.paraId)
  const value = provenValue(root, proof, key)
  if (value instanceof Error) {
    const msg = value instanceof TrieProofError ? value.message : String(value.message ?? value)
    throw new PRuntimeError(`StorageProofFailed(${msg})`)
  }
  if (value === null || value === undefined) throw new PRuntimeError('StorageProofFailed(storage value unavailable)')
  const expected = u8aToHex(u8aConcat(compactToU8a(last.length), last))
  if (value.toLowerCase() !== expected) throw new PRuntimeError('StorageProofFailed(storage value mismatch)')
  // Chained by bytes (number, parent hash = the previous header's hash); each state root is read
  // at its place after the number, without decoding the rest of the header.
  const stateRoots: Array<[number, string]> = []
  let prevHash: Uint8Array | undefined
  let n = para.nextParaHeaderNumber
  for (const h of headers) {
    const at = 32 + compactLength(h[32]!)
    if (prevHash && (numberOf(h) !== n || !sameBytes(h, 0, prevHash))) throw new PRuntimeError('HeaderHashMismatch')
    stateRoots.push([n, u8aToHex(h.subarray(at, at + 32))])
    prevHash = blake2AsU8a(h, 256)
    n++
  }
  return {
    relay: { ...relay, lastRelayStateRoot: null },
    para: { ...para, nextParaHeaderNumber: n },
    syncedTo: n - 1,
    stateRoots,
  }
}

/** Bytes of a SCALE compact from its first byte (headers' numbers fit in 4). */
function compactLength(b0: number): number {
  const mode = b0 & 3
  return mode === 0 ? 1 : mode === 1 ? 2 : mode === 2 ? 4 : (b0 >>> 2) + 5
}

/** `:grandpa_authorities` / Grandpa.Authorities value -> authority list, as pRuntime compares them. */
export function sameAuthorities(a: readonly Authority[], b: readonly Authority[]): boolean {
  return a.length === b.length && a.every((x, i) => x.publicKey.toLowerCase() === b[i]!.publicKey.toLowerCase() && x.weight === b[i]!.weight)
}

