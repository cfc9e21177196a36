/**
 * GRANDPA finality as a relay chain serves it and pRuntime checks it (chain.md §5):
 * SCALE GrandpaJustification, the precommit signing payload, signing with ed25519 authorities,
 * verification against an authority set (+ set id), the 'FRNK' consensus digest
 * (ScheduledChange / ForcedChange) and the `:grandpa_authorities` storage value.
 * Also the Substrate header codec, since justifications carry headers (votes_ancestries).
 */
import { blake2AsU8a, ed25519Sign, ed25519Verify } from '@polkadot/util-crypto'
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util'

export const GRANDPA_ENGINE_ID = '0x46524e4b' // 'FRNK'
/** Raw key of the well-known `:grandpa_authorities` storage item. */
export const GRANDPA_AUTHORITIES_KEY = '0x3a6772616e6470615f617574686f726974696573'

type Bytes = Uint8Array | string
const u8 = (b: Bytes): Uint8Array => (typeof b === 'string' ? hexToU8a(b) : b)

export interface Authority {
  /** ed25519 public key, 0x hex (32 bytes). */
  publicKey: string
  weight: bigint
}

export interface AuthorityKeypair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export interface SignedPrecommit {
  targetHash: string
  targetNumber: number
  signature: string
  id: string
}

export interface GrandpaJustification {
  round: bigint
  commit: { targetHash: string; targetNumber: number; precommits: SignedPrecommit[] }
  /** SCALE-encoded headers, hex. */
  votesAncestries: string[]
}

export interface Header {
  parentHash: string
  number: number
  stateRoot: string
  extrinsicsRoot: string
  /** SCALE-encoded DigestItems, hex each. */
  digest: string[]
}

// ---------------------------------------------------------------------------------------------
// Minimal SCALE reader/writer helpers.

export class ScaleReader {
  pos = 0
  readonly b: Uint8Array
  constructor(b: Bytes) {
    this.b = u8(b)
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new Error(`SCALE input too short (wanted ${n} bytes at ${this.pos} of ${this.b.length})`)
    const out = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  u8(): number {
    return this.take(1)[0]!
  }
  u32(): number {
    const t = this.take(4)
    return (t[0]! | (t[1]! << 8) | (t[2]! << 16)) + t[3]! * 0x1000000
  }
  u64(): bigint {
    const t = this.take(8)
    let v = 0n
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(t[i]!)
    return v
  }
  compact(): number {
    const b0 = this.u8()
    const mode = b0 & 3
    if (mode === 0) return b0 >> 2
    if (mode === 1) return (b0 | (this.u8() << 8)) >> 2
    if (mode === 2) return ((b0 | (this.u8() << 8) | (this.u8() << 16)) >>> 2) + this.u8() * (1 << 22)
    const n = (b0 >> 2) + 4
    const t = this.take(n)
    let v = 0n
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(t[i]!)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('SCALE compact too large')
    return Number(v)
  }
  bytes(): Uint8Array {
    return this.take(this.compact())
  }
  hex32(): string {
    return u8aToHex(this.take(32))
  }
  done(): boolean {
    return this.pos === this.b.length
  }
}

export function u32Le(n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n, true)
  return out
}

export function u64Le(n: bigint | number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true)
  return out
}

const vecBytes = (b: Uint8Array): Uint8Array => u8aConcat(compactToU8a(b.length), b)

// ---------------------------------------------------------------------------------------------
// Header

export function encodeHeader(h: Header): Uint8Array {
  return u8aConcat(
    hexToU8a(h.parentHash),
    compactToU8a(h.number),
    hexToU8a(h.stateRoot),
    hexToU8a(h.extrinsicsRoot),
    compactToU8a(h.digest.length),
    ...h.digest.map((d) => hexToU8a(d)),
  )
}

/** One DigestItem from a reader; returns its encoded bytes. */
function readDigestItem(r: ScaleReader): Uint8Array {
  const start = r.pos
  const kind = r.u8()
  if (kind === 4 || kind === 5 || kind === 6) {
    r.take(4)
    r.bytes()
  } else if (kind === 0) {
    r.bytes()
  } else if (kind !== 8) {
    throw new Error(`unknown DigestItem variant ${kind}`)
  }
  return r.b.subarray(start, r.pos)
}

export function readHeader(r: ScaleReader): Header {
  const parentHash = r.hex32()
  const number = r.compact()
  const stateRoot = r.hex32()
  const extrinsicsRoot = r.hex32()
  const n = r.compact()
  const digest: string[] = []
  for (let i = 0; i < n; i++) digest.push(u8aToHex(readDigestItem(r)))
  return { parentHash, number, stateRoot, extrinsicsRoot, digest }
}

export function decodeHeader(bytes: Bytes): Header {
  const r = new ScaleReader(bytes)
  const h = readHeader(r)
  if (!r.done()) throw new Error('trailing bytes after header')
  return h
}

export function hashHeader(h: Header | Uint8Array): string {
  return u8aToHex(blake2AsU8a(h instanceof Uint8Array ? h : encodeHeader(h), 256))
}

