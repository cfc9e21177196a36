import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getCodec } from '../../src/common/codec.js'
import { decodeExact } from '../../src/common/bridge-types.js'
import { createBlobBuilder, keys, type BlobBuilder, type DataProviderStore } from '../../src/data_provider/index.js'
import { genesisRecord, makeChain, paraRecord, parentRecord, prng, type ChainSpec } from './chain-fixture.js'
import { dump, openStore, quietLogger, storeChain, tempDir, withDeadline } from './helpers.js'
import { expectedDb } from './reference-walk.js'

const INPUT_KEY = /^(genesis:|parent:|para:)/

function builder(store: DataProviderStore, c: ChainSpec, paraBatchSize = 0, onCommit?: () => void): BlobBuilder {
  return createBlobBuilder({ paraId: c.paraId, paraBatchSize, recheckMs: 0 }, { store, logger: quietLogger(), onRangeCommit: onCommit, onParaCommit: onCommit })
}

async function buildAll(store: DataProviderStore, c: ChainSpec, paraBatchSize = 0): Promise<void> {
  const b = builder(store, c, paraBatchSize)
  await b.start()
  await withDeadline(b.whenIdle(), 30_000, 'builder idle')
  await b.stop()
}

function assertMatchesReference(db: Map<string, Buffer>, c: ChainSpec, paraBatchSize: number): void {
  const exp = expectedDb(c, paraBatchSize)
  // The reference is only valid on normal chains (see reference-walk.ts); check the chain is one.
  for (const w of exp.windows.filter((x) => x.finished)) assert.ok(w.para.length >= 2, `fixture window ${w.id} has ${w.para.length} para blocks`)
  assert.ok(exp.windows.filter((x) => x.finished).length >= 3, 'fixture has several finished windows')
  for (const [k, v] of exp.bytes) {
    const got = db.get(k)
    assert.ok(got, `missing key ${k}`)
    assert.ok(Buffer.from(v).equals(got), `bytes of ${k} differ`)
  }
  for (const [k, { type, value }] of exp.records) {
    const got = db.get(k)
    assert.ok(got, `missing record ${k}`)
    assert.deepEqual(getCodec().decode(type, got), value, `record ${k}`)
  }
  const unexpected = [...db.keys()].filter((k) => !INPUT_KEY.test(k) && k !== keys.builderCursor && !exp.bytes.has(k) && !exp.records.has(k))
  assert.deepEqual(unexpected, [], 'keys the reference does not predict')
}

for (const [seed, batch] of [[11, 0], [12, 15], [13, 4]] as const) {
  test(`windows, dry ranges, metas, blobs, para blocks and batches match the reference walk (seed ${seed}, batch ${batch})`, async (t) => {
    const c = makeChain({ seed, relayBlocks: 700 })
    const store = await openStore(tempDir(t))
    t.after(() => store.close())
    await storeChain(store, c)
    await buildAll(store, c, batch)
    const db = await dump(store)
    assertMatchesReference(db, c, batch)

    // Every relay height of a committed range is indexed, and to the range that covers it.
    const { ranges } = expectedDb(c, batch)
    const lastStop = ranges[ranges.length - 1]!.stop
    for (let h = c.genesisParent + 1; h <= lastStop; h++) {
      const meta = await store.getRangeMetaCovering(h)
      assert.ok(meta && meta.parentStartBlock <= h && h <= meta.parentStopBlock, `height ${h}`)
    }
    assert.equal(await store.getRangeMetaCovering(lastStop + 1), undefined)
    assert.equal(await store.getRangeMetaCovering(c.genesisParent), undefined)

    // The payloads are well-formed pRuntime requests (decoded by the shared SCALE types).
    const first = ranges.find((r) => r.para.length > 0)!
    const meta = (await store.getRangeMeta(first.start))!
    const dry = decodeExact('SyncCombinedHeadersReq', db.get(meta.drySyncHeaderReqKey)!) as unknown as { relaychainHeaders: { length: number }; parachainHeaders: { length: number } }
    assert.equal(dry.relaychainHeaders.length, first.stop - first.start + 1)
    assert.equal(dry.parachainHeaders.length, first.para.length)
    const blob = decodeExact('SyncCombinedHeadersReq', db.get(meta.blobSyncHeaderReqKey)!) as unknown as { relaychainHeaders: { length: number } }
    assert.equal(blob.relaychainHeaders.length, meta.blobParentStopBlock - c.genesisParent)
    decodeExact('Vec<BlockHeaderWithChanges>', db.get('dryParaBlock:1')!)
  })
}

