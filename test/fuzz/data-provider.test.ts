/**
 * Fuzz: the data provider, run as an operator runs it (`PHALA_MODULE=data_provider node
 * dist/index.js`) against a devnet, takes malformed blob-server frames, idle and half-sent blob
 * connections, and malformed or idle Walkie `/pb` streams from a bare libp2p client, and must still
 * be running and answering a good blob client and a good Walkie peer afterwards. Deterministic: a
 * failure names its seed; PRB_FUZZ_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createBlobClient, decodeGenesis } from '../../src/data_provider/index.js'
import { encodeVarint } from '../../src/data_provider/framing.js'
import { createWalkie, RPC_PROTOCOL } from '../../src/walkie/index.js'
import { tempDir } from '../helpers/fs.js'
import { quietLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { startTestDevnet } from '../data_provider/e2e-helpers.js'
import { exchange, idleSockets, pool, Rng, SEED, spawnEntry } from './helpers.js'

const frame = (payload: Buffer): Buffer => Buffer.concat([encodeVarint(payload.length), payload])

function request(rng: Rng, key: string): Buffer {
  return frame(Buffer.concat([rng.bytes(8), Buffer.from(key)]))
}

/** Bytes a broken or hostile blob client would send. */
function blobGarbage(rng: Rng): Buffer {
  const keys = ['genesis:2035:pb', '', ' ', 'genesis:', 'LAST_COMMITTED_PARA_BLOCK', rng.nasty(rng.int(100)), 'x'.repeat(16_000)]
  switch (rng.int(9)) {
    case 0: return Buffer.concat(Array.from({ length: 1 + rng.int(20) }, () => request(rng, rng.pick(keys))))
    case 1: return frame(rng.bytes(rng.int(8))) // shorter than the request id
    case 2: return Buffer.from([0])  // zero-length frame
    case 3: return encodeVarint(1 << (20 + rng.int(10))) // announces megabytes, sends nothing
    case 4: return Buffer.alloc(10 + rng.int(5), 0xff) // a varint that never ends
    case 5: return rng.bytes(1 + rng.int(500))
    case 6: return Buffer.concat(Array.from({ length: 500 }, () => request(rng, 'genesis:2035:pb'))) // then never read
    case 7: return request(rng, rng.pick(keys)).subarray(0, 5) // a frame cut short
    default: return Buffer.concat([request(rng, 'genesis:2035:pb'), rng.bytes(rng.int(64))])
  }
}

