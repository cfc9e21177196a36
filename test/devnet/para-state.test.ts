/**
 * The devnet pRuntime's para state trie gives Substrate's V0 roots (the wasm trie is the reference),
 * for inserts, overwrites and deletes, and applying changes leaves the earlier state unchanged.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { u8aToHex } from '@polkadot/util'
import { stateRoot, EMPTY_TRIE_ROOT } from '../../src/common/trie.js'
import { ParaState, applyChanges, stateFromEncoded } from '../../src/devnet/pruntime/para-state.js'
import { decodeStorageState, encodeStorageState } from '../../src/common/bridge-types.js'

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

test('roots match the wasm trie through inserts, overwrites and deletes; states are values', async () => {
  assert.equal(ParaState.EMPTY.root(), EMPTY_TRIE_ROOT)
  const prefix = rnd(16)
  const keys: Uint8Array[] = []
  // Shared prefixes (as storage keys of one pallet) and short keys, small and large values.
  for (let i = 0; i < 300; i++) keys.push(i % 3 === 0 ? Uint8Array.from([...prefix, ...rnd(16)]) : rnd(1 + (i % 40)))
  const model = new Map<string, string>()
  let s = ParaState.EMPTY
  for (let round = 0; round < 6; round++) {
    const changes: Array<[Uint8Array, Uint8Array | null]> = []
    for (let i = 0; i < 120; i++) {
      const k = keys[(round * 97 + i * 31) % keys.length]!
      const v = round > 1 && i % 4 === 0 ? null : rnd(i % 5 === 0 ? 80 : 1 + (i % 30))
      changes.push([k, v])
    }
    const before = s
    const beforeRoot = s.root()
    s = applyChanges(s, changes)
    for (const [k, v] of changes) {
      if (v === null) model.delete(u8aToHex(k))
      else model.set(u8aToHex(k), u8aToHex(v))
    }
    assert.equal(s.root(), await stateRoot(model.entries(), 0), `round ${round}`)
    assert.equal(s.size, model.size)
    assert.equal(before.root(), beforeRoot, 'the earlier state is unchanged')
    for (const [k, v] of model) assert.equal(s.get(k), v)
    assert.equal([...s.entries()].length, model.size)
  }
  // Deleting everything gives the empty root.
  assert.equal(s.apply([...model.keys()].map((k) => [Buffer.from(k.slice(2), 'hex'), null] as const)).root(), EMPTY_TRIE_ROOT)
  // A decoded state is the same state.
  const enc = encodeStorageState([...model].map(([k, v]) => [Buffer.from(k.slice(2), 'hex'), Buffer.from(v.slice(2), 'hex')]))
  assert.equal(stateFromEncoded(enc, decodeStorageState).root(), s.root())
})
