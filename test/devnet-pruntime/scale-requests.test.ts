/**
 * The direct SCALE decoders of pRuntime's requests (common/sync-request.ts) against the type registry's strict
 * decoding (bridge-types decodeExact): the same bytes out for good input, and a refusal for every
 * input pRuntime's parity-scale-codec refuses (non-canonical compacts, bad Option tags, DigestItem
 * variants sp_runtime does not have, truncated input, bytes left over).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { u8aConcat, u8aToHex } from '@polkadot/util'
import type { Header } from '@polkadot/types/interfaces'
import { bridgeRegistry, decodeAuthoritySetChange, decodeExact, decodeStorageState, decodeSyncCombinedHeadersReq, encodeStorageState, encodeSyncCombinedHeadersReq } from '../../src/common/bridge-types.js'
import { decodeStoragePairs, decodeSyncCombinedHeaders, ScaleInputError } from '../../src/common/sync-request.js'
import { encodeStoragePairs } from '../../src/lifecycle/sync/fast-sync.js'

const mkHeader = (number: number, logs: unknown[] = []) =>
  bridgeRegistry().createType<Header>('Header', { parentHash: '0x' + '11'.repeat(32), number, stateRoot: '0x' + '22'.repeat(32), extrinsicsRoot: '0x' + '33'.repeat(32), digest: { logs } })

const withLogs = mkHeader(70_000, [{ PreRuntime: ['0x61757261', '0x0102'] }, { Consensus: ['0x46524e4b', '0x00'] }, { Seal: ['0x61757261', '0x' + '09'.repeat(64)] }, { Other: '0x0a' }, { RuntimeEnvironmentUpdated: null }])
const plain = mkHeader(5)

const request = (authoritySetChange: boolean) =>
  encodeSyncCombinedHeadersReq({
    relaychainHeaders: [{ header: plain.toU8a(), justification: null }, { header: withLogs.toU8a(), justification: new Uint8Array([0xaa, 0xbb]) }],
    authoritySetChange: authoritySetChange ? { authoritySet: { authoritySet: [['0x' + '44'.repeat(32), 1n]], setId: 3 }, authorityProof: [new Uint8Array([1, 2, 3])] } : null,
    parachainHeaders: [plain, withLogs],
    proof: ['0x0506', '0x'],
  })

test('SyncCombinedHeadersReq: the same headers, justifications and proof as the registry decoder', () => {
  for (const change of [false, true]) {
    const body = request(change)
    const fast = decodeSyncCombinedHeaders(body)
    const slow = decodeSyncCombinedHeadersReq(body)
    assert.deepEqual(fast.relay.map((h) => u8aToHex(h.encoded)), slow.relaychainHeaders.map((h) => u8aToHex(h.header.toU8a())))
    assert.deepEqual(fast.relay.map((h) => h.justification && u8aToHex(h.justification)), slow.relaychainHeaders.map((h) => h.justification && u8aToHex(h.justification)))
    assert.deepEqual(fast.para.map((h) => u8aToHex(h)), slow.parachainHeaders.map((h) => u8aToHex(h.toU8a())))
    assert.deepEqual(fast.proof.map((p) => u8aToHex(p)), slow.proof.map((p) => u8aToHex(p)))
    assert.equal(fast.authoritySetChange !== null, change)
    // the raw slices the lifecycle's merge copies unchanged
    if (change) assert.deepEqual(decodeAuthoritySetChange(fast.authoritySetChange!), slow.authoritySetChange)
    assert.deepEqual(decodeExact('StorageProof', fast.proofBytes).toJSON(), slow.proof.map((p) => u8aToHex(p)))
  }
})

test('SyncCombinedHeadersReq: refused wherever the strict registry decoder refuses', () => {
  const good = request(false)
  const h = u8aToHex(plain.toU8a()).slice(2)
  const cases: Array<[string, Uint8Array]> = [
    ['truncated', good.subarray(0, good.length - 1)],
    ['a byte left over', u8aConcat(good, new Uint8Array([0]))],
    // Vec length 1 written in two bytes (0x0500 = 1 << 2 | 1): not canonical.
    ['non-canonical compact', Uint8Array.from(Buffer.from('0500' + h + '00' + '00' + '00' + '00', 'hex'))],
    ['Option tag 2', Uint8Array.from(Buffer.from('04' + h + '02' + '00' + '00' + '00', 'hex'))],
  ]
  for (const [what, body] of cases) {
    assert.throws(() => decodeSyncCombinedHeaders(body), ScaleInputError, what)
    assert.throws(() => decodeSyncCombinedHeadersReq(body), Error, `${what}: the registry refuses it too`)
  }
  // A digest with variant 2 (ChangesTrieRoot): sp_runtime's DigestItem no longer has it, so pRuntime
  // cannot decode the header (polkadot-js's registry still knows the variant).
  const oldDigest = Uint8Array.from(Buffer.from('04' + h.slice(0, -2) + '04' + '02' + '55'.repeat(32) + '00' + '00' + '00' + '00', 'hex'))
  assert.throws(() => decodeSyncCombinedHeaders(oldDigest), /unknown DigestItem variant 2/)
  // A header number in the 4-byte compact mode below 2^30 is not canonical either.
  const n = Buffer.from(h, 'hex')
  const badNumber = Buffer.concat([Buffer.from('04', 'hex'), n.subarray(0, 32), Buffer.from('0305000000', 'hex'), n.subarray(33), Buffer.from('00000000', 'hex')])
  assert.throws(() => decodeSyncCombinedHeaders(badNumber), /out of range decoding Compact<u32>/)
})

test('StorageState: the same pairs as the registry decoder, refused when malformed', () => {
  // lengths in each compact mode: 1 byte (< 64), 2 bytes (< 16384), 4 bytes
  const pairs: Array<[string, string]> = [['0x01', '0x'], ['0x' + 'ab'.repeat(40), '0x' + 'cd'.repeat(300)], ['0x' + 'EF'.repeat(63), '0x' + '01'.repeat(20_000)]]
  const body = encodeStorageState(pairs)
  assert.deepEqual(decodeStoragePairs(body).map(([k, v]) => [u8aToHex(k), u8aToHex(v)]), decodeStorageState(body).map(([k, v]) => [u8aToHex(k), u8aToHex(v)]))
  assert.throws(() => decodeStoragePairs(body.subarray(0, body.length - 1)), ScaleInputError)
  assert.throws(() => decodeStoragePairs(u8aConcat(body, new Uint8Array([1]))), ScaleInputError)
  // The lifecycle's direct encoder (LoadChainState's state) writes the registry's bytes.
  assert.equal(u8aToHex(encodeStoragePairs(pairs)), u8aToHex(body))
  assert.equal(u8aToHex(encodeStoragePairs([])), u8aToHex(encodeStorageState([])))
  assert.throws(() => encodeStoragePairs([['0x01', '0xzz']]), /not hex/)
  assert.throws(() => encodeStoragePairs([['0x01', '0x0']]), /not hex/)
  assert.throws(() => encodeStoragePairs([['01', '0x00']]), /not hex/)
})
