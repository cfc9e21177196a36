/**
 * The sync engine recovers without an operator: hung and slow pRuntimes do not hold back the
 * others, a pRuntime that crashes mid-sync is initialised again and brought to the head, a worker
 * stopped and restarted in the middle of a data provider's range resumes there (the per-height
 * index), and when the data provider in use stops, the workers fail over to the second one.
 *
 * The data providers look for justifications every 16 relay blocks while the devnet makes one every
 * 8: a pRuntime fed to a justification at 8 (mod 16) by the devnet's feeder stands inside a range.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Devnet } from '../../src/devnet/devnet.js'
import { Feeder, startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import type { PreparedRequest, SyncEngine, SyncWorkerEvent } from '../../src/lifecycle/sync/index.js'
import { decodeSyncCombinedHeaders, headerNumber } from '../../src/common/sync-request.js'
import { atHead, caughtUp, describe, describeProgress, lifecycleWalkie, quiet, startDevnetWith, startEngine, startWalkieDp, waitFor, workerView, type TestDp } from './helpers.js'

const logger = quiet()
let dn: Devnet
let pr: RunningPruntimes
let dp1: TestDp
let dp2: TestDp
let walkie: Walkie
let engine: SyncEngine
const events: SyncWorkerEvent[] = []
/** Requests sent; a header request with the number of its first relay header. */
const sent: Array<{ uuid?: string; id: string; firstRelay?: number }> = []

before(async () => {
  dn = await startDevnetWith({ history: 160, justificationPeriod: 8, sessionBlocks: 100_000 }, logger)
  pr = await startPruntimes({ count: 4, host: '127.0.0.1', basePort: 0 }, logger)
  const dpo = { justificationPeriod: 16, liveJustifications: false }
  dp1 = await startWalkieDp(dn, logger, dpo)
  dp2 = await startWalkieDp(dn, logger, dpo)
  await waitFor(() => caughtUp(dp1.dp, dn) && caughtUp(dp2.dp, dn), 60_000, () => describeProgress(dp1.dp, dn) + describeProgress(dp2.dp, dn))
  walkie = await lifecycleWalkie([dp1.dp, dp2.dp], logger)
  engine = startEngine(walkie, logger, {}, {
    request: (r: PreparedRequest) => sent.push({ id: r.id, ...(r.action === 'sync_combined_headers' ? { firstRelay: headerNumber(decodeSyncCombinedHeaders(r.body).relay[0]!.encoded) } : {}) }),
  })
  engine.events.on('worker', (e) => events.push(e))
})

after(async () => {
  await engine?.stop()
  await walkie?.stop()
  await dp1?.stop()
  await dp2?.stop()
  await pr?.stop()
  await dn?.stop()
})

const views = () => pr.workers.map((w, i) => workerView(i, w.endpoint))
const all = ['w-0', 'w-1', 'w-2', 'w-3']
const dpOf = (): TestDp => (dp1.dp.walkie()?.peerId === engine.dataProviders.sources()[0]?.peerId ? dp1 : dp2)

test('a hung and a slow pRuntime do not hold back the others; both catch up once healed', async (t) => {
  const t0 = Date.now()
  pr.workers[0]!.hang(true)
  pr.workers[1]!.slow(400)
  engine.apply(views())
  await waitFor(() => atHead(engine, ['w-2', 'w-3'], dp1.dp), 60_000, () => describe(engine, all, dp1.dp))
  t.diagnostic(`healthy workers at the head after ${Date.now() - t0} ms`)
  assert.notEqual(engine.report('w-0')!.status, 'S_SYNCHED')
  assert.ok(!atHead(engine, ['w-1'], dp1.dp), 'the slow worker is still on its way')
  await waitFor(() => /unresponsive/.test(engine.report('w-0')!.lastMessage), 30_000, () => describe(engine, all, dp1.dp))
  pr.workers[0]!.heal()
  pr.workers[1]!.heal()
  await waitFor(() => atHead(engine, all, dp1.dp), 60_000, () => describe(engine, all, dp1.dp))
  t.diagnostic(`all at the head after ${Date.now() - t0} ms`)
})

test('a pRuntime that crashes mid-sync is initialised again and comes back to the head', async () => {
  engine.apply([])
  await waitFor(() => engine.stats().workers === 0, 10_000, 'workers stopped')
  const w = pr.workers[2]!
  w.crash()
  w.slow(150)
  engine.apply([views()[2]!])
  await waitFor(() => { const r = engine.report('w-2'); return !!r && r.paraBlockDispatchedTo >= 8 }, 60_000, () => describe(engine, ['w-2'], dp1.dp))
  assert.ok(!atHead(engine, ['w-2'], dp1.dp), 'crashing mid-sync')
  const inits = events.filter((e) => e.type === 'initialized' && e.uuid === 'w-2').length
  w.crash()
  w.heal()
  await waitFor(() => atHead(engine, ['w-2'], dp1.dp), 60_000, () => describe(engine, ['w-2'], dp1.dp))
  assert.ok(events.some((e) => e.type === 'restartedEmpty' && e.uuid === 'w-2'), 'restartedEmpty reported')
  assert.equal(events.filter((e) => e.type === 'initialized' && e.uuid === 'w-2').length, inits + 1, 'initialised once more')
  const h = w.phactory().heights()!
  assert.equal('0x' + String(w.phactory().info().stateRoot), dn.para.chain.byNumber(h.blocknum - 1)!.header.stateRoot)
})

