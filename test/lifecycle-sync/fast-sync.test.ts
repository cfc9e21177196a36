/**
 * Fast sync on a devnet with 20,000 relay blocks of history: a fresh worker syncs the headers, gets
 * the para state at the last synced para header by LoadChainState, and dispatches only what follows.
 * The devnet's pRuntime refuses a state that does not match the header's state root, and one sent
 * after blocks were dispatched.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Devnet } from '../../src/devnet/devnet.js'
import { PruntimeClient, startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { encodeStorageState } from '../../src/common/bridge-types.js'
import type { Walkie } from '../../src/walkie/index.js'
import type { PreparedRequest, SyncEngine, SyncWorkerEvent } from '../../src/lifecycle/sync/index.js'
import { atHead, caughtUp, describe, describeProgress, lifecycleWalkie, quiet, startDevnetWith, startEngine, startWalkieDp, waitFor, workerView, type TestDp } from './helpers.js'

const logger = quiet()
let dn: Devnet
let pr: RunningPruntimes
let dp: TestDp
let walkie: Walkie
let engine: SyncEngine | undefined
const events: SyncWorkerEvent[] = []
const sent: PreparedRequest[] = []

before(async () => {
  dn = await startDevnetWith({ history: 20_000, justificationPeriod: 256, sessionBlocks: 100_000 }, logger)
  pr = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0 }, logger)
  dp = await startWalkieDp(dn, logger, { justificationPeriod: 256, liveJustifications: false, parentParallel: 64, paraParallel: 32 })
  await waitFor(() => caughtUp(dp.dp, dn), 600_000, () => describeProgress(dp.dp, dn))
  walkie = await lifecycleWalkie([dp.dp], logger)
})

after(async () => {
  await engine?.stop()
  await walkie?.stop()
  await dp?.stop()
  await pr?.stop()
  await dn?.stop()
})

test('a fresh worker is brought to the head of a 20,000-block history by LoadChainState', async (t) => {
  engine = startEngine(walkie, logger, { disableFastSync: false, chainEndpoint: dn.paraUrl }, { request: (r) => sent.push(r) })
  engine.events.on('worker', (e) => events.push(e))
  // The worker starts at once, before the engine's first Info from the data provider: it must wait for
  // the provider's height to decide on fast sync (it replayed the whole history when it did not).
  const t0 = Date.now()
  engine.apply([workerView(0, pr.workers[0]!.endpoint)])
  await waitFor(() => atHead(engine!, ['w-0'], dp.dp), 300_000, () => describe(engine!, ['w-0'], dp.dp))
  t.diagnostic(`fast sync to the head in ${Date.now() - t0} ms`)
  const fast = events.find((e) => e.type === 'fastSync')
  assert.ok(fast && fast.type === 'fastSync' && fast.ok, `LoadChainState accepted: ${JSON.stringify(fast)}`)
  assert.ok(fast.block > 9000, `state loaded near the head (para block ${fast.block})`)
  const dispatches = sent.filter((r) => r.action === 'dispatch_block').length
  assert.ok(dispatches < 10, `only the blocks after the loaded state are dispatched (${dispatches} calls)`)
  const w = pr.workers[0]!
  const h = w.phactory().heights()!
  assert.equal('0x' + String(w.phactory().info().stateRoot), dn.para.chain.byNumber(h.blocknum - 1)!.header.stateRoot, 'the worker state is the chain state')
  // It follows new blocks by replay from there.
  await dn.makeBlocks(256)
  await waitFor(() => caughtUp(dp.dp, dn), 120_000, () => describeProgress(dp.dp, dn))
  await waitFor(() => atHead(engine!, ['w-0'], dp.dp) && w.phactory().heights()!.blocknum > h.blocknum, 120_000, () => describe(engine!, ['w-0'], dp.dp))
})

test('the devnet pRuntime refuses a chain state that does not match the state root, or comes after a dispatch', async () => {
  const { decodeGenesis, decodeRangeMeta } = await import('../../src/data_provider/index.js')
  const peer = dp.dp.walkie()!.peerId
  const blob = async (key: string): Promise<Uint8Array> => {
    const r = await walkie.call(peer, 'GetBlobByKey', { key })
    assert.equal(r.empty, false, key)
    return r.data
  }
  const pc = new PruntimeClient(pr.workers[1]!.endpoint)
  const genesis = decodeGenesis(await blob('genesis:2035:pb'))
  await pc.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', { encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true })
  assert.equal((await pc.getInfo()).canLoadChainState, true)
  const load = (blockNumber: number, encodedState: Uint8Array) => pc.prpc('LoadChainState', 'pruntime_rpc.ChainState', 'google.protobuf.Empty', { blockNumber, encodedState })
  await assert.rejects(load(5, encodeStorageState([])), /no synced para header for block 5/)
  // One header range (the dry one, as for the first para header).
  let info = await pc.getInfo()
  for (let n = 0; n < 3; n++) {
    const meta = decodeRangeMeta(await blob(`rangeByParentBlock:${info.headernum}:pb`))
    await pc.binApi('sync_combined_headers', await blob(meta.drySyncHeaderReqKey))
    info = await pc.getInfo()
  }
  const p = info.paraHeadernum - 1
  assert.ok(p > 10, `para headers synced to ${p}`)
  await assert.rejects(load(p, genesis.genesisState), /state root mismatch at block/, 'the genesis state is not the state at a later block')
  assert.equal((await pc.getInfo()).blocknum, 1, 'nothing changed on refusal')
  // The worker fast-synced above has dispatched blocks: too late for a state.
  const pc0 = new PruntimeClient(pr.workers[0]!.endpoint)
  assert.equal((await pc0.getInfo()).canLoadChainState, false)
  await assert.rejects(pc0.prpc('LoadChainState', 'pruntime_rpc.ChainState', 'google.protobuf.Empty', { blockNumber: 1, encodedState: genesis.genesisState }), /blocks already dispatched/)
})
