/**
 * Direct SCALE decoders of pRuntime's hottest inputs: SyncCombinedHeadersReq (every header range; the
 * devnet pRuntime checks it, the lifecycle merges consecutive ones) and StorageState (InitRuntime's
 * genesis, LoadChainState). Decoding these through the
 * polkadot-js type registry built a codec object per header, digest item and byte vector, then
 * re-encoded everything to check canonicity and to get each header's bytes back: that was most of a
 * header sync's time. Here the bytes are walked once and headers come out as slices of the request.
 *
 * Exactly as strict as parity-scale-codec in pRuntime (and as bridge-types' decodeExact): compact
 * integers must be canonical (the smallest mode, "out of range decoding Compact<u32>" otherwise),
 * Option tags are 0 or 1, DigestItem variants are those of sp_runtime (Other 0, Consensus 4, Seal 5,
 * PreRuntime 6, RuntimeEnvironmentUpdated 8), and no byte may be left over.
 */

/** One relay header of a request: its SCALE bytes and its justification, if any. */
export interface RelayHeaderIn {
  encoded: Uint8Array
  justification: Uint8Array | null
}

export class ScaleInputError extends Error {
  override name = 'ScaleInputError'
}

class Reader {
  pos = 0
  constructor(readonly b: Uint8Array, readonly what: string) {}

  fail(why: string): never {
    throw new ScaleInputError(`cannot decode ${this.what} from ${this.b.length} bytes: ${why} at byte ${this.pos}`)
  }

  skip(n: number): void {
    if (n > this.b.length - this.pos) this.fail(`input too short (wanted ${n} bytes)`)
    this.pos += n
  }

  take(n: number): Uint8Array {
    const start = this.pos
    this.skip(n)
    return this.b.subarray(start, this.pos)
  }

  u8(): number {
    if (this.pos >= this.b.length) this.fail('input too short (wanted 1 byte)')
    return this.b[this.pos++]!
  }

  /** Compact<u32>, canonical only (parity-scale-codec rejects a value that fits a smaller mode). */
  compact(): number {
    const b0 = this.u8()
    switch (b0 & 3) {
      case 0:
        return b0 >>> 2
      case 1: {
        const v = (b0 | (this.u8() << 8)) >>> 2
        if (v <= 0x3f) this.fail('out of range decoding Compact<u32>')
        return v
      }
      case 2: {
        const v = ((b0 | (this.u8() << 8) | (this.u8() << 16)) >>> 2) + this.u8() * (1 << 22)
        if (v <= 0x3fff) this.fail('out of range decoding Compact<u32>')
        return v
      }
      default: {
        if (b0 >>> 2 !== 0) this.fail('out of range decoding Compact<u32>') // more than 4 bytes
        const t = this.take(4)
        const v = (t[0]! | (t[1]! << 8) | (t[2]! << 16)) + t[3]! * 0x1000000
        if (v <= 0x3fffffff) this.fail('out of range decoding Compact<u32>')
        return v
      }
    }
  }

  /** A Vec<u8>'s bytes. */
  bytes(): Uint8Array {
    return this.take(this.compact())
  }

  /** Option tag: true for Some. */
  option(): boolean {
    const t = this.u8()
    if (t > 1) this.fail(`invalid Option tag ${t}`)
    return t === 1
  }

  /** One sp_runtime Header, returned as its own bytes. */
  header(): Uint8Array {
    const start = this.pos
    this.skip(32) // parent_hash
    this.compact() // number
    this.skip(64) // state_root, extrinsics_root
    const logs = this.compact()
    for (let i = 0; i < logs; i++) {
      const kind = this.u8()
      if (kind === 4 || kind === 5 || kind === 6) {
        this.skip(4)
        this.skip(this.compact())
      } else if (kind === 0) {
        this.skip(this.compact())
      } else if (kind !== 8) {
        this.fail(`unknown DigestItem variant ${kind}`)
      }
    }
    return this.b.subarray(start, this.pos)
  }

  /** StorageProof: Vec<Vec<u8>>. */
  byteVecs(): Uint8Array[] {
    const n = this.compact()
    const out: Uint8Array[] = []
    for (let i = 0; i < n; i++) out.push(this.bytes())
    return out
  }

  end(): void {
    if (this.pos !== this.b.length) this.fail(`${this.b.length - this.pos} bytes left over`)
  }
}

/** A SCALE header's number (the Compact<u32> after its 32-byte parent hash), without decoding the rest. */
export function headerNumber(encoded: Uint8Array): number {
  const r = new Reader(encoded, 'Header')
  r.skip(32)
  return r.compact()
}

export interface SyncCombinedHeaders {
  relay: RelayHeaderIn[]
  /**
   * The encoded Some payload (AuthoritySetChange) when given, else null; well-formed when present.
   * The devnet pRuntime does not use it (the last header's ScheduledChange carries the set).
   */
  authoritySetChange: Uint8Array | null
  para: Uint8Array[]
  proof: Uint8Array[]
  /** The encoded StorageProof (Vec<Vec<u8>>) as it came. */
  proofBytes: Uint8Array
}

/** SyncCombinedHeadersReq { relaychain_headers: Vec<HeaderToSync>, authority_set_change: Option<AuthoritySetChange>, parachain_headers: Vec<Header>, proof: StorageProof }. */
export function decodeSyncCombinedHeaders(body: Uint8Array): SyncCombinedHeaders {
  const r = new Reader(body, 'SyncCombinedHeadersReq')
  const n = r.compact()
  const relay: RelayHeaderIn[] = []
  for (let i = 0; i < n; i++) {
    const encoded = r.header()
    const justification = r.option() ? r.bytes() : null
    relay.push({ encoded, justification })
  }
  let authoritySetChange: Uint8Array | null = null
  if (r.option()) {
    const start = r.pos
    const authorities = r.compact()
    r.skip(authorities * 40) // ([u8; 32], u64) each
    r.skip(8) // set id
    r.byteVecs() // its proof
    authoritySetChange = body.subarray(start, r.pos)
  }
  const m = r.compact()
  const para: Uint8Array[] = []
  for (let i = 0; i < m; i++) para.push(r.header())
  const proofStart = r.pos
  const proof = r.byteVecs()
  const proofBytes = body.subarray(proofStart, r.pos)
  r.end()
  return { relay, authoritySetChange, para, proof, proofBytes }
}

/** StorageState: Vec<(Vec<u8>, Vec<u8>)> (InitRuntime's genesis state, LoadChainState's state). */
export function decodeStoragePairs(body: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  const r = new Reader(body, 'StorageState')
  const n = r.compact()
  const out: Array<[Uint8Array, Uint8Array]> = []
  // Copies: the state outlives the request body it came in.
  for (let i = 0; i < n; i++) out.push([r.bytes().slice(), r.bytes().slice()])
  r.end()
  return out
}
