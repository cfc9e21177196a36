/**
 * The data provider stopped for 60 s, on its own bridge (4 workers in 2 pools, one proxied): after
 * it is back, with no operator action, every worker is S_ACTIVE and computing again, nothing was
 * sent twice and nothing lost (fault-runner.ts). Redis restarted is in faults-devnet.test.ts.
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
  await faults?.summary('faults-outage.test.ts')
  await f?.b.stop()
})

test('the data provider stopped for 60 s', () => faults.run('data provider down 60 s', async () => {
  assert.equal(await f.b.dp.stop(), 0, 'the data provider stopped cleanly')
  await new Promise((r) => setTimeout(r, 60_000)) // the outage the issue names
  await f.b.dp.start()
}))
