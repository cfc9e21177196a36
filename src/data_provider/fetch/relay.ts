/**
 * One relay block (upstream-data-provider.md §3.4): the same record upstream stores, fetched with
 * the RPCs of the block issued together.
 *
 *   hash          batched chain_getBlockHash (hashes.ts)
 *   header        chain_getHeader  -- or chain_getBlock when the block may carry a justification
 *   setId, head   ONE state_queryStorageAt([Grandpa.CurrentSetId, Paras.Heads(paraId)])
 *   para proof    state_getReadProof([Paras.Heads(paraId)])
 *   (justified)   state_queryStorageAt([Grandpa.Authorities, :grandpa_authorities]) +
 *                 state_getReadProof([Grandpa.Authorities, :grandpa_authorities, Grandpa.CurrentSetId])
 *
 * Justifications without downloading every block (upstream's chain_getBlock for every block,
 * weakness 3). A node keeps a GRANDPA justification for (a) every block that enacts a set change
 * (its header carries a GRANDPA consensus digest) and (b) the first finalized block at or after each
 * multiple of its `justification_period` (512 on Polkadot/Kusama). The rule, applied in order at
 * commit time, is therefore: a block with a GRANDPA digest or at a multiple of the period is asked;
 * any other block is asked only while its period has shown no justified block yet, and counts as
 * unjustified once one was seen. So the records do not depend on fetch timing. The fetch stage only
 * guesses ahead: after its round of calls, a block of a period with no justified block seen yet
 * (its multiple was not justified, or the walk starts mid-period) asks chain_getBlock at once, so
 * the in-order step rarely needs a call of its own. On a normal chain a period costs one
 * chain_getBlock. `justificationPeriod: 0` asks chain_getBlock for every block (upstream).
 * A justification a node stored for another reason (imported while syncing) is not seen in the
 * period mode; the ranges then simply end at the next justified block, still valid for pRuntime.
 * Live justifications (live.ts) are applied last, in order, to a block the rule left unjustified;
 * they do not count for the period rule (which predicts the node's stored ones).
 *
 * AuthoritySetChange: the authority list is read from `Grandpa.Authorities` (where Polkadot and
 * Kusama keep it since pallet-grandpa's v5 migration removed `:grandpa_authorities`), else from the
 * old well-known key (chains before the migration, and older blocks), both in one call. The proof
 * covers both keys and Grandpa.CurrentSetId, so a verifier of either era finds its key; pRuntime
 * HEAD decodes the field and takes the new set from the set-change header's ScheduledChange once
 * the old set's justification verified (chain.md §5.2, §6.3), older pRuntimes checked the proof of
 * `:grandpa_authorities` against the header's state root.
 */
import { hexToU8a } from '@polkadot/util'
import { readAuthorityList, ScaleReader, verifyJustification, type VerifyResult } from '../../common/grandpa.js'
import { keys, MARKER } from '../keys.js'
import { encodeParentBlock, type ParentBlockRecord, type WriteBatch } from '../store.js'
import type { HashLoader, RpcClient } from './hashes.js'
import type { LiveJustifications } from './live.js'
import {
  authorityListBytes, encodeProof, grandpaJustification, hasGrandpaDigest, headerBytes, headerToSync, NONE, paraHeadNumber,
  someAuthoritySetChange, STORAGE_KEYS, storedSetId, u64FromStorage, type HeaderJson,
} from './scale-util.js'

export interface RelayFetchContext {
  chain: RpcClient
  hashes: HashLoader
  headsKey: string
  /** 0 = chain_getBlock for every block */
  justificationPeriod: number
  /** Hints for the fetch stage's guess (never decide a record). */
  hints: { committedPeriod: number; fetchedJustified: Map<number, number> }
  /** Live justifications of finalized blocks not committed yet (live.ts); absent = off. */
  live?: LiveJustifications
  /** A held live justification did not verify against the block's authority set (not used). */
  onLiveRejected?: (block: number, reason: string) => void
  /** Use a live justification only this many relay blocks after the previous justified one (>= 1). */
  liveGap: number
  /** Last block committed with a justification (in order; in memory only). */
  lastJustified: number
}

export function relayFetchContext(chain: RpcClient, hashes: HashLoader, headsKey: string, justificationPeriod: number): RelayFetchContext {
  return { chain, hashes, headsKey, justificationPeriod, hints: { committedPeriod: -1, fetchedJustified: new Map() }, liveGap: 1, lastJustified: -Infinity }
}

