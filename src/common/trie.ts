/**
 * Substrate's base-16 Patricia-Merkle trie (blake2-256), as used for state roots, extrinsics
 * roots and storage read proofs.
 *
 * Roots and full node sets come from Substrate's own trie code compiled to wasm
 * (`@acala-network/chopsticks-executor`). Proof *reading* is done here in TypeScript, because the
 * wasm `decode_proof` silently skips nodes it cannot reach: it cannot tell "key absent" from
 * "proof incomplete". Walking the trie ourselves gives both a clear error on a bad proof and
 * minimal proofs (only the nodes on the paths to the asked keys).
 *
 * Proof nodes are made with the V0 layout (values inline): that is what `create_proof` builds, so
 * roots of states you want proofs for must be computed with version 0.
 */
import { blake2AsU8a } from '@polkadot/util-crypto'
import { compactToU8a, hexToU8a, u8aToHex } from '@polkadot/util'

export type TrieVersion = 0 | 1

export const EMPTY_TRIE_ROOT = '0x03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314'

interface Executor {
  calculate_state_root(entries: [string, string][], version: number): Promise<string>
  create_proof(nodes: string[], updates: [string, string | null][]): Promise<[string, string[]]>
}

let executor: Executor | undefined
/** Resolves once the wasm trie is loaded (loading inflates ~3 MB of wasm once per process). */
export const trieReady: Promise<void> = import('@acala-network/chopsticks-executor').then((m) => {
  executor = m as unknown as Executor
})

async function exec(): Promise<Executor> {
  if (!executor) await trieReady
  return executor!
}

function normHex(h: string): string {
  const s = h.startsWith('0x') ? h.toLowerCase() : '0x' + h.toLowerCase()
  return s
}

/** Storage root of a key/value set (keys and values as hex). Duplicate keys: the last wins. */
export async function stateRoot(entries: Iterable<readonly [string, string]>, version: TrieVersion = 0): Promise<string> {
  const list: [string, string][] = []
  for (const [k, v] of entries) list.push([normHex(k), normHex(v)])
  return (await exec()).calculate_state_root(list, version)
}

/** Substrate's `ordered_trie_root`: key = SCALE Compact<u32>(index), value = item bytes (extrinsics root). */
export async function orderedTrieRoot(items: readonly string[], version: TrieVersion = 0): Promise<string> {
  return stateRoot(items.map((v, i) => [u8aToHex(compactToU8a(i)), v] as const), version)
}

/**
 * All hashed nodes of a state's trie (V0 layout), indexed by hash: prove any keys of that state
 * without calling the wasm again. Build once per state you want to prove, then `prove(keys)`.
 */
export class TrieSnapshot {
  readonly root: string
  readonly #nodes: Map<string, Uint8Array>

  private constructor(root: string, nodes: Map<string, Uint8Array>) {
    this.root = root
    this.#nodes = nodes
  }

  static async build(entries: Iterable<readonly [string, string]>): Promise<TrieSnapshot> {
    const updates: [string, string][] = []
    for (const [k, v] of entries) updates.push([normHex(k), normHex(v)])
    if (updates.length === 0) return new TrieSnapshot(EMPTY_TRIE_ROOT, new Map([[EMPTY_TRIE_ROOT, new Uint8Array([0])]]))
    const [root, nodes] = await (await exec()).create_proof([], updates)
    const map = new Map<string, Uint8Array>()
    for (const n of nodes) {
      const bytes = hexToU8a(n)
      map.set(u8aToHex(blake2AsU8a(bytes, 256)), bytes)
    }
    return new TrieSnapshot(root, map)
  }