test('event-driven: blocks stored in any order with notifications give the same DB as a run over a full DB', async (t) => {
  const c = makeChain({ seed: 21, relayBlocks: 400 })
  const full = await openStore(tempDir(t))
  t.after(() => full.close())
  await storeChain(full, c)
  await buildAll(full, c, 15)

  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  const b = builder(store, c, 15)
  t.after(() => b.stop())
  await b.start()
  await withDeadline(b.whenIdle(), 10_000, 'idle without genesis')
  await store.putGenesis(genesisRecord(c))
  b.notifyGenesis()
  // The fetcher works in parallel: blocks land in shuffled windows of 8, relay and para interleaved.
  const rnd = prng(5)
  const jobs: (() => Promise<void>)[] = []
  for (const s of c.relay) jobs.push(async () => { await store.putParentBlock(parentRecord(s)); b.notifyParentBlock(s.number) })
  for (let p = 0; p <= c.paraTop; p++) jobs.push(async () => { await store.putParaBlock(paraRecord(p)); b.notifyParaBlock(p) })
  jobs.sort(() => rnd() - 0.5)
  for (let i = 0; i < jobs.length; i += 8) {
    await Promise.all(jobs.slice(i, i + 8).map((j) => j()))
    if (i % 160 === 0) await withDeadline(b.whenIdle(), 10_000, 'idle mid-feed')
  }
  await withDeadline(b.whenIdle(), 30_000, 'idle after feed')
  await b.stop()
  assert.deepEqual(await dump(store), await dump(full))
  assert.deepEqual(b.progress().paraCommittedHeight, c.paraTop)
})

test('crash and resume: a crash at any write (before or after it lands) then a restart gives exactly the keys and bytes of an uninterrupted run', async (t) => {
  const c = makeChain({ seed: 31, relayBlocks: 200 })
  const cleanStore = await openStore(tempDir(t))
  t.after(() => cleanStore.close())
  await storeChain(cleanStore, c)
  let totalWrites = 0
  const origWrite = cleanStore.write.bind(cleanStore)
  cleanStore.write = (batch) => {
    totalWrites++
    return origWrite(batch)
  }
  await buildAll(cleanStore, c, 4)
  const clean = await dump(cleanStore)
  assert.ok(totalWrites > 20, `the run makes ${totalWrites} writes`)

  for (let k = 1; k <= totalWrites; k++) {
    for (const landed of k % 2 === 0 ? [false, true] : [true]) {
      const dir = tempDir(t)
      let store = await openStore(dir)
      await storeChain(store, c)
      // The process dies at the k-th write: before it reaches the disk, or right after.
      let writes = 0
      let dead = false
      let crash!: () => void
      const crashed = new Promise<void>((resolve) => { crash = resolve })
      const write = store.write.bind(store)
      store.write = async (batch) => {
        if (dead) throw new Error('process is dead')
        if (++writes === k) {
          dead = true
          if (landed) await write(batch)
          crash()
          throw new Error('simulated crash')
        }
        return write(batch)
      }
      const b = builder(store, c, 4)
      await b.start()
      await withDeadline(crashed, 30_000, `crash at write ${k}`)
      await b.stop()
      await store.close()
      store = await openStore(dir)
      await buildAll(store, c, 4)
      const resumed = await dump(store)
      await store.close()
      assert.deepEqual([...resumed.keys()], [...clean.keys()], `keys after a crash at write ${k} (landed: ${landed})`)
      for (const [key, v] of clean) assert.ok(v.equals(resumed.get(key)!), `bytes of ${key} after a crash at write ${k} (landed: ${landed})`)
    }
  }
})

test('hard crash: the DB closes at a random moment while the builder writes; a restart completes with no gap', async (t) => {
  const c = makeChain({ seed: 41, relayBlocks: 300 })
  const cleanStore = await openStore(tempDir(t))
  t.after(() => cleanStore.close())
  await storeChain(cleanStore, c)
  await buildAll(cleanStore, c, 15)
  const clean = await dump(cleanStore)

  const rnd = prng(9)
  for (let round = 0; round < 4; round++) {
    const dir = tempDir(t)
    let store = await openStore(dir)
    await storeChain(store, c)
    const b = builder(store, c, 15)
    await b.start()
    const ticks = 5 + Math.floor(rnd() * 400)
    for (let i = 0; i < ticks; i++) await new Promise((r) => setImmediate(r))
    await store.close() // the builder's next read or write fails; it must not write half a range
    await b.stop()
    store = await openStore(dir)
    const partial = await dump(store)
    assert.ok(partial.size < clean.size, `round ${round}: the DB closed before the build was done`)
    await buildAll(store, c, 15)
    const resumed = await dump(store)
    await store.close()
    assert.deepEqual([...resumed.keys()], [...clean.keys()], `keys, round ${round}`)
    for (const [key, v] of clean) assert.ok(v.equals(resumed.get(key)!), `bytes of ${key}, round ${round}`)
  }
})

