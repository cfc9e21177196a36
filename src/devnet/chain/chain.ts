/**
 * One linear chain: blocks by number and hash, versioned state, finality, per-block trie
 * snapshots for read proofs (LRU), and events for the RPC layer. Relay and para chain both use it.
 */
import { EventEmitter } from 'node:events'
import { u8aToHex } from '@polkadot/util'
import { type Header, encodeHeader, hashHeader } from '../../common/grandpa.js'
import { IncrementalTrie, TrieSnapshot, orderedTrieRoot } from '../../common/trie.js'
import { VersionedState } from './state.js'
import { RpcError } from './rpc-error.js'

export interface BlockRecord {
  number: number
  hash: string
  header: Header
  headerHex: string
  extrinsics: string[]
  /** The block's storage writes, sorted by key (null = deleted). */
  changes: [string, string | null][]
  timestampMs: number
  /** Encoded GrandpaJustification, when stored for this block. */
  justification?: Uint8Array
}

export interface NewBlock {
  extrinsics: string[]
  changes: Iterable<readonly [string, string | null]>
  digest: string[]
  timestampMs: number
}

export interface ChainEvents {
  block: [BlockRecord]
  finalized: [BlockRecord]
  /** The best block was retracted (a fork replaced it); a sibling follows as the next 'block'. */
  retracted: [BlockRecord]
}

const SNAPSHOT_CACHE = 64

export class ChainStore extends EventEmitter<ChainEvents> {
  readonly name: string
  readonly blocks: BlockRecord[] = []
  readonly #byHash = new Map<string, number>()
  readonly state = new VersionedState()
  readonly #trie = new IncrementalTrie()
  #finalized = -1
  readonly #snapshots = new Map<number, Promise<TrieSnapshot>>()

  constructor(name: string) {
    super()
    this.name = name
    this.setMaxListeners(0)
  }

  get best(): BlockRecord {
    const b = this.blocks[this.blocks.length - 1]
    if (!b) throw new Error(`${this.name}: no genesis yet`)
    return b
  }

  get finalized(): BlockRecord {
    return this.blocks[Math.max(0, this.#finalized)]!
  }

  get finalizedNumber(): number {
    return this.#finalized
  }

  get genesisHash(): string {
    return this.blocks[0]!.hash
  }

  byNumber(n: number): BlockRecord | undefined {
    return this.blocks[n]
  }

  byHash(hash: string): BlockRecord | undefined {
    const n = this.#byHash.get(hash.toLowerCase())
    return n === undefined ? undefined : this.blocks[n]
  }

  /** The block an RPC `at` parameter names (best when absent); RPC error when unknown. */
  at(hash: unknown): BlockRecord {
    if (hash === undefined || hash === null) return this.best
    if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hash)) throw RpcError.invalidParams(`invalid block hash: ${JSON.stringify(hash)}`)
    const b = this.byHash(hash)
    // Substrate: "Client error: UnknownBlock: Header was not found in the database: <hash>"
    if (!b) throw new RpcError(4003, `Client error: UnknownBlock: Header was not found in the database: ${hash}`)
    return b
  }

  /** Append the next block: computes state root (trie V0), extrinsics root, header and hash. */
  async append(nb: NewBlock): Promise<BlockRecord> {
    const number = this.blocks.length
    const parentHash = number === 0 ? '0x' + '00'.repeat(32) : this.best.hash
    const changes = [...nb.changes].map(([k, v]) => [k.toLowerCase(), v === null ? null : v.toLowerCase()] as [string, string | null])
    changes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    this.state.apply(number, changes)
    for (const [k, v] of changes) this.#trie.set(k, v)
    const sr = this.#trie.root()
    const er = await orderedTrieRoot(nb.extrinsics, 0)
    const header: Header = { parentHash, number, stateRoot: sr, extrinsicsRoot: er, digest: nb.digest }
    const enc = encodeHeader(header)
    const rec: BlockRecord = {
      number,
      hash: hashHeader(enc),
      header,
      headerHex: u8aToHex(enc),
      extrinsics: nb.extrinsics,
      changes,
      timestampMs: nb.timestampMs,
    }
    this.blocks.push(rec)
    this.#byHash.set(rec.hash, number)
    this.emit('block', rec)
    return rec
  }

  /** Drop the best block (it must not be final): state, trie and indexes go back to its parent. */
  retractBest(): BlockRecord {
    const b = this.best
    if (b.number <= this.#finalized || b.number === 0) throw new Error(`${this.name}: block ${b.number} is final and cannot be retracted`)
    for (const [k] of b.changes) this.#trie.set(k, this.state.get(k, b.number - 1) ?? null)
    this.state.revert(b.number, b.changes.map(([k]) => k))
    this.blocks.pop()
    this.#byHash.delete(b.hash)
    this.#snapshots.delete(b.number)
    this.emit('retracted', b)
    return b
  }

  /** Move finality forward to block `n` (never backwards). */
  finalize(n: number): void {
    const target = Math.min(n, this.blocks.length - 1)
    if (target <= this.#finalized) return
    this.#finalized = target
    this.emit('finalized', this.blocks[target]!)
  }

  /** Trie of block `n`'s state, for read proofs (cached for recent requests). */
  snapshot(n: number): Promise<TrieSnapshot> {
    let s = this.#snapshots.get(n)
    if (s) {
      this.#snapshots.delete(n)
      this.#snapshots.set(n, s)
      return s
    }
    const expected = this.blocks[n]?.header.stateRoot
    s = TrieSnapshot.build(this.state.entries(n)).then((snap) => {
      // Both tries are Substrate's V0 layout; a mismatch would make every proof fail verification.
      if (snap.root !== expected) throw new Error(`${this.name}: trie of block ${n} has root ${snap.root}, header says ${expected}`)
      return snap
    })
    this.#snapshots.set(n, s)
    if (this.#snapshots.size > SNAPSHOT_CACHE) this.#snapshots.delete(this.#snapshots.keys().next().value!)
    return s
  }
}
