import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { getCodec } from '../../src/common/codec.js'
import { WalkieError, RPC_PROTOCOL } from '../../src/walkie/index.js'
import { startNode, type TestNode } from './helpers.js'

const codec = getCodec()
const stops: Array<() => Promise<void>> = []
after(async () => {
  await Promise.allSettled(stops.map((s) => s()))
})

let server: TestNode
let client: TestNode
let raw: Libp2p
const release: Array<() => void> = []

/** Send raw bytes on /pb from a bare libp2p node; resolves with what came back or the error. */
async function rawExchange(bytes: Uint8Array): Promise<{ reply?: Uint8Array; error?: Error }> {
  const stream = await raw.dialProtocol(multiaddr(server.walkie.multiaddrs()[0]), RPC_PROTOCOL)
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

before(async () => {
  // RPC, not liveness, is tested here: the default probe period and staleness keep a loaded machine's
  // slow pings from hanging up the connection mid-test (liveness.test.ts tests those).
  const slowProbes = { livenessIntervalMs: 10_000, staleAfterMs: 60_000, rpcTimeoutMs: 30_000 }
  server = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', maxMessageBytes: 8 * 1024 * 1024, ...slowProbes })
  server.walkie.handle('GetBlobByKey', (req) => {
    if (req.key === 'missing') return { key: req.key, empty: true }
    return { key: req.key, empty: false, data: Buffer.from(`blob:${req.key}`) }
  })
  server.walkie.handle('CreateWorker', (req, ctx) => {
    assert.equal(ctx.peerId, client.walkie.peerId)
    return { workers: req.workers.map((w, i) => ({ ...w, uuid: `uuid-${i}` })) }
  })
  server.walkie.handle('ListPool', () => {
    throw new TypeError('Cannot read properties of undefined')
  })
  server.walkie.handle('CreatePool', () => {
    throw new WalkieError('DUPLICATED', 'pool pid 2 exists')
  })
  server.walkie.handle('KickWorker', () => new Promise((resolve) => release.push(() => resolve({ workerStates: [] }))))
  server.walkie.handle('GetDataProviderInfo', () => ({ status: 'S_SYHCHING', paraId: 2035, parentTarget: -1, blobServerPort: 8012 }))
  client = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bootNodes: server.walkie.multiaddrs(), ...slowProbes })
  await client.walkie.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
  raw = await createLibp2p({ addresses: { listen: [] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  stops.push(async () => { await raw.stop() })
})

after(() => release.forEach((r) => r()))

describe('walkie rpc', () => {
  it('round-trips bytes (GetBlobByKey -> RawBlob)', async () => {
    const res = await client.walkie.call(server.walkie.peerId, 'GetBlobByKey', { key: 'genesis:2035:pb' })
    assert.equal(res.key, 'genesis:2035:pb')
    assert.equal(res.empty, false)
    assert.ok(Buffer.isBuffer(res.data))
    assert.equal(Buffer.from(res.data).toString(), 'blob:genesis:2035:pb')
    const missing = await client.walkie.call(server.walkie.peerId, 'GetBlobByKey', { key: 'missing' })
    assert.equal(missing.empty, true)
    assert.equal(missing.data.length, 0)
  })

  it('round-trips repeated messages and uint64 (CreateWorker -> WorkerList)', async () => {
    const workers = [
      { pid: 2, name: 'w1', endpoint: 'http://10.0.0.5:8000', stake: '4000000000000000', enabled: true },
      { pid: '18446744073709', name: 'w2', endpoint: 'http://10.0.0.6:8000', stake: '1', syncOnly: true },
    ]
    const res = await client.walkie.call(server.walkie.peerId, 'CreateWorker', { workers })
    assert.equal(res.workers.length, 2)
    assert.deepEqual(res.workers.map((w: any) => [w.uuid, w.pid, w.name, w.enabled, w.syncOnly, w.deleted]), [
      ['uuid-0', 2, 'w1', true, false, false],
      ['uuid-1', 18446744073709, 'w2', false, true, false],
    ])
  })

  it('enums travel by name (GetDataProviderInfo, typo S_SYHCHING kept)', async () => {
    const info = await client.walkie.call(server.walkie.peerId, 'GetDataProviderInfo', {})
    assert.equal(info.status, 'S_SYHCHING')
    assert.equal(info.paraId, 2035)
    assert.equal(info.parentTarget, -1)
    assert.equal(info.blobServerPort, 8012)
  })

  it('answers NOT_FOUND "Handler not implemented." for a missing handler', async () => {
    await assert.rejects(client.walkie.call(server.walkie.peerId, 'Auth', { type: 'AT_PSK' }), (e: unknown) => {
      assert.ok(e instanceof WalkieError)
      assert.equal(e.type, 'NOT_FOUND')
      assert.equal(e.remote, true)
      assert.equal(e.message, 'Handler not implemented.')
      assert.equal(String(e), 'PrbError(NOT_FOUND): Handler not implemented.')
      return true
    })
  })

  it('answers SERVER with the text of a plain exception, and a WalkieError keeps its type', async () => {
    await assert.rejects(client.walkie.call(server.walkie.peerId, 'ListPool', {}), (e: unknown) =>
      e instanceof WalkieError && e.type === 'SERVER' && e.remote && e.message === 'TypeError: Cannot read properties of undefined')
    await assert.rejects(client.walkie.call(server.walkie.peerId, 'CreatePool', { pools: [] }), (e: unknown) =>
      e instanceof WalkieError && e.type === 'DUPLICATED' && e.code === 'ERR_WALKIE_DUPLICATED' && e.message === 'pool pid 2 exists')
  })

  it('times out with an error naming the peer and the method', async () => {
    const t0 = Date.now()
    await assert.rejects(client.walkie.call(server.walkie.peerId, 'KickWorker', { ids: ['x'] }, { timeoutMs: 300 }), (e: unknown) => {
      assert.ok(e instanceof WalkieError)
      assert.equal(e.code, 'ERR_WALKIE_TIMEOUT')
      assert.match(e.message, /KickWorker/)
      assert.ok(e.message.includes(server.walkie.peerId))
      return true
    })
    assert.ok(Date.now() - t0 < 10_000, "the 300 ms deadline, not the node's 30 s one")
  })

  it('refuses an unknown method locally, and the server answers NOT_FOUND to one on the wire', async () => {
    await assert.rejects(client.walkie.call(server.walkie.peerId, 'Nope' as unknown as 'Auth', {}), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_METHOD')
    const req = codec.encodeMessage('prb.WalkieRpcRequestWrapper', codec.type('prb.WalkieRpcRequestWrapper').create({ createdAt: 1, nonce: 'n1', method: 'Nope', data: new Uint8Array() }))
    const { reply } = await rawExchange(req)
    assert.ok(reply)
    const res = codec.decode<any>('prb.WalkieRpcResponseWrapper', reply)
    assert.equal(res.requestNonce, 'n1')
    assert.equal(res.hasError, true)
    assert.equal(res.error.type, 'NOT_FOUND')
    assert.match(res.error.message, /Unknown method "Nope"/)
  })

  it('a malformed frame resets only that stream (no answer); the node keeps serving', async () => {
    // field 1 declared as a 10-byte length-delimited value with 2 bytes present: undecodable
    const { reply, error } = await rawExchange(Uint8Array.from([0x0a, 0x0a, 0x01, 0x02]))
    assert.equal(reply, undefined, 'a malformed request gets no answer')
    assert.ok(error, 'the server resets the stream')
    assert.match(String(error.name), /StreamReset/, String(error))
    const res = await client.walkie.call(server.walkie.peerId, 'GetBlobByKey', { key: 'k' })
    assert.equal(Buffer.from(res.data).toString(), 'blob:k')
    assert.ok(server.lines().some((l) => l.msg === 'Dropped a malformed Walkie request stream.'))
  })

  it('an oversized request is refused without harming the node', async () => {
    await assert.rejects(client.walkie.call(server.walkie.peerId, 'GetBlobByKey', { key: 'x'.repeat(9 * 1024 * 1024) }), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_STREAM' && !e.remote)
    assert.ok(server.lines().some((l) => l.err?.code === 'ERR_WALKIE_TOO_LARGE'))
    const res = await client.walkie.call(server.walkie.peerId, 'GetBlobByKey', { key: 'after' })
    assert.equal(Buffer.from(res.data).toString(), 'blob:after')
  })

  it('reuses one connection for many calls', async () => {
    const before = client.walkie.connections(server.walkie.peerId)
    assert.equal(before.length, 1, JSON.stringify(before))
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.walkie.call(server.walkie.peerId, 'GetBlobByKey', { key: `k${i}` })))
    const after = client.walkie.connections(server.walkie.peerId)
    assert.deepEqual(after.map((c) => c.id), [before[0]!.id], '50 calls, still the one connection')
    assert.equal(server.walkie.connections(client.walkie.peerId).length, 1, 'and the server sees one connection from the client')
    assert.equal(after[0]!.multiplexer, '/yamux/1.0.0', 'two prb nodes choose yamux')
  })
})
