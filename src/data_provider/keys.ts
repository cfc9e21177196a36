/**
 * The data provider's key schema. Every key is a UTF-8 string with decimal numbers; values are
 * binary. Upstream's keys (upstream-data-provider.md §5.2) are kept byte for byte, so a v2
 * lifecycle asking for them gets the bytes it expects.
 *
 * ── Upstream keys (unchanged) ────────────────────────────────────────────────────────────────
 *   genesis:<paraId>:pb                          prb.db.Genesis
 *   genesis:<paraId>:written                     0x01
 *   parent:<n>:pb / parent:<n>:written           prb.db.ParentBlock / 0x01
 *   para:<n>:pb / para:<n>:written               prb.db.ParaBlock / 0x01
 *   window:<id>:pb                               prb.db.Window
 *   rangeByParentBlock:<start>:pb                prb.db.RangeMeta (at dry-range starts; blob fields added at window end)
 *   rangeByParaBlock:<parentStart>:pb            prb.db.RangeMeta, dry version. Keyed by the PARENT start, as
 *                                                upstream does (its bug); kept for compatibility only.
 *   rangeWritten:<ps>:<pe>:<as>:<ae>             0x01
 *   drySyncHeader:<ps>:<pe>:<as>:<ae>            SCALE SyncCombinedHeadersReq (one dry range)
 *   blobRange:<ps>:<pe>:<as>:<ae>:SyncHeaderReq  SCALE SyncCombinedHeadersReq (one whole window)
 *   blobRangeCommitted:<ps>:<pe>:<as>:<ae>       0x01 (written in the SAME batch as the blob here)
 *   dryParaBlock:<n>                             SCALE Vec<BlockHeaderWithChanges>, 1 element
 *   rangeParaBlock:key:<n>                       JSON {"firstBlockNumber","lastBlockNumber"} or, at a batch
 *                                                start, {"bufferKey","firstBlockNumber","lastBlockNumber"}
 *   rangeParaBlock:buffer:<first>                SCALE Vec<BlockHeaderWithChanges>, one batch
 *   LAST_COMMITTED_PARENT_BLOCK                  JSON number: stop of the last FINISHED window (every
 *                                                RangeMeta at or below it is final, blob fields included).
 *                                                Upstream wrote that window's start − 1; ours is exact.
 *   LAST_COMMITTED_PARA_BLOCK                    JSON number: last para block whose dryParaBlock is written
 *                                                (upstream wrote n − 1; ours is exact).
 *   LAST_COMMITTED_PARA_BLOCK_BATCH              JSON number: last para number of the last batch written.
 *
 * ── Keys prb adds (upstream lacks them; no upstream key changes meaning) ─────────────────────
 *   rangeCoverByParentBlock:<n>                  UTF-8 text: the RangeMeta key ("rangeByParentBlock:<start>:pb")
 *                                                of the dry range that covers relay height n, for EVERY n from
 *                                                window 0's start to the last committed range stop. A worker
 *                                                whose next header is not a range start can still be fed:
 *                                                pRuntime drops relay headers below its next one (§4.2).
 *   rangeCoverByParaBlock:<n>                    UTF-8 text: the RangeMeta key of the dry range whose
 *                                                parachainHeaders include para header n (the index upstream's
 *                                                rangeByParaBlock meant to be).
 *   prb:builder:cursor                           JSON BuilderCursor: where the range builder resumes. Written in
 *                                                the same batch as every range commit.
 *
 * ── Live justifications (range-builder.ts, LIVE RANGES) ───────────────────────────────────────
 *   A dry range may end at a live GRANDPA justification (one the node does not keep). Once the walk
 *   reaches a justification the node keeps, the RangeMetas of those ranges (and of the range ending
 *   there) keep their keys and numbers but their drySyncHeaderReqKey names ONE covering payload
 *   `drySyncHeader:<first live range start>:<that block>:<as>:<ae>`: it starts before most of them
 *   and ends later, and pRuntime drops the relay and para headers a worker already has, so take the
 *   synced heights from pRuntime's answer, not from the meta. Their own payloads are deleted 600
 *   relay blocks later (the blob builder's livePruneGraceBlocks).
 */

export type Suffix = string

/** `<ps>:<pe>:<as>:<ae>`; a range or window with no para block uses -1:-1. */
export function rangeSuffix(parentStart: number, parentStop: number, paraStart: number, paraStop: number): Suffix {
  return `${parentStart}:${parentStop}:${paraStart}:${paraStop}`
}

export const keys = {
  genesis: (paraId: number) => `genesis:${paraId}:pb`,
  genesisWritten: (paraId: number) => `genesis:${paraId}:written`,
  parentBlock: (n: number) => `parent:${n}:pb`,
  parentWritten: (n: number) => `parent:${n}:written`,
  paraBlock: (n: number) => `para:${n}:pb`,
  paraWritten: (n: number) => `para:${n}:written`,
  window: (id: number) => `window:${id}:pb`,
  rangeByParentBlock: (start: number) => `rangeByParentBlock:${start}:pb`,
  rangeByParaBlockUpstream: (parentStart: number) => `rangeByParaBlock:${parentStart}:pb`,
  rangeWritten: (s: Suffix) => `rangeWritten:${s}`,
  drySyncHeader: (s: Suffix) => `drySyncHeader:${s}`,
  blobRange: (s: Suffix) => `blobRange:${s}:SyncHeaderReq`,
  blobRangeCommitted: (s: Suffix) => `blobRangeCommitted:${s}`,
  dryParaBlock: (n: number) => `dryParaBlock:${n}`,
  rangeParaBlockKey: (n: number) => `rangeParaBlock:key:${n}`,
  rangeParaBlockBuffer: (first: number) => `rangeParaBlock:buffer:${first}`,
  lastCommittedParentBlock: 'LAST_COMMITTED_PARENT_BLOCK',
  lastCommittedParaBlock: 'LAST_COMMITTED_PARA_BLOCK',
  lastCommittedParaBlockBatch: 'LAST_COMMITTED_PARA_BLOCK_BATCH',
  // added by prb
  rangeCoverByParentBlock: (n: number) => `rangeCoverByParentBlock:${n}`,
  rangeCoverByParaBlock: (n: number) => `rangeCoverByParaBlock:${n}`,
  builderCursor: 'prb:builder:cursor',
} as const

/** The one-byte marker value upstream writes for `:written` and idempotency keys. */
export const MARKER = Uint8Array.of(1)
