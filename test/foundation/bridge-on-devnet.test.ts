/**
 * The README's first command: the devnet, Redis, the data provider, the lifecycle, the trader and the
 * monitor as separate processes, the first start importing a pool and the devnet's 4 pRuntimes, the
 * workers computing on the devnet chain as the monitor's proxy and the chain both show. Ctrl-C is the
 * terminal's: SIGINT to the launcher's whole process group (npm then forwards one more to the launcher).
 * The later start (the store kept, a new chain) is in bridge-on-devnet-restart.test.ts, the quick stops
 * in bridge-on-devnet-stop.test.ts (each file must finish within the runner's 300 s).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tempDir } from '../helpers/fs.js'
import { ctrlC, launch, toActive } from './bridge-on-devnet-helpers.js'

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
