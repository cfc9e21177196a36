/**
 * Synthetic relay + para chains for the builder tests: records shaped as the fetcher stores them
 * (valid SCALE headers, HeaderToSync, Option<AuthoritySetChange>, StorageProof,
 * BlockHeaderWithChanges), driven by a seeded PRNG. Encoded here by hand with @polkadot/util's
 * compact, independently of src/data_provider/scale.ts.
 */
import { compactToU8a, u8aConcat } from '@polkadot/util'
import type { GenesisRecord, ParaBlockRecord, ParentBlockRecord } from '../../src/data_provider/store.js'

export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function fill(tag: number, n: number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) out[i] = (tag * 31 + n * 7 + i * 13) & 0xff
  return out
}

function u64le(v: number): Uint8Array {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(v))
  return b
}

export function scaleBytes(b: Uint8Array): Uint8Array {
  return u8aConcat(compactToU8a(b.length), b)
}

/** A SCALE Substrate header with an empty digest. */
export function header(tag: number, n: number): Uint8Array {
  return u8aConcat(fill(tag, n - 1, 32), compactToU8a(n), fill(tag + 1, n, 32), fill(tag + 2, n, 32), compactToU8a(0))
}

export interface RelaySpec {
  number: number
  setId: number
  justified: boolean
  paraNumber: number
  /** justified by a live justification (fetch/live.ts), not one the node keeps */
  live?: boolean
}

export interface ChainSpec {
  paraId: number
  genesisParent: number
  genesisPara: number
  relay: RelaySpec[] // from genesisParent on, consecutive
  paraTop: number // para blocks genesisPara+1 .. paraTop exist (para 0 too)
}

export interface ChainOptions {
  seed: number
  relayBlocks: number
  genesisParent?: number
  /** every `period`-th block is justified (besides set changes) */
  period?: number
  /** probability that a block changes the set (and is justified) */
  setChangeP?: number
  /** probability that the para head advances by one at a relay block */
  paraStepP?: number
  /** blocks at the start where the para head stays at 0 */
  paraDelay?: number
  minWindow?: number
  extraJustifiedP?: number
}

/** A normal chain: para head steps by 0 or 1 per relay block; set changes are justified. */
export function makeChain(o: ChainOptions): ChainSpec {
  const rnd = prng(o.seed)
  const g = o.genesisParent ?? 1000
  const period = o.period ?? 16
  const relay: RelaySpec[] = []
  let setId = 5
  let para = 0
  let sinceChange = 0
  for (let i = 0; i <= o.relayBlocks; i++) {
    const n = g + i
    let justified = n % period === 0 || rnd() < (o.extraJustifiedP ?? 0.02)
    if (i > 0 && sinceChange >= (o.minWindow ?? 24) && rnd() < (o.setChangeP ?? 0.03)) {
      setId++
      sinceChange = 0
      justified = true
    }
    sinceChange++
    if (i > (o.paraDelay ?? 2) && rnd() < (o.paraStepP ?? 0.6)) para++
    relay.push({ number: n, setId, justified, paraNumber: para })
  }
  return { paraId: 2004, genesisParent: g, genesisPara: 0, relay, paraTop: para }
}

export function justificationOf(n: number): Uint8Array {
  return fill(9, n, 40)
}

/** The live justification of block n: distinct bytes, to find every copy in the DB. */
export function liveJustificationOf(n: number): Uint8Array {
  return u8aConcat(Uint8Array.of(0x4c, 0x49, 0x56, 0x45), fill(8, n, 60))
}

export function authoritySetChangeOf(n: number, setId: number): Uint8Array {
  const authorities = [0, 1, 2].map((i) => u8aConcat(fill(20 + i, setId, 32), u64le(1)))
  const proof = [fill(30, n, 50), fill(31, n, 70)]
  return u8aConcat(Uint8Array.of(1), compactToU8a(authorities.length), ...authorities, u64le(setId), compactToU8a(proof.length), ...proof.map(scaleBytes))
}

export function paraProofOf(n: number): Uint8Array {
  const nodes = [fill(40, n, 33), fill(41, n, 80)]
  return u8aConcat(compactToU8a(nodes.length), ...nodes.map(scaleBytes))
}

export function parentRecord(s: RelaySpec): ParentBlockRecord {
  const h = header(1, s.number)
  const j = s.live ? liveJustificationOf(s.number) : s.justified ? justificationOf(s.number) : undefined
  return {
    number: s.number,
    hash: fill(3, s.number, 32),
    header: h,
    setId: s.setId,
    hasJustification: !!j,
    syncHeaderData: j ? u8aConcat(h, Uint8Array.of(1), scaleBytes(j)) : u8aConcat(h, Uint8Array.of(0)),
    authoritySetChange: j ? authoritySetChangeOf(s.number, s.setId) : Uint8Array.of(0),
    paraNumber: s.paraNumber,
    paraProof: paraProofOf(s.number),
    ...(s.live ? { liveJustification: true } : {}),
  }
}

export function paraRecord(p: number): ParaBlockRecord {
  const h = header(50, p)
  // StorageChanges { main: [(key, Some(value))], child: [] }
  const changes = u8aConcat(compactToU8a(1), scaleBytes(fill(60, p, 12)), Uint8Array.of(1), scaleBytes(fill(61, p, 20 + (p % 7))), compactToU8a(0))
  return { number: p, hash: fill(51, p, 32), header: h, dispatchBlockData: u8aConcat(h, changes) }
}

export function genesisRecord(c: ChainSpec): GenesisRecord {
  return { paraId: c.paraId, paraNumber: c.genesisPara, parentNumber: c.genesisParent, bridgeGenesisInfo: fill(70, 0, 100), genesisState: fill(71, 0, 300) }
}
