/**
 * The README's first command: the devnet, Redis, the data provider, the lifecycle, the trader and the
 * monitor as separate processes, the first start importing a pool and the devnet's 4 pRuntimes, the
 * workers computing on the devnet chain as the monitor's proxy and the chain both show. Ctrl-C is the
 * terminal's: SIGINT to the launcher's whole process group (npm then forwards one more to the launcher).
 * The later start (the store kept, a new chain) is in bridge-on-devnet-restart.test.ts (each file must
 * finish within the runner's 300 s).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { alive } from './entry-process.js'
import { tempDir } from '../helpers/fs.js'
import { ctrlC, launch, pidsOf, toActive } from './bridge-on-devnet-helpers.js'

test('bridge on the devnet: a pool and 4 workers imported on the first start, S_ACTIVE through the monitor and computing on chain; the board answers; Ctrl-C stops all, redis included', async (t) => {
  const dir = tempDir(t, 'prb-bod-')
  const p = launch(dir)
  t.after(() => p.kill())
  const { board, states } = await toActive(p, t)
  assert.ok(p.lines.some((l) => l.module === 'bridge-on-devnet' && /^imported pool 0 \(operator \/\/Alice\) and 4 worker\(s\)/.test(l.msg)), 'the first start imported')
  assert.deepEqual(states.map((w) => w.worker.name).sort(), ['devnet-worker-0', 'devnet-worker-1', 'devnet-worker-2', 'devnet-worker-3'])

  // the queue board of the trader daemon: the queue, with the jobs that took the workers on chain
  const api = await fetch(`${board}api/queues?activeQueue=prbmq__main&status=completed&page=1`)
  assert.equal(api.status, 200)
  const q = ((await api.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> }).queues.find((x) => x.name === 'prbmq__main')
  assert.ok(q && (q.counts.completed ?? 0) >= 1, `the board lists prbmq__main with completed jobs: ${JSON.stringify(q)}`)
  assert.match(await (await fetch(board)).text(), /<html/i)

  await ctrlC(p)
})

test('Ctrl-C while the launcher is still starting the devnet: what has started stops cleanly, exit 0', async (t) => {
  const p = launch(tempDir(t, 'prb-bod-early-'))
  t.after(() => p.kill())
  await p.line(/^started devnet$/)
  process.kill(-p.child.pid!, 'SIGINT')
  assert.equal(await p.exited, 0, p.stderr())
  assert.ok(!p.lines.some((l) => l.module === 'data_provider'), 'no daemon was started after the signal')
  assert.ok(p.lines.some((l) => l.module === 'devnet' && l.msg === 'Stopped cleanly.'))
  for (const [name, pid] of pidsOf(p.lines)) assert.equal(alive(pid), false, `${name} (${pid}) is gone`)
})

test('without redis-server the launcher says how to install it, starts nothing and exits 2', async (t) => {
  const p = launch(tempDir(t, 'prb-bod-noredis-'), { PRB_DEVNET_REDIS_SERVER: 'redis-server-that-is-not-installed' })
  t.after(() => p.kill())
  assert.equal(await p.exited, 2)
  assert.match(p.stderr(), /redis-server-that-is-not-installed was not found: the lifecycle and the trader need Redis .*apt-get install redis-server.*PRB_DEVNET_REDIS_SERVER/)
  assert.ok(!p.lines.some((l) => /^started /.test(l.msg ?? '')), 'nothing was started')
})
