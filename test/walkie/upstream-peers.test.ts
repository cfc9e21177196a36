/**
 * Upstream v2's peers (libp2p 0.35) speak only mplex: a peer that offers nothing else must be able
 * to call us and be called (Hello both ways, GetBlobByKey), while two prb nodes still pick yamux.
 * A connection that cannot be upgraded (another PSK, no common multiplexer) is logged once, with
 * the remote address and the cause, however often the peer retries.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { mplex } from '@libp2p/mplex'
import { yamux } from '@chainsafe/libp2p-yamux'
import { preSharedKey } from '@libp2p/pnet'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream, StreamMuxerFactory } from '@libp2p/interface'
import { getCodec } from '../../src/common/codec.js'
import { createWalkie, RPC_PROTOCOL, swarmKeyFromSecret } from '../../src/walkie/index.js'
import { MethodTable, serveStream } from '../../src/walkie/rpc.js'
import { UpgradeFailureLog } from '../../src/walkie/upgrade-log.js'
import { memoryLogger, quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'
import { FAST, startNode } from './helpers.js'

const codec = getCodec()
const stops: Array<() => Promise<void>> = []
after(async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined)
})

async function bare(init: Partial<Parameters<typeof createLibp2p>[0]> = {}): Promise<Libp2p> {
  const node = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [mplex()], ...init })
  stops.push(async () => { await node.stop() })
  return node
}

/** One request on /pb, the way upstream's client does it: write, close the write side, read to the end. */
async function rawCall(stream: Stream, method: string, data: Uint8Array): Promise<Uint8Array> {
  const type = codec.type('prb.WalkieRpcRequestWrapper')
  stream.send(type.encode(type.create({ createdAt: Date.now(), nonce: 'n-1', method, data })).finish())
  await stream.close()
  const parts: Uint8Array[] = []
  for await (const c of stream) parts.push(c instanceof Uint8Array ? c : c.subarray())
  const res = codec.decode<{ requestNonce: string; hasError: boolean; data: Uint8Array }>('prb.WalkieRpcResponseWrapper', Buffer.concat(parts))
  assert.equal(res.requestNonce, 'n-1')
  assert.equal(res.hasError, false)
  return res.data
}

