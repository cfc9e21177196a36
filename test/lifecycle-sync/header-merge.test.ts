/**
 * Consecutive header ranges merged into one sync_combined_headers (header-merge.ts), on synthetic
 * ranges: what is joined, where a merge must end (a gap, an authority set change, a range whose
 * proof does not prove the last para header sent, the size bound), and that the result decodes,
 * with the registry's strict decoder, to exactly the headers, justification and proof pRuntime
 * would have taken from the ranges one by one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { u8aToHex } from '@polkadot/util'
import type { Header } from '@polkadot/types/interfaces'
import { bridgeRegistry, decodeSyncCombinedHeadersReq, encodeSyncCombinedHeadersReq } from '../../src/common/bridge-types.js'
import { grandpaDigestItem } from '../../src/common/grandpa.js'
import { changesAuthorities, mergeHeaderRanges } from '../../src/lifecycle/sync/header-merge.js'

const header = (number: number, logs: unknown[] = []): Uint8Array =>
  bridgeRegistry().createType<Header>('Header', { parentHash: '0x' + '11'.repeat(32), number, stateRoot: '0x' + '22'.repeat(32), extrinsicsRoot: '0x' + '33'.repeat(32), digest: { logs } }).toU8a()
const scheduledChange = grandpaDigestItem({ type: 'ScheduledChange', nextAuthorities: [{ publicKey: '0x' + '44'.repeat(32), weight: 1n }], delay: 0 })

interface RangeSpec {
  relay: [number, number]
  para?: [number, number]
  change?: boolean
}

/** A data provider's range: relay headers from..to (justified last, a ScheduledChange in it when `change`), para headers, a proof naming its range. */
function range(r: RangeSpec): Uint8Array {
  const [from, to] = r.relay
  const relaychainHeaders = []
  for (let n = from; n <= to; n++) {
    const last = n === to
    const logs = last && r.change ? [bridgeRegistry().createType('DigestItem', scheduledChange).toJSON()] : []
    relaychainHeaders.push({ header: header(n, logs), justification: last ? Uint8Array.of(0xaa, to & 0xff) : null })
  }
  const parachainHeaders = []
  if (r.para) for (let n = r.para[0]; n <= r.para[1]; n++) parachainHeaders.push(header(n))
  return encodeSyncCombinedHeadersReq({
    relaychainHeaders,
    authoritySetChange: r.change ? { authoritySet: { authoritySet: [['0x' + '44'.repeat(32), 1n]], setId: 1 }, authorityProof: [Uint8Array.of(7)] } : null,
    parachainHeaders,
    proof: r.para ? [Uint8Array.of(0xbb, r.relay[1] & 0xff)] : [],
  })
}

const numbersOf = (hs: Array<{ header: Header } | Header>) => hs.map((h) => ('header' in h ? h.header : h).number.toNumber())
const range1 = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i)

test('consecutive ranges become one request: every relay header, the last justification, every new para header, the last proof', () => {
  const ranges = [range({ relay: [1, 8], para: [1, 3] }), range({ relay: [9, 16], para: [4, 7] }), range({ relay: [17, 24], para: [8, 9] })]
  const m = mergeHeaderRanges(ranges, 1, 1, 1 << 20)
  assert.ok(m)
  assert.equal(m.ranges, 3)
  assert.equal(m.relayTo, 24)
  assert.equal(m.paraNext, 10, 'the pRuntime expects para header 10 next')
  const d = decodeSyncCombinedHeadersReq(m.body) // strict: no byte left over, canonical compacts
  assert.deepEqual(numbersOf(d.relaychainHeaders), range1(1, 24))
  assert.deepEqual(d.relaychainHeaders.map((h) => h.justification && u8aToHex(h.justification)), [...Array(23).fill(null), '0xaa18'])
  assert.deepEqual(numbersOf(d.parachainHeaders), range1(1, 9))
  assert.deepEqual(d.proof.map((p) => u8aToHex(p)), ['0xbb18'])
  assert.equal(d.authoritySetChange, null)
})