// ---------------------------------------------------------------------------------------------
// Authority lists and consensus digests

export function encodeAuthorityList(list: readonly Authority[]): Uint8Array {
  return u8aConcat(compactToU8a(list.length), ...list.map((a) => u8aConcat(hexToU8a(a.publicKey), u64Le(a.weight))))
}

export function readAuthorityList(r: ScaleReader): Authority[] {
  const n = r.compact()
  const out: Authority[] = []
  for (let i = 0; i < n; i++) out.push({ publicKey: r.hex32(), weight: r.u64() })
  return out
}

/** Value of `:grandpa_authorities`: VersionedAuthorityList = version byte (1) ++ Vec<(ed25519, u64)>. */
export function encodeGrandpaAuthoritiesValue(list: readonly Authority[]): Uint8Array {
  return u8aConcat(new Uint8Array([1]), encodeAuthorityList(list))
}

export function decodeGrandpaAuthoritiesValue(value: Bytes): Authority[] {
  const r = new ScaleReader(value)
  const version = r.u8()
  if (version !== 1) throw new Error(`unsupported :grandpa_authorities version ${version}`)
  return readAuthorityList(r)
}

export type GrandpaConsensusLog =
  | { type: 'ScheduledChange'; nextAuthorities: Authority[]; delay: number }
  | { type: 'ForcedChange'; medianLastFinalized: number; nextAuthorities: Authority[]; delay: number }
  | { type: 'OnDisabled'; index: bigint }
  | { type: 'Pause'; delay: number }
  | { type: 'Resume'; delay: number }

export function encodeConsensusLog(log: GrandpaConsensusLog): Uint8Array {
  switch (log.type) {
    case 'ScheduledChange':
      return u8aConcat(new Uint8Array([1]), encodeAuthorityList(log.nextAuthorities), u32Le(log.delay))
    case 'ForcedChange':
      return u8aConcat(new Uint8Array([2]), u32Le(log.medianLastFinalized), encodeAuthorityList(log.nextAuthorities), u32Le(log.delay))
    case 'OnDisabled':
      return u8aConcat(new Uint8Array([3]), u64Le(log.index))
    case 'Pause':
      return u8aConcat(new Uint8Array([4]), u32Le(log.delay))
    case 'Resume':
      return u8aConcat(new Uint8Array([5]), u32Le(log.delay))
  }
}

export function decodeConsensusLog(data: Bytes): GrandpaConsensusLog {
  const r = new ScaleReader(data)
  const kind = r.u8()
  switch (kind) {
    case 1: {
      const nextAuthorities = readAuthorityList(r)
      return { type: 'ScheduledChange', nextAuthorities, delay: r.u32() }
    }
    case 2: {
      const medianLastFinalized = r.u32()
      const nextAuthorities = readAuthorityList(r)
      return { type: 'ForcedChange', medianLastFinalized, nextAuthorities, delay: r.u32() }
    }
    case 3:
      return { type: 'OnDisabled', index: r.u64() }
    case 4:
      return { type: 'Pause', delay: r.u32() }
    case 5:
      return { type: 'Resume', delay: r.u32() }
    default:
      throw new Error(`unknown GRANDPA ConsensusLog variant ${kind}`)
  }
}

/** A header DigestItem::Consensus(FRNK, log), hex. */
export function grandpaDigestItem(log: GrandpaConsensusLog): string {
  return u8aToHex(u8aConcat(new Uint8Array([4]), hexToU8a(GRANDPA_ENGINE_ID), vecBytes(encodeConsensusLog(log))))
}

/** The first GRANDPA ScheduledChange in a header's digest (what pRuntime acts on), or undefined. */
/** The GRANDPA consensus logs of a header's digest, in order, each decoded when reached (a malformed one throws then). */
export function* grandpaLogs(header: Header): Generator<GrandpaConsensusLog> {
  for (const item of header.digest) {
    const b = hexToU8a(item)
    if (b[0] !== 4 || u8aToHex(b.subarray(1, 5)) !== GRANDPA_ENGINE_ID) continue
    yield decodeConsensusLog(new ScaleReader(b.subarray(5)).bytes())
  }
}

