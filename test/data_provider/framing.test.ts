import assert from 'node:assert/strict'
import { test } from 'node:test'
import { crc32c } from '@node-rs/crc32'
import { encodeVarint, FrameDecoder, FrameError } from '../../src/data_provider/framing.js'
import { compact } from '../../src/data_provider/scale.js'
import { compactToU8a } from '@polkadot/util'
import { prng } from './chain-fixture.js'

test('CRC-32C is the Castagnoli check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')) >>> 0, 0xe3069283)
})

test('varint lengths are unsigned LEB128', () => {
  assert.deepEqual([...encodeVarint(0)], [0])
  assert.deepEqual([...encodeVarint(127)], [0x7f])
  assert.deepEqual([...encodeVarint(128)], [0x80, 0x01])
  assert.deepEqual([...encodeVarint(300)], [0xac, 0x02])
  assert.deepEqual([...encodeVarint(2 ** 31)], [0x80, 0x80, 0x80, 0x80, 0x08])
})

test('frames survive any split of the byte stream, and zero-length frames are skipped', () => {
  const rnd = prng(3)
  const payloads: Buffer[] = []
  for (let i = 0; i < 300; i++) {
    const len = i % 50 === 0 ? 200_000 + i : Math.floor(rnd() * 300)
    payloads.push(Buffer.from(Array.from({ length: len }, (_, j) => (i * 7 + j) & 0xff)))
  }
  const stream = Buffer.concat(payloads.flatMap((p) => [encodeVarint(p.length), p]))
  for (let round = 0; round < 5; round++) {
    const d = new FrameDecoder(1 << 20)
    const got: Buffer[] = []
    for (let off = 0; off < stream.length;) {
      const n = round === 0 ? 1 : 1 + Math.floor(rnd() * (round * 5000))
      d.push(stream.subarray(off, off + n))
      off += n
      for (let f = d.next(); f; f = d.next()) got.push(Buffer.from(f))
    }
    assert.deepEqual(got, payloads.filter((p) => p.length > 0), `round ${round}`)
    assert.equal(d.buffered, 0)
  }
})

test('a length above the maximum or a length prefix of 6+ bytes is a FrameError before any body arrives', () => {
  const d = new FrameDecoder(1024)
  d.push(encodeVarint(1025))
  assert.throws(() => d.next(), FrameError)
  const d2 = new FrameDecoder(2 ** 40)
  d2.push(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))
  assert.throws(() => d2.next(), /longer than 5 bytes/)
  const d3 = new FrameDecoder(1024)
  d3.push(encodeVarint(1024))
  assert.equal(d3.next(), undefined) // a frame of exactly the maximum is fine, waiting for its body
})

test('SCALE compact matches @polkadot/util', () => {
  for (const n of [0, 1, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, 2 ** 32 + 5, 2 ** 53 - 1]) {
    assert.deepEqual([...compact(n)], [...compactToU8a(n)], `compact(${n})`)
  }
})
