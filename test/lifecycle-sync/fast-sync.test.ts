/**
 * Fast sync on a devnet with 20,000 relay blocks of history: a fresh worker gets the para state at a
 * recent block by LoadChainState right after InitRuntime (as prb v3), then syncs the relay headers
 * and the para headers from that block, and dispatches only what follows. The devnet's pRuntime has
 * phactory's rules: a state only before the first header sync, never at block 0, and a state that
 * is not the block's is refused at the first dispatch after it (StateRootMismatch).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Devnet } from '../../src/devnet/devnet.js'
import { PruntimeClient, startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
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
  pr = await startPruntimes({ count: 3, host: '127.0.0.1', basePort: 0 }, logger)
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

test('the devnet pRuntime takes a chain state only before any header, and refuses a wrong one at the first dispatch', async () => {
  const { decodeGenesis, decodeRangeMeta } = await import('../../src/data_provider/index.js')
  const peer = dp.dp.walkie()!.peerId
  const blob = async (key: string): Promise<Uint8Array> => {
    const r = await walkie.call(peer, 'GetBlobByKey', { key })
    assert.equal(r.empty, false, key)
    return r.data
  }
  const genesis = decodeGenesis(await blob('genesis:2035:pb'))
  const init = (pc: PruntimeClient) => pc.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', { encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true })
  const loadOn = (pc: PruntimeClient) => (blockNumber: number, encodedState: Uint8Array) => pc.prpc('LoadChainState', 'pruntime_rpc.ChainState', 'google.protobuf.Empty', { blockNumber, encodedState })
  const syncRange = async (pc: PruntimeClient) => {
    const info = await pc.getInfo()
    const meta = decodeRangeMeta(await blob(`rangeByParentBlock:${info.headernum}:pb`))
    return pc.binApi('sync_combined_headers', await blob(meta.drySyncHeaderReqKey))
  }

  // A header sync, even a rejected one, ends the chance to load a state.
  const pc2 = new PruntimeClient(pr.workers[2]!.endpoint)
  await init(pc2)
  assert.equal((await pc2.getInfo()).canLoadChainState, true)
  await assert.rejects(loadOn(pc2)(0, genesis.genesisState), /Can not load chain state from block 0/)
  await syncRange(pc2)
  assert.equal((await pc2.getInfo()).canLoadChainState, false)
  await assert.rejects(loadOn(pc2)(5, genesis.genesisState), /^(?!.*from block 0).*Can not load chain state/)

  // A state that is not the block's (the genesis state, said to be block 200's) is taken, and the
  // first dispatch after it refuses it: StateRootMismatch at the loaded block, nothing dispatched.
  const pc = new PruntimeClient(pr.workers[1]!.endpoint)
  await init(pc)
  const at = 200
  await loadOn(pc)(at, genesis.genesisState)
  let info = await pc.getInfo()
  assert.equal(info.canLoadChainState, false)
  assert.equal(info.blocknum, at + 1)
  assert.equal(info.paraHeadernum, at, 'the para headers go on from the loaded block')
  await assert.rejects(loadOn(pc)(at, genesis.genesisState), /Can not load chain state/, 'once only')
  while (info.paraHeadernum <= at + 1) {
    await syncRange(pc)
    info = await pc.getInfo()
  }
  const b = await blob(`dryParaBlock:${at + 1}`)
  await assert.rejects(pc.binApi('dispatch_block', b), new RegExp(`StateRootMismatch block=${at} `))
  assert.equal((await pc.getInfo()).blocknum, at + 1, 'nothing dispatched')

  // The worker fast-synced above has loaded its state already.
  const pc0 = new PruntimeClient(pr.workers[0]!.endpoint)
  assert.equal((await pc0.getInfo()).canLoadChainState, false)
  await assert.rejects(pc0.prpc('LoadChainState', 'pruntime_rpc.ChainState', 'google.protobuf.Empty', { blockNumber: 1, encodedState: genesis.genesisState }), /Can not load chain state/)
})