/** A hand-made chain: [number, setId, justified, paraNumber] from the genesis parent on. */
function handChain(rows: [number, number, boolean, number][]): ChainSpec {
  const relay = rows.map(([number, setId, justified, paraNumber]) => ({ number, setId, justified, paraNumber }))
  return { paraId: 2004, genesisParent: rows[0]![0], genesisPara: 0, relay, paraTop: Math.max(...rows.map((r) => r[3])) }
}

test('para head jumping by 2 is delivered exactly (upstream stalls), windows with 1 and 0 para blocks start the next window right', async (t) => {
  const c = handChain([
    [100, 1, false, 0],
    // window 0: para 1..3, with a jump 1 → 3 at relay 103
    [101, 1, false, 0], [102, 1, false, 1], [103, 1, true, 3], [104, 1, false, 3], [105, 2, true, 3],
    // window 1: exactly one para block (4)
    [106, 2, false, 3], [107, 2, true, 4], [108, 3, true, 4],
    // window 2: no para block
    [109, 3, true, 4], [110, 4, true, 4],
    // window 3: para 5, 6
    [111, 4, false, 5], [112, 4, false, 6], [113, 5, true, 6],
    [114, 5, false, 6],
  ])
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await storeChain(store, c)
  await buildAll(store, c)
  const meta = async (n: number) => (await store.getRangeMeta(n))!
  const m101 = await meta(101)
  assert.deepEqual([m101.parentStopBlock, m101.paraRange, m101.paraStartBlock, m101.paraStopBlock], [103, [1, 2, 3], 1, 3])
  assert.equal(m101.blobSyncHeaderReqKey, 'blobRange:101:105:1:3:SyncHeaderReq')
  const m104 = await meta(104)
  assert.deepEqual([m104.paraRange, m104.paraStartBlock, m104.paraStopBlock, m104.drySyncHeaderReqKey], [[], -1, -1, 'drySyncHeader:104:105:-1:-1'])
  // window 1 has one para block: the next window must not repeat it (upstream's heuristic would)
  assert.deepEqual((await meta(106)).paraRange, [4])
  assert.equal((await meta(106)).blobSyncHeaderReqKey, 'blobRange:106:108:4:4:SyncHeaderReq')
  assert.deepEqual(await store.getWindow(1), { parentStartBlock: 106, parentStopBlock: 108, paraStartBlock: 4, paraStopBlock: 4, windowId: 1, setId: 2, isFinished: true })
  // window 2 has none: -1 in the blob suffix and blob_para_stop_block, paraStop = paraStart - 1
  assert.equal((await meta(109)).blobSyncHeaderReqKey, 'blobRange:109:110:-1:-1:SyncHeaderReq')
  assert.equal((await meta(109)).blobParaStopBlock, -1)
  assert.deepEqual(await store.getWindow(2), { parentStartBlock: 109, parentStopBlock: 110, paraStartBlock: 5, paraStopBlock: 4, windowId: 2, setId: 3, isFinished: true })
  const m111 = await meta(111)
  assert.deepEqual([m111.paraRange, m111.blobSyncHeaderReqKey], [[5, 6], 'blobRange:111:113:5:6:SyncHeaderReq'])
  assert.deepEqual(await store.getWindow(3), { parentStartBlock: 111, parentStopBlock: 113, paraStartBlock: 5, paraStopBlock: 6, windowId: 3, setId: 4, isFinished: true })
  assert.deepEqual(await store.getWindow(4), { parentStartBlock: 114, parentStopBlock: -1, paraStartBlock: 7, paraStopBlock: -1, windowId: 4, setId: -1, isFinished: false })
  assert.equal(await store.getJson(keys.lastCommittedParentBlock), 113)
  // the correct para index: para n → the range that delivers its header
  assert.equal(await store.getText(keys.rangeCoverByParaBlock(2)), 'rangeByParentBlock:101:pb')
  assert.equal(await store.getText(keys.rangeCoverByParaBlock(4)), 'rangeByParentBlock:106:pb')
  assert.equal(await store.getText(keys.rangeCoverByParaBlock(6)), 'rangeByParentBlock:111:pb')
  // upstream's mis-keyed index is still there, keyed by the parent start, without blob fields
  const upstreamPara = getCodec().decode<{ parentStartBlock: number; blobSyncHeaderReqKey: string }>('prb.db.RangeMeta', (await store.get('rangeByParaBlock:106:pb'))!)
  assert.deepEqual([upstreamPara.parentStartBlock, upstreamPara.blobSyncHeaderReqKey], [106, ''])
})

