import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import { crc32c } from '@node-rs/crc32'
import { createBlobClient, createBlobServer, keys, WriteBatch, type BlobServer, type BlobServerOptions } from '../../src/data_provider/index.js'
import { encodeVarint, FrameDecoder } from '../../src/data_provider/framing.js'
import { accepts } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'
import { openStore, quietLogger, tempDir, withDeadline } from './helpers.js'

type Lookup = (key: string) => Promise<Uint8Array | undefined>

function valueOf(key: string, size = 1000): Buffer {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (key.charCodeAt(i % key.length) + i) & 0xff
  return b
}

async function startServer(t: { after: (fn: () => Promise<void>) => void }, lookup: Lookup, opts: Partial<BlobServerOptions> = {}, lines?: string[]): Promise<{ server: BlobServer; port: number }> {
  const server = createBlobServer({ host: '127.0.0.1', port: 0, ...opts }, { logger: quietLogger(lines), lookup })
  const { port } = await server.start()
  t.after(() => server.stop())
  return { server, port }
}

/** A raw client speaking the wire format by hand (as upstream's lifecycle does). */
function rawClient(port: number): { socket: Socket; frames: Buffer[]; next: (n?: number) => Promise<Buffer[]>; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port })
  const decoder = new FrameDecoder(1 << 30)
  const frames: Buffer[] = []
  let waiter: (() => void) | undefined
  socket.on('data', (c) => {
    decoder.push(c)
    for (let f = decoder.next(); f; f = decoder.next()) frames.push(Buffer.from(f))
    waiter?.()
  })
  socket.on('error', () => undefined)
  const closed = new Promise<void>((r) => socket.on('close', () => { waiter?.(); r() }))
  const next = async (n = 1) => {
    while (frames.length < n) {
      if (socket.destroyed) throw new Error(`connection closed with ${frames.length}/${n} frames`)
      await new Promise<void>((r) => { waiter = r })
    }
    return frames.splice(0, n)
  }
  return { socket, frames, next, closed }
}

function request(id: number, key: string): Buffer {
  const payload = Buffer.alloc(8 + Buffer.byteLength(key))
  payload.writeBigUInt64BE(BigInt(id))
  payload.write(key, 8, 'utf8')
  return Buffer.concat([encodeVarint(payload.length), payload])
}

test('wire format: found = id ‖ crc(BE int64) ‖ value, missing = id only; split frames and several frames per packet', async (t) => {
  const { port } = await startServer(t, async (k) => (k === 'missing' || k === 'empty' ? (k === 'empty' ? new Uint8Array(0) : undefined) : valueOf(k)))
  const c = rawClient(port)
  t.after(() => { c.socket.destroy() })
  // one request fed byte by byte, each byte its own write
  const one = request(7, ' rangeByParentBlock:5:pb\n')
  for (const byte of one) {
    c.socket.write(Buffer.of(byte))
    await new Promise((r) => setImmediate(r))
  }
  const [r1] = await withDeadline(c.next(), 5000, 'split request')
  assert.equal(r1!.readBigUInt64BE(0), 7n)
  assert.equal(r1!.readUInt32BE(8), 0, 'high half of the CRC field is zero')
  const v = valueOf('rangeByParentBlock:5:pb') // the key is trimmed, as upstream does
  assert.equal(r1!.readUInt32BE(12), crc32c(v) >>> 0)
  assert.ok(r1!.subarray(16).equals(v))
  // three requests (and an empty frame, skipped) in one write
  c.socket.write(Buffer.concat([request(1, 'a'), Buffer.of(0), request(2, 'missing'), request(3, 'empty')]))
  const rs = await withDeadline(c.next(3), 5000, 'batched requests')
  const byId = new Map(rs.map((f) => [Number(f.readBigUInt64BE(0)), f]))
  assert.ok(byId.get(1)!.subarray(16).equals(valueOf('a')))
  assert.equal(byId.get(2)!.length, 8, 'not found is the id alone')
  assert.equal(byId.get(3)!.length, 8, 'an empty value is answered like a missing one')
})

