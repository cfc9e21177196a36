/**
 * Fuzz: the devnet, run as an operator runs it (`PHALA_MODULE=devnet node dist/index.js`), takes
 * malformed requests at every listening surface (relay and para JSON-RPC over HTTP and WebSocket,
 * the control port, pRuntime's prpc and bin_api), with idle and half-sent connections held open
 * meanwhile, and must still be running and answering good clients afterwards. Deterministic: a
 * failure names its seed; PRB_FUZZ_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { WebSocket } from 'ws'
import { badHttpRequests, exchange, idleSockets, pool, Rng, SEED, spawnEntry } from './helpers.js'

const PRPC_METHODS = [...readFileSync('proto/pruntime_rpc.proto', 'utf8').matchAll(/^\s*rpc (\w+)/gm)].map((m) => m[1]!)
const BIN_ACTIONS = ['sync_header', 'sync_para_header', 'sync_combined_headers', 'dispatch_block', 'nope']

const portOf = (url: string): number => Number(new URL(url).port)

async function rpcHttp(url: string, body: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) })
  return { status: r.status, text: await r.text() }
}

/** A WebSocket that sends `frames` (text or binary), waits for `settleMs`, then closes; never rejects. */
function wsBurst(url: string, frames: Array<string | Buffer>, settleMs = 200): Promise<number> {
  return new Promise((resolve) => {
    let replies = 0
    const ws = new WebSocket(url)
    ws.on('error', () => resolve(replies))
    ws.on('message', () => { replies++ })
    ws.on('close', () => resolve(replies))
    ws.on('open', () => {
      for (const f of frames) ws.send(f, { binary: Buffer.isBuffer(f) })
      setTimeout(() => ws.close(), settleMs)
    })
  })
}

/** A JSON-RPC request a hostile client would send: real or bogus method, params of any shape. */
function rpcRequest(rng: Rng, methods: string[]): unknown {
  const req: Record<string, unknown> = { jsonrpc: rng.chance(0.9) ? '2.0' : rng.json(0), method: rng.chance(0.85) ? rng.pick(methods) : rng.json(1) }
  if (rng.chance(0.9)) req.id = rng.chance(0.7) ? rng.int(1e6) : rng.json(1)
  if (rng.chance(0.8)) req.params = rng.chance(0.8) ? Array.from({ length: rng.int(4) }, () => rng.json(2)) : rng.json(2)
  return req
}

function rpcBody(rng: Rng, methods: string[]): string {
  switch (rng.int(7)) {
    case 0: return JSON.stringify(rng.json(4))
    case 1: return rng.nasty(rng.int(200))
    case 2: return '['.repeat(rng.pick([10, 1000, 100_000]))
    case 3: return JSON.stringify(rpcRequest(rng, methods)).slice(0, rng.int(60))
    case 4: return JSON.stringify(Array.from({ length: rng.pick([0, 1, 3, 50, 1001, 5000]) }, () => rpcRequest(rng, methods)))
    case 5: return JSON.stringify([[rpcRequest(rng, methods)], 1, null, 'x'])
    default: return JSON.stringify(rpcRequest(rng, methods))
  }
}

/** A WebSocket upgrade by hand, then `garbage` as frame bytes (bad opcodes, unmasked, huge lengths). */
function rawWsGarbage(rng: Rng): Buffer {
  const upgrade = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  const frames = [
    Buffer.from([0x83, 0x80, 0, 0, 0, 0]), // reserved opcode 3
    Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), // text frame without the mask a client must set
    Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]), // 2^63-byte payload announced
    Buffer.from([0x09, 0x80, 0, 0, 0, 0]), // fragmented ping
    Buffer.from([0xf1, 0x80, 0, 0, 0, 0]), // RSV bits set
    rng.bytes(1 + rng.int(64)),
  ]
  return Buffer.concat([Buffer.from(upgrade), rng.pick(frames), rng.bytes(rng.int(16))])
}

