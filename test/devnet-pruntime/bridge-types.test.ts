/** The shared SCALE types: byte-exact round trips, strict decoding, Bytes given as Uint8Array. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { u8aToHex, hexToU8a } from '@polkadot/util'
import type { Header } from '@polkadot/types/interfaces'
import {
  bridgeRegistry,
  decodeDispatchBlockReq,
  decodeExact,
  decodeGenesisInfo,
  decodeStorageChanges,
  decodeSyncCombinedHeadersReq,
  encodeBlockHeaderWithChanges,
  encodeDispatchBlockReq,
  encodeGenesisInfo,
  encodeStorageChanges,
  encodeSyncCombinedHeadersReq,
  ScaleDecodeError,
} from '../../src/common/bridge-types.js'

const header = bridgeRegistry().createType<Header>('Header', { parentHash: '0x' + '11'.repeat(32), number: 70, stateRoot: '0x' + '22'.repeat(32), extrinsicsRoot: '0x' + '33'.repeat(32), digest: { logs: [] } })

test('SyncCombinedHeadersReq: field order and bytes as pRuntime reads them', () => {
  const enc = encodeSyncCombinedHeadersReq({
    relaychainHeaders: [{ header: header.toU8a(), justification: new Uint8Array([0xaa, 0xbb]) }],
    authoritySetChange: { authoritySet: { authoritySet: [['0x' + '44'.repeat(32), 1n]], setId: 3 }, authorityProof: [new Uint8Array([1, 2, 3])] },
    parachainHeaders: [header],
    proof: ['0x0506'],
  })
  const h = u8aToHex(header.toU8a()).slice(2)
  const expected =
    '0x04' + h + '01' + '08aabb' + // Vec<HeaderToSync>: header, Some(Bytes)
    '01' + '04' + '44'.repeat(32) + '0100000000000000' + '0300000000000000' + '04' + '0c010203' + // Some(AuthoritySetChange)
    '04' + h + // Vec<Header>
    '04' + '080506' // proof
  assert.equal(u8aToHex(enc), expected)
  const d = decodeSyncCombinedHeadersReq(enc)
  assert.equal(d.relaychainHeaders[0]!.header.number.toNumber(), 70)
  assert.deepEqual([...d.relaychainHeaders[0]!.justification!], [0xaa, 0xbb])
  assert.equal(d.authoritySetChange!.authoritySet.id, 3n)
  assert.deepEqual(d.proof.map((p) => u8aToHex(p)), ['0x0506'])
})

test('decoding is strict: short input, trailing bytes and non-canonical compacts are refused', () => {
  const enc = encodeGenesisInfo({ header: header.toU8a(), authoritySet: { authoritySet: [], setId: 0 }, proof: [] })
  assert.equal(decodeGenesisInfo(enc).header.number.toNumber(), 70)
  assert.throws(() => decodeGenesisInfo(enc.slice(0, -1)), ScaleDecodeError)
  assert.throws(() => decodeGenesisInfo(new Uint8Array([...enc, 0])), ScaleDecodeError)
  // Vec<u8> of length 1 with a 2-byte compact length (0x0500 instead of 0x04) is not canonical.
  assert.throws(() => decodeExact('Bytes', hexToU8a('0x050001')), ScaleDecodeError)
})

test('BlockHeaderWithChanges splices the raw StorageChanges bytes; DispatchBlockReq is a bare Vec', () => {
  const raw = encodeStorageChanges({ mainStorageChanges: [['0x01', '0x02'], ['0x03', null]], childStorageChanges: [['0x0a', [['0x0b', '0x0c']]]] })
  assert.equal(u8aToHex(raw), '0x' + '08' + '0401' + '01' + '0402' + '0403' + '00' + '04' + '040a' + '04' + '040b' + '01' + '040c')
  const ch = decodeStorageChanges(raw)
  assert.equal(ch.main[1]![1], null)
  assert.equal(u8aToHex(ch.child[0]![1][0]![1]!), '0x0c')
  const req = encodeDispatchBlockReq([encodeBlockHeaderWithChanges(header, raw), encodeBlockHeaderWithChanges(header.toU8a(), u8aToHex(raw))])
  const blocks = decodeDispatchBlockReq(req)
  assert.equal(blocks.length, 2)
  assert.equal(blocks[1]!.header.hash.toHex(), header.hash.toHex())
  assert.equal(u8aToHex(blocks[0]!.changes.main[0]![0]), '0x01')
})
