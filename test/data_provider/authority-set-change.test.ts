/**
 * What the AuthoritySetChange the fetcher attaches at a set change proves. pRuntime HEAD decodes it
 * and ignores it (chain.md §5.2: it switches sets from the header's ScheduledChange after checking
 * the justification with the old set); older pRuntimes checked the proof of `:grandpa_authorities`
 * against the header's state root. The proof covers both homes of the list (`Grandpa.Authorities`
 * since pallet-grandpa v5, `:grandpa_authorities` before) and the set id; this test pins what they
 * prove before the storage move (grandpa-v5.test.ts covers after it).
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { u8aToHex } from '@polkadot/util'
import { createChainConnection, type ChainConnection } from '../../src/common/chain.js'
import { decodeHeader, encodeGrandpaAuthoritiesValue, findScheduledChange, GRANDPA_AUTHORITIES_KEY, readAuthorityList, ScaleReader } from '../../src/common/grandpa.js'
import { verifyProof } from '../../src/common/trie.js'
import { HashLoader } from '../../src/data_provider/fetch/hashes.js'
import { fetchRelayBlock, relayFetchContext } from '../../src/data_provider/fetch/relay.js'
import { STORAGE_KEYS, parasHeadsKey } from '../../src/data_provider/fetch/scale-util.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { quiet, startTestDevnet } from './e2e-helpers.js'

const logger = quiet()
let dn: Devnet
let relay: ChainConnection

before(async () => {
  dn = await startTestDevnet({ history: 45 }, logger) // set change at 40
  relay = createChainConnection({ url: dn.relayUrl, name: 'relay' }, { logger })
  relay.start()
})

after(async () => {
  await relay?.stop()
  await dn?.stop()
})

test('at a set change: Some(new list, new set id, proof of the authority keys and the set id at the block\'s state root); the list is the ScheduledChange\'s', async () => {
  const ctx = relayFetchContext(relay, new HashLoader(relay), parasHeadsKey(2035), 8)
  const b = await fetchRelayBlock(ctx, 40)
  assert.ok(b.justification, 'the set-change block is justified')
  const r = new ScaleReader(b.authoritySetChange)
  assert.equal(r.u8(), 1, 'Some')
  const list = readAuthorityList(r)
  const setId = r.u64()
  const proof = Array.from({ length: r.compact() }, () => r.bytes())
  assert.ok(r.done())
  const header = decodeHeader(b.header)
  assert.equal(setId, 1n, 'Grandpa.CurrentSetId at the set-change block')
  assert.deepEqual(list, findScheduledChange(header)!.nextAuthorities, 'the set pRuntime HEAD switches to from the digest')
  const proven = verifyProof(header.stateRoot, proof, [GRANDPA_AUTHORITIES_KEY])
  assert.equal(proven.get(GRANDPA_AUTHORITIES_KEY), u8aToHex(encodeGrandpaAuthoritiesValue(list)), 'the proof shows :grandpa_authorities = version 1 ++ the list')
  // The set id and the (absent before the move) Grandpa.Authorities are in the proof too.
  const more = verifyProof(header.stateRoot, proof, [STORAGE_KEYS.grandpaSetId, STORAGE_KEYS.grandpaAuthoritiesV5])
  assert.equal(more.get(STORAGE_KEYS.grandpaSetId), '0x0100000000000000')
  assert.equal(more.get(STORAGE_KEYS.grandpaAuthoritiesV5) ?? null, null)
})

test('an ordinary justified block carries the current set, proven the same way', async () => {
  const ctx = relayFetchContext(relay, new HashLoader(relay), parasHeadsKey(2035), 8)
  const b = await fetchRelayBlock(ctx, 16)
  const r = new ScaleReader(b.authoritySetChange)
  assert.equal(r.u8(), 1)
  const list = readAuthorityList(r)
  assert.equal(r.u64(), 0n)
  const proof = Array.from({ length: r.compact() }, () => r.bytes())
  assert.deepEqual(list, dn.relay.authoritySet(0).authorities)
  assert.equal(verifyProof(decodeHeader(b.header).stateRoot, proof, [GRANDPA_AUTHORITIES_KEY]).get(GRANDPA_AUTHORITIES_KEY), u8aToHex(encodeGrandpaAuthoritiesValue(list)))
})