test('headers the pRuntime has are left out: a window overlapping the range before, para headers below its next one', () => {
  // the second body is a window that starts where the first did (the data provider's blob window)
  const ranges = [range({ relay: [9, 16], para: [4, 7] }), range({ relay: [9, 24], para: [4, 9] })]
  const m = mergeHeaderRanges(ranges, 9, 6, 1 << 20)
  assert.ok(m)
  const d = decodeSyncCombinedHeadersReq(m.body)
  assert.deepEqual(numbersOf(d.relaychainHeaders), range1(9, 24))
  assert.deepEqual(numbersOf(d.parachainHeaders), range1(6, 9))
  // a loaded state: the next para header is beyond every one sent; then none is sent, nor a proof
  const none = mergeHeaderRanges([range({ relay: [1, 8], para: [1, 3] }), range({ relay: [9, 16], para: [4, 7] })], 1, 100, 1 << 20)
  assert.ok(none)
  const dn = decodeSyncCombinedHeadersReq(none.body)
  assert.deepEqual(numbersOf(dn.parachainHeaders), [])
  assert.deepEqual(dn.proof, [])
})

test('a merge ends with the range where the authority set changes, and carries its change', () => {
  assert.equal(changesAuthorities(header(16, [bridgeRegistry().createType('DigestItem', scheduledChange).toJSON()])), true)
  assert.equal(changesAuthorities(header(16)), false)
  const ranges = [range({ relay: [1, 8], para: [1, 3] }), range({ relay: [9, 16], para: [4, 7], change: true }), range({ relay: [17, 24], para: [8, 9] })]
  const m = mergeHeaderRanges(ranges, 1, 1, 1 << 20)
  assert.ok(m)
  assert.equal(m.ranges, 2)
  const d = decodeSyncCombinedHeadersReq(m.body)
  assert.deepEqual(numbersOf(d.relaychainHeaders), range1(1, 16))
  assert.ok(d.authoritySetChange, 'the change of the last range is carried')
  assert.equal(d.authoritySetChange.authoritySet.id, 1n)
  // the first range changes the set: nothing is merged to it
  assert.equal(mergeHeaderRanges([range({ relay: [1, 8], para: [1, 3], change: true }), range({ relay: [9, 16], para: [4, 7] })], 1, 1, 1 << 20), null)
})

test('a merge ends at the last range whose proof proves the last para header sent; a gap or a bound ends it too', () => {
  // the third range holds no para header: its (empty) proof proves nothing, so the merge stops before it
  const noPara = mergeHeaderRanges([range({ relay: [1, 8], para: [1, 3] }), range({ relay: [9, 16], para: [4, 7] }), range({ relay: [17, 24] })], 1, 1, 1 << 20)
  assert.ok(noPara)
  assert.equal(noPara.ranges, 2)
  assert.equal(noPara.relayTo, 16)
  // ranges without any para header at all merge (no proof needed)
  const relayOnly = mergeHeaderRanges([range({ relay: [1, 8] }), range({ relay: [9, 16] })], 1, 1, 1 << 20)
  assert.ok(relayOnly)
  assert.deepEqual(decodeSyncCombinedHeadersReq(relayOnly.body).proof, [])
  // a gap in the relay numbers
  assert.equal(mergeHeaderRanges([range({ relay: [1, 8], para: [1, 3] }), range({ relay: [10, 16], para: [4, 7] })], 1, 1, 1 << 20), null)
  // the byte bound: the first range always, the next only while the bound holds
  const small = range({ relay: [1, 8], para: [1, 3] })
  const bounded = mergeHeaderRanges([small, range({ relay: [9, 16], para: [4, 7] }), range({ relay: [17, 24], para: [8, 9] })], 1, 1, small.length * 2.5)
  assert.ok(bounded)
  assert.equal(bounded.ranges, 2)
  assert.ok(bounded.body.length <= small.length * 2.5)
  // a single range is sent as it is
  assert.equal(mergeHeaderRanges([small], 1, 1, 1 << 20), null)
})