test('replies come out of order: a slow key does not hold up fast ones', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const { port } = await startServer(t, async (k) => {
    if (k === 'slow') await gate
    return valueOf(k)
  })
  const client = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => client.close())
  const order: string[] = []
  const slow = client.get('slow').then((v) => { order.push('slow'); return v })
  const fast = await Promise.all(['f1', 'f2', 'f3'].map((k) => client.get(k).then((v) => { order.push(k); return v })))
  assert.deepEqual(order, ['f1', 'f2', 'f3'])
  release()
  assert.ok(Buffer.from((await slow)!).equals(valueOf('slow')))
  assert.ok(Buffer.from(fast[1]!).equals(valueOf('f2')))
})

test('the client serves a real store: null for a missing key, the exact bytes otherwise', async (t) => {
  const store = await openStore(tempDir(t))
  t.after(() => store.close())
  await store.write(new WriteBatch().put(keys.dryParaBlock(1), valueOf('p1', 5000)))
  const { port } = await startServer(t, (k) => store.get(k))
  const client = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => client.close())
  assert.equal(await client.get('dryParaBlock:2'), null)
  assert.ok(Buffer.from((await client.get('dryParaBlock:1'))!).equals(valueOf('p1', 5000)))
})

test('16 concurrent clients get every value right', async (t) => {
  const { server, port } = await startServer(t, async (k) => valueOf(k, 100 + (k.length * 977) % 70_000))
  const clients = Array.from({ length: 16 }, () => createBlobClient({ host: '127.0.0.1', port }))
  t.after(() => Promise.all(clients.map((c) => c.close())).then(() => undefined))
  await Promise.all(clients.map(async (c, ci) => {
    const keysOf = Array.from({ length: 200 }, (_, i) => `k:${ci}:${i}:${'z'.repeat(i % 13)}`)
    const got = await Promise.all(keysOf.map((k) => c.get(k)))
    for (let i = 0; i < keysOf.length; i++) assert.ok(Buffer.from(got[i]!).equals(valueOf(keysOf[i]!, 100 + (keysOf[i]!.length * 977) % 70_000)), keysOf[i])
  }))
  assert.equal(server.stats().requests, 16 * 200)
  assert.equal(server.stats().connections, 16)
})

test('a CRC mismatch rejects with "CRC Mismatch!"', async (t) => {
  // A fake server that flips the CRC.
  const conns = new Set<Socket>()
  const srv = createServer((s) => {
    conns.add(s)
    const d = new FrameDecoder(1 << 16)
    s.on('data', (c) => {
      d.push(c)
      for (let f = d.next(); f; f = d.next()) {
        const v = Buffer.from('hello')
        const crc = Buffer.alloc(8)
        crc.writeUInt32BE((crc32c(v) ^ 1) >>> 0, 4)
        const payload = Buffer.concat([f.subarray(0, 8), crc, v])
        s.write(Buffer.concat([encodeVarint(payload.length), payload]))
      }
    })
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => {
    srv.close(() => r())
    for (const s of conns) s.destroy()
  }))
  const client = createBlobClient({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port })
  t.after(() => client.close())
  await assert.rejects(client.get('x'), /CRC Mismatch!/)
})

test('an oversized frame closes only that connection', async (t) => {
  const lines: string[] = []
  const { server, port } = await startServer(t, async (k) => valueOf(k), { maxFrameBytes: 4096 }, lines)
  const good = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => good.close())
  assert.ok(await good.get('before'))
  const bad = rawClient(port)
  bad.socket.write(encodeVarint(1 << 20)) // announces 1 MiB; the server must not wait for it
  await withDeadline(bad.closed, 5000, 'bad connection closed')
  assert.equal(bad.frames.length, 0)
  assert.ok(Buffer.from((await good.get('after'))!).equals(valueOf('after')))
  assert.equal(server.stats().badFrames, 1)
  assert.ok(lines.some((l) => /bad frame: frame length .* exceeds the maximum of 4096 bytes/.test(l)), 'the bad frame is logged')
  // a payload shorter than the 8-byte id is a bad frame too
  const short = rawClient(port)
  short.socket.write(Buffer.concat([encodeVarint(3), Buffer.from('abc')]))
  await withDeadline(short.closed, 5000, 'short frame closes')
  assert.equal(server.stats().badFrames, 2)
})