export interface FetchedRelayBlock {
  number: number
  hash: string
  header: Uint8Array
  setId: number
  paraNumber: number
  paraProof: Uint8Array
  /** undefined: not asked (header only) */
  justification: Uint8Array | null | undefined
  authoritySetChange: Uint8Array
  /** a GRANDPA digest or a multiple of the period (or period 0): its justification always counts */
  mandatory: boolean
  /** fetched ahead because a live justification was held for the block at fetch time (a guess) */
  liveAuthoritySetChange?: Uint8Array
  /** committed with a live justification */
  live?: boolean
}

/** The cursor persisted with each relay commit. */
export interface RelayCursor {
  next: number
  /** period index (n / period) whose justified block was already seen; -1 none */
  justifiedPeriod: number
}

interface BlockJson {
  block: { header: HeaderJson }
  justifications: Array<[number[] | string, number[] | string]> | null
}

async function getJustification(ctx: RelayFetchContext, hash: string, signal?: AbortSignal): Promise<{ header: HeaderJson; justification: Uint8Array | null }> {
  const b = await ctx.chain.rpc<BlockJson | null>('chain_getBlock', [hash], { signal })
  if (!b) throw new Error(`chain_getBlock(${hash}) returned null`)
  return { header: b.block.header, justification: grandpaJustification(b.justifications) ?? null }
}

/** The keys an authority proof covers: both homes of the list and the set id. */
export const AUTHORITY_PROOF_KEYS = [STORAGE_KEYS.grandpaAuthoritiesV5, STORAGE_KEYS.grandpaAuthorities, STORAGE_KEYS.grandpaSetId]

/** The relay block's authority list (Grandpa.Authorities, else `:grandpa_authorities`) and the proof of AUTHORITY_PROOF_KEYS. */
export async function readAuthorities(chain: RpcClient, hash: string, what: string, signal?: AbortSignal): Promise<{ list: Uint8Array; proof: string[] }> {
  const [values, proof] = await Promise.all([
    chain.rpc<Array<{ block: string; changes: Array<[string, string | null]> }>>('state_queryStorageAt', [[STORAGE_KEYS.grandpaAuthoritiesV5, STORAGE_KEYS.grandpaAuthorities], hash], { signal }),
    chain.rpc<{ proof: string[] }>('state_getReadProof', [AUTHORITY_PROOF_KEYS, hash], { signal }),
  ])
  const got = new Map<string, string | null>()
  for (const set of values ?? []) for (const [k, v] of set.changes) got.set(k.toLowerCase(), v)
  const list = authorityListBytes(got.get(STORAGE_KEYS.grandpaAuthoritiesV5), got.get(STORAGE_KEYS.grandpaAuthorities))
  if (!list) throw new Error(`${what} (${hash}) has its GRANDPA authorities neither in Grandpa.Authorities nor under :grandpa_authorities; is this a relay chain node?`)
  return { list, proof: proof.proof }
}

async function authoritySetChange(ctx: RelayFetchContext, hash: string, setId: bigint, signal?: AbortSignal): Promise<Uint8Array> {
  const { list, proof } = await readAuthorities(ctx.chain, hash, 'relay block', signal)
  return someAuthoritySetChange(list, setId, proof)
}

export async function fetchRelayBlock(ctx: RelayFetchContext, n: number, signal?: AbortSignal): Promise<FetchedRelayBlock> {
  const hash = await ctx.hashes.get(n)
  const P = ctx.justificationPeriod
  const period = P === 0 ? 0 : Math.floor(n / P)
  const resolved = (): boolean => {
    const foundAt = ctx.hints.fetchedJustified.get(period)
    return P > 0 && (ctx.hints.committedPeriod >= period || (foundAt !== undefined && foundAt < n))
  }
  const wholeBlock = P === 0 || n % P === 0
  const [head, storage, proof] = await Promise.all([
    wholeBlock ? getJustification(ctx, hash, signal) : ctx.chain.rpc<HeaderJson | null>('chain_getHeader', [hash], { signal }).then((h) => ({ header: h, justification: undefined })),
    ctx.chain.rpc<Array<{ block: string; changes: Array<[string, string | null]> }>>('state_queryStorageAt', [[STORAGE_KEYS.grandpaSetId, ctx.headsKey], hash], { signal }),
    ctx.chain.rpc<{ proof: string[] }>('state_getReadProof', [[ctx.headsKey], hash], { signal }),
  ])
  if (!head.header) throw new Error(`chain_getHeader(${hash}) returned null`)
  const header = headerBytes(head.header, hash, `relay block ${n}`)
  let justification: Uint8Array | null | undefined = head.justification
  const mandatory = P === 0 || n % P === 0 || hasGrandpaDigest(head.header)
  // By now the period's multiple (fetched alongside) has usually shown its justification.
  if (justification === undefined && (mandatory || !resolved())) justification = (await getJustification(ctx, hash, signal)).justification
  if (justification && P > 0) {
    const at = ctx.hints.fetchedJustified.get(period)
    if (at === undefined || n < at) ctx.hints.fetchedJustified.set(period, n)
  }
  const values = new Map<string, string | null>()
  for (const set of storage ?? []) for (const [k, v] of set.changes) values.set(k.toLowerCase(), v)
  const setId = u64FromStorage(values.get(STORAGE_KEYS.grandpaSetId))
  const block: FetchedRelayBlock = {
    number: n,
    hash,
    header,
    setId: storedSetId(setId, `relay block ${n}`),
    paraNumber: paraHeadNumber(values.get(ctx.headsKey.toLowerCase())),
    paraProof: encodeProof(proof.proof),
    justification,
    authoritySetChange: NONE,
    mandatory,
  }
  if (justification) block.authoritySetChange = await authoritySetChange(ctx, hash, setId, signal)
  else if (ctx.live?.get(n, hash) && n - ctx.lastJustified >= ctx.liveGap) block.liveAuthoritySetChange = await authoritySetChange(ctx, hash, setId, signal)
  return block
}

