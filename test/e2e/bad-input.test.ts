/**
 * Bad input end to end, on a running bridge (every daemon its own process, 2 workers S_ACTIVE in
 * 2 pools): malformed JSON and invalid items through the monitor's proxy, a garbage Walkie frame to
 * the lifecycle, a garbage frame to the data provider's blob server, a worker whose endpoint nobody
 * answers. Each gets an error that names the problem, and nothing else changes: the workers stay
 * S_ACTIVE, the lifecycle's pools and workers are what they were, nothing was sent to the chain twice.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { getCodec } from '../../src/common/codec.js'
import { RPC_PROTOCOL } from '../../src/walkie/index.js'
import { createBlobClient } from '../../src/data_provider/index.js'
import { encodeVarint } from '../../src/data_provider/framing.js'
import { freePort } from '../helpers/net.js'
import { ChainLedger, allActive, describeStatus, startFleet, storeSnapshot, waitFor, workerStatus, type Bridge } from './harness.js'

const N = 2
let b: Bridge
let ledger: ChainLedger
let store0: Awaited<ReturnType<typeof storeSnapshot>>
let raw: Libp2p | undefined

before(async () => {
  const f = await startFleet(N)
  b = f.b
  ledger = new ChainLedger(b, [f.fleet.alice.address, f.fleet.bob.address])
  await ledger.update()
  store0 = await storeSnapshot(b)
})

after(async () => {
  await raw?.stop()
  await b?.stop()
})

/** Nothing else changed: both workers S_ACTIVE, the store as it was, no call on chain twice. */
async function nothingElseChanged(what: string): Promise<void> {
  assert.ok(await allActive(b, N), `${what}: the workers stay S_ACTIVE: ${await describeStatus(b)}`)
  assert.deepEqual(await storeSnapshot(b), store0, `${what}: the lifecycle's pools and workers are unchanged`)
  await ledger.update()
  assert.deepEqual(ledger.duplicates(), [], `${what}: nothing landed twice on chain`)
}

test('malformed JSON through the proxy: 400 naming the JSON error; nothing written', async () => {
  for (const method of ['CreatePool', 'CreateWorker', 'UpdateWorker']) {
    const r = await b.client.proxy(b.lmPeerId, method, '{"workers": [{"name": "w9",')
    assert.equal(r.status, 400, JSON.stringify(r.body))
    assert.equal(r.body.error.code, 'ERR_MONITOR_BAD_JSON')
    assert.match(r.body.error.message, /the request body is not JSON .*Content-Type: application\/json/)
  }
  const notMessage = await b.client.proxy(b.lmPeerId, 'CreateWorker', { workers: 'w9' })
  assert.equal(notMessage.status, 400, JSON.stringify(notMessage.body))
  assert.equal(notMessage.body.error.code, 'ERR_MONITOR_BAD_BODY')
  assert.match(notMessage.body.error.message, /not a valid prb\.lifecycle\.\w+.*workers/)
  await nothingElseChanged('malformed JSON')
})

test('invalid items through the proxy: one error naming each bad item and field; the batch is refused whole', async () => {
  const good = { pid: 0, name: 'w-good', endpoint: 'http://127.0.0.1:1', stake: (5_000n * 10n ** 12n).toString(), enabled: false, syncOnly: false }
  const r = await b.client.proxy(b.lmPeerId, 'CreateWorker', {
    workers: [
      good,
      { ...good, name: 'w-low', stake: '5' },
      { ...good, name: 'w-ftp', endpoint: 'ftp://10.0.0.5:8000' },
      { ...good, name: 'w-nopool', pid: 99 },
      { ...good, name: 'w0' },
    ],
  })
  assert.equal(r.status, 200)
  assert.equal(r.body.hasError, true, JSON.stringify(r.body))
  const m = String(r.body.error.message)
  assert.match(m, /nothing was written/)
  assert.match(m, /workers\[1\] \("w-low"\)\.stake: "5" plancks is below 1 PHA/)
  assert.match(m, /workers\[2\] \("w-ftp"\)\.endpoint/)
  assert.match(m, /workers\[3\] \("w-nopool"\)\.pid/)
  assert.match(m, /workers\[4\] \("w0"\)\.name/)
  assert.doesNotMatch(m, /workers\[0\]/, 'the good item is not blamed')

  const badWords = 'legal winner thank year wave sausage worth useful legal winner thank yello'
  const p = await b.client.proxy(b.lmPeerId, 'CreatePool', {
    pools: [
      { pid: 7, name: 'pool-7', owner: { mnemonic: badWords }, enabled: true, realPhalaSs58: '', syncOnly: false },
      { pid: 0, name: 'pool-0-again', owner: { mnemonic: '//Alice' }, enabled: true, realPhalaSs58: 'not-an-address', syncOnly: false },
    ],
  })
  assert.equal(p.body.hasError, true, JSON.stringify(p.body))
  const pm = String(p.body.error.message)
  assert.match(pm, /pools\[0\] \("pool-7"\)\.owner/)
  assert.match(pm, /pools\[1\] \("pool-0-again"\)\.(pid|realPhalaSs58)/)
  assert.ok(!pm.includes(badWords), 'the refused mnemonic is not echoed back')
  const u = await b.client.proxy(b.lmPeerId, 'UpdateWorker', { items: [{ id: { name: 'no-such-worker' }, worker: { enabled: false } }] })
  assert.equal(u.body.hasError, true)
  assert.match(String(u.body.error.message), /no-such-worker/)
  await nothingElseChanged('invalid items')
})

