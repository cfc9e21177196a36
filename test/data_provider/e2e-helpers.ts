/**
 * Helpers of the data provider's end-to-end tests: a devnet, a data provider over it, waiting on
 * its heights with a deadline, and a consumer that feeds a devnet pRuntime from the blob server the
 * way prb v2's lifecycle does (upstream-lifecycle.md §7.6-§7.7).
 */
import { createLogger, type Logger } from '../../src/common/logger.js'
import { startDevnet, type Devnet, type DevnetOptions } from '../../src/devnet/devnet.js'
import { startDataProvider, type DataProviderOptions, type RunningDataProvider } from '../../src/data_provider/main.js'
import { decodeRangeMeta, type BlobClient } from '../../src/data_provider/index.js'
import { PruntimeClient, type PhactoryInfoPlain } from '../../src/devnet/pruntime/client.js'
import type { DataProviderInfo } from '../../src/walkie/index.js'
import { tempDir as tempDirFor } from '../helpers/fs.js'
import { quietLogger } from '../helpers/log.js'

export { waitFor } from '../helpers/wait.js'

/** The shared quiet logger; DP_TEST_LOG=debug|info|warn writes to stderr instead (debugging a run). */
export function quiet(): Logger {
  const level = process.env.DP_TEST_LOG as 'debug' | 'info' | 'warn' | undefined
  return level ? createLogger({ level, stream: process.stderr }) : quietLogger()
}

/** Devnet for these tests: a justification every 8 relay blocks, a set change every 40, blocks only on demand. */
export const DEVNET: Partial<DevnetOptions> = {
  host: '127.0.0.1', paraPort: 0, relayPort: 0, blockMs: 3_600_000, justificationPeriod: 8, sessionBlocks: 40, pools: 1,
}

export function startTestDevnet(o: Partial<DevnetOptions>, logger: Logger): Promise<Devnet> {
  return startDevnet({ ...DEVNET, ...o }, logger)
}

/**
 * The shared temp dir, removed when the caller says: these dirs are made at module level or in the
 * lag script (no test context) and must outlive the devnet and data provider the after hook stops.
 */
export function tempDir(prefix = 'prb-dp-e2e-'): { path: string; remove(): void } {
  let remove = (): void => {}
  const path = tempDirFor({ after: (fn) => { remove = fn } }, prefix)
  return { path, remove: () => remove() }
}

export function dpOptions(dn: Devnet, dbPath: string, o: Partial<DataProviderOptions> = {}): DataProviderOptions {
  return {
    relayUrl: dn.relayUrl,
    paraUrl: dn.paraUrl,
    dbPath,
    blobServer: { host: '127.0.0.1', port: 0 },
    parentParallel: 32,
    paraParallel: 16,
    justificationPeriod: 8,
    paraBatchSize: 0,
    walkie: null,
    targetPollMs: 100,
    progressLogMs: 60_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 500,
    ...o,
  }
}

export function startDp(dn: Devnet, dbPath: string, logger: Logger, o: Partial<DataProviderOptions> = {}): Promise<RunningDataProvider> {
  return startDataProvider(dpOptions(dn, dbPath, o), { logger })
}

/** The last final relay block with a justification: where the last dry range ends. */
export function lastJustified(dn: Devnet): number {
  for (let n = dn.status().relay.finalized; n > 0; n--) if (dn.relay.chain.byNumber(n)!.justification) return n
  return 0
}

/** Every height the data provider reports, with the builder's range height. */
export interface Heights extends DataProviderInfo {
  rangeHeight: number
  /** last para block inside a written batch (-1: none or batches off) */
  batchHeight: number
}

export function heightsOf(dp: RunningDataProvider): Heights {
  return { ...dp.info(), rangeHeight: dp.builderProgress()?.parentRangeHeight ?? -1, batchHeight: dp.builderProgress()?.paraBatchCommittedHeight ?? -1 }
}

