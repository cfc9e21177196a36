/**
 * One para block (upstream-data-provider.md §3.5): hash (batched), then chain_getHeader and
 * pha_getStorageChangesAt together. The header must hash to the block hash (upstream exited 254);
 * in order, its parent hash must be the previous block's hash (upstream exited 255). Here both
 * failures are logged with the block number and the block is fetched again, with backoff.
 */
import { hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { keys, MARKER } from '../keys.js'
import { encodeParaBlock, type WriteBatch } from '../store.js'
import type { HashLoader, RpcClient } from './hashes.js'
import { FetchError, headerBytes, type HeaderJson } from './scale-util.js'

export interface ParaFetchContext {
  chain: RpcClient
  hashes: HashLoader
}

export interface FetchedParaBlock {
  number: number
  hash: string
  parentHash: string
  header: Uint8Array
  /** raw SCALE StorageChanges as the node returned them */
  changes: Uint8Array
}

export interface ParaCursor {
  next: number
  /** hash of block next − 1 ('' when unknown) */
  prevHash: string
}

export async function fetchParaBlock(ctx: ParaFetchContext, n: number, signal?: AbortSignal): Promise<FetchedParaBlock> {
  const hash = await ctx.hashes.get(n)
  const [json, changes] = await Promise.all([
    ctx.chain.rpc<HeaderJson | null>('chain_getHeader', [hash], { signal }),
    ctx.chain.rpc<string>('pha_getStorageChangesAt', [hash], { signal, timeoutMs: 120_000 }),
  ])
  if (!json) throw new Error(`chain_getHeader(${hash}) returned null`)
  if (typeof changes !== 'string') throw new Error(`pha_getStorageChangesAt(${hash}) returned ${typeof changes}, expected a hex string; the node must run with --pruning=archive`)
  return { number: n, hash, parentHash: json.parentHash.toLowerCase(), header: headerBytes(json, hash, `para block ${n}`), changes: hexToU8a(changes) }
}

/** Continuity with the previous committed block (upstream checked n ≥ 2 only; block 0 is fetched here too). */
export function checkParaContinuity(b: FetchedParaBlock, cursor: ParaCursor): void {
  if (b.number >= 1 && cursor.prevHash !== '' && b.parentHash !== cursor.prevHash) {
    throw new FetchError('ERR_PARA_CONTINUITY', `para block ${b.number}: parent hash ${b.parentHash} is not the hash ${cursor.prevHash} of block ${b.number - 1}; the node's database may be corrupted`)
  }
}

export function putParaBlock(batch: WriteBatch, b: FetchedParaBlock): void {
  const header = b.header
  batch.put(keys.paraBlock(b.number), encodeParaBlock({
    number: b.number,
    hash: hexToU8a(b.hash),
    header,
    // BlockHeaderWithChanges { blockHeader, storageChanges: Raw } — the node's bytes unchanged.
    dispatchBlockData: u8aConcat(header, b.changes),
  }))
  batch.put(keys.paraWritten(b.number), MARKER)
}

export function hashHex(b: Uint8Array): string {
  return u8aToHex(b)
}
