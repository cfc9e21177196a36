/**
 * Outages of what the bridge depends on, one at a time, on one bridge (4 workers in 2 pools, one
 * proxied): Redis restarted empty (a non-persistent Redis after a crash), and the data provider
 * stopped for 60 s. After each, with no operator action, every worker is S_ACTIVE and computing
 * again, nothing was sent twice and nothing lost (fault-runner.ts).
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

test('Redis restarted empty', () => faults.run('redis restart', async () => {
  await f.b.redis.restart()
}))

test('the data provider stopped for 60 s', () => faults.run('data provider down 60 s', async () => {
  assert.equal(await f.b.dp.stop(), 0, 'the data provider stopped cleanly')
  await new Promise((r) => setTimeout(r, 60_000)) // the outage the issue names
  await f.b.dp.start()
}))