  /** The nodes a verifier needs to read `keys` (present or absent) against `root`. */
  prove(keys: readonly string[]): string[] {
    const used = new Set<string>()
    for (const key of keys) lookup(this.root, this.#nodes, keyNibbles(normHex(key)), used)
    return [...used].map((h) => u8aToHex(this.#nodes.get(h)!))
  }

  /** Number of hashed nodes (for tests and memory estimates). */
  get size(): number {
    return this.#nodes.size
  }
}

/** A read proof for `keys` of a state given as entries. Version 0 layout (see the module comment). */
export async function createProof(
  source: Iterable<readonly [string, string]> | TrieSnapshot,
  keys: readonly string[],
): Promise<{ root: string; nodes: string[] }> {
  const snap = source instanceof TrieSnapshot ? source : await TrieSnapshot.build(source)
  return { root: snap.root, nodes: snap.prove(keys) }
}

export class TrieProofError extends Error {
  override name = 'TrieProofError'
}

/**
 * Read `keys` from a proof against `root`. Value hex, or null when the proof shows the key is
 * absent. Throws TrieProofError when a node on the path is missing or malformed (an incomplete or
 * tampered proof): a tampered node has another hash, so it simply is not found.
 */
export function verifyProof(root: string, nodes: readonly (string | Uint8Array)[], keys: readonly string[]): Map<string, string | null> {
  const db = new Map<string, Uint8Array>()
  for (const n of nodes) {
    const bytes = typeof n === 'string' ? hexToU8a(n) : n
    db.set(u8aToHex(blake2AsU8a(bytes, 256)), bytes)
  }
  const out = new Map<string, string | null>()
  for (const key of keys) {
    const v = lookup(normHex(root), db, keyNibbles(normHex(key)), undefined)
    out.set(key, v === null ? null : u8aToHex(v))
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Node codec (sp-trie NodeCodec, LayoutV0 and V1), read side only.

function keyNibbles(keyHex: string): number[] {
  const b = hexToU8a(keyHex)
  const out = new Array<number>(b.length * 2)
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = b[i]! >> 4
    out[2 * i + 1] = b[i]! & 15
  }
  return out
}

interface Decoded {
  kind: 'empty' | 'leaf' | 'branch'
  partial: number[]
  /** Inline value, or the hash of a hashed (V1) value. */
  value?: { inline: Uint8Array } | { hash: Uint8Array }
  children?: (Uint8Array | undefined)[] // 32-byte hash, or an inline node (< 32 bytes)
  childIsHash?: boolean[]
}

class Reader {
  pos = 0
  constructor(readonly b: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new TrieProofError('malformed trie node: unexpected end')
    return this.b[this.pos++]!
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new TrieProofError('malformed trie node: unexpected end')
    const out = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  compact(): number {
    const b0 = this.byte()
    const mode = b0 & 3
    if (mode === 0) return b0 >> 2
    if (mode === 1) return (b0 | (this.byte() << 8)) >> 2
    if (mode === 2) return ((b0 | (this.byte() << 8) | (this.byte() << 16)) >>> 2) + this.byte() * (1 << 22)
    throw new TrieProofError('malformed trie node: length too large')
  }
}

function decodeNode(bytes: Uint8Array): Decoded {
  const r = new Reader(bytes)
  const h = r.byte()
  let kind: 'leaf' | 'branch'
  let hasValue: boolean
  let hashedValue = false
  let bits: number
  if (h === 0) return { kind: 'empty', partial: [] }
  const top2 = h >> 6
  if (top2 === 1) { kind = 'leaf'; hasValue = true; bits = 6 }
  else if (top2 === 2) { kind = 'branch'; hasValue = false; bits = 6 }
  else if (top2 === 3) { kind = 'branch'; hasValue = true; bits = 6 }
  else if (h >> 5 === 1) { kind = 'leaf'; hasValue = true; hashedValue = true; bits = 5 }
  else if (h >> 4 === 1) { kind = 'branch'; hasValue = true; hashedValue = true; bits = 4 }
  else throw new TrieProofError(`malformed trie node: header 0x${h.toString(16)}`)
  const max = (1 << bits) - 1
  let count = h & max
  if (count === max) {
    for (;;) {
      const n = r.byte()
      count += n
      if (n < 255) break
    }
  }
  const partBytes = r.take((count + 1) >> 1)
  const partial: number[] = []
  const start = count % 2 === 1 ? 1 : 0
  if (start === 1) partial.push(partBytes[0]! & 15)
  for (let i = start; i < partBytes.length; i++) partial.push(partBytes[i]! >> 4, partBytes[i]! & 15)
  const node: Decoded = { kind, partial }
  if (kind === 'leaf') {
    node.value = hashedValue ? { hash: r.take(32) } : { inline: r.take(r.compact()) }
    return node
  }
  const bitmap = r.byte() | (r.byte() << 8)
  if (hasValue) node.value = hashedValue ? { hash: r.take(32) } : { inline: r.take(r.compact()) }
  node.children = new Array(16)
  node.childIsHash = new Array(16).fill(false)
  for (let i = 0; i < 16; i++) {
    if (bitmap & (1 << i)) {
      const len = r.compact()
      node.children[i] = r.take(len)
      node.childIsHash[i] = len === 32
    }
  }
  return node
}

function fetchNode(db: Map<string, Uint8Array>, hash: string, used: Set<string> | undefined): Uint8Array {
  const n = db.get(hash)
  if (!n) throw new TrieProofError(`incomplete or tampered proof: trie node ${hash} is missing`)
  used?.add(hash)
  return n
}

function readValue(v: NonNullable<Decoded['value']>, db: Map<string, Uint8Array>, used: Set<string> | undefined): Uint8Array {
  if ('inline' in v) return v.inline
  return fetchNode(db, u8aToHex(v.hash), used)
}

/** Value at `key` (nibbles), null when provably absent; throws on a missing node. */
function lookup(root: string, db: Map<string, Uint8Array>, key: number[], used: Set<string> | undefined): Uint8Array | null {
  let bytes = fetchNode(db, root, used)
  let pos = 0
  for (;;) {
    const node = decodeNode(bytes)
    if (node.kind === 'empty') return null
    const p = node.partial
    for (let i = 0; i < p.length; i++) if (key[pos + i] !== p[i]) return null
    if (pos + p.length > key.length) return null
    pos += p.length
    if (node.kind === 'leaf') return pos === key.length ? readValue(node.value!, db, used) : null
    if (pos === key.length) return node.value ? readValue(node.value, db, used) : null
    const idx = key[pos]!
    const child = node.children![idx]
    if (!child) return null
    pos += 1
    bytes = node.childIsHash![idx] ? fetchNode(db, u8aToHex(child), used) : child
  }
}

// ---------------------------------------------------------------------------------------------
// Incremental trie (V0 layout): a mutable radix-16 tree with cached node references, so the
// root after a block costs only the changed paths instead of re-hashing the whole state.

/** A V0 trie node as the incremental tries keep it (here mutable; the devnet pRuntime's shared). */
export interface TrieNodeShape {
  /** Partial key, as hex nibbles. */
  readonly p: string
  readonly v?: Uint8Array
  /** Children by nibble, for a branch; undefined for a leaf. */
  readonly c?: ReadonlyArray<TrieNodeShape | undefined>
  /** Cached child reference: the encoding when < 32 bytes, else its hash. */
  ref?: Uint8Array
}

interface TNode extends TrieNodeShape {
  p: string
  v?: Uint8Array
  c?: (TNode | undefined)[]
}

function lcp(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function sizeHeader(prefix: number, size: number): number[] {
  // sp-trie NodeHeader, 2-bit prefix: sizes up to 62 fit the first byte, then continuation bytes.
  if (size < 63) return [prefix | size]
  const out = [prefix | 63]
  let rem = size - 62
  while (rem >= 256) {
    out.push(255)
    rem -= 255
  }
  out.push(rem - 1)
  return out
}

/** A node's encoding (sp-trie V0 layout); children by their memoised references. */
export function encodeTrieNode(n: TrieNodeShape): Uint8Array {
  const parts: Uint8Array[] = []
  const isLeaf = n.c === undefined
  const prefix = isLeaf ? 0x40 : n.v !== undefined ? 0xc0 : 0x80
  const nib = n.p
  const head = sizeHeader(prefix, nib.length)
  const pk = new Uint8Array((nib.length + 1) >> 1)
  let j = 0
  let i = 0
  if (nib.length % 2 === 1) pk[j++] = parseInt(nib[i++]!, 16)
  for (; i < nib.length; i += 2) pk[j++] = parseInt(nib.slice(i, i + 2), 16)
  parts.push(new Uint8Array(head), pk)
  if (isLeaf) {
    parts.push(compactToU8a(n.v!.length), n.v!)
  } else {
    let bitmap = 0
    const kids: Uint8Array[] = []
    for (let k = 0; k < 16; k++) {
      const ch = n.c![k]
      if (!ch) continue
      bitmap |= 1 << k
      const ref = trieNodeRef(ch)
      kids.push(compactToU8a(ref.length), ref)
    }
    parts.push(new Uint8Array([bitmap & 0xff, bitmap >> 8]))
    if (n.v !== undefined) parts.push(compactToU8a(n.v.length), n.v)
    parts.push(...kids)
  }
  let len = 0
  for (const p of parts) len += p.length
  const out = new Uint8Array(len)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

/** A node's reference from its parent: its encoding when under 32 bytes, else its hash (memoised). */
export function trieNodeRef(n: TrieNodeShape): Uint8Array {
  if (!n.ref) {
    const enc = encodeTrieNode(n)
    n.ref = enc.length >= 32 ? blake2AsU8a(enc, 256) : enc
  }
  return n.ref
}

function tInsert(node: TNode | undefined, path: string, value: Uint8Array): TNode {
  if (!node) return { p: path, v: value }
  node.ref = undefined
  const common = lcp(node.p, path)
  if (common === node.p.length) {
    if (common === path.length) {
      node.v = value
      return node
    }
    if (!node.c) node.c = new Array(16)
    const idx = parseInt(path[common]!, 16)
    node.c[idx] = tInsert(node.c[idx], path.slice(common + 1), value)
    return node
  }
  // Split: a new branch at the common prefix.
  const branch: TNode = { p: path.slice(0, common), c: new Array(16) }
  branch.c![parseInt(node.p[common]!, 16)] = node
  node.p = node.p.slice(common + 1)
  if (common === path.length) branch.v = value
  else branch.c![parseInt(path[common]!, 16)] = { p: path.slice(common + 1), v: value }
  return branch
}

function tDelete(node: TNode | undefined, path: string): TNode | undefined {
  if (!node || !path.startsWith(node.p)) return node
  if (path.length === node.p.length) {
    if (node.v === undefined) return node
    node.ref = undefined
    if (!node.c) return undefined
    node.v = undefined
    return tNormalize(node)
  }
  if (!node.c) return node
  const idx = parseInt(path[node.p.length]!, 16)
  const before = node.c[idx]
  const after = tDelete(before, path.slice(node.p.length + 1))
  if (after === before && (!after || after.ref !== undefined)) return node
  node.ref = undefined
  node.c[idx] = after
  return tNormalize(node)
}

function tNormalize(node: TNode): TNode | undefined {
  let count = 0
  let only = -1
  for (let k = 0; k < 16; k++) {
    if (node.c![k]) {
      count++
      only = k
    }
  }
  if (count === 0) {
    if (node.v === undefined) return undefined
    node.c = undefined
    return node
  }
  if (count === 1 && node.v === undefined) {
    const child = node.c![only]!
    child.p = node.p + only.toString(16) + child.p
    child.ref = undefined
    return child
  }
  return node
}

/** A state trie kept in memory and updated key by key; `root()` re-hashes only what changed. V0 layout. */
export class IncrementalTrie {
  #root: TNode | undefined

  /** Set `key` to `value`, or delete it when `value` is null (hex, 0x-prefixed). */
  set(key: string, value: string | null): void {
    const path = normHex(key).slice(2)
    this.#root = value === null ? tDelete(this.#root, path) : tInsert(this.#root, path, hexToU8a(value))
  }

  root(): string {
    if (!this.#root) return EMPTY_TRIE_ROOT
    return u8aToHex(blake2AsU8a(encodeTrieNode(this.#root), 256))
  }
}
