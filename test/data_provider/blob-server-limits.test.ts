/**
 * The blob server under hostile connections: idle sockets used to fill the connection limit, then
 * every good client was reset with nothing logged. Now idle connections time out, the limit evicts
 * the idlest connection to admit a new one (a reconnecting lifecycle is never locked out by idle
 * sockets), refusals are logged with the reason, and warnings about bad connections are rate-limited.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { createBlobClient, createBlobServer, type BlobServer, type BlobServerOptions } from '../../src/data_provider/index.js'
import { encodeVarint } from '../../src/data_provider/framing.js'
import { waitFor } from '../helpers/wait.js'
import { quietLogger } from './helpers.js'

type Lookup = (key: string) => Promise<Uint8Array | undefined>
const value = (k: string) => Buffer.from(`value of ${k}`)

async function startServer(t: { after: (fn: () => Promise<void>) => void }, lookup: Lookup, opts: Partial<BlobServerOptions>, lines?: string[]): Promise<{ server: BlobServer; port: number }> {
  const server = createBlobServer({ host: '127.0.0.1', port: 0, ...opts }, { logger: quietLogger(lines), lookup })
  const { port } = await server.start()
  t.after(() => server.stop())
  return { server, port }
}

/** A raw TCP connection; `closed` says whether the server has closed it. */
function open(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false
    const socket = connect({ host: '127.0.0.1', port })
    socket.on('error', () => undefined)
    socket.on('close', () => { closed = true })
    socket.once('connect', () => resolve({ socket, closed: () => closed }))
    socket.once('error', reject)
  })
}

function request(id: number, key: string): Buffer {
  const payload = Buffer.alloc(8 + Buffer.byteLength(key))
  payload.writeBigUInt64BE(BigInt(id))
  payload.write(key, 8, 'utf8')
  return Buffer.concat([encodeVarint(payload.length), payload])
}

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, any>)

test('an idle connection, or one stuck in the middle of a frame, is closed after idleTimeoutMs; a busy one is not', async (t) => {
  const lines: string[] = []
  const { server, port } = await startServer(t, async (k) => value(k), { idleTimeoutMs: 1000 }, lines)
  const silent = await open(port)
  const partial = await open(port)
  partial.socket.write(Buffer.concat([encodeVarint(100), Buffer.from('only part of it')]))
  const client = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => client.close())
  t.after(() => { silent.socket.destroy(); partial.socket.destroy() })
  // The good client keeps talking for longer than the timeout and stays connected meanwhile.
  for (let i = 0; i < 15; i++) {
    assert.ok(await client.get(`k${i}`))
    await new Promise((r) => setTimeout(r, 100))
  }
  await waitFor(() => silent.closed() && partial.closed(), 10_000, 'both idle connections closed')
  assert.ok(server.stats().idleClosed >= 2)
  assert.ok(parsed(lines).some((l) => /idle for more than 1000 ms/.test(String(l.reason))), 'the reason is logged')
  assert.ok(await client.get('after'), 'the good client is still served')
})

test('at the connection limit the idlest connection is evicted for a new one; a reconnecting client is never locked out', async (t) => {
  const lines: string[] = []
  const { server, port } = await startServer(t, async (k) => value(k), { maxConnections: 4, idleTimeoutMs: 600_000 }, lines)
  const idle = [] as Array<{ socket: Socket; closed: () => boolean }>
  for (let i = 0; i < 4; i++) idle.push(await open(port))
  t.after(() => { for (const s of idle) s.socket.destroy() })
  await waitFor(() => server.stats().connections === 4, 5000, 'four idle connections held')
  const lifecycle = createBlobClient({ host: '127.0.0.1', port })
  t.after(() => lifecycle.close())
  assert.deepEqual(Buffer.from((await lifecycle.get('genesis'))!), value('genesis'))
  await waitFor(() => idle[0]!.closed(), 5000, 'the oldest idle connection evicted')
  assert.equal(idle.filter((s) => s.closed()).length, 1, 'only one connection made room')
  assert.equal(server.stats().evicted, 1)
  assert.ok(parsed(lines).some((l) => l.msg === 'blob connection evicted to make room' && l.maxConnections === 4), 'the eviction is logged')
})

test('when every connection is busy, a new one is refused and the refusal is logged with the reason, rate-limited', async (t) => {
  const lines: string[] = []
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const { server, port } = await startServer(t, async (k) => { await gate; return value(k) }, { maxConnections: 2, idleTimeoutMs: 600_000, warnIntervalMs: 60_000 }, lines)
  const busy = [await open(port), await open(port)]
  t.after(() => { release(); for (const s of busy) s.socket.destroy() })
  for (const [i, s] of busy.entries()) s.socket.write(request(i + 1, 'slow'))
  await waitFor(() => server.stats().inflight === 2, 5000, 'both connections busy')
  const refused = [] as Array<{ socket: Socket; closed: () => boolean }>
  for (let i = 0; i < 10; i++) refused.push(await open(port))
  t.after(() => { for (const s of refused) s.socket.destroy() })
  await waitFor(() => refused.every((s) => s.closed()), 5000, 'the new connections closed')
  assert.equal(server.stats().refused, 10)
  assert.ok(busy.every((s) => !s.closed()), 'the busy connections are kept')
  const refusals = parsed(lines).filter((l) => l.msg === 'blob connection refused')
  assert.equal(refusals.length, 1, `one line for ten refusals within the interval, got ${refusals.length}`)
  assert.equal(refusals[0]!.maxConnections, 2)
  assert.match(String(refusals[0]!.reason), /all 2 connections are busy/)
  release()
})

test('warnings about bad connections are rate-limited, with a count of those not logged', async (t) => {
  const lines: string[] = []
  const interval = 400
  const { server, port } = await startServer(t, async (k) => value(k), { warnIntervalMs: interval }, lines)
  const t0 = Date.now()
  for (let i = 0; i < 20; i++) {
    const s = await open(port)
    s.socket.write(Buffer.concat([encodeVarint(3), Buffer.from('abc')]))
    await waitFor(s.closed, 5000, 'bad frame closes the connection')
  }
  const elapsed = Date.now() - t0
  assert.equal(server.stats().badFrames, 20)
  const warned = () => parsed(lines).filter((l) => l.level === 40 && /bad frame/.test(String(l.reason)))
  // Elapsed-aware, so a slow machine does not fail it: at most one line per interval begun.
  assert.ok(warned().length <= 1 + Math.ceil(elapsed / interval), `at most one warning per ${interval} ms, got ${warned().length} in ${elapsed} ms`)
  // The next one after the interval carries the count of those not logged.
  await new Promise((r) => setTimeout(r, interval + 50))
  const s = await open(port)
  s.socket.write(Buffer.concat([encodeVarint(3), Buffer.from('abc')]))
  await waitFor(s.closed, 5000, 'bad frame closes the connection')
  const total = () => warned().reduce((n, l) => n + 1 + Number(l.suppressed ?? 0), 0)
  await waitFor(() => total() === 21, 5000, () => `every bad connection logged or counted (got ${total()} of 21)`)
  assert.ok(warned().length < 21 || elapsed >= 20 * interval, 'some were counted rather than logged')
})
