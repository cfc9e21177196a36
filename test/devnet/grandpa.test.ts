import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blake2AsU8a, cryptoWaitReady, ed25519PairFromSeed } from '@polkadot/util-crypto'
import { stringToU8a, u8aToHex } from '@polkadot/util'
import {
  type Authority, type Header, decodeConsensusLog, decodeGrandpaAuthoritiesValue, decodeHeader, decodeJustification,
  encodeGrandpaAuthoritiesValue, encodeHeader, encodeJustification, findScheduledChange, grandpaDigestItem, hashHeader,
  precommitPayload, signJustification, verifyJustification,
} from '../../src/common/grandpa.js'

await cryptoWaitReady()
const keys = Array.from({ length: 7 }, (_, i) => ed25519PairFromSeed(blake2AsU8a(stringToU8a(`test-${i}`), 256)))
const set: Authority[] = keys.map((k) => ({ publicKey: u8aToHex(k.publicKey), weight: 1n }))
const header: Header = {
  parentHash: '0x' + '11'.repeat(32), number: 1234, stateRoot: '0x' + '22'.repeat(32), extrinsicsRoot: '0x' + '33'.repeat(32),
  digest: [grandpaDigestItem({ type: 'ScheduledChange', nextAuthorities: set.slice(0, 3), delay: 0 })],
}
const target = { hash: hashHeader(header), number: header.number }

test('header codec round-trips and finds the scheduled change', () => {
  const enc = encodeHeader(header)
  assert.deepEqual(decodeHeader(enc), header)
  const change = findScheduledChange(header)
  assert.equal(change?.delay, 0)
  assert.deepEqual(change?.nextAuthorities, set.slice(0, 3))
  const forced = grandpaDigestItem({ type: 'ForcedChange', medianLastFinalized: 9, nextAuthorities: set, delay: 3 })
  assert.deepEqual(decodeConsensusLog('0x' + forced.slice(2 + 10 + 4)), { type: 'ForcedChange', medianLastFinalized: 9, nextAuthorities: set, delay: 3 })
  assert.deepEqual(decodeGrandpaAuthoritiesValue(encodeGrandpaAuthoritiesValue(set)), set)
  assert.equal(encodeGrandpaAuthoritiesValue(set)[0], 1)
})

test('precommit payload is 53 bytes', () => {
  assert.equal(precommitPayload(target.hash, 5, 1, 2).length, 53)
})

test('a justification signed by all or by > 2/3 verifies, also after a SCALE round-trip', () => {
  const j = signJustification(target, 3, 77, keys)
  const bytes = encodeJustification(j)
  assert.deepEqual(decodeJustification(bytes), j)
  assert.deepEqual(verifyJustification(bytes, set, 3, target), { ok: true })
  assert.deepEqual(verifyJustification(signJustification(target, 3, 1, keys.slice(0, 5)), set, 3n), { ok: true })
})

test('forged signature, wrong set id, too few signers, unknown signer, wrong target fail', () => {
  const j = signJustification(target, 3, 77, keys)
  const forged = structuredClone(j)
  forged.commit.precommits[2]!.signature = j.commit.precommits[1]!.signature
  assert.deepEqual(verifyJustification(forged, set, 3), { ok: false, error: 'invalid signature for precommit in grandpa justification' })
  assert.deepEqual(verifyJustification(j, set, 4), { ok: false, error: 'invalid signature for precommit in grandpa justification' })
  assert.deepEqual(verifyJustification(signJustification(target, 3, 1, keys.slice(0, 4)), set, 3), { ok: false, error: 'invalid commit in grandpa justification' })
  assert.deepEqual(verifyJustification(j, set.slice(1), 3), { ok: false, error: 'invalid commit in grandpa justification' })
  assert.deepEqual(verifyJustification(j, set, 3, { hash: target.hash, number: 1 }), { ok: false, error: 'invalid commit target in grandpa justification' })
  assert.deepEqual(verifyJustification('0x0102', set, 3), { ok: false, error: 'error decoding justification for header' })
  // Duplicates do not count twice.
  const dup = signJustification(target, 3, 1, [...keys.slice(0, 4), keys[0]!])
  assert.equal(verifyJustification(dup, set, 3).ok, false)
})

test('precommits on a descendant need the ancestry headers, and no unused ones', () => {
  const child: Header = { ...header, parentHash: target.hash, number: target.number + 1, digest: [] }
  const childTarget = { hash: hashHeader(child), number: child.number }
  const j = signJustification(childTarget, 3, 5, keys)
  j.commit.targetHash = target.hash
  j.commit.targetNumber = target.number
  assert.deepEqual(verifyJustification(j, set, 3), { ok: false, error: 'invalid precommit ancestry proof in grandpa justification' })
  j.votesAncestries = [u8aToHex(encodeHeader(child))]
  assert.deepEqual(verifyJustification(j, set, 3, target), { ok: true })
  assert.deepEqual(verifyJustification(decodeJustification(encodeJustification(j)), set, 3, target), { ok: true })
  j.votesAncestries.push(u8aToHex(encodeHeader({ ...child, number: 99 })))
  assert.deepEqual(verifyJustification(j, set, 3), { ok: false, error: 'invalid precommit ancestries in grandpa justification with unused headers' })
})
