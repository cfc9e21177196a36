/**
 * The README's "Importing pools and workers" block, run as written with bash and curl against a real
 * lifecycle (its store, keys and Walkie API) behind a real monitor: every answer is upstream's
 * `{data, hasError: false}` and the lifecycle's store ends as the block says.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mnemonicGenerate, cryptoWaitReady } from '@polkadot/util-crypto'
import { tempDir } from '../helpers/fs.js'
import { readmeImportBlock } from '../helpers/readme.js'
import { quietLogger } from '../helpers/log.js'
import { lifecycleConfig, recordingEngine, startChain, startLm } from '../lifecycle/helpers.js'
import { startTestMonitor, waitForPeer } from './helpers.js'

const run = promisify(execFile)

test('the README\'s import block, as written, on a real lifecycle through the monitor', async (t) => {
  await cryptoWaitReady()
  const dir = tempDir(t, 'prb-readme-import-')
  const chain = await startChain()
  t.after(() => chain.stop())
  const engine = recordingEngine()
  const lm = await startLm(lifecycleConfig(dir, chain), quietLogger(), engine)
  t.after(() => lm.stop())
  await lm.booted
  const mon = await startTestMonitor([lm.walkie()!.multiaddrs()[0]!.toString()])
  t.after(() => mon.stop())
  await waitForPeer(mon, lm.peerId)

  const mnemonic = mnemonicGenerate(12)
  const block = readmeImportBlock()
    .replace('http://127.0.0.1:3000', `http://127.0.0.1:${mon.port}`)
    .replace('<lifecycle peer id>', lm.peerId)
    .replace('<12 or 24 words>', mnemonic)
  // one answer a line: curl prints none after its JSON
  const script = `set -eu\ncurl() { command curl "$@"; echo; }\n${block}`
  const { stdout } = await run('bash', ['-c', script], { timeout: 60_000 })
  const answers = stdout.trim().split('\n').map((l) => JSON.parse(l) as { hasError: boolean; error?: unknown; data?: any })
  assert.equal(answers.length, 6, stdout)
  for (const [i, a] of answers.entries()) assert.equal(a.hasError, false, `answer ${i}: ${JSON.stringify(a)}`)
  const [pools, workers, disabled, status] = answers
  assert.equal(pools!.data.pools[0].pid, '2')
  assert.equal(pools!.data.pools[0].name, 'pool-2')
  assert.ok(!stdout.includes(mnemonic), 'the mnemonic never comes back')
  assert.equal(workers!.data.workers[0].stake, '4000000000000000')
  assert.equal(disabled!.data.workers[0].enabled, false)
  assert.equal(status!.data.workerStates[0].status, 'S_IDLE', 'a disabled worker reports S_IDLE')
  assert.deepEqual(engine.last(), [], 'the engine was told the worker and the pool are gone')

  const list = await fetch(`http://127.0.0.1:${mon.port}/ptp/proxy/${lm.peerId}/ListPool`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const listed = await list.json() as { data: { pools?: unknown[] } }
  assert.deepEqual(listed.data.pools ?? [], [], 'the pool is deleted')
})
