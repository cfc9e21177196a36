import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { EMPTY_TRIE_ROOT, TrieSnapshot, TrieProofError, createProof, orderedTrieRoot, stateRoot, verifyProof } from '../../src/common/trie.js'

const hex = (n: number) => '0x' + randomBytes(n).toString('hex')

test('empty trie root is the known constant', async () => {
  assert.equal(await stateRoot([]), EMPTY_TRIE_ROOT)
  assert.equal(await stateRoot([], 1), EMPTY_TRIE_ROOT)
})

test('a proof round-trips present and absent keys and is minimal', async () => {
  const entries: [string, string][] = Array.from({ length: 300 }, (_, i) => [hex(i % 7 === 0 ? 2 : 32 + (i % 20)), hex(1 + (i % 80))])
  entries.push([':grandpa_authorities'.split('').reduce((a, c) => a + c.charCodeAt(0).toString(16), '0x'), hex(200)])
  const root = await stateRoot(entries, 0)
  const snap = await TrieSnapshot.build(entries)
  assert.equal(snap.root, root)
  const keys = [entries[0]![0], entries[5]![0], entries[300]![0], '0xdeadbeef00', '0x']
  const { nodes } = await createProof(snap, keys)
  assert.ok(nodes.length < snap.size, 'proof holds only the nodes on the paths')
  const got = verifyProof(root, nodes, keys)
  assert.equal(got.get(keys[0]!), entries[0]![1])
  assert.equal(got.get(keys[1]!), entries[5]![1])
  assert.equal(got.get(keys[2]!), entries[300]![1])
  assert.equal(got.get('0xdeadbeef00'), null)
  assert.equal(got.get('0x'), null)
  // Every single-key proof verifies too.
  for (const [k, v] of entries.slice(0, 50)) assert.equal(verifyProof(root, snap.prove([k]), [k]).get(k), v)
})

test('a tampered or incomplete proof is rejected', async () => {
  const entries: [string, string][] = Array.from({ length: 50 }, () => [hex(32), hex(48)])
  const root = await stateRoot(entries)
  const key = entries[3]![0]
  const { nodes } = await createProof(entries, [key])
  const tampered = nodes.map((n) => (n.includes(entries[3]![1].slice(2)) ? n.replace(entries[3]![1].slice(2, 6), 'ffff') : n))
  assert.notDeepEqual(tampered, nodes)
  assert.throws(() => verifyProof(root, tampered, [key]), TrieProofError)
  assert.throws(() => verifyProof(root, nodes.slice(1), [key]), /missing/)
  assert.throws(() => verifyProof(hex(32), nodes, [key]), TrieProofError)
})

test('ordered trie root differs by order and matches manual keys', async () => {
  const a = await orderedTrieRoot(['0x0401', '0x0402'])
  const b = await orderedTrieRoot(['0x0402', '0x0401'])
  assert.notEqual(a, b)
  assert.equal(a, await stateRoot([['0x00', '0x0401'], ['0x04', '0x0402']]))
  assert.equal(await orderedTrieRoot([]), EMPTY_TRIE_ROOT)
})

test('the incremental trie matches Substrate roots through inserts, updates and deletes', async () => {
  const { IncrementalTrie } = await import('../../src/common/trie.js')
  const t = new IncrementalTrie()
  const live = new Map<string, string>()
  assert.equal(t.root(), EMPTY_TRIE_ROOT)
  const keys = Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? '0xaa' + randomBytes(1 + (i % 40)).toString('hex') : hex(1 + (i % 48))))
  keys.push('0x', '0xaa', '0xaa00', '0xaa0000')
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 40; i++) {
      const k = keys[(round * 41 + i * 13) % keys.length]!
      if ((round + i) % 4 === 0) {
        t.set(k, null)
        live.delete(k)
      } else {
        const v = hex(1 + ((round * i) % 70))
        t.set(k, v)
        live.set(k, v)
      }
    }
    assert.equal(t.root(), await stateRoot(live), `round ${round}`)
  }
  for (const k of [...live.keys()]) t.set(k, null)
  assert.equal(t.root(), EMPTY_TRIE_ROOT)
})
