/**
 * The devnet's faults and Redis, one at a time, on one bridge (4 workers in 2 pools, one proxied):
 * every WebSocket of both chains dropped, a pRuntime crash (an enclave restart: its chain state
 * lost, its identity kept), a pRuntime hang (it accepts requests and never answers, until healed),
 * Redis restarted empty (a non-persistent Redis after a crash). After each, with no operator action,
 * every worker is S_ACTIVE and computing again, nothing was sent twice and nothing lost
 * (fault-runner.ts). The lifecycle gives up on a pRuntime request after 20 s here
 * (PHALA_BLOB_REQUEST_TIMEOUT, harness.ts) instead of upstream's 150 s.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startFleet, waitFor, type RunningFleet } from './harness.js'
import { faultRunner, type FaultRunner } from './fault-runner.js'

let f: RunningFleet
let faults: FaultRunner

before(async () => {
  f = await startFleet(4)
  faults = faultRunner(f)
})
after(async () => {
  await faults?.summary('faults-devnet.test.ts')
  await f?.b.stop()
})

test('every devnet WebSocket dropped', () => faults.run('drop websockets', async () => {
  const { dropped } = await f.b.control.dropConnections()
  assert.ok(dropped > 0, 'the daemons had WebSockets open')
}))

test('a pRuntime crash (enclave restart: chain state lost)', () => faults.run('pruntime crash', async () => {
  await f.b.control.crash(0)
}))

test('a pRuntime hang (accepts requests, never answers), until it is healed', () => faults.run('pruntime hang', async () => {
  const since = f.b.lm.lines.length
  await f.b.control.hang(1, true)
  // the fault took hold: the lifecycle says w1's pRuntime does not answer
  await waitFor(() => f.b.lm.lines.slice(since).some((l) => l.worker === 'w1' && l.level >= 40), 120_000, () => `the lifecycle notices w1's pRuntime hangs: ${JSON.stringify(f.b.lm.lines.slice(-3))}`, 500)
  await f.b.control.hang(1, false)
}))

test('Redis restarted empty', () => faults.run('redis restart', async () => {
  await f.b.redis.restart()
}))