async function rawNode(): Promise<Libp2p> {
  raw ??= await createLibp2p({ addresses: { listen: [] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  return raw
}

/** Send `bytes` on the lifecycle's Walkie RPC protocol; what came back, or the stream's error. */
async function walkieExchange(bytes: Uint8Array): Promise<{ reply?: Uint8Array; error?: Error }> {
  const node = await rawNode()
  const stream = await node.dialProtocol(multiaddr(`/ip4/127.0.0.1/tcp/${b.ports.lmWalkie}/p2p/${b.lmPeerId}`), RPC_PROTOCOL)
  stream.send(bytes)
  await stream.close()
  const parts: Uint8Array[] = []
  try {
    for await (const c of stream) parts.push(c instanceof Uint8Array ? c : c.subarray())
  } catch (error) {
    return { error: error as Error }
  }
  return { reply: Buffer.concat(parts) }
}

test('a garbage Walkie frame to the lifecycle: that stream is dropped and logged; a garbage request body is answered with an error naming it', async () => {
  const since = b.lm.lines.length
  const { reply, error } = await walkieExchange(Uint8Array.from([0x0a, 0x0a, 0x01, 0x02, 0xff, 0xff]))
  assert.ok(error !== undefined || (reply?.length ?? 0) === 0, 'no answer to an undecodable frame')
  await b.lm.line(/^Dropped a malformed Walkie request stream\.$/, 20_000, { since })

  const codec = getCodec()
  const wrapper = codec.encodeMessage('prb.WalkieRpcRequestWrapper', codec.type('prb.WalkieRpcRequestWrapper').create({
    createdAt: Date.now(), nonce: 'garbage-1', method: 'CreateWorker', data: Uint8Array.from([0x0a, 0x7f, 0x01]),
  }))
  const answer = await walkieExchange(wrapper)
  assert.ok(answer.reply, `an answer: ${String(answer.error)}`)
  const res = codec.decode<any>('prb.WalkieRpcResponseWrapper', answer.reply!)
  assert.equal(res.requestNonce, 'garbage-1')
  assert.equal(res.hasError, true)
  assert.match(String(res.error.message), /malformed CreateWorker request/)
  await nothingElseChanged('garbage Walkie frames')
})

test('a garbage frame to the blob server: that connection is closed and the reason logged; other clients are served', async () => {
  const since = b.dp.lines.length
  const closed = await new Promise<boolean>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: b.ports.blob })
    const timer = setTimeout(() => reject(new Error('the blob server kept a connection that sent a garbage frame for 20 s')), 20_000)
    s.on('error', () => undefined)
    s.once('close', () => {
      clearTimeout(timer)
      resolve(true)
    })
    s.once('connect', () => s.write(Buffer.concat([encodeVarint(2 ** 24), Buffer.from('garbage garbage garbage')])))
  })
  assert.ok(closed)
  const l = await b.dp.line(/^blob connection closed$/, 20_000, { since })
  assert.match(String(l.reason), /^bad frame: frame length 16777216\+? exceeds the maximum of \d+ bytes/)
  const client = createBlobClient({ host: '127.0.0.1', port: b.ports.blob })
  try {
    const genesis = await client.get('genesis:2035:pb')
    assert.ok(genesis && genesis.length > 0, 'a good client still gets its blob')
  } finally {
    client.close()
  }
  await nothingElseChanged('garbage blob frame')
})

test('a worker whose endpoint nobody answers: its status names the endpoint and the failure; the others stay S_ACTIVE', async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`
  const r = await b.client.proxy(b.lmPeerId, 'CreateWorker', {
    workers: [{ pid: 0, name: 'w-unreachable', endpoint, stake: (5_000n * 10n ** 12n).toString(), enabled: true, syncOnly: false }],
  })
  assert.equal(r.body.hasError, false, JSON.stringify(r.body))
  let row: Awaited<ReturnType<typeof workerStatus>>[number] | undefined
  await waitFor(async () => {
    row = (await workerStatus(b)).find((w) => w.name === 'w-unreachable')
    return row !== undefined && row.lastMessage.includes(endpoint.replace('http://', ''))
  }, 120_000, () => `the unreachable worker's status names its endpoint: ${JSON.stringify(row)}`, 1000)
  assert.notEqual(row!.status, 'S_ACTIVE')
  assert.match(row!.lastMessage, /ECONNREFUSED|refused|unreachable|not reachable/i)
  const others = (await workerStatus(b)).filter((w) => w.name !== 'w-unreachable')
  assert.deepEqual(others.map((w) => w.status), ['S_ACTIVE', 'S_ACTIVE'])
  const d = await b.client.proxy(b.lmPeerId, 'UpdateWorker', { items: [{ id: { name: 'w-unreachable' }, worker: { deleted: true } }] })
  assert.equal(d.body.hasError, false, JSON.stringify(d.body))
  await nothingElseChanged('an unreachable worker endpoint, then deleted')
})
