/**
 * End to end against the devnet (ports 0, 20 ms RPC latency): the data provider reaches both
 * finalized heads and follows new blocks; its Walkie service answers Info and the genesis; a devnet
 * pRuntime is fed from InitRuntime to the head through the TCP blob server, the worker's own
 * validation accepting every payload; a second worker whose genesis is in the middle of a range is
 * fed through the per-height range index.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createChainConnection, type ChainConnection } from '../../src/common/chain.js'
import { encodeGenesisInfo } from '../../src/common/bridge-types.js'
import { decodeGrandpaAuthoritiesValue, ScaleReader } from '../../src/common/grandpa.js'
import { createBlobClient, decodeGenesis, type BlobClient } from '../../src/data_provider/index.js'
import { STORAGE_KEYS, headerBytes, type HeaderJson } from '../../src/data_provider/fetch/scale-util.js'
import type { RunningDataProvider } from '../../src/data_provider/main.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'
import { createWalkie, type Walkie } from '../../src/walkie/index.js'
import { caughtUp, describeProgress, feedFromBlobs, lastJustified, quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

const logger = quiet()
let dn: Devnet
let dp: RunningDataProvider
let pr: RunningPruntimes
let blob: BlobClient
let client: Walkie
let relay: ChainConnection
const dir = tempDir()

before(async () => {
  dn = await startTestDevnet({ history: 120, rpcLatencyMs: 20 }, logger)
  pr = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0 }, logger)
  dp = await startDp(dn, dir.path, logger, {
    paraBatchSize: 5,
    walkie: { bridgeIdentity: 'default', identity: { ephemeral: true }, listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, bootNodes: [] },
  })
  await dp.booted
  blob = createBlobClient({ host: '127.0.0.1', port: dp.blobServerPort() })
  relay = createChainConnection({ url: dn.relayUrl, name: 'relay' }, { logger })
  relay.start()
})

after(async () => {
  await client?.stop()
  await blob?.close()
  await relay?.stop()
  await dp?.stop()
  await pr?.stop()
  await dn?.stop()
  dir.remove()
})

test('reaches the finalized heads of both chains, then follows new blocks', async () => {
  await waitFor(() => caughtUp(dp, dn), 30_000, () => `caught up: ${describeProgress(dp, dn)}`)
  const i = dp.info()
  assert.equal(i.status, 'S_IDLE')
  assert.equal(i.paraId, 2035)
  assert.equal(i.parentTarget, dn.status().relay.finalized)
  assert.equal(i.paraTarget, dn.status().para.finalized)
  await dn.makeBlocks(30)
  await waitFor(() => caughtUp(dp, dn), 30_000, () => `caught up after 30 new blocks: ${describeProgress(dp, dn)}`)
  assert.ok(dp.info().parentFetchedHeight >= 150 - 2, describeProgress(dp, dn)) // finality lag 2
})

test('Walkie: GetDataProviderInfo has every field with the blob server port; GetBlobByKey serves the genesis and says empty for a missing key', async () => {
  client = createWalkie({ role: 'WR_CLIENT', chainIdentity: dp.chainIdentity()!, bridgeIdentity: 'default', identity: { ephemeral: true }, listenAddresses: [], disableMdns: true }, { logger })
  await client.start()
  const peer = await client.dial(dp.walkie()!.multiaddrs()[0]!)
  const info = await client.call(peer, 'GetDataProviderInfo', {})
  const local = dp.info()
  assert.equal(info.blobServerPort, dp.blobServerPort())
  assert.equal(info.paraId, 2035)
  assert.equal(info.parentStartHeader, dp.genesis()!.parentNumber)
  for (const k of ['parentTarget', 'parentFetchedHeight', 'parentProcessedHeight', 'parentCommittedHeight', 'paraTarget', 'paraFetchedHeight', 'paraProcessedHeight', 'paraCommittedHeight'] as const) {
    assert.ok(info[k] > 0 && info[k] <= local[k], `${k}: ${info[k]} (now ${local[k]})`)
  }
  assert.equal(info.status, 'S_IDLE')
  const hello = client.peers({ role: 'WR_DATA_PROVIDER_INT' })
  assert.equal(hello.length, 1, 'Hello: the data provider is known with its role')
  assert.equal(hello[0]!.chainIdentity, dp.chainIdentity())
  assert.equal(dp.chainIdentity(), await relayLessParaBlock1Hash())

  const g = await client.call(peer, 'GetBlobByKey', { key: 'genesis:2035:pb' })
  assert.equal(g.empty, false)
  const genesis = decodeGenesis(g.data)
  assert.equal(genesis.paraId, 2035)
  assert.deepEqual(Buffer.from(genesis.bridgeGenesisInfo), Buffer.from(dp.genesis()!.bridgeGenesisInfo))
  const missing = await client.call(peer, 'GetBlobByKey', { key: 'no-such-key' })
  assert.equal(missing.empty, true)
  assert.equal(missing.data.length, 0)
})

async function relayLessParaBlock1Hash(): Promise<string> {
  return dn.para.chain.byNumber(1)!.hash.toLowerCase()
}

test('a devnet pRuntime is fed from InitRuntime to the head through the blob server; it accepts every payload', async () => {
  await waitFor(() => caughtUp(dp, dn), 30_000, () => `caught up: ${describeProgress(dp, dn)}`)
  const raw = await blob.get('genesis:2035:pb')
  assert.ok(raw, 'genesis over TCP')
  const genesis = decodeGenesis(raw)
  const w = pr.workers[0]!
  const pc = new PruntimeClient(w.endpoint)
  await pc.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    skipRa: false, encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true,
  })
  const r = await feedFromBlobs(blob, w.endpoint)
  const i = dp.info()
  // The last range ends at the last stored justification, or later at a live one (blocks made while subscribed).
  const rangeStop = dp.builderProgress()!.parentRangeHeight
  assert.ok(rangeStop >= lastJustified(dn), `last range ends at ${rangeStop}, the last stored justification is at ${lastJustified(dn)}`)
  assert.equal(r.info.headernum - 1, rangeStop, 'relay headers synced to the end of the last range')
  assert.equal(r.info.blocknum, r.info.paraHeadernum, 'every synced para header dispatched')
  assert.ok(r.info.blocknum - 1 >= i.paraCommittedHeight - 4, `para blocks dispatched to ${r.info.blocknum - 1} of ${i.paraCommittedHeight}`)
  assert.ok(r.headerCalls >= 4 && r.blockCalls >= 10, JSON.stringify(r))
  assert.ok(r.blobCalls >= 2, `window blobs used: ${r.blobCalls}`)
  assert.ok(r.batchCalls >= 8, `para batches used: ${r.batchCalls}`)
  const paraHeader = dn.para.chain.byNumber(r.info.blocknum - 1)!.header
  assert.equal('0x' + r.info.stateRoot, paraHeader.stateRoot, 'the worker state root is the chain state root')
})

test('a worker whose genesis lies in the middle of a range is fed through the per-height range index', async () => {
  const dpGenesis = dp.genesis()!
  const mid = dpGenesis.parentNumber + 4 // inside the first dry range [parentNumber+1, 8]
  const hash = await relay.rpc<string>('chain_getBlockHash', [mid])
  const [header, auth, setId, proof] = await Promise.all([
    relay.rpc<HeaderJson>('chain_getHeader', [hash]),
    relay.rpc<string>('state_getStorage', [STORAGE_KEYS.grandpaAuthorities, hash]),
    relay.rpc<string | null>('state_getStorage', [STORAGE_KEYS.grandpaSetId, hash]),
    relay.rpc<{ proof: string[] }>('state_getReadProof', [[STORAGE_KEYS.grandpaAuthorities, STORAGE_KEYS.grandpaSetId], hash]),
  ])
  const genesisInfo = encodeGenesisInfo({
    header: headerBytes(header, hash, `relay ${mid}`),
    authoritySet: { authoritySet: decodeGrandpaAuthoritiesValue(auth).map((a) => [a.publicKey, a.weight]), setId: setId ? new ScaleReader(setId).u64() : 0n },
    proof: proof.proof,
  })
  assert.equal(await blob.get(`rangeByParentBlock:${mid + 1}:pb`), null, 'the worker\'s next relay header is not a range start')
  const w = pr.workers[1]!
  const pc = new PruntimeClient(w.endpoint)
  await pc.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    skipRa: false, encodedGenesisInfo: genesisInfo, encodedGenesisState: dpGenesis.genesisState, isParachain: true,
  })
  assert.equal((await pc.getInfo()).headernum, mid + 1)
  const r = await feedFromBlobs(blob, w.endpoint, { useCoverIndex: true })
  assert.equal(r.info.headernum - 1, dp.builderProgress()!.parentRangeHeight)
  assert.equal(r.info.blocknum, r.info.paraHeadernum)
  assert.equal('0x' + r.info.stateRoot, dn.para.chain.byNumber(r.info.blocknum - 1)!.header.stateRoot)
})
