/** The relay chain and the engine through unmodified @polkadot/api (para driven by the test runtime). */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { hexToU8a, u8aToHex } from '@polkadot/util'
import { blake2AsHex } from '@polkadot/util-crypto'
import {
  GRANDPA_AUTHORITIES_KEY, decodeGrandpaAuthoritiesValue, decodeHeader, decodeJustification, findScheduledChange,
  hashHeader, verifyJustification,
} from '../../src/common/grandpa.js'
import { verifyProof } from '../../src/common/trie.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { ScaleReader } from '../../src/common/grandpa.js'
import { startTestDevnet } from './helpers.js'

let devnet: Devnet
const num = (c: { toString(): string }): number => Number(c.toString())
let relay: ApiPromise
let para: ApiPromise

before(async () => {
  devnet = await startTestDevnet({ history: 100, justificationPeriod: 16, sessionBlocks: 40 })
  relay = await ApiPromise.create({ provider: new WsProvider(devnet.relayUrl), noInitWarn: true, throwOnConnect: true })
  para = await ApiPromise.create({ provider: new WsProvider(devnet.paraUrl), noInitWarn: true, throwOnConnect: true })
})

after(async () => {
  await relay?.disconnect()
  await para?.disconnect()
  await devnet?.stop()
})

test('both chains connect; history is made and finalized', async () => {
  assert.equal((await relay.rpc.system.chain()).toString(), 'Polkadot')
  const fin = await relay.rpc.chain.getFinalizedHead()
  const header = await relay.rpc.chain.getHeader(fin)
  assert.equal(header.number.toNumber(), 100)
  assert.equal(num(await relay.query.system.number()), 100)
  const paraFin = await para.rpc.chain.getHeader(await para.rpc.chain.getFinalizedHead())
  assert.equal(paraFin.number.toNumber(), 50)
  // Parent links and hashes are real.
  const h99 = await relay.rpc.chain.getHeader(header.parentHash)
  assert.equal(h99.number.toNumber(), 99)
  assert.equal(blake2AsHex(h99.toU8a(), 256), header.parentHash.toHex())
  assert.equal(num(await relay.query.timestamp.now()), Date.UTC(2024, 0, 1) + 100 * 3_600_000)
})

test('justifications verify against the authority set read from state, across a set change', async () => {
  let checked = 0
  for (const n of [16, 32, 40, 48, 80, 96]) {
    const hash = await relay.rpc.chain.getBlockHash(n)
    const signed = await relay.rpc.chain.getBlock(hash)
    assert.ok(signed.justifications.isSome, `block ${n} has a justification`)
    const [engine, bytes] = signed.justifications.unwrap()[0]!
    assert.equal(u8aToHex(engine), '0x46524e4b')
    const justification = decodeJustification(bytes.toU8a(true))
    // The set that finalizes block n is the one in the state of its parent.
    const parent = signed.block.header.parentHash
    const setId = BigInt((await (await relay.at(parent)).query.grandpa.currentSetId()).toString())
    const raw = await relay.rpc.state.getStorage(GRANDPA_AUTHORITIES_KEY, parent)
    const authorities = decodeGrandpaAuthoritiesValue((raw as unknown as { toU8a(b: boolean): Uint8Array }).toU8a(true))
    assert.equal(authorities.length, 4)
    assert.deepEqual(verifyJustification(justification, authorities, setId, { hash: hash.toHex(), number: n }), { ok: true })
    // Another set id must fail.
    assert.equal(verifyJustification(justification, authorities, setId + 1n).ok, false)
    checked++
  }
  assert.equal(checked, 6)
  const plain = await relay.rpc.chain.getBlock(await relay.rpc.chain.getBlockHash(17))
  assert.ok(plain.justifications.isNone)
  // Set-change block 40: ScheduledChange with delay 0 to the set now in state, set id bumped.
  const h40 = await relay.rpc.chain.getBlockHash(40)
  const header40 = decodeHeader((await relay.rpc.chain.getHeader(h40)).toU8a())
  const change = findScheduledChange(header40)
  assert.equal(change?.delay, 0)
  const at40 = await relay.at(h40)
  assert.equal(num(await at40.query.grandpa.currentSetId()), 1)
  const raw40 = await relay.rpc.state.getStorage(GRANDPA_AUTHORITIES_KEY, h40)
  assert.deepEqual(decodeGrandpaAuthoritiesValue((raw40 as unknown as { toU8a(b: boolean): Uint8Array }).toU8a(true)), change!.nextAuthorities)
  assert.equal(num(await (await relay.at(await relay.rpc.chain.getBlockHash(39))).query.grandpa.currentSetId()), 0)
})