/** In-order step: the justification rule (see the top of this file), the same whatever was guessed. */
export async function probeRelayJustification(ctx: RelayFetchContext, b: FetchedRelayBlock, cursor: RelayCursor, signal?: AbortSignal): Promise<void> {
  const P = ctx.justificationPeriod
  const period = P === 0 ? 0 : Math.floor(b.number / P)
  if (!b.mandatory) {
    if (cursor.justifiedPeriod >= period) {
      b.justification = null
      b.authoritySetChange = NONE
    } else if (b.justification === undefined) {
      b.justification = (await getJustification(ctx, b.hash, signal)).justification
      if (b.justification) b.authoritySetChange = await authoritySetChange(ctx, b.hash, BigInt(b.setId), signal)
    }
  }
  if (b.justification && P > 0) {
    cursor.justifiedPeriod = Math.max(cursor.justifiedPeriod, period)
    // Hints for the fetch stage; forget periods behind us.
    ctx.hints.committedPeriod = Math.max(ctx.hints.committedPeriod, period)
    for (const k of ctx.hints.fetchedJustified.keys()) if (k <= period) ctx.hints.fetchedJustified.delete(k)
  }
  // A live justification makes an otherwise unjustified block justified; it does not count for the
  // period rule above (the node's stored justifications are what that rule predicts).
  const live = !b.justification && ctx.live && b.number - ctx.lastJustified >= ctx.liveGap ? ctx.live.get(b.number, b.hash) : undefined
  if (live) {
    const asc = b.liveAuthoritySetChange ?? await authoritySetChange(ctx, b.hash, BigInt(b.setId), signal)
    // Not a set change here (those are mandatory and stored), so the set in the block's state is
    // the one that finalized it. A worker would refuse a bad justification for good; skip it instead.
    const verdict = verifyLiveJustification(live, asc, b)
    if (verdict.ok) {
      b.authoritySetChange = asc
      b.justification = live
      b.live = true
      ctx.live!.use(b.number)
    } else {
      ctx.onLiveRejected?.(b.number, verdict.error)
    }
  }
  if (b.justification) ctx.lastJustified = b.number
}

function verifyLiveJustification(j: Uint8Array, asc: Uint8Array, b: FetchedRelayBlock): VerifyResult {
  try {
    const r = new ScaleReader(asc)
    if (r.u8() !== 1) return { ok: false, error: 'no authority set at the block' }
    const list = readAuthorityList(r)
    return verifyJustification(j, list, r.u64(), { hash: b.hash, number: b.number })
  } catch (err) {
    return { ok: false, error: `authority set unreadable: ${(err as Error).message}` }
  }
}

export function relayRecord(b: FetchedRelayBlock): ParentBlockRecord {
  return {
    number: b.number,
    hash: hexToU8a(b.hash),
    header: b.header,
    setId: b.setId,
    hasJustification: !!b.justification,
    syncHeaderData: headerToSync(b.header, b.justification ?? undefined),
    authoritySetChange: b.authoritySetChange,
    paraNumber: b.paraNumber,
    paraProof: b.paraProof,
    // The builder needs to know: it stores a live justification once, then drops it (range-builder.ts).
    ...(b.live ? { liveJustification: true } : {}),
  }
}

/** Upstream's two keys per block: the record, then its `:written` marker. */
export function putRelayBlock(batch: WriteBatch, b: FetchedRelayBlock): void {
  batch.put(keys.parentBlock(b.number), encodeParentBlock(relayRecord(b)))
  batch.put(keys.parentWritten(b.number), MARKER)
}
