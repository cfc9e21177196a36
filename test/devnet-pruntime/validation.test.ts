/**
 * What a worker accepts and rejects, over its real HTTP API (bin_api as the lifecycle calls it):
 * each rejection carries pRuntime's error text and leaves the worker's heights unchanged.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { blake2AsU8a, sr25519Verify } from '@polkadot/util-crypto'
import { hexToU8a, stringToU8a, u8aConcat, u8aToHex, u8aEq } from '@polkadot/util'
import { startPruntimes, type RunningPruntimes, type PruntimeHandle } from '../../src/devnet/pruntime/index.js'
import { encodeJustification, signJustification, encodeHeader, hashHeader } from '../../src/common/grandpa.js'
import { encodeSyncCombinedHeadersReq, encodeBlockHeaderWithChanges, encodeDispatchBlockReq, encodeStorageChanges } from '../../src/common/bridge-types.js'
import { verifyDevnetIasReport } from '../../src/devnet/attestation.js'
import { ed25519PairFromSeed } from '@polkadot/util-crypto'
import { FixtureChain } from './fixture-chain.js'
import { binApi, getInfo, prpc, quietLogger } from './client.js'

let pr: RunningPruntimes
let w: PruntimeHandle
let chain: FixtureChain

before(async () => {
  pr = await startPruntimes({ count: 1, host: '127.0.0.1', basePort: 0 }, quietLogger())
  w = pr.workers[0]!
  chain = await FixtureChain.create()
  for (let i = 0; i < 3; i++) await chain.addParaBlock([[`0x${'cc'.repeat(8)}${i.toString(16).padStart(2, '0')}`, `0x0${i}`]])
  await chain.addRelayBlock() // 101: para head 3
  await chain.addRelayBlock() // 102: para head 3
  await chain.addParaBlock() // 4
  await chain.addRelayBlock({ newSet: true }) // 103: ScheduledChange, para head 4, justified by set 0
  await chain.addParaBlock() // 5
  await chain.addRelayBlock() // 104: para head 5, justified by set 1
})

after(async () => {
  await pr.stop()
})

async function init(): Promise<void> {
  w.crash() // a fresh enclave for each test
  const r = await prpc(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: await chain.genesisInfo(),
    encodedGenesisState: chain.genesisState(),
    isParachain: true,
    encodedOperator: new Uint8Array(32).fill(9),
  })
  assert.equal(r.status, 200, r.error)
}

async function heights(): Promise<[number, number, number]> {
  const i = await getInfo(w.endpoint)
  return [i.headernum, i.paraHeadernum, i.blocknum]
}

async function expectRejected(action: string, body: Uint8Array, message: string | RegExp): Promise<void> {
  const before = await heights()
  const r = await binApi(w.endpoint, action, body)
  assert.equal(r.status, 'error', `expected ${action} to fail, got ${r.payload}`)
  if (typeof message === 'string') assert.equal(r.parsed.message, message)
  else assert.match(String(r.parsed.message), message)
  assert.deepEqual(await heights(), before, 'a rejected call must not move the worker')
}

test('InitRuntime sets the counters; sync and dispatch reach the head; answers are signed by the identity key', async () => {
  await init()
  const info = await getInfo(w.endpoint)
  assert.equal(info.initialized, true)
  assert.deepEqual(await heights(), [101, 0, 1])
  const r1 = await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(101, 102, 0))
  assert.equal(r1.status, 'ok', r1.payload)
  assert.equal(r1.payload, '{"relaychain_synced_to":102,"parachain_synced_to":3}')
  assert.ok(sr25519Verify(u8aConcat(new Uint8Array([0xff, 1]), stringToU8a(r1.payload)), hexToU8a('0x' + r1.signature), hexToU8a('0x' + info.publicKey)))
  assert.equal((await getInfo(w.endpoint)).waitingForParaheaders, false)
  const d = await binApi(w.endpoint, 'dispatch_block', chain.dispatch(1, 3))
  assert.equal(d.payload, '{"dispatched_to":3}')
  assert.deepEqual(await heights(), [103, 4, 4])
  // Across the set change: 103 is justified by set 0 and switches to set 1, 104 by set 1.
  assert.equal((await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(103, 103, 4))).payload, '{"relaychain_synced_to":103,"parachain_synced_to":4}')
  assert.equal((await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(104, 104, 5))).payload, '{"relaychain_synced_to":104,"parachain_synced_to":5}')
  assert.equal(w.phactory().heights()!.setId, 1n)
  assert.equal((await binApi(w.endpoint, 'dispatch_block', chain.dispatch(4, 5))).payload, '{"dispatched_to":5}')
  // Already-synced input is dropped, not an error.
  assert.equal((await binApi(w.endpoint, 'dispatch_block', chain.dispatch(1, 5))).payload, '{"dispatched_to":5}')
  const end = await getInfo(w.endpoint)
  assert.deepEqual([end.headernum, end.paraHeadernum, end.blocknum], [105, 6, 6])
  assert.equal('0x' + end.stateRoot, chain.para[5]!.header.stateRoot)
})

test('a second InitRuntime is refused; calls before InitRuntime are refused unsigned', async () => {
  w.crash()
  const r = await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(101, 102, 0))
  assert.equal(r.parsed.message, 'Runtime not initialized')
  assert.equal(r.signature, null)
  await init()
  const again = await prpc(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: await chain.genesisInfo(),
    encodedGenesisState: chain.genesisState(),
    isParachain: true,
  })
  assert.equal(again.status, 500)
  assert.equal(again.error, 'Runtime already initialized')
})

test('InitRuntime refuses an authority set that the relay state does not hold', async () => {
  w.crash()
  const g = await chain.genesisInfo()
  const bad = new Uint8Array(g)
  // The first authority key sits right after the header: flip a byte of it.
  const headerLen = chain.relay[0]!.encoded.length
  bad[headerLen + 1 + 3] ^= 0xff
  const r = await prpc(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: bad,
    encodedGenesisState: chain.genesisState(),
    isParachain: true,
  })
  assert.equal(r.status, 500)
  assert.equal(r.error, 'Bridge initialize failed: validator set mismatch')
  assert.equal((await getInfo(w.endpoint)).initialized, false)
})

test('one corrupted byte: in a header it breaks the justification target, in a length prefix the decoding', async () => {
  await init()
  const good = await chain.combined(101, 102, 0)
  // Byte 2 onward is the first relay header (after the Vec compact and nothing else): flip its state root.
  const flipped = new Uint8Array(good)
  const lastHeaderAt = 1 + chain.relay[1]!.encoded.length + 1 // vec len, header 101, Option None
  flipped[lastHeaderAt + 40] ^= 0x01
  await expectRejected('sync_combined_headers', flipped, 'HeaderValidateFailed(bad justification for header: invalid commit target in grandpa justification)')
  const shortened = good.slice(0, good.length - 1)
  await expectRejected('sync_combined_headers', shortened, 'Decode input parameter failed')
  const firstFlipped = new Uint8Array(good)
  firstFlipped[1 + 40] ^= 0x01 // header 101's state root: 102's parent hash no longer matches
  await expectRejected('sync_combined_headers', firstFlipped, 'HeaderHashMismatch')
})

test('a header gap, a missing justification and a wrong parent are refused', async () => {
  await init()
  await expectRejected('sync_combined_headers', await chain.combined(102, 102, 0), 'BlockNumberMismatch')
  const noJust = encodeSyncCombinedHeadersReq({ relaychainHeaders: [{ header: chain.relay[1]!.encoded, justification: null }], authoritySetChange: null, parachainHeaders: [], proof: [] })
  await expectRejected('sync_combined_headers', noJust, 'MissingJustification')
  const orphan = { ...chain.relay[1]!.header, parentHash: '0x' + '11'.repeat(32) }
  const orphanEnc = encodeHeader(orphan)
  const just = encodeJustification(signJustification({ hash: hashHeader(orphanEnc), number: 101 }, 0n, 1n, chain.relay[1]!.signers))
  const req = encodeSyncCombinedHeadersReq({ relaychainHeaders: [{ header: orphanEnc, justification: just }], authoritySetChange: null, parachainHeaders: [], proof: [] })
  await expectRejected('sync_combined_headers', req, 'HeaderValidateFailed(invalid ancestry proof)')
})

test('a forged justification is refused: wrong signers, or a tampered signature', async () => {
  await init()
  const b = chain.relayByNumber(102)
  const strangers = Array.from({ length: 4 }, (_, i) => ed25519PairFromSeed(blake2AsU8a(stringToU8a(`stranger/${i}`), 256)))
  await expectRejected('sync_combined_headers', await chain.combined(101, 102, 0, { justification: chain.justification(b, strangers) }), 'HeaderValidateFailed(bad justification for header: invalid commit in grandpa justification)')
  const j = chain.justification(b)
  const tampered = new Uint8Array(j)
  tampered[8 + 32 + 4 + 1 + 36 + 5] ^= 0x01 // inside the first precommit's signature
  await expectRejected('sync_combined_headers', await chain.combined(101, 102, 0, { justification: tampered }), 'HeaderValidateFailed(bad justification for header: invalid signature for precommit in grandpa justification)')
  const wrongSetId = chain.justification(b, b.signers, 7n)
  await expectRejected('sync_combined_headers', await chain.combined(101, 102, 0, { justification: wrongSetId }), 'HeaderValidateFailed(bad justification for header: invalid signature for precommit in grandpa justification)')
})

test('a batch that runs past a set change is checked with the old set and refused', async () => {
  await init()
  assert.equal((await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(101, 102, 0))).status, 'ok')
  // 103 switches the set; 104's justification is by the new set, but the worker still has set 0.
  await expectRejected('sync_combined_headers', await chain.combined(103, 104, 4), 'HeaderValidateFailed(bad justification for header: invalid commit in grandpa justification)')
  assert.equal(w.phactory().heights()!.setId, 0n)
})

test('a wrong para proof or a para batch that does not end at the recorded head is refused; relay progress stays (pRuntime)', async () => {
  await init()
  const r101 = chain.relayByNumber(101)
  const r102 = chain.relayByNumber(102)
  const { createProof } = await import('../../src/common/trie.js')
  const { parasHeadsKey } = await import('../../src/devnet/pruntime/storage-keys.js')
  const wrongProof = (await createProof(chain.relayByNumber(100).state, [parasHeadsKey(chain.paraId)])).nodes
  const mk = (paraTo: number, proof: string[]): Uint8Array =>
    encodeSyncCombinedHeadersReq({
      relaychainHeaders: [{ header: r101.encoded, justification: null }, { header: r102.encoded, justification: chain.justification(r102) }],
      authoritySetChange: null,
      parachainHeaders: chain.para.slice(0, paraTo + 1).map((p) => p.encoded),
      proof,
    })
  const r = await binApi(w.endpoint, 'sync_combined_headers', mk(3, wrongProof))
  assert.equal(r.status, 'error')
  assert.match(String(r.parsed.message), /^StorageProofFailed\(.+\)$/)
  // The combined call is not atomic in pRuntime: the relay part was kept, the para part was not.
  assert.deepEqual(await heights(), [103, 0, 1])
  const goodProof = (await createProof(r102.state, [parasHeadsKey(chain.paraId)])).nodes
  await expectRejected('sync_combined_headers', mk(2, goodProof), 'StorageProofFailed(storage value mismatch)')
  const ok = await binApi(w.endpoint, 'sync_combined_headers', mk(3, goodProof))
  assert.equal(ok.payload, '{"relaychain_synced_to":102,"parachain_synced_to":3}')
  // The relay state root is consumed: more para headers need a newer relay header first.
  await chain.addParaBlock()
  const p = chain.para[chain.para.length - 1]!
  const lone = encodeSyncCombinedHeadersReq({ relaychainHeaders: [], authoritySetChange: null, parachainHeaders: [chain.para[4]!.encoded], proof: goodProof })
  await expectRejected('sync_combined_headers', lone, 'RelaychainHeaderNotSynced')
  chain.para.pop()
  assert.ok(p)
})

test('a wrong storage change is refused with the two roots; dispatch beyond synced headers has no state root', async () => {
  await init()
  await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(101, 102, 0))
  await expectRejected('dispatch_block', chain.dispatch(4, 4), 'BlockNumberMismatch')
  const b1 = chain.para[1]!
  const wrong = encodeStorageChanges({ mainStorageChanges: b1.changes.map(([k, v]) => [k, v === null ? null : v.replace(/.$/, (c) => (c === '0' ? '1' : '0'))]), childStorageChanges: [] })
  const body = encodeDispatchBlockReq([encodeBlockHeaderWithChanges(b1.encoded, wrong)])
  const before = await heights()
  const r = await binApi(w.endpoint, 'dispatch_block', body)
  assert.equal(r.status, 'error')
  assert.match(String(r.parsed.message), new RegExp(`^StateRootMismatch block=1 expected=${b1.header.stateRoot} actual=0x[0-9a-f]{64}$`))
  assert.deepEqual(await heights(), before)
  // Two good blocks then a bad one: nothing of the call is kept (validated on a copy).
  const b3bad = encodeBlockHeaderWithChanges(chain.para[3]!.encoded, encodeStorageChanges({ mainStorageChanges: [], childStorageChanges: [] }))
  await expectRejected('dispatch_block', encodeDispatchBlockReq([encodeBlockHeaderWithChanges(chain.para[1]!.encoded, chain.para[1]!.rawChanges), encodeBlockHeaderWithChanges(chain.para[2]!.encoded, chain.para[2]!.rawChanges), b3bad]), /^StateRootMismatch block=3 /)
  assert.equal((await binApi(w.endpoint, 'dispatch_block', chain.dispatch(1, 3))).payload, '{"dispatched_to":3}')
  // Block 4's header is not synced yet.
  await chain.addParaBlock()
  await expectRejected('dispatch_block', encodeDispatchBlockReq([encodeBlockHeaderWithChanges(chain.para[4]!.encoded, chain.para[4]!.rawChanges)]), 'NoStateRoot')
  chain.para.pop()
})

test('GetRuntimeInfo: refused before the state is validated, then a devnet IAS attestation over the runtime info', async () => {
  await init()
  const req = 'pruntime_rpc.GetRuntimeInfoRequest'
  const res = 'pruntime_rpc.InitRuntimeResponse'
  const early = await prpc(w.endpoint, 'GetRuntimeInfo', req, res, { forceRefreshRa: true })
  assert.equal(early.status, 500)
  assert.match(early.error!, /not validated/)
  await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(101, 102, 0))
  await binApi(w.endpoint, 'dispatch_block', chain.dispatch(1, 1))
  type Resp = { encodedRuntimeInfo: Uint8Array; attestation: { provider: string; payload: { report: string; signature: Uint8Array; signingCert: Uint8Array }; encodedReport: Uint8Array } }
  const operator = new Uint8Array(32).fill(5)
  const r = await prpc<Resp>(w.endpoint, 'GetRuntimeInfo', req, res, { forceRefreshRa: true, encodedOperator: operator })
  assert.equal(r.status, 200, r.error)
  const a = r.body.attestation
  assert.equal(a.provider, '"ias"')
  const v = verifyDevnetIasReport({ raReport: stringToU8a(a.payload.report), signature: a.payload.signature, rawSigningCert: a.payload.signingCert }, Date.now())
  assert.ok(v.ok, JSON.stringify(v))
  assert.ok(u8aEq(v.reportData.subarray(0, 32), blake2AsU8a(r.body.encodedRuntimeInfo, 256)))
  // The operator is the last 32 bytes of WorkerRegistrationInfo (Option Some).
  assert.ok(u8aEq(r.body.encodedRuntimeInfo.subarray(-33), u8aConcat(new Uint8Array([1]), operator)))
  // encoded_report is SCALE AttestationReport::SgxIas of the same report.
  assert.equal(r.body.attestation.encodedReport[0], 0)
  // Cached until forced or the operator changes.
  const again = await prpc<Resp>(w.endpoint, 'GetRuntimeInfo', req, res, {})
  assert.equal(again.body.attestation.payload.report, a.payload.report)
  const other = await prpc<Resp>(w.endpoint, 'GetRuntimeInfo', req, res, { encodedOperator: new Uint8Array(32).fill(6) })
  assert.notEqual(u8aToHex(other.body.encodedRuntimeInfo), u8aToHex(r.body.encodedRuntimeInfo))
})

test('solo mode: the genesis state must be the relay genesis state; para calls are a chain mode mismatch', async () => {
  w.crash()
  const { encodeStorageState } = await import('../../src/common/bridge-types.js')
  const mismatch = await prpc(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: await chain.genesisInfo(),
    encodedGenesisState: chain.genesisState(),
    isParachain: false,
  })
  assert.equal(mismatch.error, 'state root mismatch')
  const ok = await prpc(w.endpoint, 'InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
    encodedGenesisInfo: await chain.genesisInfo(),
    encodedGenesisState: encodeStorageState([...chain.relay[0]!.state]),
    isParachain: false,
  })
  assert.equal(ok.status, 200, ok.error)
  // As in pRuntime, the relay part is synced first; the para part then fails.
  const r = await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(101, 102, 0))
  assert.equal(r.parsed.message, 'ChainModeMismatch')
  assert.equal((await getInfo(w.endpoint)).headernum, 103)
  // Relay-only batches are fine in solo mode.
  assert.equal((await binApi(w.endpoint, 'sync_combined_headers', await chain.combined(103, 103, 99))).status, 'ok')
})