test('paras.heads read proof verifies against the state root and holds the para block hash', async () => {
  const hash = await relay.rpc.chain.getBlockHash(90)
  const header = await relay.rpc.chain.getHeader(hash)
  const key = relay.query.paras.heads.key(2035)
  const proof = await relay.rpc.state.getReadProof([key], hash)
  const got = verifyProof(header.stateRoot.toHex(), proof.proof.map((p) => p.toHex()), [key])
  const value = got.get(key)
  assert.ok(value)
  // Value = HeadData(Vec<u8>) of the SCALE para header.
  const r = new ScaleReader(value)
  const headerBytes = r.bytes()
  const paraHeader = decodeHeader(headerBytes)
  const paraHash = (await para.rpc.chain.getBlockHash(paraHeader.number)).toHex()
  assert.equal(hashHeader(headerBytes), paraHash)
  // Same through the decorated query.
  const viaApi = await (await relay.at(hash)).query.paras.heads(2035)
  assert.equal(blake2AsHex((viaApi as unknown as { unwrap(): { toU8a(b: boolean): Uint8Array } }).unwrap().toU8a(true), 256), paraHash)
  // The para header names its relay parent in state (test runtime), one relay block before inclusion.
  assert.equal(paraHeader.number, 45)
  // A tampered proof fails.
  const nodes: string[] = proof.proof.map((p) => p.toHex())
  nodes[0] = nodes[0]!.slice(0, -2) + (nodes[0]!.endsWith('00') ? '01' : '00')
  assert.throws(() => verifyProof(header.stateRoot.toHex(), nodes, [key]))
})

test('new and finalized heads are pushed to subscribers; para finality follows the relay', async () => {
  const seen: number[] = []
  const fin: number[] = []
  const paraFin: number[] = []
  const u1 = await relay.rpc.chain.subscribeNewHeads((h) => void seen.push(h.number.toNumber()))
  const u2 = await relay.rpc.chain.subscribeFinalizedHeads((h) => void fin.push(h.number.toNumber()))
  const u3 = await para.rpc.chain.subscribeFinalizedHeads((h) => void paraFin.push(h.number.toNumber()))
  await devnet.makeBlocks(4)
  const deadline = Date.now() + 10_000
  while ((!seen.includes(104) || !fin.includes(103) || !paraFin.includes(51)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  assert.ok(seen.includes(104), `new heads ${seen}`)
  assert.ok(fin.includes(103), `finalized ${fin} (lag 1)`)
  assert.ok(paraFin.includes(51), `para finalized ${paraFin}`)
  u1(); u2(); u3()
  devnet.stallFinality()
  await devnet.makeBlocks(2)
  assert.equal(devnet.status().relay.finalized, 103)
  devnet.resumeFinality()
  await devnet.makeBlocks(1)
  assert.equal(devnet.status().relay.finalized, 106)
  assert.equal(devnet.status().para.finalized, 53)
})

test('state RPCs: keys paged, pairs, storage hash and size, query at', async () => {
  const keys = await relay.rpc.state.getKeysPaged('0x', 1000)
  assert.ok(keys.length >= 9)
  const sorted = keys.map((k) => k.toHex())
  assert.deepEqual(sorted, [...sorted].sort())
  const paged = await relay.rpc.state.getKeysPaged('0x', 2, sorted[2])
  assert.deepEqual(paged.map((k) => k.toHex()), sorted.slice(3, 5))
  const v = await relay.rpc.state.getStorage(GRANDPA_AUTHORITIES_KEY)
  const bytes = (v as unknown as { toU8a(b: boolean): Uint8Array }).toU8a(true)
  assert.equal((await relay.rpc.state.getStorageSize(GRANDPA_AUTHORITIES_KEY)).toNumber(), bytes.length)
  assert.equal((await relay.rpc.state.getStorageHash(GRANDPA_AUTHORITIES_KEY)).toHex(), blake2AsHex(bytes, 256))
  const pairs = await para.rpc.state.getPairs('0x', await para.rpc.chain.getBlockHash(0))
  assert.equal(pairs.length, 2)
  assert.ok(hexToU8a(pairs[0]![0].toHex()).length > 0)
})

test('after the devnet drops every WebSocket, @polkadot/api reconnects and its subscriptions resume', async () => {
  const api = await ApiPromise.create({ provider: new WsProvider(devnet.relayUrl, 200), noInitWarn: true, throwOnConnect: true })
  try {
    const heads: number[] = []
    const unsub = await api.rpc.chain.subscribeNewHeads((h) => void heads.push(h.number.toNumber()))
    const disconnected = new Promise<void>((r) => api.once('disconnected', () => r()))
    assert.ok(devnet.dropConnections() >= 1)
    await disconnected
    await new Promise<void>((r) => api.once('connected', () => r()))
    const best = devnet.status().relay.best
    await devnet.makeBlocks(1)
    const deadline = Date.now() + 10_000
    while (!heads.includes(best + 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.ok(heads.includes(best + 1), `heads after reconnect: ${heads}`)
    assert.equal(num(await api.query.system.number()), best + 1)
    unsub()
  } finally {
    await api.disconnect()
  }
})
