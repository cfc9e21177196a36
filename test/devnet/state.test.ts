/**
 * VersionedState lists any past block's state from its live-key checkpoint (not from every key
 * ever written), so it must agree with a plain replay of the writes at every block, across
 * deletions, keys written again, reverted blocks and checkpoint boundaries.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHECKPOINT_EVERY, VersionedState } from '../../src/devnet/chain/state.js'

/** Deterministic PRNG (mulberry32) so a failure replays. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const key = (i: number): string => '0x' + (i % 3 === 0 ? 'aa' : 'bb') + i.toString(16).padStart(6, '0')

test('every past block lists exactly the state a replay of its writes gives', () => {
  const r = rng(7)
  const st = new VersionedState()
  const states: Map<string, string>[] = []
  let cur = new Map<string, string>()
  const blocks = CHECKPOINT_EVERY * 5 + 17
  for (let n = 0; n < blocks; n++) {
    const changes: [string, string | null][] = []
    const seen = new Set<string>()
    for (let j = 0; j < 6; j++) {
      // Some keys live long, some (like pruned block hashes) are written once and deleted later.
      const k = r() < 0.5 ? key(Math.floor(r() * 40)) : key(1000 + n)
      if (seen.has(k)) continue
      seen.add(k)
      changes.push([k, r() < 0.25 ? null : '0x' + Math.floor(r() * 1e6).toString(16).padStart(6, '0')])
    }
    if (n > 20) changes.push([key(1000 + n - 20), null])
    changes.sort((a, b) => (a[0] < b[0] ? -1 : 1))
    const next = new Map(cur)
    for (const [k, v] of changes) if (v === null) next.delete(k); else next.set(k, v)
    st.apply(n, changes)
    // Now and then the tip is retracted and a sibling applied instead (a fork).
    if (n > 0 && r() < 0.1) {
      st.revert(n, changes.map(([k]) => k))
      const sib: [string, string | null][] = [[key(5), '0x05' + n.toString(16).padStart(4, '0')]]
      st.apply(n, sib)
      const s2 = new Map(cur)
      s2.set(key(5), sib[0]![1]!)
      states.push(s2)
      cur = s2
      continue
    }
    states.push(next)
    cur = next
  }
  for (let n = 0; n < blocks; n++) {
    const expected = [...states[n]!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
    assert.deepEqual(st.entries(n), expected, `entries at block ${n}`)
    assert.deepEqual(st.keysWithPrefix('0x', n), expected.map(([k]) => k), `all keys at block ${n}`)
    assert.deepEqual(st.keysWithPrefix('0xaa', n), expected.map(([k]) => k).filter((k) => k.startsWith('0xaa')), `prefixed keys at block ${n}`)
    const after = expected[3]?.[0]
    if (after) assert.deepEqual(st.keysWithPrefix('0x', n, after, 5), expected.map(([k]) => k).filter((k) => k > after).slice(0, 5), `paged keys at block ${n}`)
  }
})
