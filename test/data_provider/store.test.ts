import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getCodec } from '../../src/common/codec.js'
import { keys, WriteBatch, encodeParaBlock, encodeParentBlock, encodeRangeMeta, encodeWindow, type RangeMetaRecord } from '../../src/data_provider/index.js'
import { genesisRecord, makeChain, paraRecord, parentRecord } from './chain-fixture.js'
import { openStore, tempDir } from './helpers.js'

test('records round-trip under upstream keys and survive a reopen', async (t) => {
  const dir = tempDir(t)
  const chain = makeChain({ seed: 1, relayBlocks: 5 })
  const relay = parentRecord(chain.relay[3]!)
  const para = paraRecord(7)
  const genesis = genesisRecord(chain)
  const meta: RangeMetaRecord = {
    parentStartBlock: 10, parentStopBlock: 12, paraStartBlock: -1, paraStopBlock: -1, parentRange: [10, 11, 12], paraRange: [],
    drySyncHeaderReqKey: 'drySyncHeader:10:12:-1:-1', latestSetId: 3, blobParentStopBlock: 0, blobParaStopBlock: 0, blobSyncHeaderReqKey: '',
  }
  let store = await openStore(dir)
  await store.putParentBlock(relay)
  await store.putParaBlock(para)
  await store.putGenesis(genesis)
  await store.write(new WriteBatch()
    .put(keys.rangeByParentBlock(10), encodeRangeMeta(meta))
    .put(keys.window(0), encodeWindow({ parentStartBlock: 1001, parentStopBlock: -1, paraStartBlock: 1, paraStopBlock: -1, windowId: 0, setId: -1, isFinished: false }))
    .putJson(keys.lastCommittedParaBlock, 42)
    .put(keys.rangeCoverByParentBlock(11), keys.rangeByParentBlock(10)))
  await store.close()

  store = await openStore(dir)
  t.after(() => store.close())
  assert.deepEqual(await store.getParentBlock(relay.number), { ...relay, hash: Buffer.from(relay.hash), header: Buffer.from(relay.header), syncHeaderData: Buffer.from(relay.syncHeaderData), authoritySetChange: Buffer.from(relay.authoritySetChange), paraProof: Buffer.from(relay.paraProof) })
  const gotPara = await store.getParaBlock(7)
  assert.equal(gotPara?.number, 7)
  assert.deepEqual(Buffer.from(gotPara!.dispatchBlockData), Buffer.from(para.dispatchBlockData))
  const gotGenesis = await store.getGenesis(chain.paraId)
  assert.equal(gotGenesis?.parentNumber, chain.genesisParent)
  assert.deepEqual(Buffer.from(gotGenesis!.genesisState), Buffer.from(genesis.genesisState))
  assert.deepEqual(await store.getRangeMeta(10), meta)
  assert.deepEqual(await store.getRangeMetaCovering(11), meta)
  assert.equal(await store.getRangeMetaCovering(13), undefined)
  assert.equal((await store.getWindow(0))?.parentStopBlock, -1)
  assert.equal(await store.getJson(keys.lastCommittedParaBlock), 42)
  // the raw bytes under upstream's key are the protobuf a v2 client decodes
  assert.deepEqual(getCodec().decode('prb.db.ParentBlock', (await store.get(`parent:${relay.number}:pb`))!).number, relay.number)
  assert.deepEqual(await store.get(`parent:${relay.number}:written`), Buffer.of(1))
  assert.deepEqual(await store.get('genesis:2004:written'), Buffer.of(1))
  assert.equal(await store.get('parent:999999:pb'), undefined)
  assert.equal(await store.getParentBlock(999999), undefined)
  // upstream's LAST_COMMITTED_* markers are JSON text
  assert.equal((await store.get('LAST_COMMITTED_PARA_BLOCK'))!.toString('utf8'), '42')
})

test('a block record of another number under a block key is reported as corrupt, naming the key', async (t) => {
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  const chain = makeChain({ seed: 2, relayBlocks: 5 })
  await store.write(new WriteBatch()
    .put(keys.parentBlock(2), encodeParentBlock(parentRecord(chain.relay[3]!)))
    .put(keys.paraBlock(7), encodeParaBlock(paraRecord(8))))
  await assert.rejects(store.getParentBlock(2), (e: Error & { code?: string }) => e.code === 'ERR_STORE_CORRUPT' && e.message === `parent:2:pb holds relay block ${chain.relay[3]!.number}; delete it so the fetcher stores it again`)
  await assert.rejects(store.getParaBlock(7), (e: Error & { code?: string }) => e.code === 'ERR_STORE_CORRUPT' && /^para:7:pb holds para block 8; delete it/.test(e.message))
})

test('opening a DB locked by another handle fails with a clear error', async (t) => {
  const dir = tempDir(t)
  const a = await openStore(dir)
  t.after(() => a.close())
  await assert.rejects(openStore(dir), (e: Error & { code?: string }) => e.code === 'ERR_STORE_OPEN' && /PHALA_LOCAL_DB_PATH/.test(e.message))
})

test('a dry RangeMeta is encoded without blob fields, as upstream writes it; with them once the window ends', () => {
  const dry: RangeMetaRecord = {
    parentStartBlock: 10, parentStopBlock: 11, paraStartBlock: 3, paraStopBlock: 3, parentRange: [10, 11], paraRange: [3],
    drySyncHeaderReqKey: 'drySyncHeader:10:11:3:3', latestSetId: 2, blobParentStopBlock: 0, blobParaStopBlock: 0, blobSyncHeaderReqKey: '',
  }
  const bytes = Buffer.from(encodeRangeMeta(dry))
  // field 9 (varint) = 0x48, 10 (varint) = 0x50, 11 (string) = 0x5a: none present
  const tags: number[] = []
  for (let i = 0; i < bytes.length;) {
    const tag = bytes[i]!
    tags.push(tag >> 3)
    const wire = tag & 7
    i++
    if (wire === 0) { while (bytes[i]! & 0x80) i++; i++ } else if (wire === 2) { let len = 0, mul = 1; while (bytes[i]! & 0x80) { len += (bytes[i]! & 0x7f) * mul; mul *= 128; i++ } len += bytes[i]! * mul; i += 1 + len } else throw new Error(`wire ${wire}`)
  }
  assert.deepEqual([...new Set(tags)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8])
  const withBlob = { ...dry, blobParentStopBlock: 20, blobParaStopBlock: 5, blobSyncHeaderReqKey: 'blobRange:10:20:3:5:SyncHeaderReq' }
  assert.deepEqual(getCodec().decode('prb.db.RangeMeta', encodeRangeMeta(withBlob)), withBlob)
  assert.deepEqual(getCodec().decode('prb.db.RangeMeta', bytes), dry)
})
