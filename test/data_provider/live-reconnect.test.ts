/**
 * Live justifications: the map's bounds and hash check, the subscription surviving a dropped relay
 * WebSocket (the provider renews it; blocks finalized after the reconnect close ranges again), and a
 * justification that does not verify against the block's authority set is not used.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { u8aConcat, u8aToHex } from '@polkadot/util'
import { encodeJustification, signJustification, u32Le, u64Le } from '../../src/common/grandpa.js'
import { createBlobClient, decodeRangeMeta } from '../../src/data_provider/index.js'
import { LiveJustifications, justificationTarget } from '../../src/data_provider/fetch/live.js'
import type { RunningDataProvider } from '../../src/data_provider/main.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

const fakeJustification = (n: number, hashByte = n & 0xff): Uint8Array => u8aConcat(u64Le(7), new Uint8Array(32).fill(hashByte), u32Le(n), new Uint8Array([0, 0]))
const hashOf = (b: number): string => u8aToHex(new Uint8Array(32).fill(b))

test('the held justifications: target parsed, hash checked, bounded (oldest dropped), dropped once committed, target raised', () => {
  assert.deepEqual(justificationTarget(fakeJustification(300, 9)), { hash: hashOf(9), number: 300 })
  assert.equal(justificationTarget(new Uint8Array(10)), undefined)
  const raised: number[] = []
  const live = new LiveJustifications(3, (n) => raised.push(n))
  for (const n of [10, 11, 12, 13]) live.add(u8aToHex(fakeJustification(n)))
  assert.deepEqual(raised, [10, 11, 12, 13])
  assert.equal(live.get(10, hashOf(10)), undefined, 'the oldest went when a 4th came (bound 3)')
  assert.ok(live.get(11, hashOf(11)))
  assert.equal(live.get(11, hashOf(99)), undefined, 'another block at that height: not used')
  live.committed(12)
  assert.equal(live.get(12, hashOf(12)), undefined)
  assert.ok(live.get(13, hashOf(13)))
  live.add(fakeJustification(5))
  assert.equal(live.get(5, hashOf(5)), undefined, 'a block already committed is not held')
  assert.equal(live.stats().held, 1)
})

const logger = quiet()
let dn: Devnet
let dp: RunningDataProvider
const dir = tempDir()

before(async () => {
  dn = await startTestDevnet({ history: 30, justificationPeriod: 64, sessionBlocks: 1000 }, logger)
  dp = await startDp(dn, dir.path, logger, { justificationPeriod: 64, liveJustificationGap: 1 })
  await dp.booted
})

after(async () => {
  await dp?.stop()
  await dn?.stop()
  dir.remove()
})

const rangeHeight = (): number => dp.builderProgress()?.parentRangeHeight ?? -1

test('a dropped relay WebSocket: the subscription is renewed and ranges close at live justifications again', async () => {
  await waitFor(() => dp.fetchStats()?.live?.subscribed === true && dn.relay.justifications.listenerCount('justification') === 1, 20_000, 'subscribed')
  await dn.makeBlocks(6)
  const fin1 = dn.status().relay.finalized
  await waitFor(() => rangeHeight() === fin1, 20_000, () => `a range ends at the finalized head ${fin1} (no stored justification there): ${rangeHeight()}`)
  const connects = dp.relay.connects
  dn.dropConnections()
  await waitFor(() => dp.relay.connects > connects && dn.relay.justifications.listenerCount('justification') === 1, 20_000, 'reconnected and subscribed again (one subscription, not two)')
  await dn.makeBlocks(6)
  const fin2 = dn.status().relay.finalized
  assert.ok(fin2 % 64 !== 0 && fin2 < 64, `block ${fin2} has no stored justification`)
  await waitFor(() => rangeHeight() === fin2, 20_000, () => `after the reconnect a range ends at the finalized head ${fin2}: ${rangeHeight()}`)
  assert.ok(dp.fetchStats()!.live!.used >= 2, JSON.stringify(dp.fetchStats()!.live))
})

test('a live justification signed by the wrong set is not used: the range runs on to the next justified block', async () => {
  await waitFor(() => dn.relay.justifications.listenerCount('justification') === 1, 20_000, 'subscribed')
  dn.stallFinality()
  await dn.makeBlocks(4)
  const n = dn.status().relay.finalized + 1
  const rec = dn.relay.chain.byNumber(n)!
  const wrongSet = dn.relay.finalizingSetId(n) + 1
  // Correct target, signatures of another set: pRuntime would refuse it for good.
  dn.relay.justifications.emit('justification', n, encodeJustification(signJustification({ hash: rec.hash, number: n }, wrongSet, n, dn.relay.authoritySet(wrongSet).keys)))
  await waitFor(() => dp.info().parentFetchedHeight >= n, 20_000, `block ${n} committed (the notification raised the target)`)
  dn.resumeFinality()
  const best = dn.status().relay.best
  // the devnet finalizes up to its finality lag (default 2) behind the best block
  await waitFor(() => dn.status().relay.finalized >= best - 2, 20_000, 'finality resumed')
  const fin = dn.status().relay.finalized
  await waitFor(() => rangeHeight() >= fin, 20_000, () => `ranges to ${fin}: ${rangeHeight()}`)
  const blob = createBlobClient({ host: '127.0.0.1', port: dp.blobServerPort() })
  try {
    const metaKey = new TextDecoder().decode((await blob.get(`rangeCoverByParentBlock:${n}`))!)
    const meta = decodeRangeMeta((await blob.get(metaKey))!)
    assert.ok(meta.parentStopBlock > n, `the range holding ${n} ends at ${meta.parentStopBlock}, not at the forged justification`)
  } finally {
    await blob.close()
  }
})

test('liveJustificationGap 4: a live-justified range ends at least 4 blocks after the previous justified block', async () => {
  const dir4 = tempDir()
  const dp4 = await startDp(dn, dir4.path, logger, { justificationPeriod: 64, liveJustificationGap: 4 })
  try {
    await dp4.booted
    const from = dn.status().relay.finalized
    await waitFor(() => dp4.info().parentFetchedHeight >= from && dp4.fetchStats()?.live?.subscribed === true && dn.relay.justifications.listenerCount('justification') === 2, 20_000, 'second data provider synced and subscribed')
    await dn.makeBlocks(12) // finalizes from+1 .. from+12 (finality trails the best block by one), none with a stored justification
    assert.ok(dn.status().relay.finalized < 64)
    const stops: number[] = []
    await waitFor(async () => {
      const range = dp4.builderProgress()?.parentRangeHeight ?? -1
      return range >= from + 9
    }, 20_000, () => `ranges to ${from + 9}: ${JSON.stringify(dp4.builderProgress())}`)
    const blob = createBlobClient({ host: '127.0.0.1', port: dp4.blobServerPort() })
    try {
      for (let n = from + 1; n <= from + 12; n++) {
        const raw = await blob.get(`rangeByParentBlock:${n}:pb`)
        if (raw) stops.push(decodeRangeMeta(raw).parentStopBlock)
      }
    } finally {
      await blob.close()
    }
    assert.deepEqual(stops, [from + 5, from + 9], `ranges after the one ending at ${from + 1}: ${JSON.stringify(stops)}`)
    assert.equal(dp4.builderProgress()!.parentRangeHeight, from + 9, 'from+10..from+12 wait for the next justified block')
  } finally {
    await dp4.stop()
    dir4.remove()
  }
})
