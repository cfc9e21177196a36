/**
 * The README's first command stopped early: Ctrl-C while the devnet is still starting, and no
 * redis-server on the machine (a clear message, nothing started).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { alive } from './entry-process.js'
import { tempDir } from '../helpers/fs.js'
import { launch, pidsOf } from './bridge-on-devnet-helpers.js'

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