export function findScheduledChange(header: Header): { nextAuthorities: Authority[]; delay: number } | undefined {
  for (const log of grandpaLogs(header)) {
    if (log.type === 'ScheduledChange') return { nextAuthorities: log.nextAuthorities, delay: log.delay }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Justifications

/** SCALE((Message::Precommit{target_hash, target_number}, round, set_id)): the bytes each precommit signs. */
export function precommitPayload(targetHash: string, targetNumber: number, round: bigint | number, setId: bigint | number): Uint8Array {
  return u8aConcat(new Uint8Array([1]), hexToU8a(targetHash), u32Le(targetNumber), u64Le(round), u64Le(setId))
}

export function encodeJustification(j: GrandpaJustification): Uint8Array {
  return u8aConcat(
    u64Le(j.round),
    hexToU8a(j.commit.targetHash),
    u32Le(j.commit.targetNumber),
    compactToU8a(j.commit.precommits.length),
    ...j.commit.precommits.map((p) => u8aConcat(hexToU8a(p.targetHash), u32Le(p.targetNumber), hexToU8a(p.signature), hexToU8a(p.id))),
    compactToU8a(j.votesAncestries.length),
    ...j.votesAncestries.map((h) => hexToU8a(h)),
  )
}

export function decodeJustification(bytes: Bytes): GrandpaJustification {
  const r = new ScaleReader(bytes)
  const round = r.u64()
  const targetHash = r.hex32()
  const targetNumber = r.u32()
  const n = r.compact()
  const precommits: SignedPrecommit[] = []
  for (let i = 0; i < n; i++) {
    const th = r.hex32()
    const tn = r.u32()
    const signature = u8aToHex(r.take(64))
    const id = r.hex32()
    precommits.push({ targetHash: th, targetNumber: tn, signature, id })
  }
  const m = r.compact()
  const votesAncestries: string[] = []
  for (let i = 0; i < m; i++) {
    const start = r.pos
    readHeader(r)
    votesAncestries.push(u8aToHex(r.b.subarray(start, r.pos)))
  }
  if (!r.done()) throw new Error('trailing bytes after justification')
  return { round, commit: { targetHash, targetNumber, precommits }, votesAncestries }
}

/** A justification where every given authority precommits the target itself (no ancestries needed). */
export function signJustification(
  target: { hash: string; number: number },
  setId: bigint | number,
  round: bigint | number,
  keys: readonly AuthorityKeypair[],
): GrandpaJustification {
  const payload = precommitPayload(target.hash, target.number, round, setId)
  return {
    round: BigInt(round),
    commit: {
      targetHash: target.hash,
      targetNumber: target.number,
      precommits: keys.map((k) => ({
        targetHash: target.hash,
        targetNumber: target.number,
        signature: u8aToHex(ed25519Sign(payload, k)),
        id: u8aToHex(k.publicKey),
      })),
    },
    votesAncestries: [],
  }
}

export type VerifyResult = { ok: true } | { ok: false; error: string }

/**
 * Check a justification as pRuntime's light client does (chain.md §5.1): commit target equals
 * `target` (when given); signers are set members, distinct, with more than 2/3 of the set's
 * weight (finality_grandpa threshold); every signature valid for (round, setId); precommit
 * targets descend from the commit target through votes_ancestries, none unused.
 * Error texts are pRuntime's (without its "bad justification for header:" wrapper).
 */
export function verifyJustification(
  justification: GrandpaJustification | Bytes,
  authorities: readonly Authority[],
  setId: bigint | number,
  target?: { hash: string; number: number },
): VerifyResult {
  let j: GrandpaJustification
  if (typeof justification === 'string' || justification instanceof Uint8Array) {
    try {
      j = decodeJustification(justification)
    } catch {
      return { ok: false, error: 'error decoding justification for header' }
    }
  } else {
    j = justification
  }
  const c = j.commit
  if (target && (c.targetHash.toLowerCase() !== target.hash.toLowerCase() || c.targetNumber !== target.number)) {
    return { ok: false, error: 'invalid commit target in grandpa justification' }
  }
  const weights = new Map(authorities.map((a) => [a.publicKey.toLowerCase(), a.weight]))
  const total = authorities.reduce((s, a) => s + a.weight, 0n)
  const threshold = total - (total === 0n ? 0n : (total - 1n) / 3n)
  const seen = new Set<string>()
  let signed = 0n
  for (const p of c.precommits) {
    const id = p.id.toLowerCase()
    const w = weights.get(id)
    if (w === undefined) return { ok: false, error: 'invalid commit in grandpa justification' }
    if (!seen.has(id)) {
      seen.add(id)
      signed += w
    }
  }
  if (total === 0n || signed < threshold) return { ok: false, error: 'invalid commit in grandpa justification' }

  const ancestry = new Map<string, Header>()
  for (const h of j.votesAncestries) {
    try {
      ancestry.set(hashHeader(hexToU8a(h)), decodeHeader(h))
    } catch {
      return { ok: false, error: 'error decoding justification for header' }
    }
  }
  const visited = new Set<string>()
  for (const p of c.precommits) {
    if (!ed25519Verify(precommitPayload(p.targetHash, p.targetNumber, j.round, setId), p.signature, p.id)) {
      return { ok: false, error: 'invalid signature for precommit in grandpa justification' }
    }
    // Walk from the precommit target back to the commit target through the ancestries.
    let hash = p.targetHash.toLowerCase()
    let number = p.targetNumber
    for (;;) {
      if (hash === c.targetHash.toLowerCase()) break
      const h = ancestry.get(hash)
      if (!h || number <= c.targetNumber) return { ok: false, error: 'invalid precommit ancestry proof in grandpa justification' }
      visited.add(hash)
      hash = h.parentHash.toLowerCase()
      number = h.number - 1
    }
  }
  if (visited.size !== ancestry.size) {
    return { ok: false, error: 'invalid precommit ancestries in grandpa justification with unused headers' }
  }
  return { ok: true }
}
