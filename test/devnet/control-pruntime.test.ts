import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDevnet } from '../../src/devnet/devnet.js'
import { quietLogger } from '../helpers/log.js'

const quiet = quietLogger()

async function getInfo(endpoint: string, timeoutMs = 2000): Promise<number> {
  const res = await fetch(`${endpoint}/prpc/PhactoryAPI.GetInfo?json`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(timeoutMs) })
  await res.arrayBuffer()
  return res.status
}

test('the control surface injects faults into one devnet pRuntime and heals it', async (t) => {
  const devnet = await startDevnet(
    { host: '127.0.0.1', paraPort: 0, relayPort: 0, controlPort: 0, blockMs: 60_000, justificationPeriod: 8, sessionBlocks: 16, paraId: 2035, seed: 'ctl', history: 4, rpcLatencyMs: 0, pools: 1, pruntimes: 2, pruntimePort: 0 },
    quiet,
  )
  t.after(() => devnet.stop())
  const ctl = (path: string, method = 'POST') => fetch(`${devnet.controlUrl}${path}`, { method }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }))

  const list = await ctl('/pruntimes', 'GET')
  assert.equal(list.status, 200)
  assert.equal(list.body.length, 2)
  const [w0, w1] = list.body as { endpoint: string; publicKey: string }[]
  assert.equal(await getInfo(w0!.endpoint), 200)

  assert.equal((await ctl('/pruntimes/0/fail')).status, 200)
  assert.equal(await getInfo(w0!.endpoint), 500)
  assert.equal(await getInfo(w1!.endpoint), 200, 'the other worker is untouched')

  await ctl('/pruntimes/0/heal')
  await ctl('/pruntimes/0/hang')
  await assert.rejects(getInfo(w0!.endpoint, 300), /abort|timeout/i)
  await ctl('/pruntimes/0/hang?on=false')
  assert.equal(await getInfo(w0!.endpoint), 200)

  const slow = await ctl('/pruntimes/1/slow?ms=300')
  assert.equal(slow.body.faults.delayMs, 300)
  const t0 = Date.now()
  assert.equal(await getInfo(w1!.endpoint), 200)
  assert.ok(Date.now() - t0 >= 250)

  const crashed = await ctl('/pruntimes/1/crash?wipeIdentity=true')
  assert.notEqual(crashed.body.publicKey, w1!.publicKey, 'a wiped identity is a new key')

  assert.equal((await ctl('/pruntimes/7/crash')).status, 404)
  assert.equal((await ctl('/pruntimes/0/slow?ms=-1')).status, 400)
})