/** Both chains fetched and processed up to the devnet's finalized heads, the last range written. */
export function isCaughtUp(i: Heights, dn: Devnet): boolean {
  const s = dn.status()
  return i.parentFetchedHeight >= s.relay.finalized && i.paraFetchedHeight >= s.para.finalized
    && i.parentTarget >= s.relay.finalized && i.parentProcessedHeight >= s.relay.finalized && i.paraCommittedHeight >= s.para.finalized
    && i.rangeHeight >= lastJustified(dn) && i.status === 'S_IDLE'
}

export function caughtUp(dp: RunningDataProvider, dn: Devnet): boolean {
  return isCaughtUp(heightsOf(dp), dn)
}

export function describeProgress(dp: RunningDataProvider, dn: Devnet): string {
  return JSON.stringify({ dp: heightsOf(dp), devnet: dn.status(), lastJustified: lastJustified(dn) })
}

export interface FeedResult {
  info: PhactoryInfoPlain
  headerCalls: number
  blockCalls: number
  /** dispatch_block calls that used a para batch (`rangeParaBlock:buffer:<first>`) */
  batchCalls: number
  /** sync_combined_headers calls that used a window blob */
  blobCalls: number
}

const text = new TextDecoder()

/**
 * Feed a pRuntime from the blob server until nothing more is available: header ranges by
 * `rangeByParentBlock:<headernum>:pb` (or the per-height index `rangeCoverByParentBlock:<n>` when the
 * worker's next header is not a range start), payload = dry range for the chain's first para header,
 * else the window blob, else the dry range; para blocks by `rangeParaBlock:key:<n>`. pRuntime's own
 * validation checks every payload (binApi throws on refusal).
 */
export async function feedFromBlobs(blob: BlobClient, endpoint: string, opts: { useCoverIndex?: boolean } = {}): Promise<FeedResult> {
  const client = new PruntimeClient(endpoint)
  let info = await client.getInfo()
  let headerCalls = 0
  let blockCalls = 0
  let batchCalls = 0
  let blobCalls = 0
  for (;;) {
    if (info.blocknum < info.paraHeadernum) {
      const raw = await blob.get(`rangeParaBlock:key:${info.blocknum}`)
      if (!raw) throw new Error(`no rangeParaBlock:key:${info.blocknum} although para header ${info.paraHeadernum - 1} is synced`)
      const k = JSON.parse(text.decode(raw)) as { bufferKey?: string; firstBlockNumber: number; lastBlockNumber: number }
      const key = k.bufferKey && info.paraHeadernum - 1 >= k.lastBlockNumber ? k.bufferKey : `dryParaBlock:${info.blocknum}`
      const payload = await blob.get(key)
      if (!payload) throw new Error(`${key} is missing`)
      await client.binApi('dispatch_block', payload)
      blockCalls++
      if (key === k.bufferKey) batchCalls++
    } else {
      let metaRaw = await blob.get(`rangeByParentBlock:${info.headernum}:pb`)
      if (!metaRaw && opts.useCoverIndex) {
        const metaKey = await blob.get(`rangeCoverByParentBlock:${info.headernum}`)
        if (metaKey) metaRaw = await blob.get(text.decode(metaKey))
      }
      if (!metaRaw) break
      const meta = decodeRangeMeta(metaRaw)
      const key = info.paraHeadernum === 1 ? meta.drySyncHeaderReqKey : (meta.blobSyncHeaderReqKey || meta.drySyncHeaderReqKey)
      const payload = await blob.get(key)
      if (!payload) throw new Error(`${key} (named by the RangeMeta at ${meta.parentStartBlock}) is missing`)
      await client.binApi('sync_combined_headers', payload)
      headerCalls++
      if (key === meta.blobSyncHeaderReqKey) blobCalls++
    }
    info = await client.getInfo()
  }
  return { info, headerCalls, blockCalls, batchCalls, blobCalls }
}
