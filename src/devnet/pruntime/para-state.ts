/**
 * A worker's para state as an immutable base-16 Patricia-Merkle trie (Substrate's V0 layout,
 * blake2-256): applying a block's changes copies only the changed paths and re-hashes only them, and
 * every node's reference is computed once. States are values, so hundreds of simulated pRuntimes in
 * one process share the unchanged nodes, and a state reached the same way is the same object (the
 * transition cache below).
 *
 * Why not the wasm `stateRoot` over all entries: it costs ~100-300 ms per block for the devnet's
 * ~1,000 keys, per worker, which made the simulated pRuntimes the bottleneck of every sync benchmark.
 * Strictness is unchanged: every block's root is still computed from the worker's own state plus
 * that block's changes, and compared with the synced header's state root.
 */
import { createHash } from 'node:crypto'
import { blake2AsU8a } from '@polkadot/util-crypto'
import { u8aToHex } from '@polkadot/util'
import { LRUCache } from 'lru-cache'
import { EMPTY_TRIE_ROOT, encodeTrieNode } from '../../common/trie.js'

interface PNode {
  /** Partial key, hex nibbles. */
  readonly p: string
  readonly v?: Uint8Array
  /** Children by nibble (a branch); undefined for a leaf. Never mutated once the node is shared. */
  readonly c?: ReadonlyArray<PNode | undefined>
  /** Memoised child reference: the encoding when < 32 bytes, else its hash. */
  ref?: Uint8Array
}

const NIB = '0123456789abcdef'

