/**
 * grandpa_subscribeJustifications / grandpa_proveFinality as @polkadot/api calls them: one
 * justification per finalized block, each valid for the authority set a light client holds at that
 * point (switching at the ScheduledChange of a set-change block), across set changes.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { u8aToHex } from '@polkadot/util'
import {
  decodeGrandpaAuthoritiesValue, decodeHeader, decodeJustification, findScheduledChange, GRANDPA_AUTHORITIES_KEY, hashHeader, readHeader, ScaleReader,
  verifyJustification, type Authority,
} from '../../src/common/grandpa.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startTestDevnet } from './helpers.js'

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

let dn: Devnet
let api: ApiPromise
let provider: WsProvider

before(async () => {
  dn = await startTestDevnet({ history: 15, sessionBlocks: 10, justificationPeriod: 16 })
  provider = new WsProvider(dn.relayUrl)
  api = await ApiPromise.create({ provider, noInitWarn: true })
})

after(async () => {
  await api?.disconnect()
  await dn?.stop()
})

test('subscribeJustifications: one per finalized block, each verifies against the current set, across three set changes', async () => {
  const fin = dn.status().relay.finalized
  const finHash = (await api.rpc.chain.getBlockHash(fin)).toHex()
  // The light client's set at the finalized head, from its state.
  let authorities: Authority[] = decodeGrandpaAuthoritiesValue(await provider.send<string>('state_getStorage', [GRANDPA_AUTHORITIES_KEY, finHash]))
  let setId = BigInt(dn.relay.setIdAt(fin))
  const got: Uint8Array[] = []
  // @polkadot/api resolves the unsubscribe function with the first notification (a node sends no initial one).
  const unsubP = api.rpc.grandpa.subscribeJustifications((j) => {
    got.push(j.toU8a(true))
  })
  await waitUntil(() => dn.relay.justifications.listenerCount('justification') > 0, 'subscription registered')
  const count = 25
  await dn.makeBlocks(count + 1) // finality trails the best block by one
  await waitUntil(() => got.length >= count, `${count} notifications`)
  ;(await unsubP)()
  assert.equal(got.length, count, 'one notification per newly finalized block')
  let changes = 0
  for (let i = 0; i < got.length; i++) {
    const j = decodeJustification(got[i]!)
    const n = fin + 1 + i
    assert.equal(j.commit.targetNumber, n, 'in finality order')
    const hash = (await api.rpc.chain.getBlockHash(n)).toHex()
    assert.equal(j.commit.targetHash, hash)
    assert.deepEqual(verifyJustification(got[i]!, authorities, setId, { hash, number: n }), { ok: true }, `block ${n} set ${setId}`)
    const header = decodeHeader((await api.rpc.chain.getHeader(hash)).toU8a())
    const change = findScheduledChange(header)
    if (change) {
      authorities = change.nextAuthorities
      setId++
      changes++
    }
  }
  assert.equal(changes, 3, 'three set changes crossed (20, 30, 40)')
  // Stored justifications are unchanged: only set changes and period multiples.
  const stored = (await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(fin + 3))).justifications
  assert.ok(stored.isNone, 'a block that is neither a set change nor a period multiple stores none')
})

test('proveFinality: the justification of the set\'s last block, with the headers after the asked block', async () => {
  if (dn.status().relay.finalized < 30) await dn.makeBlocks(30 - dn.status().relay.finalized + 1)
  const n = 21 // set 2 ends at 30 (a set change)
  const proof = await api.rpc.grandpa.proveFinality(n)
  assert.ok(proof.isSome)
  const r = new ScaleReader(proof.unwrap().toU8a(true))
  const block = r.hex32()
  const justification = r.bytes()
  const headers = Array.from({ length: r.compact() }, () => readHeader(r))
  assert.ok(r.done())
  assert.equal(block, dn.relay.chain.byNumber(30)!.hash)
  assert.deepEqual(headers.map((h) => h.number), [22, 23, 24, 25, 26, 27, 28, 29, 30])
  assert.equal(hashHeader(headers.at(-1)!), block)
  const set = dn.relay.authoritySet(dn.relay.finalizingSetId(30))
  assert.deepEqual(verifyJustification(justification, set.authorities, dn.relay.finalizingSetId(30), { hash: block, number: 30 }), { ok: true })
  assert.equal(u8aToHex(justification), u8aToHex(dn.relay.chain.byNumber(30)!.justification!))
  assert.ok((await api.rpc.grandpa.proveFinality(dn.status().relay.finalized + 5)).isNone, 'not final yet: none')
})
