/**
 * The relay-chain light client of a worker (pRuntime's light_validation + storage_synchronizer,
 * chain.md §5-§6.3): relay headers, GRANDPA justifications against the CURRENT authority set, set
 * switches on ScheduledChange, and para headers proven by Paras.Heads at the last synced relay
 * header's state root. Every function validates first and returns the new state; the caller
 * commits it, so a rejected call changes nothing.
 */
import { u8aConcat, compactToU8a, u8aToHex } from '@polkadot/util'
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

export interface RelayHeaderIn {
  /** SCALE bytes of the header. */
  encoded: Uint8Array
  justification: Uint8Array | null
}

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

/** A SCALE header's number (Compact<u32> after the 32-byte parent hash), without decoding the rest. */
function headerNumber(encoded: Uint8Array): number {
  const cached = decodedHeaders.get(encoded)
  if (cached) return cached.header.number
  if (encoded.length < 33) return decodeOne(encoded).header.number // too short: let the decoder say why
  const b0 = encoded[32]!
  switch (b0 & 3) {
    case 0:
      return b0 >>> 2
    case 1:
      return (b0 | (encoded[33]! << 8)) >>> 2
    case 2:
      return ((b0 | (encoded[33]! << 8) | (encoded[34]! << 16)) >>> 2) + encoded[35]! * (1 << 22)
    default:
      return decodeOne(encoded).header.number
  }
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
 * state roots of the accepted headers (solo mode feeds them to block dispatch).
 */
export function syncRelayHeaders(state: RelayState, batch: RelayHeaderIn[]): { next: RelayState; syncedTo: number; accepted: Decoded[] } {
  return memo(relayResults, batch, relayKey(state), () => validateRelayHeaders(state, batch))
}

function validateRelayHeaders(
  state: RelayState,
  batch: RelayHeaderIn[],
): { next: RelayState; syncedTo: number; accepted: Decoded[] } {
  const all = batch.map((h) => ({ ...decodeOne(h.encoded), justification: h.justification }))
  const headers = all.filter((h) => h.header.number >= state.nextHeaderNumber)
  if (headers.length === 0) return { next: state, syncedTo: state.nextHeaderNumber - 1, accepted: [] }
  const first = headers[0]!
  if (first.header.number !== state.nextHeaderNumber) throw new PRuntimeError('BlockNumberMismatch')
  const last = headers[headers.length - 1]!
  if (!last.justification) throw new PRuntimeError('MissingJustification')
  for (let i = 1; i < headers.length; i++) {
    const prev = headers[i - 1]!
    const cur = headers[i]!
    if (cur.header.parentHash.toLowerCase() !== prev.hash || cur.header.number !== prev.header.number + 1) {
      throw new PRuntimeError('HeaderHashMismatch')
    }
  }
  if (first.header.parentHash.toLowerCase() !== state.lastHash) {
    throw new PRuntimeError('HeaderValidateFailed(invalid ancestry proof)')
  }
  const verdict = checkJustification(last.justification, state.authorities, state.setId, { hash: last.hash, number: last.header.number })
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
    accepted: headers,
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
  const headers = batch.filter((b) => headerNumber(b) >= para.nextParaHeaderNumber).map((b) => ({ ...decodeOne(b), encoded: b }))
  if (headers.length === 0) return { relay, para, syncedTo: para.nextParaHeaderNumber - 1, stateRoots: [] }
  if (headers[0]!.header.number !== para.nextParaHeaderNumber) throw new PRuntimeError('BlockNumberMismatch')
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
  const expected = u8aToHex(u8aConcat(compactToU8a(last.encoded.length), last.encoded))
  if (value.toLowerCase() !== expected) throw new PRuntimeError('StorageProofFailed(storage value mismatch)')
  for (let i = 1; i < headers.length; i++) {
    const prev = headers[i - 1]!
    const cur = headers[i]!
    if (cur.header.parentHash.toLowerCase() !== prev.hash || cur.header.number !== prev.header.number + 1) {
      throw new PRuntimeError('HeaderHashMismatch')
    }
  }
  return {
    relay: { ...relay, lastRelayStateRoot: null },
    para: { ...para, nextParaHeaderNumber: last.header.number + 1 },
    syncedTo: last.header.number,
    stateRoots: headers.map((h) => [h.header.number, h.header.stateRoot.toLowerCase()]),
  }
}

/** `:grandpa_authorities` / Grandpa.Authorities value -> authority list, as pRuntime compares them. */
export function sameAuthorities(a: readonly Authority[], b: readonly Authority[]): boolean {
  return a.length === b.length && a.every((x, i) => x.publicKey.toLowerCase() === b[i]!.publicKey.toLowerCase() && x.weight === b[i]!.weight)
}