function lcp(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function nib(s: string, i: number): number {
  const c = s.charCodeAt(i)
  return c <= 57 ? c - 48 : c - 87
}

function insert(node: PNode | undefined, path: string, value: Uint8Array): PNode {
  if (!node) return { p: path, v: value }
  const common = lcp(node.p, path)
  if (common === node.p.length) {
    if (common === path.length) return node.c ? { p: node.p, v: value, c: node.c } : { p: node.p, v: value }
    const c = node.c ? node.c.slice() : new Array<PNode | undefined>(16)
    const idx = nib(path, common)
    c[idx] = insert(c[idx], path.slice(common + 1), value)
    return node.v !== undefined ? { p: node.p, v: node.v, c } : { p: node.p, c }
  }
  // Split: a new branch at the common prefix; the old node moves below it with a shorter key.
  const c = new Array<PNode | undefined>(16)
  const moved: PNode = { p: node.p.slice(common + 1), ...(node.v !== undefined ? { v: node.v } : {}), ...(node.c ? { c: node.c } : {}) }
  c[nib(node.p, common)] = moved
  if (common === path.length) return { p: path.slice(0, common), v: value, c }
  c[nib(path, common)] = { p: path.slice(common + 1), v: value }
  return { p: path.slice(0, common), c }
}

function remove(node: PNode | undefined, path: string): PNode | undefined {
  if (!node || !path.startsWith(node.p)) return node
  if (path.length === node.p.length) {
    if (node.v === undefined) return node
    if (!node.c) return undefined
    return normalize(node.p, undefined, node.c)
  }
  if (!node.c) return node
  const idx = nib(path, node.p.length)
  const before = node.c[idx]
  const after = remove(before, path.slice(node.p.length + 1))
  if (after === before) return node
  const c = node.c.slice()
  c[idx] = after
  return normalize(node.p, node.v, c)
}

function normalize(p: string, v: Uint8Array | undefined, c: ReadonlyArray<PNode | undefined>): PNode | undefined {
  let count = 0
  let only = -1
  for (let k = 0; k < 16; k++) {
    if (c[k]) {
      count++
      only = k
    }
  }
  if (count === 0) return v === undefined ? undefined : { p, v }
  if (count === 1 && v === undefined) {
    const child = c[only]!
    return { p: p + NIB[only] + child.p, ...(child.v !== undefined ? { v: child.v } : {}), ...(child.c ? { c: child.c } : {}) }
  }
  return v === undefined ? { p, c } : { p, v, c }
}

function get(node: PNode | undefined, path: string): Uint8Array | undefined {
  while (node) {
    if (!path.startsWith(node.p)) return undefined
    if (path.length === node.p.length) return node.v
    if (!node.c) return undefined
    const idx = nib(path, node.p.length)
    path = path.slice(node.p.length + 1)
    node = node.c[idx]
  }
  return undefined
}

function* walk(node: PNode | undefined, prefix: string): Generator<[string, Uint8Array]> {
  if (!node) return
  const path = prefix + node.p
  if (node.v !== undefined) yield [path, node.v]
  if (node.c) for (let k = 0; k < 16; k++) yield* walk(node.c[k], path + NIB[k])
}

const keyPath = (key: string): string => (key.startsWith('0x') || key.startsWith('0X') ? key.slice(2) : key).toLowerCase()

/** One key change of a block: hex key, hex or bytes value, null = deleted. */
export type StateChange = readonly [key: Uint8Array, value: Uint8Array | null]

export class ParaState {
  static readonly EMPTY = new ParaState(undefined, 0, 0)
  readonly #root: PNode | undefined
  #rootHex: string | undefined
  /** Number of keys. */
  readonly size: number
  /** Bytes of keys and values (the "rust_used" a worker reports). */
  readonly bytes: number

  private constructor(root: PNode | undefined, size: number, bytes: number) {
    this.#root = root
    this.size = size
    this.bytes = bytes
  }

  static fromPairs(pairs: Iterable<readonly [Uint8Array, Uint8Array]>): ParaState {
    return ParaState.EMPTY.apply(pairs)
  }

  /** The value at `key` (hex), as hex; undefined when absent. */
  get(key: string): string | undefined {
    const v = get(this.#root, keyPath(key))
    return v === undefined ? undefined : u8aToHex(v)
  }

  has(key: string): boolean {
    return get(this.#root, keyPath(key)) !== undefined
  }

  /** A new state with `changes` applied in order (this one is unchanged). */
  apply(changes: Iterable<StateChange>): ParaState {
    let root = this.#root
    let size = this.size
    let bytes = this.bytes
    for (const [k, v] of changes) {
      const path = u8aToHex(k).slice(2)
      const old = get(root, path)
      if (old !== undefined) {
        size--
        bytes -= k.length + old.length
      }
      if (v === null) root = remove(root, path)
      else {
        root = insert(root, path, v)
        size++
        bytes += k.length + v.length
      }
    }
    return new ParaState(root, size, bytes)
  }

  /** The V0 state root, 0x-hex (computed once per state). */
  root(): string {
    if (this.#rootHex === undefined) this.#rootHex = this.#root ? u8aToHex(blake2AsU8a(encodeTrieNode(this.#root), 256)) : EMPTY_TRIE_ROOT
    return this.#rootHex
  }

  /** Every [key, value] as hex, in key order. */
  *entries(): Generator<[string, string]> {
    for (const [p, v] of walk(this.#root, '')) yield ['0x' + p, u8aToHex(v)]
  }

  [Symbol.iterator](): Generator<[string, string]> {
    return this.entries()
  }
}

/**
 * Transitions seen before, shared by every simulated pRuntime of the process: (state root, digest
 * of a block's changes) -> the resulting state. The root names the whole state (collision-resistant),
 * the digest the exact changes, so the result is the one this worker would compute itself, and
 * workers that replay the same blocks hold the same state objects.
 */
const transitions = new LRUCache<string, ParaState>({ max: 8192 })
/** Decoded states (genesis, LoadChainState) by the digest of their encoding. */
const decodedStates = new LRUCache<string, ParaState>({ max: 16 })

/** Forget every shared transition and decoded state (a benchmark measuring one worker's own cost). */
export function clearSharedStates(): void {
  transitions.clear()
  decodedStates.clear()
}

export function changesDigest(changes: Iterable<StateChange>): string {
  const h = createHash('sha256')
  const len = Buffer.alloc(5)
  for (const [k, v] of changes) {
    len.writeUInt32LE(k.length, 0)
    len[4] = v === null ? 0 : 1
    h.update(len).update(k)
    if (v !== null) {
      len.writeUInt32LE(v.length, 0)
      h.update(len.subarray(0, 4)).update(v)
    }
  }
  return h.digest('hex')
}

/** `state` with `changes` applied, from the shared transition cache when this exact step was taken before. */
export function applyChanges(state: ParaState, changes: readonly StateChange[], digest = changesDigest(changes)): ParaState {
  const key = `${state.root()}:${digest}`
  let next = transitions.get(key)
  if (!next) {
    next = state.apply(changes)
    transitions.set(key, next)
  }
  return next
}

/** The state an encoded Vec<(key, value)> describes, decoded once per distinct encoding. */
export function stateFromEncoded(encoded: Uint8Array, decode: (b: Uint8Array) => Array<[Uint8Array, Uint8Array]>): ParaState {
  const key = createHash('sha256').update(encoded).digest('hex')
  let s = decodedStates.get(key)
  if (!s) {
    s = ParaState.fromPairs(decode(encoded))
    decodedStates.set(key, s)
  }
  return s
}
