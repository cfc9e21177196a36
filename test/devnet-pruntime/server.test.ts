/**
 * The HTTP surface and the worker's life: prpc errors, JSON mode, faults, kick, crash, dev mode,
 * the body limit, and egress once the worker sees its own registration.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sr25519PairFromSeed, sr25519Verify } from '@polkadot/util-crypto'
import { hexToU8a, u8aToHex, u8aToString, u8aConcat } from '@polkadot/util'
import { startPruntimes, type RunningPruntimes, type PruntimeHandle } from '../../src/devnet/pruntime/index.js'
import { getCodec } from '../../src/common/codec.js'
import { decodeEgressMessages, decodeExact, mqSigningPayload, workerOrigin } from '../../src/common/bridge-types.js'
import { offchainIngressKey, registryWorkersKey } from '../../src/devnet/pruntime/storage-keys.js'
import { u64Le } from '../../src/common/grandpa.js'
import { FixtureChain } from './fixture-chain.js'
import { binApi, getInfo, prpc, quietLogger } from './client.js'

let pr: RunningPruntimes
let w: PruntimeHandle
let chain: FixtureChain
const dataDir = mkdtempSync(join(tmpdir(), 'prb-pruntime-'))

before(async () => {
  pr = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0, dataDir }, quietLogger())
  w = pr.workers[0]!
  chain = await FixtureChain.create()
  await chain.addParaBlock()
  await chain.addRelayBlock()
})

after(async () => {
  await pr.stop()
  await pr.stop() // idempotent
  rmSync(dataDir, { recursive: true, force: true })
})

async function init(extra: object = {}): Promise<{ status: number; error?: string }> {
  return prpc(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: await chain.genesisInfo(),
    encodedGenesisState: chain.genesisState(),
    isParachain: true,
    ...extra,
  })
}

test('prpc: unknown method 404, bad body 400, app errors 500, all as prpc.PrpcError', async () => {
  w.crash()
  const codec = getCodec()
  const nf = await fetch(`${w.endpoint}/prpc/PhactoryAPI.NoSuchMethod`, { method: 'POST', body: new Uint8Array() })
  assert.equal(nf.status, 404)
  assert.equal(codec.decode<{ message: string }>('prpc.PrpcError', new Uint8Array(await nf.arrayBuffer())).message, 'Method Not Found')
  const bad = await fetch(`${w.endpoint}/prpc/PhactoryAPI.InitRuntime`, { method: 'POST', body: new Uint8Array([0x12, 0x05, 0x01]) })
  assert.equal(bad.status, 400)
  assert.match(codec.decode<{ message: string }>('prpc.PrpcError', new Uint8Array(await bad.arrayBuffer())).message, /^DecodeError\(/)
  const app = await prpc(w.endpoint, 'GetEgressMessages', 'google.protobuf.Empty', 'pruntime_rpc.GetEgressMessagesResponse')
  assert.equal(app.status, 500)
  assert.equal(app.error, 'Runtime not initialized')
  const binBad = await binApi(w.endpoint, 'dispatch_block', new Uint8Array([0x00]))
  assert.equal(binBad.status, 'error')
  assert.equal(binBad.payload, '{"message":"Runtime not initialized"}')
  // The body is decoded before the runtime is asked, as pRuntime does.
  assert.equal((await binApi(w.endpoint, 'dispatch_block', new Uint8Array([0x04, 0x01]))).payload, '{"message":"Decode input parameter failed"}')
})

test('JSON mode: ?json and GET answer snake_case JSON; errors as ProtoError text', async () => {
  w.crash()
  assert.equal((await init()).status, 200)
  const r = await fetch(`${w.endpoint}/prpc/PhactoryAPI.GetInfo?json`, { method: 'POST', body: '{}' })
  const j = (await r.json()) as Record<string, unknown>
  assert.equal(j.initialized, true)
  assert.equal(j.headernum, 101)
  assert.equal(j.para_headernum, 0)
  assert.equal(typeof j.public_key, 'string')
  assert.ok('memory_usage' in j && 'system' in j)
  const g = (await (await fetch(`${w.endpoint}/prpc/PhactoryAPI.GetInfo`)).json()) as Record<string, unknown>
  assert.equal(g.blocknum, 1)
  // JSON input: snake_case fields, bytes as 0x-hex.
  w.crash()
  const jInit = await fetch(`${w.endpoint}/prpc/PhactoryAPI.InitRuntime?json`, {
    method: 'POST',
    body: JSON.stringify({ encoded_genesis_info: u8aToHex(await chain.genesisInfo()), encoded_genesis_state: u8aToHex(chain.genesisState()), is_parachain: true }),
  })
  assert.equal(jInit.status, 200)
  const jr = (await jInit.json()) as Record<string, string>
  assert.match(jr.encoded_public_key!, /^0x[0-9a-f]{64}$/)
  assert.equal(jr.encoded_genesis_block_hash, chain.relay[0]!.hash)
  const e = await fetch(`${w.endpoint}/prpc/PhactoryAPI.GetRuntimeInfo?json`, { method: 'POST', body: JSON.stringify({ force_refresh_ra: true }) })
  assert.equal(e.status, 500)
  assert.match(((await e.json()) as { error: string }).error, /^ProtoError \{ message: ".*not validated.*" \}$/)
})

test('faults: hang, slow and 500 per worker; heal restores; the other worker is unaffected', async () => {
  w.crash()
  w.hang()
  await assert.rejects(fetch(`${w.endpoint}/prpc/PhactoryAPI.GetInfo`, { method: 'POST', signal: AbortSignal.timeout(300) }), /abort|timeout/i)
  const other = await getInfo(pr.workers[1]!.endpoint)
  assert.equal(other.initialized, false)
  w.heal()
  w.slow(250)
  const t0 = Date.now()
  await getInfo(w.endpoint)
  assert.ok(Date.now() - t0 >= 240, 'the answer must be delayed')
  w.heal()
  w.failWith500()
  const r = await prpc(w.endpoint, 'GetInfo', 'google.protobuf.Empty', 'pruntime_rpc.PhactoryInfo')
  assert.equal(r.status, 500)
  w.heal()
  assert.equal((await prpc(w.endpoint, 'GetInfo', 'google.protobuf.Empty', 'pruntime_rpc.PhactoryInfo')).status, 200)
})

test('crash and kick lose the chain state; the sealed identity survives unless wiped', async () => {
  w.crash()
  assert.equal((await init()).status, 200)
  const pub = (await getInfo(w.endpoint)).publicKey
  w.crash()
  const after = await getInfo(w.endpoint)
  assert.equal(after.initialized, false)
  assert.equal((await init()).status, 200)
  assert.equal((await getInfo(w.endpoint)).publicKey, pub)
  await assert.rejects(fetch(`${w.endpoint}/kick`, { method: 'POST' }))
  assert.equal((await getInfo(w.endpoint)).initialized, false)
  assert.equal((await init()).status, 200)
  assert.equal((await getInfo(w.endpoint)).publicKey, pub, 'a kicked worker keeps its sealed identity')
  // A wiped machine makes and seals a new identity, which a later crash keeps.
  w.crash({ wipeIdentity: true })
  assert.equal((await init()).status, 200)
  const fresh = (await getInfo(w.endpoint)).publicKey
  assert.notEqual(fresh, pub)
  w.crash()
  assert.equal((await init()).status, 200)
  assert.equal((await getInfo(w.endpoint)).publicKey, fresh)
})

test('dev mode: debug_set_key sets the identity, needs no attestation, and refuses RA with it', async () => {
  w.crash()
  const seed = new Uint8Array(32)
  seed[31] = 1
  const refused = await init({ debugSetKey: seed, attestationProvider: new Uint8Array([1, 1]) })
  assert.equal(refused.error, 'RA is disallowed when debug_set_key is enabled')
  assert.equal((await init({ debugSetKey: seed, skipRa: true })).status, 200)
  const info = await getInfo(w.endpoint)
  assert.equal(info.devMode, true)
  assert.equal('0x' + info.publicKey, u8aToHex(sr25519PairFromSeed(seed).publicKey))
  const ri = await prpc<{ attestation?: unknown }>(w.endpoint, 'GetRuntimeInfo', 'pruntime_rpc.GetRuntimeInfoRequest', 'pruntime_rpc.InitRuntimeResponse', {})
  assert.equal(ri.status, 200)
  assert.equal(ri.body.attestation ?? null, null)
})

test('bin_api refuses a body over 100 MiB', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const req = request(`${w.endpoint}/bin_api/dispatch_block`, { method: 'POST', headers: { 'content-length': String(101 * 1024 * 1024) } }, (res) => {
      let s = ''
      res.on('data', (c: Buffer) => (s += c.toString()))
      res.on('end', () => resolve(s))
    })
    req.on('error', reject)
    req.write(new Uint8Array(16))
  })
  const j = JSON.parse(reply) as { status: string; payload: string }
  assert.equal(j.status, 'error')
  assert.equal(j.payload, 'Entity too large')
})

test('egress: the worker sees its registration, sends a signed BenchReport, purges what the chain took', async () => {
  w.crash()
  assert.equal((await init()).status, 200)
  const pub = hexToU8a('0x' + (await getInfo(w.endpoint)).publicKey)
  const origin = workerOrigin(pub)
  const c = await FixtureChain.create()
  await c.addParaBlock()
  await c.addParaBlock([[registryWorkersKey(pub), '0x00']])
  await c.addParaBlock([[offchainIngressKey(origin), u8aToHex(u64Le(1))]])
  await c.addRelayBlock()
  w.crash()
  assert.equal((await init()).status, 200)
  assert.equal((await binApi(w.endpoint, 'sync_combined_headers', await c.combined(101, 101, 0))).status, 'ok')
  assert.equal((await binApi(w.endpoint, 'dispatch_block', c.dispatch(1, 1))).status, 'ok')
  let info = await getInfo(w.endpoint)
  assert.equal(info.registered, false)
  assert.equal(Number(info.pendingMessages), 0)
  assert.equal((await binApi(w.endpoint, 'dispatch_block', c.dispatch(2, 2))).status, 'ok')
  info = await getInfo(w.endpoint)
  assert.equal(info.registered, true)
  assert.equal(Number(info.pendingMessages), 1)
  const eg = await prpc<{ encodedMessages: Uint8Array }>(w.endpoint, 'GetEgressMessages', 'google.protobuf.Empty', 'pruntime_rpc.GetEgressMessagesResponse')
  const groups = decodeEgressMessages(eg.body.encodedMessages)
  assert.equal(groups.length, 1)
  assert.equal(u8aToHex(groups[0]!.origin), u8aToHex(origin))
  const m = groups[0]!.messages[0]!
  assert.equal(m.sequence, 0n)
  assert.equal(u8aToString(m.destination), '^phala/registry/event')
  const ev = decodeExact('RegistryEvent', m.payload).toJSON() as { benchReport: { iterations: number } }
  assert.ok(ev.benchReport.iterations > 0)
  const encodedMessage = u8aConcat(m.sender, new Uint8Array([m.destination.length << 2]), m.destination, new Uint8Array([m.payload.length << 2]), m.payload)
  assert.ok(sr25519Verify(mqSigningPayload(encodedMessage, m.sequence), m.signature, pub))
  assert.equal((await binApi(w.endpoint, 'dispatch_block', c.dispatch(3, 3))).status, 'ok')
  info = await getInfo(w.endpoint)
  assert.equal(Number(info.pendingMessages), 0)
  const empty = await prpc<{ encodedMessages: Uint8Array }>(w.endpoint, 'GetEgressMessages', 'google.protobuf.Empty', 'pruntime_rpc.GetEgressMessagesResponse')
  assert.deepEqual(decodeEgressMessages(empty.body.encodedMessages), [])
})

test('prpc SyncCombinedHeaders / DispatchBlocks / SyncHeader / SyncParaHeader work like bin_api, errors as 500 texts', async () => {
  w.crash()
  assert.equal((await init()).status, 200)
  const { decodeSyncCombinedHeadersReq, encodeBridge } = await import('../../src/common/bridge-types.js')
  const req = decodeSyncCombinedHeadersReq(await chain.combined(101, 101, 0))
  const relayBytes = encodeBridge('Vec<HeaderToSync>', req.relaychainHeaders.map((h) => ({ header: h.header, justification: h.justification })))
  const paraBytes = encodeBridge('Vec<Header>', req.parachainHeaders)
  const bad = await prpc(w.endpoint, 'SyncHeader', 'pruntime_rpc.HeadersToSync', 'pruntime_rpc.SyncedTo', { encodedHeaders: encodeBridge('Vec<HeaderToSync>', [{ header: chain.relay[1]!.encoded, justification: null }]) })
  assert.equal(bad.status, 500)
  assert.equal(bad.error, 'MissingJustification')
  const r = await prpc<{ relaychainSyncedTo: number; parachainSyncedTo: number }>(w.endpoint, 'SyncCombinedHeaders', 'pruntime_rpc.CombinedHeadersToSync', 'pruntime_rpc.HeadersSyncedTo', {
    encodedRelaychainHeaders: relayBytes,
    encodedParachainHeaders: paraBytes,
    proof: req.proof,
  })
  assert.equal(r.status, 200, r.error)
  assert.deepEqual([r.body.relaychainSyncedTo, r.body.parachainSyncedTo], [101, 1])
  const d = await prpc<{ syncedTo: number }>(w.endpoint, 'DispatchBlocks', 'pruntime_rpc.Blocks', 'pruntime_rpc.SyncedTo', { encodedBlocks: chain.dispatch(1, 1) })
  assert.equal(d.body.syncedTo, 1)
  const none = await prpc<{ syncedTo: number }>(w.endpoint, 'SyncParaHeader', 'pruntime_rpc.ParaHeadersToSync', 'pruntime_rpc.SyncedTo', { encodedHeaders: paraBytes, proof: req.proof })
  assert.equal(none.body.syncedTo, 1, 'already-synced para headers are dropped')
  const garbage = await prpc(w.endpoint, 'DispatchBlocks', 'pruntime_rpc.Blocks', 'pruntime_rpc.SyncedTo', { encodedBlocks: new Uint8Array([9, 9, 9]) })
  assert.equal(garbage.status, 400)
  assert.match(garbage.error!, /^DecodeError\(/)
})

test('WorkerRegistrationInfoV2 (with para id) when InitRuntime carries attestation_provider, as pRuntime HEAD clients send', async () => {
  w.crash()
  const r = await prpc<{ encodedRuntimeInfo: Uint8Array }>(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: await chain.genesisInfo(),
    encodedGenesisState: chain.genesisState(),
    isParachain: true,
    attestationProvider: new Uint8Array([1, 1]),
  })
  assert.equal(r.status, 200, r.error)
  const v2 = decodeExact('WorkerRegistrationInfoV2', r.body.encodedRuntimeInfo).toJSON() as { paraId: number; maxConsensusVersion: number }
  assert.equal(v2.paraId, chain.paraId)
  assert.throws(() => decodeExact('WorkerRegistrationInfo', r.body.encodedRuntimeInfo))
})

test('startPruntimes listens on consecutive ports from basePort and names the port in use on failure', async () => {
  let started: RunningPruntimes | undefined
  let base = 0
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    base = 20000 + Math.floor(Math.random() * 30000)
    try {
      started = await startPruntimes({ count: 3, host: '127.0.0.1', basePort: base }, quietLogger())
    } catch {
      started = undefined // a port of the range was taken: try another range
    }
  }
  assert.ok(started, 'no free port range found')
  try {
    assert.deepEqual(started.workers.map((x) => x.port), [base, base + 1, base + 2])
    assert.equal(started.workers[2]!.endpoint, `http://127.0.0.1:${base + 2}`)
    await assert.rejects(startPruntimes({ count: 1, host: '127.0.0.1', basePort: base + 1 }, quietLogger()), new RegExp(`127\\.0\\.0\\.1:${base + 1}.*is taken: stop what holds it, or choose another base port`))
  } finally {
    await started.stop()
  }
})
