/** The shared fetch layer, against a fake data provider: one fetch per key, bounded, fresh at the tip. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRepository } from '../../src/lifecycle/sync/repository.js'
import type { DataProviders } from '../../src/lifecycle/sync/datasource.js'

function fakeDps(store: Map<string, Uint8Array>, delayMs = 5) {
  const calls: string[] = []
  let inFlight = 0
  let maxInFlight = 0
  const dps = {
    generation: 0,
    async get(key: string) {
      calls.push(key)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((r) => setTimeout(r, delayMs))
      inFlight--
      return store.get(key) ?? null
    },
  }
  return { dps: dps as unknown as DataProviders & { generation: number }, calls, maxInFlight: () => maxInFlight }
}

const opts = { lruSize: 100, lruMaxAgeMs: 60_000, disableLru: false, queueSize: 4, blocksPerDispatch: 4 }

test('concurrent requests for one key cost one fetch; later ones hit the cache; fetches stay within the queue size', async () => {
  const store = new Map<string, Uint8Array>([['a', Uint8Array.of(1)]])
  for (let i = 0; i < 50; i++) store.set(`k${i}`, Uint8Array.of(i))
  const f = fakeDps(store)
  const repo = createRepository(opts, f.dps)
  const got = await Promise.all(Array.from({ length: 200 }, () => repo.get('a', 'immutable')))
  assert.ok(got.every((g) => g?.[0] === 1))
  assert.equal(f.calls.filter((k) => k === 'a').length, 1)
  await repo.get('a', 'immutable')
  assert.equal(f.calls.filter((k) => k === 'a').length, 1, 'cached')
  await Promise.all(Array.from({ length: 50 }, (_, i) => repo.get(`k${i}`, 'immutable')))
  assert.ok(f.maxInFlight() <= 4, `at most 4 in flight, saw ${f.maxInFlight()}`)
})

test('a "not found" and a volatile answer last only until the data provider moves', async () => {
  const store = new Map<string, Uint8Array>()
  const f = fakeDps(store)
  const repo = createRepository(opts, f.dps)
  assert.equal(await repo.get('tip', 'immutable'), null)
  assert.equal(await repo.get('tip', 'immutable'), null)
  assert.equal(f.calls.length, 1, 'null remembered within a generation')
  store.set('tip', Uint8Array.of(7))
  f.dps.generation++
  assert.deepEqual(await repo.get('tip', 'immutable'), Uint8Array.of(7))
  store.set('meta', Uint8Array.of(1))
  await repo.get('meta', 'volatile')
  store.set('meta', Uint8Array.of(2))
  assert.deepEqual(await repo.get('meta', 'volatile'), Uint8Array.of(1))
  f.dps.generation++
  assert.deepEqual(await repo.get('meta', 'volatile'), Uint8Array.of(2), 'a rewritten meta is read again')
})

test('single-block blobs are merged into one dispatch_block, ending on a multiple of blocksPerDispatch', async () => {
  const store = new Map<string, Uint8Array>()
  // Vec<BlockHeaderWithChanges> of one element: 0x04 ++ element bytes
  for (let n = 1; n <= 10; n++) store.set(`dryParaBlock:${n}`, Uint8Array.of(0x04, n, n))
  const f = fakeDps(store)
  const repo = createRepository(opts, f.dps)
  const a = await repo.blocks(2, 11)
  assert.ok(a)
  assert.deepEqual([...a.body], [3 << 2, 2, 2, 3, 3, 4, 4], 'blocks 2..4: the batch ends at 4')
  const b = await repo.blocks(5, 8) // para headers synced to 7
  assert.deepEqual([...b!.body], [3 << 2, 5, 5, 6, 6, 7, 7], 'bounded by the synced para headers')
  assert.equal(await repo.blocks(11, 12), null, 'block 11 not there yet')
  const again = await repo.blocks(2, 11)
  assert.equal(again!.body, a.body, 'the same prepared bytes for the next worker')
})
