/**
 * Faults, one at a time, on one bridge (every daemon its own process on the devnet, 4 workers in
 * 2 pools, one proxied): kill -9 of the data provider, then of the lifecycle, each restarted (the
 * trader's is in faults-kill.test.ts: Bull takes up to a minute to hand a dead trader's jobs on;
 * the monitor's in operator.test.ts). After each, with no
 * operator action, the bridge is back to every worker S_ACTIVE and computing, nothing was sent
 * twice and nothing was lost (fault-runner.ts says how each is measured). The devnet's faults and
 * Redis are in faults-devnet.test.ts, the 60 s data provider outage in faults-outage.test.ts: one
 * bridge per file, each file within the runner's 300 s on a loaded machine.
 */
import { after, before, test } from 'node:test'
import { startFleet, type RunningFleet } from './harness.js'
import { faultRunner, kill9AndRestart, type FaultRunner } from './fault-runner.js'

let f: RunningFleet
let faults: FaultRunner

before(async () => {
  f = await startFleet(4)
  faults = faultRunner(f)
})
after(async () => {
  await faults?.summary('faults.test.ts')
  await f?.b.stop()
})

test('kill -9 of the data provider, then its restart', () => faults.run('kill -9 data_provider', kill9AndRestart(() => f.b.dp)))
test('kill -9 of the lifecycle, then its restart', () => faults.run('kill -9 lifecycle', kill9AndRestart(() => f.b.lm)))
