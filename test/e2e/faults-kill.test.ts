/**
 * Faults, one at a time, on one bridge (every daemon its own process on the devnet, 4 workers in
 * 2 pools, one proxied): kill -9 of the trader, then its restart (the other daemons' are in
 * faults.test.ts). After each, with no
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
  await faults?.summary('faults-kill.test.ts')
  await f?.b.stop()
})

test('kill -9 of the trader, then its restart', () => faults.run('kill -9 trade', kill9AndRestart(() => f.b.trade)))