test('a range waits for the para headers it needs and completes when they arrive', async (t) => {
  const c = makeChain({ seed: 51, relayBlocks: 120 })
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await store.putGenesis(genesisRecord(c))
  for (const s of c.relay) await store.putParentBlock(parentRecord(s))
  const b = builder(store, c)
  t.after(() => b.stop())
  await b.start()
  await withDeadline(b.whenIdle(), 10_000, 'idle without para blocks')
  const before = b.progress()
  // no range with para headers can be committed yet
  const firstWithPara = expectedDb(c, 0).ranges.find((r) => r.para.length > 0)!
  assert.ok(before.parentRangeHeight < firstWithPara.stop)
  for (let p = 0; p <= c.paraTop; p++) {
    await store.putParaBlock(paraRecord(p))
    b.notifyParaBlock(p)
  }
  await withDeadline(b.whenIdle(), 10_000, 'idle after para blocks')
  const exp = expectedDb(c, 0)
  assert.equal(b.progress().parentRangeHeight, exp.ranges[exp.ranges.length - 1]!.stop)
  assertMatchesReference(await dump(store), c, 0)
})

test('a set change on an unjustified block: the window ends at the next justified block, which carries the authority set change', async (t) => {
  const c = handChain([
    [200, 1, false, 0],
    [201, 1, false, 0], [202, 1, true, 1], [203, 2, false, 2], [204, 2, false, 2], [205, 2, true, 3],
    [206, 2, true, 3], [207, 3, true, 4], [208, 3, false, 4],
  ])
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await storeChain(store, c)
  await buildAll(store, c)
  const m203 = (await store.getRangeMeta(203))!
  assert.deepEqual([m203.parentStopBlock, m203.latestSetId, m203.blobParentStopBlock, m203.blobSyncHeaderReqKey], [205, 2, 205, 'blobRange:201:205:1:3:SyncHeaderReq'])
  // The dry range 203..205 carries Some(authority set change): the set rose since the range before it.
  const dry = (await store.get(m203.drySyncHeaderReqKey))!
  const asc = parentRecord(c.relay.find((b) => b.number === 205)!).authoritySetChange
  assert.ok(dry.includes(Buffer.from(asc)), 'dry range holds the authority set change')
  // 206 is justified with no set change: a dry range of its own, with None
  const m206 = (await store.getRangeMeta(206))!
  assert.deepEqual([m206.parentStopBlock, m206.blobSyncHeaderReqKey], [206, 'blobRange:206:207:4:4:SyncHeaderReq'])
  const dry206 = (await store.get(m206.drySyncHeaderReqKey))!
  const header206 = parentRecord(c.relay.find((b) => b.number === 206)!).syncHeaderData
  // Vec(1) ‖ HeaderToSync ‖ None ‖ Vec() ‖ proof []
  assert.ok(dry206.equals(Buffer.concat([Buffer.of(4), header206, Buffer.of(0), Buffer.of(0), Buffer.of(0)])))
  assert.deepEqual((await store.getWindow(0))!.parentStopBlock, 205)
  assert.deepEqual((await store.getWindow(1))!.parentStopBlock, 207)
})

test('whenIdle() waiting when the builder stops rejects with ERR_BUILDER_STOPPED; after stop it rejects at once', async (t) => {
  const c = makeChain({ seed: 31, relayBlocks: 200 })
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await storeChain(store, c)
  const b = builder(store, c)
  await b.start()
  // Busy: the walks are still loading their cursors, nothing is parked yet.
  const waiting = b.whenIdle()
  const stopping = b.stop()
  await assert.rejects(withDeadline(waiting, 5_000, 'whenIdle released by stop'), { code: 'ERR_BUILDER_STOPPED' })
  await stopping
  await assert.rejects(withDeadline(b.whenIdle(), 5_000, 'whenIdle after stop'), { code: 'ERR_BUILDER_STOPPED' })
})
