/**
 * Under RPC latency (PHALA_DEVNET_RPC_LATENCY_MS) a subscription's id reply is the first frame the
 * client sees for it, as on a node: notifications made while the reply is delayed wait for it, in
 * order, and a subscription the server ends before its reply went out (a transaction finalized or
 * dropped at once) still delivers its last notifications after the id. Asserted on the wire
 * (frames in arrival order) and through @polkadot/api.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { createRpcServer, type MethodTable } from '../../src/devnet/chain/index.js'
import { quietLogger, startTestDevnet, waitFor } from './helpers.js'
import { testTx } from './test-runtime.js'

interface Frame { id?: number; result?: unknown; method?: string; params?: { subscription: string; result: unknown } }

/** A raw socket that keeps every frame in arrival order. */
async function wire(url: string): Promise<{ frames: Frame[]; send: (id: number, method: string, params?: unknown[]) => void; close: () => void }> {
  const ws = new WebSocket(url)
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j) })
  const frames: Frame[] = []
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame))
  return { frames, send: (id, method, params = []) => ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params })), close: () => ws.terminate() }
}

/** The frames of request `id`: its reply must come before any notification of the subscription it names. */
function assertIdFirst(frames: Frame[], id: number, atLeast: number): unknown[] {
  const at = frames.findIndex((f) => f.id === id)
  assert.ok(at >= 0, `the reply to request ${id} arrived: ${JSON.stringify(frames)}`)
  const sub = frames[at]!.result as string
  assert.equal(typeof sub, 'string', 'a subscription id')
  const mine = frames.map((f, i) => ({ f, i })).filter(({ f }) => f.params?.subscription === sub)
  assert.ok(mine.length >= atLeast, `${mine.length} notifications of ${sub}, expected at least ${atLeast}`)
  for (const { i } of mine) assert.ok(i > at, `notification at frame ${i} came before the id reply at frame ${at}: ${JSON.stringify(frames)}`)
  return mine.map(({ f }) => f.params!.result)
}

test('with 1 s RPC latency, new heads and a watched extrinsic answer the id before any notification', async (t) => {
  const dn = await startTestDevnet({ history: 10, rpcLatencyMs: 1000 })
  t.after(() => dn.stop())
  const c = await wire(dn.paraUrl)
  t.after(() => c.close())
  c.send(1, 'chain_subscribeNewHeads')
  c.send(2, 'author_submitAndWatchExtrinsic', [testTx({ s: 'alice', n: 0 })])
  // Blocks (new heads, the tx in a block and finalized) are made while both replies are still delayed.
  await waitFor(() => dn.para.pool.pending().length > 0, 10_000, 'the tx in the pool')
  await dn.makeBlocks(6)
  await waitFor(() => c.frames.some((f) => f.params && typeof f.params.result === 'object' && f.params.result !== null && 'finalized' in f.params.result), 30_000, 'the tx finalized notification')
  const heads = assertIdFirst(c.frames, 1, 4) as Array<{ number: string }>
  const numbers = heads.map((h) => parseInt(h.number, 16))
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), `heads in order: ${numbers}`)
  const statuses = assertIdFirst(c.frames, 2, 3)
  assert.equal(statuses[0], 'ready')
  assert.ok(statuses.some((s) => typeof s === 'object' && s !== null && 'inBlock' in s), JSON.stringify(statuses))
  assert.ok(statuses.at(-1) !== null && typeof statuses.at(-1) === 'object' && 'finalized' in (statuses.at(-1) as object), JSON.stringify(statuses))
})

test('a subscription the server ends before its delayed id reply still delivers its notifications after the id', async (t) => {
  const table: MethodTable = { calls: new Map(), subs: new Map() }
  table.subs.set('test_subscribeOnce', {
    notification: 'test_once',
    unsubscribe: ['test_unsubscribeOnce'],
    subscribe(_p, sink) {
      // As a transaction watch that is dropped at once: a status, then the server ends it.
      sink.emit('first')
      sink.emit({ dropped: true })
      sink.close()
      return () => undefined
    },
  })
  const server = createRpcServer({ name: 'test', host: '127.0.0.1', port: 0, latencyMs: 200, table, logger: quietLogger })
  await server.start()
  t.after(() => server.stop())
  const c = await wire(server.url)
  t.after(() => c.close())
  c.send(7, 'test_subscribeOnce')
  await waitFor(() => c.frames.length >= 3, 10_000, 'the id and two notifications')
  assert.deepEqual(assertIdFirst(c.frames, 7, 2), ['first', { dropped: true }])
})

test('@polkadot/api gets every new head under latency (its first notification is not lost before the id)', async (t) => {
  const dn = await startTestDevnet({ history: 10, rpcLatencyMs: 150 })
  t.after(() => dn.stop())
  const api = await ApiPromise.create({ provider: new WsProvider(dn.relayUrl), noInitWarn: true, throwOnConnect: true })
  t.after(() => api.disconnect())
  const seen: number[] = []
  const first = dn.relay.chain.best.number
  const unsub = await api.rpc.chain.subscribeNewHeads((h) => void seen.push(h.number.toNumber()))
  t.after(() => unsub())
  await dn.makeBlocks(3)
  await waitFor(() => seen.includes(first + 3), 30_000, `heads up to ${first + 3} (seen ${seen})`)
  assert.equal(seen[0], first, `the first head is the best at subscription time (${seen})`)
  assert.deepEqual(seen.filter((n) => n > first), [first + 1, first + 2, first + 3])
})