test('backpressure: a client that does not read stalls only itself, with bounded server memory', async (t) => {
  const big = valueOf('big', 1 << 20)
  let lookups = 0
  const { server, port } = await startServer(t, async () => { lookups++; return big }, { maxPendingBytes: 2 << 20, maxInflight: 8 })
  const c = rawClient(port)
  t.after(() => { c.socket.destroy() })
  c.socket.pause() // never read
  const n = 400
  const reqs: Buffer[] = []
  for (let i = 0; i < n; i++) reqs.push(request(i + 1, 'big'))
  c.socket.write(Buffer.concat(reqs))
  // Parked on the byte limit: reads paused and no lookup running, so no new lookup can start.
  await withDeadline(waitFor(() => server.stats().pausedConnections === 1 && server.stats().inflight === 0, 10_000, 'server pauses the greedy connection'), 11_000, 'pause')
  const stalledAt = lookups
  assert.ok(stalledAt < n / 4, `server stopped looking up after ${stalledAt} of ${n} requests`)
  assert.ok(stalledAt >= 2, 'the limit is on bytes, not a single reply')
  // other clients are served meanwhile
  const other = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => other.close())
  assert.equal((await other.get('x'))!.length, big.length)
  // once the client reads, everything arrives
  c.socket.resume()
  const all = await withDeadline(c.next(n), 30_000, 'all replies after resume')
  assert.equal(all.length, n)
  assert.ok(all.every((f) => f.length === 16 + big.length))
})

test('client: per-request timeout, pending requests rejected when the connection closes, reconnect on the next get', async (t) => {
  const hang = new Promise<undefined>(() => undefined)
  const lookup: Lookup = async (k) => (k === 'hang' ? hang : valueOf(k))
  const first = await startServer(t, lookup)
  const client = createBlobClient({ host: '127.0.0.1', port: first.port, timeoutMs: 200 })
  t.after(() => client.close())
  await assert.rejects(client.get('hang'), (e: Error & { code?: string }) => e.code === 'ERR_TIMEOUT' && /Timeout when getting key 'hang'/.test(e.message))
  const client2 = createBlobClient({ host: '127.0.0.1', port: first.port, timeoutMs: 30_000 })
  t.after(() => client2.close())
  const pending = client2.get('hang')
  await waitFor(() => first.server.stats().requests >= 2, 5000, 'request reached the server')
  await first.server.stop()
  await assert.rejects(pending, /Connection closed\./)
  const second = await startServer(t, lookup, { port: first.port })
  assert.equal(second.port, first.port)
  assert.ok(Buffer.from((await client2.get('again'))!).equals(valueOf('again')))
})

