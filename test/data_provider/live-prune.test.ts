/**
 * Live justifications on disk (range-builder.ts, LIVE RANGES), over a synthetic chain: each is
 * stored once (its dry range; the record drops its copy), and once the node's own justification
 * covers its range, one covering payload serves every former range start and the live-ended
 * payloads are deleted after the grace. Before: every live justification stayed in the DB twice,
 * for ever. Crash-safe like every other commit.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compactToU8a, u8aConcat } from '@polkadot/util'
import { createBlobBuilder, decodeParentBlock, decodeRangeMeta, keys, type DataProviderStore } from '../../src/data_provider/index.js'
import { header, liveJustificationOf, makeChain, paraProofOf, paraRecord, parentRecord, type ChainSpec } from './chain-fixture.js'
import { dump, openStore, quietLogger, storeChain, tempDir, withDeadline } from './helpers.js'

const GRACE = 40

/** Justified every 32 blocks (1024, 1056, ...), live-justified every 4th block between, none after `liveUntil`. */
function chain(relayBlocks = 130): ChainSpec {
  const c = makeChain({ seed: 7, relayBlocks, period: 32, setChangeP: 0, extraJustifiedP: 0 })
  for (const b of c.relay) {
    if (b.number > 1000 && !b.justified && b.number % 4 === 0) b.live = true
    // One set change, at a period block: the window ends there.
    if (b.number >= 1088) b.setId += 1
  }
  return c
}

async function build(store: DataProviderStore, c: ChainSpec): Promise<void> {
  const b = createBlobBuilder({ paraId: c.paraId, recheckMs: 0, livePruneGraceBlocks: GRACE }, { store, logger: quietLogger() })
  await b.start()
  await withDeadline(b.whenIdle(), 30_000, 'builder idle')
  await b.stop()
}

function copies(db: Map<string, Buffer>, needle: Uint8Array): string[] {
  const n = Buffer.from(needle)
  return [...db].filter(([, v]) => v.includes(n)).map(([k]) => k)
}

test('each live justification stored once, superseded at the next kept justification, deleted after the grace; every meta leads to a payload', async (t) => {
  const c = chain()
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await storeChain(store, c)
  await build(store, c)
  const db = await dump(store)
  const live = c.relay.filter((b) => b.live).map((b) => b.number)
  assert.ok(live.length > 20)
  const lastStop = 1128 // the last range ends at the last live-justified block (1129, 1130 wait)
  for (const n of live) {
    const where = copies(db, liveJustificationOf(n))
    const rec = decodeParentBlock(db.get(keys.parentBlock(n))!)
    assert.equal(rec.hasJustification, false, `record ${n}: its justification moved into the dry range`)
    assert.equal(rec.liveJustification, undefined)
    assert.deepEqual(Buffer.from(rec.syncHeaderData), Buffer.from(u8aConcat(header(1, n), Uint8Array.of(0))))
    // The kept justification covering n: the next multiple of 32.
    const covered = Math.ceil(n / 32) * 32
    if (covered > lastStop) assert.ok(where.length === 1 && where[0]!.startsWith(`drySyncHeader:${n - 3}:${n}:`), `open period: block ${n}'s justification once, in its own dry range: ${where}`)
    else if (covered + GRACE <= lastStop) assert.deepEqual(where, [], `block ${n}: covered at ${covered} and past the grace: gone (found in ${where})`)
    else assert.equal(where.length, 1, `block ${n}: covered at ${covered}, within the grace: its old payload still readable once (${where})`)
  }
  assert.ok(live.some((n) => Math.ceil(n / 32) * 32 + GRACE <= lastStop) && live.some((n) => Math.ceil(n / 32) * 32 > lastStop) && live.some((n) => { const k = Math.ceil(n / 32) * 32; return k <= lastStop && k + GRACE > lastStop }), 'the fixture has all three cases')

  // Every range start still has its meta, and every meta names a payload that exists.
  const starts = [...db.keys()].filter((k) => /^rangeByParentBlock:\d+:pb$/.test(k))
  assert.ok(starts.length > live.length)
  for (const k of starts) {
    const m = decodeRangeMeta(db.get(k)!)
    assert.ok(db.has(m.drySyncHeaderReqKey), `${k} names ${m.drySyncHeaderReqKey}, which exists`)
    assert.deepEqual(decodeRangeMeta(db.get(keys.rangeByParaBlockUpstream(m.parentStartBlock))!).drySyncHeaderReqKey, m.drySyncHeaderReqKey, 'the upstream copy names the same payload')
  }

  // The covering payload of the period ending at 1056: relay 1025..1056 (justification only on the
  // last, the node's own), para headers from the head before 1025, the proof at 1056.
  const metaAt = (s: number) => decodeRangeMeta(db.get(keys.rangeByParentBlock(s))!)
  const cover = metaAt(1025).drySyncHeaderReqKey
  for (let s = 1025; s <= 1056; s = metaAt(s).parentStopBlock + 1) assert.equal(metaAt(s).drySyncHeaderReqKey, cover, `range from ${s} served by the covering payload`)
  assert.equal(metaAt(1025).parentStopBlock, 1028, 'the metas keep their own numbers')
  const byNum = new Map(c.relay.map((b) => [b.number, b]))
  const paraFrom = byNum.get(1024)!.paraNumber + 1
  const paraTo = byNum.get(1056)!.paraNumber
  assert.equal(cover, `drySyncHeader:1025:1056:${paraFrom}:${paraTo}`)
  const relay: Uint8Array[] = []
  for (let n = 1025; n < 1056; n++) relay.push(u8aConcat(header(1, n), Uint8Array.of(0)))
  relay.push(parentRecord(byNum.get(1056)!).syncHeaderData)
  const para: Uint8Array[] = []
  for (let p = paraFrom; p <= paraTo; p++) para.push(paraRecord(p).header)
  const expected = u8aConcat(compactToU8a(relay.length), ...relay, Uint8Array.of(0), compactToU8a(para.length), ...para, paraProofOf(1056))
  assert.ok(Buffer.from(expected).equals(db.get(cover)!), 'the covering payload, byte for byte')

  // The window that ended at the set change (1088) has its blob on every meta of the window.
  assert.ok(metaAt(1057).blobSyncHeaderReqKey.startsWith('blobRange:'), 'window blob set')
  assert.equal(metaAt(1057).drySyncHeaderReqKey, metaAt(1085).drySyncHeaderReqKey, 'and the covering dry payload kept')
  assert.equal(copies(db, liveJustificationOf(1060)).length, 0)
})

