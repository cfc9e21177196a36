/**
 * The devnet's JSON-RPC server is bounded as a Substrate node's (jsonrpsee) is: batch length (-32010),
 * reply size per call (-32008) and per batch (-32011), a reply that cannot be serialized answers a
 * JSON-RPC error instead of a half-sent 200 and the response always ends. A 20,000-call batch of
 * state_getPairs("0x") once ran the devnet out of heap; a 1,000-call one answered
 * "RangeError: Invalid string length" after the 200 status and the client hung.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRpcServer } from '../../src/devnet/chain/index.js'
import { quietLogger } from '../helpers/log.js'
import { RawClient, startTestDevnet, waitFor, type RpcReply } from './helpers.js'

const call = (id: number, method: string, params: unknown[] = []) => ({ jsonrpc: '2.0', id, method, params })

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) })
  return { status: r.status, text: await r.text() }
}

function limitedServer() {
  let blobCalls = 0
  const server = createRpcServer({
    name: 'limits', host: '127.0.0.1', port: 0, latencyMs: 0, logger: quietLogger(),
    maxResponseBytes: 64 * 1024, maxBatchLength: 100,
    table: {
      calls: new Map<string, (p: unknown[]) => unknown>([
        ['blob', (p) => { blobCalls++; return 'x'.repeat(Number(p[0])) }],
        // Stands for a result larger than a string can hold.
        ['explode', () => ({ toJSON() { throw new RangeError('Invalid string length') } })],
        ['ping', () => 'pong'],
      ]),
      subs: new Map(),
    },
  })
  return { server, blobCalls: () => blobCalls }
}

test('HTTP: batch length, reply size and unserializable replies get a JSON-RPC error, never a half-sent reply', async (t) => {
  const { server, blobCalls } = limitedServer()
  await server.start()
  t.after(() => server.stop())

  const tooLong = await post(server.httpUrl, Array.from({ length: 101 }, (_, i) => call(i, 'blob', [10])))
  assert.equal(tooLong.status, 200)
  const e1 = JSON.parse(tooLong.text)
  assert.deepEqual(e1.error, { code: -32010, message: 'The batch request was too large', data: 'Exceeded max limit of 100' })
  assert.equal(blobCalls(), 0, 'no call of a refused batch runs')

  const fits = JSON.parse((await post(server.httpUrl, Array.from({ length: 100 }, (_, i) => call(i, 'blob', [10])))).text)
  assert.equal(fits.length, 100)

  const before = blobCalls()
  const tooBig = JSON.parse((await post(server.httpUrl, Array.from({ length: 100 }, (_, i) => call(i, 'blob', [2000])))).text)
  assert.equal(tooBig.error.code, -32011)
  assert.equal(tooBig.error.message, 'The batch response was too large')
  assert.ok(blobCalls() - before < 100, `the calls after the limit was passed did not run (ran ${blobCalls() - before})`)

  const one = JSON.parse((await post(server.httpUrl, call(7, 'blob', [100_000]))).text)
  assert.deepEqual(one, { jsonrpc: '2.0', error: { code: -32008, message: 'Response is too big', data: `Exceeded max limit of ${64 * 1024}` }, id: 7 })

  const exploded = await post(server.httpUrl, call(8, 'explode'))
  assert.equal(exploded.status, 200)
  const e2 = JSON.parse(exploded.text)
  assert.equal(e2.id, 8)
  assert.equal(e2.error.code, -32603)
  assert.match(e2.error.data, /Invalid string length/)

  const mixed = JSON.parse((await post(server.httpUrl, [call(1, 'ping'), call(2, 'explode'), call(3, 'ping')])).text)
  assert.deepEqual(mixed.map((r: RpcReply) => r.result ?? r.error?.code), ['pong', -32603, 'pong'])

  assert.equal(JSON.parse((await post(server.httpUrl, call(9, 'ping'))).text).result, 'pong')
})

test('WebSocket: the same limits, and the connection stays usable', async (t) => {
  const { server } = limitedServer()
  await server.start()
  t.after(() => server.stop())
  const c = await RawClient.connect(server.url)
  t.after(() => c.close())

  c.sendRaw(JSON.stringify(Array.from({ length: 101 }, (_, i) => call(1000 + i, 'blob', [10]))))
  await c.until(() => c.other.length >= 1, 10_000, 'the batch-too-large answer')
  assert.equal(c.other[0]!.error!.code, -32010)

  c.sendRaw(JSON.stringify(Array.from({ length: 100 }, (_, i) => call(2000 + i, 'blob', [2000]))))
  await c.until(() => c.other.length >= 2, 10_000, 'the batch-response-too-large answer')
  assert.equal(c.other[1]!.error!.code, -32011)

  const exploded = await c.call('explode')
  assert.equal(exploded.error?.code, -32603)
  const big = await c.call('blob', [100_000])
  assert.equal(big.error?.code, -32008)
  assert.equal((await c.call('ping')).result, 'pong')
})

test('the devnet answers 20,000- and 1,000-call batches of state_getPairs("0x") with a bounded reply', async (t) => {
  const dn = await startTestDevnet()
  t.after(() => dn.stop())
  const batch = (n: number) => Array.from({ length: n }, (_, i) => call(i, 'state_getPairs', ['0x']))
  for (const url of [dn.relayHttpUrl, dn.paraHttpUrl]) {
    const huge = await post(url, batch(20_000))
    assert.equal(huge.status, 200)
    assert.equal(JSON.parse(huge.text).error.code, -32010, `${url}: a 20,000-call batch is refused`)
    const big = await post(url, batch(1000))
    assert.equal(big.status, 200)
    assert.ok(Buffer.byteLength(big.text) <= 15 * 1024 * 1024, 'the reply fits the 15 MiB limit')
    const parsed = JSON.parse(big.text)
    if (Array.isArray(parsed)) assert.equal(parsed.length, 1000)
    else assert.equal(parsed.error.code, -32011)
  }
  const ws = await RawClient.connect(dn.relayUrl)
  t.after(() => ws.close())
  ws.sendRaw(JSON.stringify(batch(20_000)))
  await ws.until(() => ws.other.length >= 1, 30_000, 'the WebSocket answer to a 20,000-call batch')
  assert.equal(ws.other[0]!.error!.code, -32010)
  const head = await ws.call('chain_getBlockHash', [0])
  assert.match(String(head.result), /^0x[0-9a-f]{64}$/, 'the connection still answers')
})

test('WebSocket: a client that sends but never reads its replies is disconnected once too much is unread', async (t) => {
  const lines: string[] = []
  const { Writable } = await import('node:stream')
  const { createLogger } = await import('../../src/common/logger.js')
  const logger = createLogger({ level: 'warn', stream: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb() } }) })
  const server = createRpcServer({
    name: 'unread', host: '127.0.0.1', port: 0, latencyMs: 0, logger, maxResponseBytes: 256 * 1024, maxUnreadBytes: 1024 * 1024,
    table: { calls: new Map<string, (p: unknown[]) => unknown>([['blob', () => 'x'.repeat(200 * 1024)]]), subs: new Map() },
  })
  await server.start()
  t.after(() => server.stop())
  const c = await RawClient.connect(server.url)
  t.after(() => c.close())
  await waitFor(() => server.connections === 1, 5000, 'connected')
  ;(c.ws as unknown as { _socket: { pause(): void } })._socket.pause() // never read again
  // 400 replies of 200 KiB = 80 MiB: far more than the kernel's socket buffers hold.
  for (let i = 0; i < 400; i++) c.sendRaw(JSON.stringify(call(i, 'blob')))
  await waitFor(() => server.connections === 0, 30_000, 'the server dropped the client that does not read')
  assert.ok(lines.some((l) => /does not read its replies/.test(l)), 'and said why')
})

test('WebSocket: subscriptions per connection are limited (-32006); unsubscribing frees a slot', async (t) => {
  const server = createRpcServer({
    name: 'subs', host: '127.0.0.1', port: 0, latencyMs: 0, logger: quietLogger(), maxSubscriptionsPerConnection: 3,
    table: {
      calls: new Map(),
      subs: new Map([['tick_subscribe', { notification: 'tick', unsubscribe: ['tick_unsubscribe'], subscribe: () => () => undefined }]]),
    },
  })
  await server.start()
  t.after(() => server.stop())
  const c = await RawClient.connect(server.url)
  t.after(() => c.close())
  const ids: unknown[] = []
  for (let i = 0; i < 3; i++) ids.push((await c.call('tick_subscribe')).result)
  const refused = await c.call('tick_subscribe')
  assert.deepEqual(refused.error, { code: -32006, message: 'Too many subscriptions on the connection', data: 'Exceeded max limit of 3' })
  assert.equal((await c.call('tick_unsubscribe', [ids[0]])).result, true)
  assert.match(String((await c.call('tick_subscribe')).result), /^[0-9a-f]+$/)
  const other = await RawClient.connect(server.url)
  t.after(() => other.close())
  assert.ok((await other.call('tick_subscribe')).result, 'the limit is per connection')
})
