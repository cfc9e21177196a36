/**
 * The sync engine on the devnet: 4 workers from InitRuntime to the head and following it, judged by
 * the devnet's pRuntimes (they validate every header, proof and state root).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import type { SyncEngine, SyncWorkerEvent } from '../../src/lifecycle/sync/index.js'
import { atHead, caughtUp, describe, describeProgress, lifecycleWalkie, quiet, startDevnetWith, startEngine, startWalkieDp, waitFor, workerView, type TestDp } from './helpers.js'

const logger = quiet()
let dn: Devnet
let pr: RunningPruntimes
let dp: TestDp
let walkie: Walkie
let engine: SyncEngine
const events: SyncWorkerEvent[] = []
const fetches = new Map<string, number>()
let headerRequests = 0

before(async () => {
  dn = await startDevnetWith({ history: 160 }, logger)
  pr = await startPruntimes({ count: 4, host: '127.0.0.1', basePort: 0 }, logger)
  dp = await startWalkieDp(dn, logger)
  await waitFor(() => caughtUp(dp.dp, dn), 60_000, () => describeProgress(dp.dp, dn))
  walkie = await lifecycleWalkie([dp.dp], logger)
  engine = startEngine(walkie, logger, {}, {
    blobFetch: (k) => fetches.set(k, (fetches.get(k) ?? 0) + 1),
    request: (r) => { if (r.action === 'sync_combined_headers') headerRequests++ },
  })
  engine.events.on('worker', (e) => events.push(e))
})

after(async () => {
  await engine?.stop()
  await walkie?.stop()
  await dp?.stop()
  await pr?.stop()
  await dn?.stop()
})

const uuids = ['w-0', 'w-1', 'w-2', 'w-3']

test('4 workers: InitRuntime, then to the head of both chains; every blob fetched about once', async () => {
  engine.apply(pr.workers.map((w, i) => workerView(i, w.endpoint)))
  await waitFor(() => atHead(engine, uuids, dp.dp), 120_000, () => describe(engine, uuids, dp.dp))
  for (const [i, w] of pr.workers.entries()) {
    const h = w.phactory().heights()!
    const r = engine.report(uuids[i]!)!
    assert.equal(r.initialized, true)
    assert.equal(r.paraBlockDispatchedTo, h.blocknum - 1, 'the report follows pRuntime')
    assert.equal(r.publicKey, w.publicKey().slice(2), 'public key from GetInfo')
    assert.match(r.lastMessage, /^\[\d{4}-\d\d-\d\dT.*\] /)
    assert.ok((r.details?.version as string).length > 0)
    const root = dn.para.chain.byNumber(h.blocknum - 1)!.header.stateRoot
    assert.equal('0x' + String(w.phactory().info().stateRoot), root, 'the worker state is the chain state')
  }
  for (const u of uuids) {
    assert.ok(events.some((e) => e.type === 'initialized' && e.uuid === u), `initialized event for ${u}`)
    assert.ok(events.some((e) => e.type === 'synched' && e.uuid === u), `synched event for ${u}`)
    assert.ok(events.some((e) => e.type === 'publicKey' && e.uuid === u))
  }
  const distinct = fetches.size
  const total = [...fetches.values()].reduce((a, b) => a + b, 0)
  assert.ok(total / distinct <= 1.5, `blob fetches per distinct key: ${total}/${distinct}`)
  // 160 relay blocks: the data provider's ranges end every 8 (20 ranges), the authority set changes
  // every 40. Consecutive ranges of one set go as one request: about 4 per worker, not 20.
  assert.ok(headerRequests / 4 <= 7, `sync_combined_headers per worker: ${headerRequests / 4}`)
})

test('the workers follow new blocks', async () => {
  const before = engine.report('w-0')!.paraBlockDispatchedTo
  await dn.makeBlocks(24)
  await waitFor(() => caughtUp(dp.dp, dn), 60_000, () => describeProgress(dp.dp, dn))
  await waitFor(() => atHead(engine, uuids, dp.dp) && engine.report('w-0')!.paraBlockDispatchedTo > before, 60_000, () => describe(engine, uuids, dp.dp))
  assert.ok(engine.report('w-3')!.paraBlockDispatchedTo >= before + 8)
})