test('shared secret: our client authenticates; no secret, a wrong one or an upstream-style client is refused', async (t) => {
  const secret = 'correct horse battery staple 0123456789'
  const lines: string[] = []
  const { server, port } = await startServer(t, async (k) => valueOf(k), { secret }, lines)
  const ok = createBlobClient({ host: '127.0.0.1', port, secret })
  t.after(() => ok.close())
  assert.ok(Buffer.from((await ok.get('k1'))!).equals(valueOf('k1')))

  const noSecret = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => noSecret.close())
  await assert.rejects(noSecret.get('k1'), /requires a shared secret/)

  const wrong = createBlobClient({ host: '127.0.0.1', port, secret: 'not the secret at all!!' })
  t.after(() => wrong.close())
  await assert.rejects(wrong.get('k1'), /Connection closed\./)

  // upstream's client: sends id ‖ key at once, takes the challenge for an unknown reply
  const raw = rawClient(port)
  raw.socket.write(request(1, 'k1'))
  await withDeadline(raw.closed, 5000, 'upstream client refused')
  assert.ok(raw.frames.every((f) => f.subarray(0, 8).toString('ascii') === 'PRBAUTH1'), 'no value ever reaches it')
  assert.ok(server.stats().refused >= 2)
  assert.ok(!lines.some((l) => l.includes(secret)), 'the secret never reaches a log line')

  // a client with a secret facing a server without one gets a clear error
  const plain = await startServer(t, async (k) => valueOf(k))
  const confused = createBlobClient({ host: '127.0.0.1', port: plain.port, secret, connectTimeoutMs: 300 })
  t.after(() => confused.close())
  await assert.rejects(confused.get('k1'), /no secret handshake .* within 300 ms/)
})

test('secret off: the server sends nothing first (byte-compatible with upstream clients)', async (t) => {
  const { port } = await startServer(t, async (k) => valueOf(k))
  const raw = rawClient(port)
  t.after(() => { raw.socket.destroy() })
  raw.socket.write(request(9, 'k'))
  const [f] = await withDeadline(raw.next(), 5000, 'reply')
  assert.equal(f!.readBigUInt64BE(0), 9n)
  assert.equal(raw.frames.length, 0)
})

test('traffic is logged periodically, only when there was traffic', async (t) => {
  const lines: string[] = []
  const { port } = await startServer(t, async (k) => valueOf(k), { statsIntervalMs: 20 }, lines)
  const client = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => client.close())
  await client.get('a')
  await waitFor(() => lines.some((l) => l.includes('blob server traffic')), 5000, 'traffic line')
  const line = JSON.parse(lines.find((l) => l.includes('blob server traffic'))!) as { requests: number; hits: number }
  assert.deepEqual([line.requests, line.hits], [1, 1])
})

test('connections beyond maxConnections: refused while every one is busy, the idlest evicted otherwise; the others keep working', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const { port } = await startServer(t, async (k) => (k === 'slow' ? gate.then(() => valueOf(k)) : valueOf(k)), { maxConnections: 2 })
  const a = createBlobClient({ host: '127.0.0.1', port })
  const b = createBlobClient({ host: '127.0.0.1', port })
  const c = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => Promise.all([a.close(), b.close(), c.close()]).then(() => undefined))
  assert.ok(await a.get('x'))
  assert.ok(await b.get('y'))
  const slowA = a.get('slow')
  const slowB = b.get('slow')
  await assert.rejects(c.get('z'), /Connection closed\./, 'both connections busy: the third is refused')
  release()
  assert.ok(await slowA)
  assert.ok(await slowB)
  assert.ok(await c.get('z'), 'both idle now: the third evicts the idlest')
  assert.ok(await a.get('again'), 'an evicted client reconnects on its next get')
})

test('stop() during start() leaves nothing listening; a failed start can be retried; concurrent starts share one', async () => {
  const early = createBlobServer({ host: '127.0.0.1', port: 0 }, { logger: quietLogger(), lookup: async () => undefined })
  const started = early.start()
  await early.stop()
  const { port } = await started
  assert.equal(await accepts(port), false, 'a server that began listening after stop() was left open')
  await assert.rejects(early.start(), /stopped; create a new one/)

  const taken = createServer()
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()))
  const busy = (taken.address() as AddressInfo).port
  const s = createBlobServer({ host: '127.0.0.1', port: busy }, { logger: quietLogger(), lookup: async () => undefined })
  try {
    await assert.rejects(s.start(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy}`))
    await new Promise<void>((r) => taken.close(() => r()))
    const [a, b] = [s.start(), s.start()]
    assert.equal(a, b)
    assert.equal((await a).port, busy)
    assert.equal(await accepts(busy), true)
  } finally {
    await s.stop()
  }
  await s.stop()
  assert.equal(await accepts(busy), false)
})