test('a worker stopped and restarted in the middle of a range resumes there, without InitRuntime', async () => {
  engine.apply([])
  await waitFor(() => engine.stats().workers === 0, 10_000, 'workers stopped')
  const w = pr.workers[3]!
  w.crash()
  // Init and feed it by hand to a justification inside a data provider range.
  const feeder = await Feeder.connect(dn.relayUrl, dn.paraUrl)
  try {
    const { PruntimeClient } = await import('../../src/devnet/pruntime/index.js')
    const pc = new PruntimeClient(w.endpoint)
    const g = await feeder.genesis()
    await pc.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', { skipRa: false, encodedGenesisInfo: g.encodedGenesisInfo, encodedGenesisState: g.encodedGenesisState, isParachain: true })
    for (;;) {
      const i = await pc.getInfo()
      if ((i.headernum - 1) % 16 === 8 && i.headernum > 40) break
      const h = await feeder.headers(i.headernum, i.paraHeadernum)
      assert.ok(h, 'the feeder has headers')
      await pc.binApi('sync_combined_headers', h.body)
    }
    const i = await pc.getInfo()
    assert.equal(await dp1.dp.walkie() && (i.headernum - 1) % 16, 8)
    const initsBefore = events.filter((e) => e.type === 'initialized' && e.uuid === 'w-3').length
    sent.length = 0
    engine.apply([views()[3]!])
    await waitFor(() => atHead(engine, ['w-3'], dp1.dp), 60_000, () => describe(engine, ['w-3'], dp1.dp))
    assert.equal(events.filter((e) => e.type === 'initialized' && e.uuid === 'w-3').length, initsBefore, 'no InitRuntime: the worker kept its state')
    // No range of the data provider starts at the worker's next header: the one holding it was found
    // through rangeCoverByParentBlock, sent as it is (it starts below) or merged with the next ones
    // (the merge leaves out what the worker has: it starts exactly there).
    const cover = sent.find((s) => s.firstRelay !== undefined)
    assert.ok(cover, `a header range was sent: ${JSON.stringify(sent.slice(0, 5))}`)
    if (cover.id.startsWith('prb:headers:')) assert.equal(cover.firstRelay, i.headernum, `the merged request ${cover.id} starts at the worker's next header`)
    else assert.ok(Number(cover.id.split(':')[1]) < i.headernum, `the first range (${cover.id}) starts below the worker's next header ${i.headernum}: found through rangeCoverByParentBlock`)
    assert.ok(w.phactory().heights()!.blocknum > 1)
  } finally {
    await feeder.disconnect()
  }
})

test('the data provider in use stops: the workers fail over to the other one and follow the head', async () => {
  engine.apply(views())
  await waitFor(() => atHead(engine, all, dp1.dp), 60_000, () => describe(engine, all, dp1.dp))
  const used = dpOf()
  const other = used === dp1 ? dp2 : dp1
  // A fresh worker mid-sync while the provider goes away.
  pr.workers[0]!.crash()
  pr.workers[0]!.slow(100)
  engine.restart('w-0')
  await waitFor(() => (engine.report('w-0')?.paraBlockDispatchedTo ?? 0) >= 4, 60_000, () => describe(engine, ['w-0'], other.dp))
  await used.stop()
  pr.workers[0]!.heal()
  await dn.makeBlocks(40) // the last justification at 192, a multiple of the providers' 16
  await waitFor(() => caughtUp(other.dp, dn), 60_000, () => describeProgress(other.dp, dn))
  await waitFor(() => atHead(engine, all, other.dp), 90_000, () => describe(engine, all, other.dp))
  assert.ok(engine.report('w-1')!.parentHeaderSynchedTo >= 160 + 16, 'followed the new blocks')
})

test('a pRuntime that keeps refusing is reported with its own message, and resumes when it stops', async () => {
  const w = pr.workers[1]!
  w.failWith500(true)
  await waitFor(() => /keeps rejecting .*Internal Server Error \(injected fault\)/.test(engine.report('w-1')!.lastMessage), 30_000, () => describe(engine, ['w-1'], dp2.dp))
  w.heal()
  const other = dp1.dp.walkie() && engine.dataProviders.sources()[0]?.peerId === dp1.dp.walkie()?.peerId ? dp1 : dp2
  await dn.makeBlocks(16)
  await waitFor(() => atHead(engine, ['w-1'], other.dp) && engine.report('w-1')!.parentHeaderSynchedTo >= 208, 60_000, () => describe(engine, ['w-1'], other.dp))
})
