/**
 * The README's first command, small: the devnet plus every built daemon, as separate processes.
 * The launcher runs in its own process group, as a terminal's foreground job does, and Ctrl-C is
 * the terminal's: SIGINT to the whole group (npm then forwards one more to the launcher).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { alive, spawnEntry } from './entry-process.js'
import { tempDir } from '../helpers/fs.js'
import { waitFor } from '../helpers/wait.js'

function launch(dataDir: string) {
  return spawnEntry({
    PRB_DEVNET_DATA_DIR: dataDir,
    PRB_DEVNET_BLOB_PORT: '0',
    PRB_DEVNET_DP_WALKIE_PORT: '0',
    PHALA_DEVNET_PARA_PORT: '0',
    PHALA_DEVNET_RELAY_PORT: '0',
    PHALA_DEVNET_CONTROL_PORT: '0',
    PHALA_DEVNET_PRUNTIME_PORT: '0',
    PHALA_DEVNET_PRUNTIMES: '1',
    PHALA_DEVNET_HISTORY: '60',
    PHALA_DEVNET_BLOCK_MS: '60000',
  }, { script: 'scripts/bridge-on-devnet.mjs', detached: true })
}

const pidsOf = (lines: Array<Record<string, any>>): Map<string, number> =>
  new Map(lines.filter((l) => l.module === 'bridge-on-devnet' && /^started /.test(l.msg)).map((l) => [l.daemon, l.pid]))

const index = (lines: Array<Record<string, any>>, pred: (l: Record<string, any>) => boolean): number => lines.findIndex(pred)

test('bridge on the devnet: the data provider catches up; Ctrl-C (SIGINT to the group) stops every daemon cleanly, in reverse order, exit 0', async (t) => {
  const p = launch(tempDir(t, 'prb-bod-'))
  t.after(() => p.kill())
  const caughtUp = (l: Record<string, any>) => l.module === 'data_provider' && l.relay && l.relay.target >= 60 && l.relay.processed === l.relay.target
  // the progress line comes every 5 s; 120 s covers a loaded machine
  await waitFor(() => p.lines.some(caughtUp) || p.child.exitCode !== null, 120_000, () => `the data provider catches up: ${JSON.stringify(p.lines.slice(-3))}`)
  assert.ok(p.lines.some(caughtUp), `launcher exited early: ${p.stderr()}`)
  const pids = pidsOf(p.lines)
  assert.deepEqual([...pids.keys()], ['devnet', 'data_provider'])

  process.kill(-p.child.pid!, 'SIGINT') // the terminal: the whole foreground group
  p.child.kill('SIGINT') // npm forwards the terminal's signal to its script once more
  assert.equal(await p.exited, 0, p.stderr())

  const lines = p.lines
  const cleanStop = (m: string) => index(lines, (l) => l.module === m && l.msg === 'Stopped cleanly.')
  assert.ok(cleanStop('data_provider') >= 0, 'the data provider stopped cleanly')
  assert.ok(cleanStop('devnet') > cleanStop('data_provider'), 'the devnet stopped last')
  assert.ok(index(lines, (l) => l.module === 'devnet' && /^Shutting down/.test(l.msg)) > cleanStop('data_provider'), 'the devnet was asked to stop only after the data provider had stopped')
  assert.ok(!lines.some((l) => /Second signal/.test(l.msg)), 'no daemon took a second signal')
  for (const m of ['devnet', 'data_provider']) {
    const signals = lines.filter((l) => l.module === m && /^Shutting down/.test(l.msg)).map((l) => l.signal)
    assert.deepEqual(signals, ['SIGTERM'], `${m} got one signal, the launcher's`)
  }
  for (const [name, pid] of pids) assert.equal(alive(pid), false, `${name} (${pid}) is gone`)
})

test('Ctrl-C while the launcher is still starting the devnet: what has started stops cleanly, exit 0', async (t) => {
  const p = launch(tempDir(t, 'prb-bod-early-'))
  t.after(() => p.kill())
  await p.line(/^started devnet$/)
  process.kill(-p.child.pid!, 'SIGINT')
  assert.equal(await p.exited, 0, p.stderr())
  assert.ok(!p.lines.some((l) => l.module === 'data_provider'), 'no daemon was started after the signal')
  assert.ok(p.lines.some((l) => l.module === 'devnet' && l.msg === 'Stopped cleanly.'))
  assert.equal(alive(pidsOf(p.lines).get('devnet')!), false)
})

test('kill -9 of the launcher: its daemons see their supervisor gone and stop cleanly by themselves', async (t) => {
  const p = launch(tempDir(t, 'prb-bod-kill-'))
  t.after(() => p.kill())
  await p.line(/^bridge running on the devnet/, 120_000)
  const pids = pidsOf(p.lines)
  p.child.kill('SIGKILL')
  await p.exited
  // the launcher's pipe is gone with it: the daemons' exits are watched by pid
  await waitFor(() => [...pids.values()].every((pid) => !alive(pid)), 30_000, () => `daemons gone: ${JSON.stringify([...pids].map(([n, pid]) => [n, alive(pid)]))}`)
})
