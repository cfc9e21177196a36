/** JSON-RPC surface: errors, robustness, the tx pool and watch statuses, HTTP, control routes, determinism. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Devnet } from '../../src/devnet/devnet.js'
import { RawClient, startTestDevnet, waitFor } from './helpers.js'
import { testTx } from './test-runtime.js'
import { stringToHex } from '@polkadot/util'

let devnet: Devnet
const clients: RawClient[] = []
const connect = async (url: string): Promise<RawClient> => {
  const c = await RawClient.connect(url)
  clients.push(c)
  return c
}

before(async () => {
  devnet = await startTestDevnet({ history: 10, controlPort: 0 })
})
after(async () => {
  for (const c of clients) c.close()
  await devnet?.stop()
})

test('unknown method, bad params, parse errors and invalid requests get JSON-RPC errors', async () => {
  const c = await connect(devnet.paraUrl)
  assert.deepEqual((await c.call('nope_nothing')).error, { code: -32601, message: 'Method not found' })
  assert.equal((await c.call('state_getStorage', [42])).error?.code, -32602)
  assert.equal((await c.call('chain_getBlock', ['0x1234'])).error?.code, -32602)
  assert.equal((await c.call('state_getStorage', ['0x00', '0x' + '11'.repeat(32)])).error?.code, 4003)
  assert.equal((await c.call('chain_getHeader', ['0x' + '11'.repeat(32)])).result, null)
  c.sendRaw('{not json')
  c.sendRaw(Buffer.from([0xff, 0x00, 0x13]))
  c.sendRaw('[]')
  c.sendRaw('{"jsonrpc":"2.0","id":7}')
  await c.until(() => c.other.length >= 4, 5000, 'error replies')
  assert.deepEqual(c.other.map((o) => o.error?.code), [-32700, -32700, -32600, -32600])
  // Still serving afterwards, batches too.
  assert.equal(typeof (await c.call('chain_getFinalizedHead')).result, 'string')
  const methods = (await c.call('rpc_methods')).result as { methods: string[] }
  for (const m of ['author_submitAndWatchExtrinsic', 'pha_getStorageChangesAt', 'state_getReadProof', 'chain_subscribeFinalizedHeads']) assert.ok(methods.methods.includes(m), m)
  const r = await c.call('state_call', ['Metadata_metadata_versions', '0x'])
  assert.equal(r.result, '0x040e000000')
  assert.equal((await c.call('state_call', ['Foo_bar', '0x'])).error?.code, 4003)
})

test('oversized requests, vanished subscribers and garbage do not take the server down', async () => {
  const big = await connect(devnet.relayUrl)
  big.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'state_getStorage', params: ['0x' + 'ab'.repeat(8 * 1024 * 1024)] }))
  await big.until(() => big.other.length > 0 || big.closed, 20_000, 'too-big reply')
  assert.equal(big.other[0]?.error?.code, -32007)
  // HTTP too.
  const res = await fetch(devnet.relayHttpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(16 * 1024 * 1024) })
  assert.equal(res.status, 413)
  // Many clients subscribe then vanish without unsubscribing.
  for (let i = 0; i < 20; i++) {
    const c = await connect(devnet.relayUrl)
    await c.call('chain_subscribeNewHeads')
    await c.call('state_subscribeStorage', [['0x26aa394eea5630e07c48ae0c9558cef702a5c1b19ab7a04f536c519aca4983ac']])
    c.close()
  }
  await waitFor(() => devnet.status().connections <= 2, 5000, 'connections to close')
  await devnet.makeBlocks(2)
  const c = await connect(devnet.relayUrl)
  assert.equal(typeof (await c.call('chain_getFinalizedHead')).result, 'string')
})

test('HTTP POST serves the same methods; subscriptions need a WebSocket', async () => {
  const post = async (body: unknown): Promise<{ result?: unknown; error?: { code: number } }> =>
    (await (await fetch(devnet.paraHttpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as never
  assert.equal((await post({ jsonrpc: '2.0', id: 1, method: 'system_chain', params: [] })).result, 'Test Para')
  assert.equal((await post({ jsonrpc: '2.0', id: 1, method: 'chain_subscribeNewHeads', params: [] })).error?.code, -32601)
  const batch = (await post([{ jsonrpc: '2.0', id: 1, method: 'system_name' }, { jsonrpc: '2.0', id: 2, method: 'x' }])) as unknown as { id: number }[]
  assert.equal(batch.length, 2)
})

test('pool: ready, inBlock, finalized; future until the gap fills; stale, duplicate, priority and usurped', async () => {
  const c = await connect(devnet.paraUrl)
  const signer = stringToHex('alice')
  assert.equal((await c.call('system_accountNextIndex', [signer])).result, 0)
  const w0 = await c.call('author_submitAndWatchExtrinsic', [testTx({ s: 'alice', n: 0 })])
  const w2 = await c.call('author_submitAndWatchExtrinsic', [testTx({ s: 'alice', n: 2 })])
  await c.until(() => c.notificationsFor(w0.result).length > 0 && c.notificationsFor(w2.result).length > 0, 5000, 'first statuses')
  assert.deepEqual(c.notificationsFor(w0.result), ['ready'])
  assert.deepEqual(c.notificationsFor(w2.result), ['future'])
  assert.equal((await c.call('system_accountNextIndex', [signer])).result, 1)
  // Substrate lists the ready queue only: the future n=2 is not pending yet.
  assert.deepEqual((await c.call('author_pendingExtrinsics')).result, [testTx({ s: 'alice', n: 0 })])
  // Duplicate and priority clash.
  assert.equal((await c.call('author_submitExtrinsic', [testTx({ s: 'alice', n: 0 })])).error?.code, 1013)
  const low = await c.call('author_submitExtrinsic', [testTx({ s: 'alice', n: 2, p: 0 })])
  assert.equal(low.error?.code, 1014)
  assert.match(low.error!.message, /^Priority is too low: \(1 vs 0\)$/)
  const w2b = await c.call('author_submitAndWatchExtrinsic', [testTx({ s: 'alice', n: 2, p: 5 })])
  await c.until(() => c.notificationsFor(w2.result).length === 2, 5000, 'usurped')
  assert.ok(typeof (c.notificationsFor(w2.result)[1] as { usurped: string }).usurped === 'string')
  const w1 = await c.call('author_submitAndWatchExtrinsic', [testTx({ s: 'alice', n: 1 })])
  await c.until(() => c.notificationsFor(w2b.result).includes('ready'), 5000, 'future -> ready')
  assert.equal((await c.call('system_accountNextIndex', [signer])).result, 3)
  // Relay block 12 carries para block 6 (even numbers make para blocks; history was 10).
  await devnet.makeBlocks(2)
  await c.until(() => c.notificationsFor(w2b.result).some((s) => typeof s === 'object' && s !== null && 'inBlock' in s), 5000, 'inBlock')
  const inBlock = (c.notificationsFor(w0.result)[1] as { inBlock: string }).inBlock
  assert.equal(inBlock, devnet.para.chain.best.hash)
  await devnet.makeBlocks(2)
  await c.until(() => c.notificationsFor(w1.result).length === 3, 5000, 'finalized')
  assert.deepEqual(c.notificationsFor(w0.result), ['ready', { inBlock }, { finalized: inBlock }])
  // The stale nonce is refused as a node does.
  const stale = await c.call('author_submitExtrinsic', [testTx({ s: 'alice', n: 1, p: 9 })])
  assert.deepEqual(stale.error, { code: 1010, message: 'Invalid Transaction', data: 'Transaction is outdated' })
  assert.equal((await c.call('author_submitExtrinsic', [testTx({ s: 'alice', n: 3, bad: true })])).error?.data, 'Transaction has a bad signature')
  // Storage changes of the block holding them.
  const changes = (await c.call('pha_getStorageChanges', [inBlock, inBlock])).result as { mainStorageChanges: [string, string][] }[]
  assert.equal(changes.length, 1)
  assert.ok(changes[0]!.mainStorageChanges.length >= 2)
  const scale = (await c.call('pha_getStorageChangesAt', [inBlock])).result as string
  assert.match(scale, /^0x[0-9a-f]+00$/)
  assert.equal((await c.call('pha_getStorageChangesAt', ['0x' + '00'.repeat(32)])).error?.code, 10000)
  assert.equal((await c.call('payment_queryInfo', [testTx({ s: 'bob', n: 0 })])).result !== undefined, true)
})

test('pha_getMqNextSequence counts consecutive ready MQ messages after the on-chain sequence', async () => {
  const c = await connect(devnet.paraUrl)
  const sender = '0x02' + '42'.repeat(32)
  assert.equal((await c.call('pha_getMqNextSequence', [sender])).result, 0)
  await c.call('author_submitExtrinsic', [testTx({ s: 'mq', n: 0, mq: { sender, seq: 0 } })])
  await c.call('author_submitExtrinsic', [testTx({ s: 'mq', n: 1, mq: { sender, seq: 1 } })])
  await c.call('author_submitExtrinsic', [testTx({ s: 'mq', n: 3, mq: { sender, seq: 3 } })])
  assert.equal((await c.call('pha_getMqNextSequence', [sender])).result, 2)
  assert.equal((await c.call('pha_getMqNextSequence', [sender.slice(2)])).result, 2)
  assert.equal((await c.call('pha_getMqNextSequence', ['xyz'])).error?.code, 10000)
})

test('a tx that becomes invalid is reported invalid; unwatch stops updates', async () => {
  const c = await connect(devnet.paraUrl)
  const w = await c.call('author_submitAndWatchExtrinsic', [testTx({ s: 'carol', n: 1 })])
  await c.until(() => c.notificationsFor(w.result).length === 1, 5000, 'future')
  assert.deepEqual(c.notificationsFor(w.result), ['future'])
  assert.equal((await c.call('author_unwatchExtrinsic', [w.result])).result, true)
  assert.equal((await c.call('author_unwatchExtrinsic', [w.result])).result, false)
})

test('control routes drive the devnet', async () => {
  const url = devnet.controlUrl!
  const s0 = (await (await fetch(`${url}/status`)).json()) as { relay: { best: number } }
  const s1 = (await (await fetch(`${url}/blocks?n=3`, { method: 'POST' })).json()) as { relay: { best: number } }
  assert.equal(s1.relay.best, s0.relay.best + 3)
  assert.equal(((await (await fetch(`${url}/finality/stall`, { method: 'POST' })).json()) as { finalityStalled: boolean }).finalityStalled, true)
  await fetch(`${url}/blocks?n=2`, { method: 'POST' })
  const stalled = devnet.status()
  assert.equal(stalled.relay.finalized, s1.relay.best - 1)
  await fetch(`${url}/finality/resume`, { method: 'POST' })
  await waitFor(() => devnet.status().relay.finalized === stalled.relay.best - 1, 5000, 'finality to catch up')
  assert.equal(((await (await fetch(`${url}/production/pause`, { method: 'POST' })).json()) as { paused: boolean }).paused, true)
  await fetch(`${url}/production/resume`, { method: 'POST' })
  const c = await connect(devnet.relayUrl)
  await c.call('chain_subscribeNewHeads')
  const dropped = (await (await fetch(`${url}/drop-connections`, { method: 'POST' })).json()) as { dropped: number }
  assert.ok(dropped.dropped >= 1)
  await c.until(() => c.closed, 5000, 'drop')
  assert.equal((await fetch(`${url}/nope`)).status, 404)
  assert.equal((await fetch(`${url}/blocks?n=0`, { method: 'POST' })).status, 400)
})

test('same seed, same hashes; another seed, another chain; latency is added', async () => {
  const a = await startTestDevnet({ history: 30, seed: 'x' })
  const b = await startTestDevnet({ history: 30, seed: 'x', rpcLatencyMs: 150 })
  const other = await startTestDevnet({ history: 30, seed: 'y' })
  try {
    for (const n of [0, 1, 17, 30]) assert.equal(a.relay.chain.byNumber(n)!.hash, b.relay.chain.byNumber(n)!.hash)
    assert.equal(a.para.chain.byNumber(15)!.hash, b.para.chain.byNumber(15)!.hash)
    assert.notEqual(a.relay.chain.byNumber(0)!.hash, other.relay.chain.byNumber(0)!.hash)
    assert.deepEqual(a.relay.chain.byNumber(16)!.justification, b.relay.chain.byNumber(16)!.justification)
    const c = await connect(b.relayUrl)
    const t = performance.now()
    await c.call('system_chain')
    assert.ok(performance.now() - t >= 140)
    c.close()
  } finally {
    await Promise.all([a.stop(), b.stop(), other.stop()])
  }
})

test('bytes parameters accept the forms a node accepts', async () => {
  const c = await connect(devnet.paraUrl)
  const g = devnet.para.chain.byNumber(0)!.hash
  const a = (await c.call('state_getPairs', ['', g])).result as unknown[]
  const b = (await c.call('state_getPairs', ['0x', g])).result as unknown[]
  assert.ok(a.length > 0)
  assert.deepEqual(a, b)
  assert.equal((await c.call('state_getPairs', ['0xzz', g])).error?.code, -32602)
  assert.equal((await c.call('system_accountNextIndex', [42])).error?.code, -32602)
})