test('a peer that offers only mplex (upstream v2) calls us and is called back; prb nodes still choose yamux', async () => {
  const server = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT' })
  server.walkie.handle('GetBlobByKey', (req) => ({ key: req.key, empty: false, data: Buffer.from(`blob:${req.key}`) }))

  // The v2 lifecycle stand-in answers Hello as a lifecycle manager of the same chain.
  const v2 = await bare()
  const methods = new MethodTable(codec)
  const handlers = new Map<string, any>([['Hello', () => ({ hostname: 'v2', peerId: v2.peerId.toString(), role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0xc1', bridgeIdentity: 'default' })]])
  await v2.handle(RPC_PROTOCOL, (stream, conn) => void serveStream(stream, conn.remotePeer.toString(), { codec, methods, handlers, maxMessageBytes: 1 << 20, timeoutMs: 5000, logger: quietLogger() }))

  const conn = await v2.dial(multiaddr(server.walkie.multiaddrs()[0]))
  assert.equal(conn.multiplexer, '/mplex/6.7.0')
  const stream = await conn.newStream(RPC_PROTOCOL)
  const blob = codec.decode<{ key: string; data: Uint8Array }>('prb.data_provider.RawBlob', await rawCall(stream, 'GetBlobByKey', codec.encodeMessage('prb.data_provider.GetBlobByKey', { key: 'k1' })))
  assert.equal(Buffer.from(blob.data).toString(), 'blob:k1')

  // Our node handshakes with every new connection: its Hello over mplex registers the v2 peer.
  await waitFor(() => server.walkie.peers({ role: 'WR_LIFECYCLE_MANAGER', connectedOnly: true }).length === 1, 15_000, 'the mplex-only peer is registered after our Hello to it')
  assert.equal(server.walkie.peers()[0]!.peerId, v2.peerId.toString())
  assert.deepEqual(server.walkie.connections(v2.peerId.toString()).map((c) => c.multiplexer), ['/mplex/6.7.0'], 'one connection, over mplex')

  // A peer offering both (as prb does) gets yamux: mplex is only the fallback.
  const both = await bare({ streamMuxers: [yamux(), mplex()] })
  assert.equal((await both.dial(multiaddr(server.walkie.multiaddrs()[0]))).multiplexer, '/yamux/1.0.0')
})

test('a peer with another PSK, or with no multiplexer in common, yields one log line with its address and the cause', async () => {
  for (const c of [
    { name: 'another PSK', serverPsk: 'the bridge private network key 1', peer: { connectionProtector: preSharedKey({ psk: swarmKeyFromSecret('another network key entirely 22') }) }, stage: 'encryption' },
    { name: 'no common muxer', serverPsk: undefined, peer: { streamMuxers: [(() => ({ protocol: '/not-a-muxer/1.0.0', createStreamMuxer: () => { throw new Error('unused') } })) as unknown as (c: unknown) => StreamMuxerFactory] }, stage: 'multiplexer' },
  ]) {
    const log = memoryLogger('debug')
    const server = await (async () => {
      const w = createWalkie({ role: 'WR_DATA_PROVIDER_INT', chainIdentity: '0xc1', bridgeIdentity: 'default', identity: { ephemeral: true }, ...FAST, ...(c.serverPsk ? { psk: c.serverPsk } : {}) }, { logger: log.logger })
      await w.start()
      stops.push(() => w.stop())
      return w
    })()
    const peer = await bare(c.peer as never)
    const target = multiaddr(server.multiaddrs()[0])
    for (let i = 0; i < 3; i++) await assert.rejects(peer.dial(target, { signal: AbortSignal.timeout(10_000) }), `${c.name}: dial ${i} must fail`)
    const failures = () => log.lines().filter((l) => typeof l.msg === 'string' && /failed to upgrade/.test(l.msg))
    const suppressed = () => log.lines().filter((l) => l.msg === 'Walkie connection upgrade failed again (not logged above debug within a minute).')
    await waitFor(() => failures().length + suppressed().length >= 3, 20_000, () => `${c.name}: 3 failures seen by the server: ${JSON.stringify(log.lines().slice(-5))}`)
    const warned = failures()
    assert.equal(warned.length, 1, `${c.name}: ${JSON.stringify(warned)}`)
    assert.equal(warned[0]!.level, 40)
    assert.equal(warned[0]!.direction, 'inbound')
    assert.match(warned[0]!.remoteAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    assert.equal(warned[0]!.stage, c.stage, `${c.name}: ${warned[0]!.msg}`)
    assert.ok(warned[0]!.reason.length > 0)
  }
})

test('the rate limit: one line per host per interval, the next one counts what it held back', () => {
  let now = 0
  const log = memoryLogger('debug')
  const r = new UpgradeFailureLog(log.logger, { pskOn: true, now: () => now })
  const f = (addr: string) => ({ direction: 'inbound' as const, remoteAddr: multiaddr(addr), err: Object.assign(new Error('boom'), { name: 'EncryptionFailedError' }) })
  assert.equal(r.report(f('/ip4/10.0.0.1/tcp/1000')), true)
  assert.equal(r.report(f('/ip4/10.0.0.1/tcp/1001')), false, 'another port of the same host within the minute')
  assert.equal(r.report(f('/ip4/10.0.0.2/tcp/1000')), true, 'another host')
  now = 59_999
  assert.equal(r.report(f('/ip4/10.0.0.1/tcp/1002')), false)
  now = 60_000
  assert.equal(r.report(f('/ip4/10.0.0.1/tcp/1003')), true)
  const warns = log.lines().filter((l) => l.level === 40)
  assert.equal(warns.length, 3)
  assert.equal(warns[2]!.suppressedBefore, 2)
  assert.match(warns[0]!.msg, /PHALA_WALKIE_PSK/)
})
