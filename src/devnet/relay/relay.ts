/**
 * The simulated relay chain (Polkadot's or Kusama's metadata, as the chain identity says): a BABE
 * pre-runtime digest and a timestamp inherent per block, `paras.heads` holding the latest para
 * header (with the ParaInclusion.CandidateIncluded event), `Paras.Parachains` / `ParaLifecycles`
 * naming the parachain, GRANDPA authorities that really sign (ed25519, derived from the seed per
 * set id), an authority set change every `sessionBlocks` blocks announced by a ScheduledChange
 * digest with delay 0, and justifications stored for set-change blocks and every
 * `justificationPeriod` blocks when they get finalized.
 *
 * The authority list lives where today's relay chains keep it: under the well-known
 * `:grandpa_authorities` key before block `grandpaV5At`, and from that block only in
 * `Grandpa.Authorities` (pallet-grandpa's v5 storage migration removed the well-known key).
 */
import { EventEmitter } from 'node:events'
import kusamaMetadata, { version as kusamaVersion } from '@polkadot/types-support/metadata/static-kusama'
import polkadotMetadata, { version as polkadotVersion } from '@polkadot/types-support/metadata/static-polkadot'
import { TypeRegistry, Metadata } from '@polkadot/types'
import { blake2AsU8a, ed25519PairFromSeed, xxhashAsU8a } from '@polkadot/util-crypto'
import { compactToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import {
  type Authority, type AuthorityKeypair, GRANDPA_AUTHORITIES_KEY, encodeAuthorityList, encodeGrandpaAuthoritiesValue,
  encodeJustification, grandpaDigestItem, signJustification, u32Le, u64Le,
} from '../../common/grandpa.js'
import { type BlockRecord, type ChainInfo, ChainStore } from '../chain/index.js'
import { identityOf, type ChainIdentity, DEVNET_NODE_SUFFIX } from '../identity.js'
import { relayEvents } from './events.js'
import { relayStateCall } from './relay-api.js'

export interface RelayInit {
  seed: string
  blockMs: number
  justificationPeriod: number
  sessionBlocks: number
  paraId: number
  /** Number of GRANDPA authorities per set (default 4). */
  authorities?: number
  genesisTimeMs: number
  /** Polkadot-like (default) or Kusama-like. */
  identity?: ChainIdentity
  /** First block whose state keeps the authorities only in Grandpa.Authorities (default 0: from genesis). */
  grandpaV5At?: number
}

/** BABE slots are 6 s on Polkadot and Kusama. */
const BABE_SLOT_MS = 6000
/**
 * System.BlockHash entries kept besides BlockHash(0). The relay chains keep 4096; the devnet keeps
 * a few, because every read proof rebuilds the trie of a block's whole state and thousands of
 * hash entries would make each one many times slower (the relay takes no transactions, so no
 * mortal era ever needs an old hash).
 */
const BLOCK_HASH_KEPT = 16

const twox128 = (s: string): Uint8Array => xxhashAsU8a(stringToU8a(s), 128)
const storageKey = (pallet: string, item: string): string => u8aToHex(u8aConcat(twox128(pallet), twox128(item)))

export const RELAY_KEYS = {
  systemNumber: storageKey('System', 'Number'),
  systemParentHash: storageKey('System', 'ParentHash'),
  systemEvents: storageKey('System', 'Events'),
  timestampNow: storageKey('Timestamp', 'Now'),
  sessionIndex: storageKey('Session', 'CurrentIndex'),
  grandpaSetId: storageKey('Grandpa', 'CurrentSetId'),
  grandpaAuthorities: storageKey('Grandpa', 'Authorities'),
  grandpaAuthoritiesWellKnown: GRANDPA_AUTHORITIES_KEY,
  parasParachains: storageKey('Paras', 'Parachains'),
}

/** `System.BlockHash(n)` (Twox64Concat of the u32). */
export function blockHashKey(n: number): string {
  const k = u32Le(n)
  return u8aToHex(u8aConcat(twox128('System'), twox128('BlockHash'), xxhashAsU8a(k, 64), k))
}

/** `Paras.ParaLifecycles(paraId)` (Twox64Concat of the u32). */
export function paraLifecyclesKey(paraId: number): string {
  const k = u32Le(paraId)
  return u8aToHex(u8aConcat(twox128('Paras'), twox128('ParaLifecycles'), xxhashAsU8a(k, 64), k))
}

/** DigestItem::PreRuntime(*b"BABE", PreDigest::SecondaryPlain { authority_index: u32, slot: u64 }). */
export function babePreDigest(authorityIndex: number, slot: number): string {
  const pre = u8aConcat(new Uint8Array([2]), u32Le(authorityIndex), u64Le(slot))
  return u8aToHex(u8aConcat(new Uint8Array([6]), stringToU8a('BABE'), compactToU8a(pre.length), pre))
}

/** Storage key of `paras.heads(paraId)` (Twox64Concat of the u32 para id). */
export function parasHeadsKey(paraId: number): string {
  const id = u32Le(paraId)
  return u8aToHex(u8aConcat(twox128('Paras'), twox128('Heads'), xxhashAsU8a(id, 64), id))
}

export class RelayChain {
  readonly chain = new ChainStore('relay')
  readonly init: Required<RelayInit>
  readonly info: ChainInfo
  readonly registry: TypeRegistry
  readonly #timestampCall: Uint8Array
  readonly #sets = new Map<number, { keys: AuthorityKeypair[]; authorities: Authority[] }>()
  readonly headsKey: string
  /**
   * What a GRANDPA voter announces (grandpa_subscribeJustifications): one justification per newly
   * finalized block, signed by the finalizing set. Signed only while someone listens.
   */
  readonly justifications = new EventEmitter<{ justification: [number, Uint8Array] }>()

  private constructor(init: RelayInit) {
    const identity = init.identity ?? identityOf(undefined)
    this.init = { authorities: 4, grandpaV5At: 0, ...init, identity }
    this.headsKey = parasHeadsKey(init.paraId)
    this.justifications.setMaxListeners(0)
    const kusama = identity.relay.name === 'Kusama'
    const metadataHex = kusama ? kusamaMetadata : polkadotMetadata
    const registry = new TypeRegistry()
    const md = new Metadata(registry, metadataHex)
    registry.setMetadata(md)
    this.registry = registry
    const ts = md.asLatest.pallets.find((p) => p.name.toString() === 'Timestamp')
    if (!ts) throw new Error('relay metadata has no Timestamp pallet')
    this.#timestampCall = new Uint8Array([ts.index.toNumber(), 0])
    const v15 = new Metadata(new TypeRegistry(), { magicNumber: 0x6174656d, metadata: { v15: md.asV15.toJSON() } } as never)
    this.info = {
      chain: this.chain,
      metadataHex,
      metadataV15Hex: v15.toHex(),
      // Our state roots are trie V0 (proofs are built with the V0 layout), so say so.
      runtimeVersion: { ...((kusama ? kusamaVersion : polkadotVersion) as Record<string, unknown>), stateVersion: 0 },
      systemChain: identity.relay.name,
      systemName: `Parity Polkadot (${DEVNET_NODE_SUFFIX})`,
      systemVersion: `1.2.0-${DEVNET_NODE_SUFFIX}`,
      properties: { ss58Format: identity.relay.ss58Format, tokenDecimals: identity.relay.tokenDecimals, tokenSymbol: identity.relay.tokenSymbol },
      stateCall: (method, data, block) => relayStateCall(this, method, data, block),
    }
  }

  /** Before the v5 move the list is under `:grandpa_authorities`, from it only in Grandpa.Authorities. */
  #authorityWrites(n: number, authorities: Authority[]): [string, string | null][] {
    if (n < this.init.grandpaV5At) return [[RELAY_KEYS.grandpaAuthoritiesWellKnown, u8aToHex(encodeGrandpaAuthoritiesValue(authorities))]]
    return [[RELAY_KEYS.grandpaAuthorities, u8aToHex(encodeAuthorityList(authorities))], [RELAY_KEYS.grandpaAuthoritiesWellKnown, null]]
  }

  /** The storage key holding the authority list in the state of block `n`. */
  authoritiesKeyAt(n: number): string {
    return n < this.init.grandpaV5At ? RELAY_KEYS.grandpaAuthoritiesWellKnown : RELAY_KEYS.grandpaAuthorities
  }

  /** Make the relay genesis block (the para is not registered yet: block 1 carries its genesis head). */
  static async create(init: RelayInit): Promise<RelayChain> {
    const r = new RelayChain(init)
    const set = r.authoritySet(0)
    const changes: [string, string | null][] = [
      [RELAY_KEYS.systemNumber, u8aToHex(u32Le(0))],
      [RELAY_KEYS.systemParentHash, '0x' + '00'.repeat(32)],
      [RELAY_KEYS.systemEvents, '0x00'],
      [RELAY_KEYS.timestampNow, u8aToHex(u64Le(init.genesisTimeMs))],
      [RELAY_KEYS.sessionIndex, u8aToHex(u32Le(0))],
      [RELAY_KEYS.grandpaSetId, u8aToHex(u64Le(0))],
      ...r.#authorityWrites(0, set.authorities),
      // frame_system's genesis writes hash69 here; block 1 overwrites it with the genesis hash.
      [blockHashKey(0), '0x' + '45'.repeat(32)],
      // The seed is part of genesis, so devnets with other seeds are other chains.
      [u8aToHex(stringToU8a(':devnet_seed')), u8aToHex(blake2AsU8a(stringToU8a(init.seed), 256))],
    ]
    await r.chain.append({ extrinsics: [], changes, digest: [], timestampMs: init.genesisTimeMs })
    r.chain.finalize(0)
    return r
  }

  /** Authorities (and their signing keys) of GRANDPA set `setId`, deterministic from the seed. */
  authoritySet(setId: number): { keys: AuthorityKeypair[]; authorities: Authority[] } {
    let s = this.#sets.get(setId)
    if (!s) {
      const keys = Array.from({ length: this.init.authorities }, (_, i) =>
        ed25519PairFromSeed(blake2AsU8a(stringToU8a(`${this.init.seed}/grandpa/${setId}/${i}`), 256)))
      s = { keys, authorities: keys.map((k) => ({ publicKey: u8aToHex(k.publicKey), weight: 1n })) }
      this.#sets.set(setId, s)
      if (this.#sets.size > 8) this.#sets.delete(this.#sets.keys().next().value!)
    }
    return s
  }

  /** Set id in the state of block `n` (it changes in the set-change block itself). */
  setIdAt(n: number): number {
    return Math.floor(n / this.init.sessionBlocks)
  }

  /** Set id of the authorities that finalize block `n` (a set-change block is finalized by the old set). */
  finalizingSetId(n: number): number {
    return n === 0 ? 0 : Math.floor((n - 1) / this.init.sessionBlocks)
  }

  isSetChange(n: number): boolean {
    return n > 0 && n % this.init.sessionBlocks === 0
  }

  timestampOf(n: number): number {
    return this.init.genesisTimeMs + n * this.init.blockMs
  }

  /** Produce the next relay block; `paraHeadHex` (SCALE para header) updates `paras.heads`. */
  async produce(paraHeadHex?: string): Promise<BlockRecord> {
    const parent = this.chain.best
    const n = parent.number + 1
    const now = this.timestampOf(n)
    const changes: [string, string | null][] = [
      [RELAY_KEYS.systemNumber, u8aToHex(u32Le(n))],
      [RELAY_KEYS.systemParentHash, parent.hash],
      [RELAY_KEYS.timestampNow, u8aToHex(u64Le(now))],
      [blockHashKey(n - 1), parent.hash],
    ]
    // frame_system prunes the hash BlockHashCount blocks back; BlockHash(0) is never pruned.
    if (n - BLOCK_HASH_KEPT - 1 > 0) changes.push([blockHashKey(n - BLOCK_HASH_KEPT - 1), null])
    if (n === 1) {
      // The para is registered with the first block (it carries the para genesis head).
      changes.push([RELAY_KEYS.parasParachains, u8aToHex(u8aConcat(compactToU8a(1), u32Le(this.init.paraId)))])
      changes.push([paraLifecyclesKey(this.init.paraId), '0x02']) // ParaLifecycle::Parachain
    }
    if (paraHeadHex) changes.push([this.headsKey, headData(paraHeadHex)])
    changes.push([RELAY_KEYS.systemEvents, relayEvents(this, n, paraHeadHex)])
    const slot = Math.floor(this.init.genesisTimeMs / BABE_SLOT_MS) + n
    const digest: string[] = [babePreDigest(n % this.init.authorities, slot)]
    const setId = this.setIdAt(n)
    if (this.isSetChange(n)) {
      const next = this.authoritySet(setId).authorities
      digest.push(grandpaDigestItem({ type: 'ScheduledChange', nextAuthorities: next, delay: 0 }))
      changes.push(
        [RELAY_KEYS.grandpaSetId, u8aToHex(u64Le(setId))],
        [RELAY_KEYS.sessionIndex, u8aToHex(u32Le(setId))],
        ...this.#authorityWrites(n, next),
      )
    } else if (n === this.init.grandpaV5At) {
      // pallet-grandpa's v5 migration: the current list moves to Grandpa.Authorities.
      changes.push(...this.#authorityWrites(n, this.authoritySet(setId).authorities))
    }
    const inherent = u8aConcat(new Uint8Array([0x04]), this.#timestampCall, compactToU8a(now))
    const xt = u8aToHex(u8aConcat(compactToU8a(inherent.length), inherent))
    return this.chain.append({ extrinsics: [xt], changes, digest, timestampMs: now })
  }

  /**
   * Finalize up to block `n`, storing a justification (signed by every authority of the finalizing
   * set) on each newly final set-change block and every justificationPeriod-th block.
   */
  finalize(n: number): void {
    const from = this.chain.finalizedNumber + 1
    const to = Math.min(n, this.chain.best.number)
    for (let b = Math.max(1, from); b <= to; b++) {
      if (this.isSetChange(b) || b % this.init.justificationPeriod === 0) this.justify(b)
    }
    this.chain.finalize(to)
    if (this.justifications.listenerCount('justification') === 0) return
    for (let b = Math.max(1, from); b <= to; b++) this.justifications.emit('justification', b, this.justificationOf(b))
  }

  /** The stored justification of block `b`, or a fresh one signed by its finalizing set (not stored). */
  justificationOf(b: number): Uint8Array {
    const rec = this.chain.byNumber(b)
    if (!rec) throw new Error(`relay block ${b} does not exist`)
    if (rec.justification) return rec.justification
    const setId = this.finalizingSetId(b)
    return encodeJustification(signJustification({ hash: rec.hash, number: b }, setId, b, this.authoritySet(setId).keys))
  }

  justify(b: number): void {
    const rec = this.chain.byNumber(b)
    if (!rec || rec.justification) return
    const setId = this.finalizingSetId(b)
    rec.justification = encodeJustification(signJustification({ hash: rec.hash, number: b }, setId, b, this.authoritySet(setId).keys))
  }
}

/** `paras.heads` value: HeadData(Vec<u8>) of the SCALE header, i.e. compact length ++ header bytes. */
function headData(headerHex: string): string {
  const len = (headerHex.length - 2) / 2
  return u8aToHex(compactToU8a(len)) + headerHex.slice(2)
}