test(`the data provider process survives malformed blob frames, idle sockets and bad Walkie streams (seed ${SEED})`, async (t) => {
  const rng = new Rng(`${SEED}/data-provider`)
  const dn = await startTestDevnet({ history: 20 }, quietLogger())
  t.after(() => dn.stop())
  await dn.makeBlocks(5)
  const [blobPort, walkiePort] = [await freePort(), await freePort()]
  const dp = await spawnEntry({
    PHALA_MODULE: 'data_provider',
    PHALA_PARENT_CHAIN_ENDPOINT: dn.relayUrl,
    PHALA_CHAIN_ENDPOINT: dn.paraUrl,
    PHALA_LOCAL_DB_PATH: tempDir(t, 'prb-fuzz-dp-db-'),
    PHALA_PEER_ID_PREFIX: tempDir(t, 'prb-fuzz-dp-keys-'),
    PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blobPort),
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_PARENT_JUSTIFICATION_PERIOD: '8',
    PHALA_WALKIE_LISTEN_ADDRESSES: `/ip4/127.0.0.1/tcp/${walkiePort}`,
    PHALA_WALKIE_BOOT_NODES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
  }, (r) => typeof r.msg === 'string' && r.msg.startsWith('Walkie up'))
  t.after(() => dp.stop())
  const dpAddr = (dp.ready.addresses as string[]).find((a) => a.includes('/tcp/'))!
  const alive = (what: string) => assert.ok(dp.alive(), `the data provider died during ${what} (seed ${SEED}); its last lines: ${JSON.stringify(dp.lines.slice(-5))}`)

  const held = await idleSockets(blobPort, 40)
  const halves = await idleSockets(blobPort, 10, encodeVarint(100))
  // 40 idle sockets pending their upgrade: libp2p's default (10 pending, 5 new a second per host)
  // locked good peers out here; Walkie raises both (src/walkie/node.ts).
  const walkieIdle = await idleSockets(walkiePort, 40, '/multistream/1.0.0\n')
  t.after(() => { held.release(); halves.release(); walkieIdle.release() })

  await t.test('blob server frames', async () => {
    await pool(8, Array.from({ length: 150 }, () => {
      const bytes = blobGarbage(rng)
      return () => exchange(blobPort, bytes, { waitMs: 100 })
    }))
    alive('the blob fuzz')
  })

  await t.test('Walkie: bad and idle /pb streams, then garbage before the handshake', async () => {
    const raw = await createLibp2p({ addresses: { listen: [] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    t.after(() => raw.stop())
    const target = multiaddr(dpAddr)
    const idleStreams = []
    for (let i = 0; i < 8; i++) idleStreams.push(await raw.dialProtocol(target, RPC_PROTOCOL)) // opened, never written
    let answered = 0
    await pool(6, Array.from({ length: 60 }, () => {
      const kind = rng.int(4)
      // Walkie's envelope is protobuf: random bytes, random tag/length pairs, or a length that lies.
      const bytes = kind === 0 ? rng.bytes(rng.int(200))
        : kind === 1 ? Buffer.concat(Array.from({ length: 1 + rng.int(6) }, () => Buffer.from([rng.int(256), rng.int(128), ...rng.bytes(rng.int(8))])))
          : kind === 2 ? Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])
            : Buffer.from([0x0a, 0x02, 0x08, rng.int(128), 0x12, rng.int(128), ...rng.bytes(rng.int(40))])
      return async () => {
        const stream = await raw.dialProtocol(target, RPC_PROTOCOL)
        const read = (async () => {
          stream.send(bytes)
          await stream.close()
          for await (const _ of stream) answered++
        })().catch(() => undefined)
        const timer = new Promise<void>((r) => setTimeout(r, 3000).unref())
        await Promise.race([read, timer])
        stream.abort(new Error('fuzz: done'))
      }
    }))
    for (const s of idleStreams) s.abort(new Error('fuzz: done'))
    await pool(4, Array.from({ length: 12 }, () => {
      const bytes = rng.chance(0.5) ? rng.bytes(1 + rng.int(300)) : Buffer.from(`/multistream/1.0.0\n${rng.nasty(40)}\n`)
      return () => exchange(walkiePort, bytes, { waitMs: 200 })
    }))
    alive('the Walkie fuzz')
    assert.ok(answered > 0, 'some malformed requests got an answer (an error envelope), not only resets')
  })

  // Still running, and both surfaces answer good clients while the idle sockets are still held.
  alive('the fuzz run')
  const blob = createBlobClient({ host: '127.0.0.1', port: blobPort })
  t.after(() => blob.close())
  const genesis = await blob.get('genesis:2035:pb')
  assert.ok(genesis, 'the blob server still serves the genesis')
  assert.equal(decodeGenesis(genesis).paraId, 2035)
  const peer = createWalkie({
    role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0x', acceptAnyIdentity: true, bridgeIdentity: 'default', identity: { ephemeral: true },
    listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, bootNodes: [dpAddr],
  }, { logger: quietLogger() })
  await peer.start()
  t.after(() => peer.stop())
  const found = await peer.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 20_000 })
  const info = await peer.call(found.peerId, 'GetDataProviderInfo')
  assert.equal(info.paraId, 2035)
  const fatal = dp.lines.filter((l) => Number(l.level) >= 60)
  assert.deepEqual(fatal, [], 'no fatal log line')
  assert.equal(await dp.stop(), 0, 'and it still stops cleanly')
})
