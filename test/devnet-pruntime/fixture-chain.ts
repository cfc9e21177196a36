/**
 * A tiny relay + para chain for the pRuntime tests, built from the real primitives (trie roots
 * and proofs, GRANDPA justifications, FRNK digests), independent of the devnet chain engine.
 */
import { ed25519PairFromSeed, blake2AsU8a } from '@polkadot/util-crypto'
import { compactToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import {
  encodeGrandpaAuthoritiesValue,
  encodeHeader,
  encodeJustification,
  grandpaDigestItem,
  hashHeader,
  signJustification,
  u32Le,
  u64Le,
  type Authority,
  type AuthorityKeypair,
  type Header,
  GRANDPA_AUTHORITIES_KEY,
} from '../../src/common/grandpa.js'
import { createProof, stateRoot } from '../../src/common/trie.js'
import {
  encodeBlockHeaderWithChanges,
  encodeDispatchBlockReq,
  encodeGenesisInfo,
  encodeStorageChanges,
  encodeStorageState,
  encodeSyncCombinedHeadersReq,
} from '../../src/common/bridge-types.js'
import { GRANDPA_CURRENT_SET_ID_KEY, PARACHAIN_ID_KEY, TIMESTAMP_NOW_KEY, parasHeadsKey } from '../../src/devnet/pruntime/storage-keys.js'

const ZERO = '0x' + '00'.repeat(32)

function keys(tag: string, n: number): AuthorityKeypair[] {
  return Array.from({ length: n }, (_, i) => ed25519PairFromSeed(blake2AsU8a(stringToU8a(`${tag}/${i}`), 256)))
}

function authoritiesOf(ks: AuthorityKeypair[]): Authority[] {
  return ks.map((k) => ({ publicKey: u8aToHex(k.publicKey), weight: 1n }))
}

export interface RelayBlock {
  header: Header
  encoded: Uint8Array
  hash: string
  state: Map<string, string>
  /** Set id whose authorities must sign this block's justification. */
  signerSetId: bigint
  signers: AuthorityKeypair[]
  /** Para header number recorded in Paras.Heads at this block. */
  paraHead: number
}

export interface ParaBlock {
  header: Header
  encoded: Uint8Array
  hash: string
  state: Map<string, string>
  changes: Array<[string, string | null]>
  rawChanges: Uint8Array
}

export class FixtureChain {
  readonly paraId: number
  relay: RelayBlock[] = []
  para: ParaBlock[] = []
  setId = 0n
  current: AuthorityKeypair[]
  #setTag = 0

  private constructor(paraId: number) {
    this.paraId = paraId
    this.current = keys('set0', 4)
  }

  static async create(paraId = 2004, startRelayNumber = 100): Promise<FixtureChain> {
    const c = new FixtureChain(paraId)
    const pState = new Map<string, string>([
      [PARACHAIN_ID_KEY, u8aToHex(u32Le(paraId))],
      [TIMESTAMP_NOW_KEY, u8aToHex(u64Le(1_700_000_000_000n))],
      ['0x' + 'aa'.repeat(32), '0x01'],
    ])
    const pHeader: Header = { parentHash: ZERO, number: 0, stateRoot: await stateRoot(pState), extrinsicsRoot: ZERO, digest: [] }
    const pEnc = encodeHeader(pHeader)
    c.para.push({ header: pHeader, encoded: pEnc, hash: hashHeader(pEnc), state: pState, changes: [], rawChanges: new Uint8Array([0, 0]) })
    await c.#pushRelay(startRelayNumber, ZERO, [], c.current)
    return c
  }

  async #pushRelay(number: number, parentHash: string, digest: string[], signers: AuthorityKeypair[]): Promise<RelayBlock> {
    const lastPara = this.para[this.para.length - 1]!
    const state = new Map<string, string>([
      [GRANDPA_AUTHORITIES_KEY, u8aToHex(encodeGrandpaAuthoritiesValue(authoritiesOf(this.current)))],
      [GRANDPA_CURRENT_SET_ID_KEY, u8aToHex(u64Le(this.setId))],
      [parasHeadsKey(this.paraId), u8aToHex(u8aConcat(compactToU8a(lastPara.encoded.length), lastPara.encoded))],
      ['0x' + 'bb'.repeat(16) + number.toString(16).padStart(8, '0'), '0x02'],
    ])
    const header: Header = { parentHash, number, stateRoot: await stateRoot(state), extrinsicsRoot: ZERO, digest }
    const encoded = encodeHeader(header)
    const b: RelayBlock = { header, encoded, hash: hashHeader(encoded), state, signerSetId: 0n, signers, paraHead: lastPara.header.number }
    this.relay.push(b)
    return b
  }

  /** A para block with the given changes (plus a new timestamp). */
  async addParaBlock(changes: Array<[string, string | null]> = []): Promise<ParaBlock> {
    const prev = this.para[this.para.length - 1]!
    const number = prev.header.number + 1
    const all: Array<[string, string | null]> = [[TIMESTAMP_NOW_KEY, u8aToHex(u64Le(1_700_000_000_000n + BigInt(number) * 12_000n))], ...changes]
    const state = new Map(prev.state)
    for (const [k, v] of all) {
      if (v === null) state.delete(k)
      else state.set(k, v)
    }
    const header: Header = { parentHash: prev.hash, number, stateRoot: await stateRoot(state), extrinsicsRoot: ZERO, digest: [] }
    const encoded = encodeHeader(header)
    const rawChanges = encodeStorageChanges({ mainStorageChanges: all, childStorageChanges: [] })
    const b: ParaBlock = { header, encoded, hash: hashHeader(encoded), state, changes: all, rawChanges }
    this.para.push(b)
    return b
  }

  /** A relay block recording the latest para head; `newSet` schedules a set change (delay 0) in it. */
  async addRelayBlock(opts: { newSet?: boolean } = {}): Promise<RelayBlock> {
    const prev = this.relay[this.relay.length - 1]!
    const signers = this.current
    const signerSetId = this.setId
    const digest: string[] = []
    if (opts.newSet) {
      this.#setTag++
      this.current = keys(`set${this.#setTag}`, 4)
      this.setId++
      digest.push(grandpaDigestItem({ type: 'ScheduledChange', nextAuthorities: authoritiesOf(this.current), delay: 0 }))
    }
    const b = await this.#pushRelay(prev.header.number + 1, prev.hash, digest, signers)
    b.signerSetId = signerSetId
    return b
  }

  relayByNumber(n: number): RelayBlock {
    const b = this.relay.find((r) => r.header.number === n)
    if (!b) throw new Error(`no relay block ${n}`)
    return b
  }

  justification(b: RelayBlock, signers: AuthorityKeypair[] = b.signers, setId: bigint = b.signerSetId): Uint8Array {
    return encodeJustification(signJustification({ hash: b.hash, number: b.header.number }, setId, 1n, signers))
  }

  async genesisInfo(): Promise<Uint8Array> {
    const g = this.relay[0]!
    const { nodes } = await createProof(g.state, [GRANDPA_AUTHORITIES_KEY, GRANDPA_CURRENT_SET_ID_KEY])
    return encodeGenesisInfo({ header: g.encoded, authoritySet: { authoritySet: authoritiesOf(keys('set0', 4)).map((a) => [a.publicKey, a.weight]), setId: 0 }, proof: nodes })
  }

  genesisState(): Uint8Array {
    return encodeStorageState([...this.para[0]!.state])
  }

  /** Relay headers (from..to], the last justified; para headers (paraFrom..head at `to`] with their proof. */
  async combined(relayFrom: number, relayTo: number, paraFrom: number, opts: { justification?: Uint8Array } = {}): Promise<Uint8Array> {
    const relay = this.relay.filter((r) => r.header.number >= relayFrom && r.header.number <= relayTo)
    const last = relay[relay.length - 1]!
    const paraHeaders = this.para.filter((p) => p.header.number >= paraFrom && p.header.number <= last.paraHead)
    const proof = paraHeaders.length > 0 ? (await createProof(last.state, [parasHeadsKey(this.paraId)])).nodes : []
    return encodeSyncCombinedHeadersReq({
      relaychainHeaders: relay.map((r, i) => ({ header: r.encoded, justification: i === relay.length - 1 ? (opts.justification ?? this.justification(r)) : null })),
      authoritySetChange: null,
      parachainHeaders: paraHeaders.map((p) => p.encoded),
      proof,
    })
  }

  dispatch(from: number, to: number): Uint8Array {
    return encodeDispatchBlockReq(this.para.filter((p) => p.header.number >= from && p.header.number <= to).map((p) => encodeBlockHeaderWithChanges(p.encoded, p.rawChanges)))
  }
}

