/**
 * The README's first command started again on the same data: the lifecycle's store is kept (no
 * import), the devnet's chain is new, and the same pool and workers go S_ACTIVE on it; then kill -9 of
 * the launcher: every daemon, redis-server included, stops by itself.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { alive } from './entry-process.js'
import { tempDir } from '../helpers/fs.js'
import { waitFor } from '../helpers/wait.js'
import { ctrlC, fourFreePorts, launch, pidsOf, toActive } from './bridge-on-devnet-helpers.js'

test('a later start keeps the lifecycle store: no import, the same workers S_ACTIVE again on the new devnet chain; kill -9 of the launcher leaves no process', async (t) => {
  const dir = tempDir(t, 'prb-bod-again-')
  // the stored workers' endpoints: the second devnet's pRuntimes must listen where the first ones did
  const pruntimes = { PHALA_DEVNET_PRUNTIME_PORT: String(await fourFreePorts()) }
  const first = launch(dir, pruntimes)
  t.after(() => first.kill())
  await first.line(/^imported pool 0/, 180_000)
  await ctrlC(first)

  const p = launch(dir, pruntimes)
  t.after(() => p.kill())
  const { states } = await toActive(p, t)
  assert.ok(p.lines.some((l) => l.module === 'bridge-on-devnet' && /^keeping the lifecycle store as it is: 1 pool\(s\), 4 worker\(s\)/.test(l.msg)), 'the later start kept the store')
  assert.ok(!p.lines.some((l) => l.module === 'bridge-on-devnet' && /^imported/.test(l.msg)), 'and imported nothing')
  assert.equal(states.length, 4)

  const pids = pidsOf(p.lines)
  assert.ok(pids.has('redis-server'))
  p.child.kill('SIGKILL')
  await p.exited
  // the launcher's pipe is gone with it: the daemons' exits are watched by pid
  await waitFor(() => [...pids.values()].every((pid) => !alive(pid)), 60_000, () => `daemons gone: ${JSON.stringify([...pids].map(([n, pid]) => [n, alive(pid)]))}`)
})
