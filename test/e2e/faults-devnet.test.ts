/**
 * The devnet's faults, one at a time, on one bridge (4 workers in 2 pools, one proxied): every
 * WebSocket of both chains dropped, a pRuntime crash (an enclave restart: its chain state lost,
 * its identity kept). The pRuntime hang is in faults-hang.test.ts.
 * After each, with no operator action, every worker is S_ACTIVE and computing again, nothing was
 * sent twice and nothing lost (fault-runner.ts).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startFleet, type RunningFleet } from './harness.js'
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
