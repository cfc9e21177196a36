/**
 * Heartbeats: a computing worker answers the chain's heartbeat challenges that hit it; opt-in, it also
 * reports on phala/mining/report every N dispatched blocks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compactToU8a, u8aToHex, u8aToString } from '@polkadot/util'
import { Phactory } from '../../src/devnet/pruntime/phactory.js'
import { newIdentity } from '../../src/devnet/pruntime/identity.js'
import { decodeDispatchBlockReq, decodeEgressMessages, decodeExact, decodeSyncCombinedHeadersReq } from '../../src/common/bridge-types.js'
import { registryWorkersKey, sessionsKey, workerBindingsKey } from '../../src/devnet/pruntime/storage-keys.js'
import { FixtureChain } from './fixture-chain.js'
import { quietLogger } from './client.js'
import { OUTBOUND_MESSAGES_KEY } from '../../src/devnet/pruntime/heartbeat.js'

test('a computing worker sends a Heartbeat for every 2nd block, an idle one none', async () => {
  const identity = newIdentity()
  const pub = identity.identity.publicKey
  const session = new Uint8Array(32).fill(0x77)
  const c = await FixtureChain.create()
  await c.addParaBlock([[registryWorkersKey(pub), '0x00']])
  await c.addParaBlock([[workerBindingsKey(pub), u8aToHex(session)], [sessionsKey(session), '0x01' + '00'.repeat(40)]])
  await c.addParaBlock()
  await c.addParaBlock()
  await c.addParaBlock([[sessionsKey(session), '0x04' + '00'.repeat(40)]]) // cooling down
  await c.addParaBlock()
  await c.addRelayBlock()
  const p = new Phactory({ identity, logger: quietLogger(), heartbeatEveryBlocks: 2 })
  await p.initRuntime({ encodedGenesisInfo: await c.genesisInfo(), encodedGenesisState: c.genesisState(), isParachain: true })
  const req = decodeSyncCombinedHeadersReq(await c.combined(101, 101, 0))
  p.syncCombinedHeaders(req.relaychainHeaders.map((h) => ({ encoded: h.header.toU8a(), justification: h.justification })), req.parachainHeaders.map((h) => h.toU8a()), req.proof)
  const topics = (): string[] => (decodeEgressMessages(p.egressMessages())[0]?.messages ?? []).map((m) => `${m.sequence}:${u8aToString(m.destination)}`)
  for (let n = 1; n <= 6; n++) await p.dispatchBlocks(decodeDispatchBlockReq(c.dispatch(n, n)))
  assert.deepEqual(topics(), ['0:^phala/registry/event', '1:phala/mining/report', '2:phala/mining/report'])
  const hb = decodeEgressMessages(p.egressMessages())[0]!.messages[2]!
  const ev = decodeExact('WorkingReportEvent', hb.payload).toJSON() as { heartbeat: { challengeBlock: number } }
  assert.equal(ev.heartbeat.challengeBlock, 4)
})

/** SCALE Vec<Message> with one SystemEvent::HeartbeatChallenge from Pallet("PhalaComputation"). */
function challengeMessages(onlineTarget: Uint8Array): string {
  const name = new TextEncoder().encode('PhalaComputation')
  const topic = new TextEncoder().encode('phala/system/event')
  const payload = new Uint8Array([1, ...new Uint8Array(32).fill(0x5a), ...onlineTarget])
  const bytes = (b: Uint8Array): number[] => [...compactToU8a(b.length), ...b]
  return u8aToHex(new Uint8Array([...compactToU8a(1), 0, ...bytes(name), ...bytes(topic), ...bytes(payload)]))
}

test('a computing worker answers a heartbeat challenge it is hit by, with a Heartbeat for the challenge block', async () => {
  const identity = newIdentity()
  const pub = identity.identity.publicKey
  const session = new Uint8Array(32).fill(0x77)
  const c = await FixtureChain.create()
  await c.addParaBlock([[registryWorkersKey(pub), '0x00']])
  await c.addParaBlock([[workerBindingsKey(pub), u8aToHex(session)], [sessionsKey(session), '0x01' + '00'.repeat(40)]])
  await c.addParaBlock([[OUTBOUND_MESSAGES_KEY, challengeMessages(new Uint8Array(32).fill(0xff))]]) // every worker is hit
  await c.addParaBlock([[OUTBOUND_MESSAGES_KEY, challengeMessages(new Uint8Array(32))]]) // target 0: nobody is hit
  await c.addRelayBlock()
  const p = new Phactory({ identity, logger: quietLogger() })
  await p.initRuntime({ encodedGenesisInfo: await c.genesisInfo(), encodedGenesisState: c.genesisState(), isParachain: true })
  const req = decodeSyncCombinedHeadersReq(await c.combined(101, 101, 0))
  p.syncCombinedHeaders(req.relaychainHeaders.map((h) => ({ encoded: h.header.toU8a(), justification: h.justification })), req.parachainHeaders.map((h) => h.toU8a()), req.proof)
  for (let n = 1; n <= 4; n++) await p.dispatchBlocks(decodeDispatchBlockReq(c.dispatch(n, n)))
  const msgs = decodeEgressMessages(p.egressMessages())[0]?.messages ?? []
  const reports = msgs.filter((m) => u8aToString(m.destination) === 'phala/mining/report')
  assert.equal(reports.length, 1, 'one heartbeat: the second challenge misses')
  const ev = decodeExact('WorkingReportEvent', reports[0]!.payload).toJSON() as { heartbeat: { challengeBlock: number } }
  assert.equal(ev.heartbeat.challengeBlock, 3)
})
