/**
 * The simulated relay chain (Kusama metadata): a timestamp inherent per block, `paras.heads`
 * holding the latest para header, GRANDPA authorities that really sign (ed25519, derived from the
 * seed per set id), an authority set change every `sessionBlocks` blocks announced by a
 * ScheduledChange digest with delay 0, and justifications stored for set-change blocks and every
 * `justificationPeriod` blocks when they get finalized.
 */
import { EventEmitter } from 'node:events'
import kusamaMetadata, { version as kusamaVersion } from '@polkadot/types-support/metadata/static-kusama'
import { TypeRegistry, Metadata } from '@polkadot/types'
import { blake2AsU8a, ed25519PairFromSeed, xxhashAsU8a } from '@polkadot/util-crypto'
import { compactToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import {
  type Authority, type AuthorityKeypair, GRANDPA_AUTHORITIES_KEY, encodeAuthorityList, encodeGrandpaAuthoritiesValue,
  encodeJustification, grandpaDigestItem, signJustification, u32Le, u64Le,
} from '../../common/grandpa.js'
import { type BlockRecord, type ChainInfo, ChainStore } from '../chain/index.js'

export interface RelayInit {
  seed: string
  blockMs: number
  justificationPeriod: number
  sessionBlocks: number
  paraId: number
  /** Number of GRANDPA authorities per set (default 4). */
  authorities?: number
  genesisTimeMs: number
}

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
  readonly #timestampCall: Uint8Array
  readonly #sets = new Map<number, { keys: AuthorityKeypair[]; authorities: Authority[] }>()
  readonly headsKey: string
  /**
   * What a GRANDPA voter announces (grandpa_subscribeJustifications): one justification per newly
   * finalized block, signed by the finalizing set. Signed only while someone listens.
   */
  readonly justifications = new EventEmitter<{ justification: [number, Uint8Array] }>()

  private constructor(init: RelayInit) {
    this.init = { authorities: 4, ...init }
    this.headsKey = parasHeadsKey(init.paraId)
    this.justifications.setMaxListeners(0)
    const registry = new TypeRegistry()
    const md = new Metadata(registry, kusamaMetadata)
    const ts = md.asLatest.pallets.find((p) => p.name.toString() === 'Timestamp')
    if (!ts) throw new Error('relay metadata has no Timestamp pallet')
    this.#timestampCall = new Uint8Array([ts.index.toNumber(), 0])
    this.info = {
      chain: this.chain,
      metadataHex: kusamaMetadata,
      // Our state roots are trie V0 (proofs are built with the V0 layout), so say so.
      runtimeVersion: { ...(kusamaVersion as Record<string, unknown>), stateVersion: 0 },
      systemChain: 'Kusama',
      systemName: 'Parity Polkadot',
      systemVersion: '1.2.0-prb-devnet',
      properties: { ss58Format: 2, tokenDecimals: 12, tokenSymbol: 'KSM' },
    }
  }

  /** Make the relay genesis block (the para is not registered yet: block 1 carries its genesis head). */
  static async create(init: RelayInit): Promise<RelayChain> {
    const r = new RelayChain(init)
    const set = r.authoritySet(0)
    const changes: [string, string][] = [
      [RELAY_KEYS.systemNumber, u8aToHex(u32Le(0))],
      [RELAY_KEYS.systemParentHash, '0x' + '00'.repeat(32)],
      [RELAY_KEYS.systemEvents, '0x00'],
      [RELAY_KEYS.timestampNow, u8aToHex(u64Le(init.genesisTimeMs))],
      [RELAY_KEYS.sessionIndex, u8aToHex(u32Le(0))],
      [RELAY_KEYS.grandpaSetId, u8aToHex(u64Le(0))],
      [RELAY_KEYS.grandpaAuthorities, u8aToHex(encodeAuthorityList(set.authorities))],
      [RELAY_KEYS.grandpaAuthoritiesWellKnown, u8aToHex(encodeGrandpaAuthoritiesValue(set.authorities))],
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
    const changes: [string, string][] = [
      [RELAY_KEYS.systemNumber, u8aToHex(u32Le(n))],
      [RELAY_KEYS.systemParentHash, parent.hash],
      [RELAY_KEYS.timestampNow, u8aToHex(u64Le(now))],
    ]
    if (paraHeadHex) changes.push([this.headsKey, headData(paraHeadHex)])
    const digest: string[] = []
    if (this.isSetChange(n)) {
      const setId = this.setIdAt(n)
      const next = this.authoritySet(setId).authorities
      digest.push(grandpaDigestItem({ type: 'ScheduledChange', nextAuthorities: next, delay: 0 }))
      changes.push(
        [RELAY_KEYS.grandpaSetId, u8aToHex(u64Le(setId))],
        [RELAY_KEYS.sessionIndex, u8aToHex(u32Le(setId))],
        [RELAY_KEYS.grandpaAuthorities, u8aToHex(encodeAuthorityList(next))],
        [RELAY_KEYS.grandpaAuthoritiesWellKnown, u8aToHex(encodeGrandpaAuthoritiesValue(next))],
      )
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
