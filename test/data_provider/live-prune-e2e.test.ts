/**
 * Live justifications superseded and pruned, against the devnet and its pRuntime (which validates
 * every header and justification as a real one): a worker fed near the tip through live-ended
 * ranges, then fed again after those ranges were superseded by a covering payload and their own
 * payloads deleted, continues from where it was; a fresh worker syncs from genesis through the
 * rewritten metas. The DB holds no live justification any more once covered and past the grace.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createBlobClient, decodeGenesis, decodeParentBlock, decodeRangeMeta, keys, rangeSuffix, type BlobClient } from '../../src/data_provider/index.js'
import type { RunningDataProvider } from '../../src/data_provider/main.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'
import { feedFromBlobs, quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

const PERIOD = 16
const GRACE = 8
const logger = quiet()
let dn: Devnet
let dp: RunningDataProvider
let pr: RunningPruntimes
let blob: BlobClient
const dir = tempDir()

before(async () => {
  dn = await startTestDevnet({ history: 20, justificationPeriod: PERIOD, sessionBlocks: 1000 }, logger)
  pr = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0 }, logger)
  dp = await startDp(dn, dir.path, logger, { justificationPeriod: PERIOD, liveJustificationGap: 1, livePruneGraceBlocks: GRACE })
  await dp.booted
  blob = createBlobClient({ host: '127.0.0.1', port: dp.blobServerPort() })
})

after(async () => {
  await blob?.close()
  await dp?.stop()
  await pr?.stop()
  await dn?.stop()
  dir.remove()
})

const rangeHeight = (): number => dp.builderProgress()?.parentRangeHeight ?? -1

async function blocks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = dn.status().relay.finalized
    await dn.makeBlocks(1) // finalizes the previous best block (finality trails by one), announcing its justification
    const fin = dn.status().relay.finalized
    if (fin > before) await waitFor(() => rangeHeight() >= fin, 20_000, () => `ranges to ${fin}: ${rangeHeight()}`)
  }
}

async function initWorker(i: number): Promise<string> {
  const genesis = decodeGenesis((await blob.get('genesis:2035:pb'))!)
  const w = pr.workers[i]!
  await new PruntimeClient(w.endpoint).prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    skipRa: false, encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true,
  })
  return w.endpoint
}

test('a worker fed through live ranges goes on after they were superseded and deleted; a fresh one syncs through the rewritten metas', async () => {
  await waitFor(() => dp.fetchStats()?.live?.subscribed === true && dn.relay.justifications.listenerCount('justification') === 1, 20_000, 'subscribed')
  await blocks(3)
  const a = await initWorker(0)
  const first = await feedFromBlobs(blob, a)
  const aNext = first.info.headernum
  assert.equal(aNext - 1, rangeHeight(), 'worker A synced to the last range')
  assert.ok(aNext - 1 > 20 && (aNext - 1) % PERIOD !== 0, `worker A stopped at a live-justified block (${aNext - 1})`)

  // Past the next kept justification and the grace: the live ranges A stood before are superseded, then deleted.
  const covered = Math.ceil(aNext / PERIOD) * PERIOD
  await blocks(covered + GRACE + 3 - dn.status().relay.finalized)
  assert.ok(rangeHeight() >= covered + GRACE, `ranges to ${rangeHeight()}`)
  const meta = decodeRangeMeta((await blob.get(keys.rangeByParentBlock(aNext)))!)
  const own = keys.drySyncHeader(rangeSuffix(meta.parentStartBlock, meta.parentStopBlock, meta.paraStartBlock, meta.paraStopBlock))
  assert.notEqual(meta.drySyncHeaderReqKey, own, 'the meta at A\'s next header names the covering payload')
  assert.match(meta.drySyncHeaderReqKey, new RegExp(`^drySyncHeader:\\d+:${covered}:`))
  assert.equal(await blob.get(own), null, 'its own payload (with a live justification) is deleted after the grace')
  for (let n = 21; n < covered; n++) {
    const rec = decodeParentBlock((await blob.get(keys.parentBlock(n)))!)
    assert.equal(rec.hasJustification, false, `relay record ${n} keeps no live justification`)
  }

  const again = await feedFromBlobs(blob, a)
  assert.equal(again.info.headernum - 1, rangeHeight(), 'worker A went on through the covering payloads to the last range')
  assert.equal(again.info.blocknum, again.info.paraHeadernum)
  assert.equal('0x' + again.info.stateRoot, dn.para.chain.byNumber(again.info.blocknum - 1)!.header.stateRoot)

  const b = await feedFromBlobs(blob, await initWorker(1))
  assert.equal(b.info.headernum - 1, rangeHeight(), 'a fresh worker syncs from genesis to the last range')
  assert.equal('0x' + b.info.stateRoot, dn.para.chain.byNumber(b.info.blocknum - 1)!.header.stateRoot)
})