test(`the devnet process survives malformed requests at every surface and still answers good clients (seed ${SEED})`, async (t) => {
  const rng = new Rng(`${SEED}/devnet`)
  const dn = await spawnEntry({
    PHALA_MODULE: 'devnet', PHALA_DEVNET_PARA_PORT: '0', PHALA_DEVNET_RELAY_PORT: '0', PHALA_DEVNET_CONTROL_PORT: '0',
    PHALA_DEVNET_PRUNTIMES: '1', PHALA_DEVNET_PRUNTIME_PORT: '0', PHALA_DEVNET_HISTORY: '20', PHALA_DEVNET_BLOCK_MS: '60000',
  }, (r) => typeof r.msg === 'string' && r.msg.startsWith('devnet ready'))
  t.after(() => dn.stop())
  const ready = dn.ready
  const pruntime = ready.pruntimes[0] as string
  const http: Array<[string, number]> = [
    ['control', portOf(ready.control)], ['pRuntime', portOf(pruntime)], ['relay JSON-RPC', portOf(ready.relayHttp)], ['para JSON-RPC', portOf(ready.paraHttp)],
  ]
  const methods = ((JSON.parse((await rpcHttp(ready.relayHttp, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc_methods' }))).text).result.methods) as string[])
  const paraMethods = ((JSON.parse((await rpcHttp(ready.paraHttp, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc_methods' }))).text).result.methods) as string[])
  const alive = (what: string) => assert.ok(dn.alive(), `the devnet process died during ${what} (seed ${SEED}); its last lines: ${JSON.stringify(dn.lines.slice(-5))}`)

  // Idle and half-sent connections held open through the whole run.
  const held = await Promise.all(http.map(([, port]) => idleSockets(port, 12)))
  const halves = await Promise.all(http.map(([, port]) => idleSockets(port, 4, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"js')))
  t.after(() => { for (const h of [...held, ...halves]) h.release() })

  await t.test('HTTP request lines, targets, headers and bodies', async () => {
    for (const [name, port] of http) {
      const answers: string[] = []
      await pool(8, badHttpRequests(rng, 60).map((req) => async () => {
        answers.push((await exchange(port, req, { httpHead: true, waitMs: 500 })).toString('latin1'))
      }))
      for (const a of answers) if (a.length) assert.match(a, /^HTTP\/1\.[01] [1-5]\d\d /, `${name}: a well-formed answer or none (seed ${SEED}), got ${JSON.stringify(a.slice(0, 80))}`)
      const malformed = await exchange(port, 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n', { httpHead: true })
      assert.match(malformed.toString('latin1'), /^HTTP\/1\.1 400 /, `${name} answers 400 to a malformed target`)
      alive(`HTTP fuzz of ${name}`)
    }
  })

  await t.test('JSON-RPC bodies and batches over HTTP', async () => {
    for (const [url, ms] of [[ready.relayHttp, methods], [ready.paraHttp, paraMethods]] as const) {
      await pool(6, Array.from({ length: 80 }, () => rpcBody(rng, ms)).map((body) => async () => {
        const r = await rpcHttp(url, body)
        assert.ok([200, 413].includes(r.status), `status ${r.status} for ${body.slice(0, 100)} (seed ${SEED})`)
        if (r.text) assert.doesNotThrow(() => JSON.parse(r.text), `a complete JSON answer to ${body.slice(0, 100)} (seed ${SEED})`)
        assert.ok(Buffer.byteLength(r.text) <= 15 * 1024 * 1024)
      }))
      alive(`JSON-RPC fuzz of ${url}`)
    }
  })

  await t.test('WebSocket frames: JSON-RPC, subscriptions, binary and protocol garbage', async () => {
    for (const [url, ms] of [[ready.relay, methods], [ready.para, paraMethods]] as const) {
      await pool(4, Array.from({ length: 16 }, () => {
        const frames = Array.from({ length: 1 + rng.int(12) }, () => (rng.chance(0.15) ? rng.bytes(rng.int(300)) : rpcBody(rng, ms)))
        return () => wsBurst(url, frames, 100 + rng.int(200))
      }))
      await pool(8, Array.from({ length: 24 }, () => () => exchange(portOf(url), rawWsGarbage(rng), { waitMs: 300 })))
      alive(`WebSocket fuzz of ${url}`)
    }
  })

  await t.test("pRuntime's prpc and bin_api", async () => {
    const jobs = Array.from({ length: 150 }, () => {
      const kind = rng.int(4)
      const method = rng.pick(PRPC_METHODS)
      let path: string
      let body: Buffer | string
      if (kind === 0) [path, body] = [`/prpc/PhactoryAPI.${method}`, rng.bytes(rng.int(200))]
      else if (kind === 1) [path, body] = [`/prpc/PhactoryAPI.${method}?json`, rng.chance(0.5) ? JSON.stringify(rng.json(3)) : rng.nasty(50)]
      else if (kind === 2) [path, body] = [`/bin_api/${rng.pick(BIN_ACTIONS)}`, rng.bytes(rng.int(400))]
      else [path, body] = [`/prpc/${rng.nasty(12)}`, rng.bytes(rng.int(50))]
      const method_ = rng.pick(['POST', 'POST', 'POST', 'GET'])
      return async () => {
        const raw = `${method_} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`
        const answer = await exchange(portOf(pruntime), Buffer.concat([Buffer.from(raw, 'latin1'), Buffer.from(body)]), { waitMs: 5000 })
        assert.match(answer.toString('latin1'), /^HTTP\/1\.1 [2-5]\d\d /, `pRuntime answers ${path} (seed ${SEED})`)
      }
    })
    await pool(6, jobs)
    alive('pRuntime fuzz')
  })

  await t.test('control routes with bad parameters', async () => {
    const ns = ['', 'abc', '-1', '0', '1e9', '1.5', '100001', 'NaN', rng.nasty(8)]
    for (const n of ns) {
      const r = await fetch(`${ready.control}/blocks?n=${encodeURIComponent(n)}`, { method: 'POST' })
      assert.equal(r.status, 400, `POST /blocks?n=${n}`)
      await r.arrayBuffer()
    }
    for (const path of ['/pruntimes/9/crash', '/pruntimes/0/slow?ms=-5', '/pruntimes/0/slow?ms=abc', '/pruntimes/x/hang', `/${rng.nasty(20)}`]) {
      const r = await fetch(`${ready.control}${encodeURI(path).replace(/%25/g, '%')}`, { method: 'POST' }).catch(() => undefined)
      if (r) assert.ok(r.status >= 400 && r.status < 500, `${path} refused with a 4xx, got ${r.status}`)
      await r?.arrayBuffer()
    }
    alive('control fuzz')
  })

  // Still running, and every surface answers a good client while the idle sockets are still held.
  alive('the fuzz run')
  const status = await fetch(`${ready.control}/status`)
  assert.equal(status.status, 200)
  assert.ok(((await status.json()) as { relay: { best: number } }).relay.best >= 20)
  const info = await fetch(`${pruntime}/prpc/PhactoryAPI.GetInfo?json`, { method: 'POST', body: '{}' })
  assert.equal(info.status, 200)
  await info.arrayBuffer()
  for (const url of [ready.relayHttp, ready.paraHttp]) {
    const r = JSON.parse((await rpcHttp(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_getBlockHash', params: [0] }))).text)
    assert.match(r.result, /^0x[0-9a-f]{64}$/)
  }
  for (const url of [ready.relay, ready.para]) {
    const hash = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.on('error', reject)
      ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'chain_getBlockHash', params: [1] })))
      ws.on('message', (d) => {
        ws.close()
        resolve(JSON.parse(String(d)).result)
      })
    })
    assert.match(hash, /^0x[0-9a-f]{64}$/)
  }
  const fatal = dn.lines.filter((l) => Number(l.level) >= 60)
  assert.deepEqual(fatal, [], 'no fatal log line')
  assert.equal(await dn.stop(), 0, 'and it still stops cleanly')
})