test('no live justification: the walk writes what it wrote before (no cursor field, no prune list)', async (t) => {
  const c = chain()
  for (const b of c.relay) delete b.live
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await storeChain(store, c)
  await build(store, c)
  const cursor = await store.getJson<Record<string, unknown>>(keys.builderCursor)
  assert.deepEqual(Object.keys(cursor!).sort(), ['lastWindowStop', 'nextParent', 'paraHead', 'prevSetId', 'windowBaseSetId', 'windowFirstSetId', 'windowId', 'windowParaStart', 'windowStart'])
})

test('crash at any write while superseding and pruning, then a restart: the same keys and bytes as an uninterrupted run', async (t) => {
  const c = chain(100)
  const cleanStore = await openStore(tempDir(t))
  t.after(() => cleanStore.close())
  await storeChain(cleanStore, c)
  let total = 0
  const w0 = cleanStore.write.bind(cleanStore)
  cleanStore.write = (b) => {
    total++
    return w0(b)
  }
  await build(cleanStore, c)
  const clean = await dump(cleanStore)
  for (let k = 2; k <= total; k += 2) {
    const dir = tempDir(t)
    let store = await openStore(dir)
    await storeChain(store, c)
    let writes = 0
    let dead = false
    let crash!: () => void
    const crashed = new Promise<void>((r) => { crash = r })
    const write = store.write.bind(store)
    store.write = async (b) => {
      if (dead) throw new Error('process is dead')
      if (++writes === k) {
        dead = true
        if (k % 4 === 0) await write(b)
        crash()
        throw new Error('simulated crash')
      }
      return write(b)
    }
    const b = createBlobBuilder({ paraId: c.paraId, recheckMs: 0, livePruneGraceBlocks: GRACE }, { store, logger: quietLogger() })
    await b.start()
    await withDeadline(crashed, 30_000, `crash at write ${k}`)
    await b.stop()
    await store.close()
    store = await openStore(dir)
    await build(store, c)
    const resumed = await dump(store)
    await store.close()
    assert.deepEqual([...resumed.keys()], [...clean.keys()], `keys after a crash at write ${k}`)
    for (const [key, v] of clean) assert.ok(v.equals(resumed.get(key)!), `bytes of ${key} after a crash at write ${k}`)
  }
})
