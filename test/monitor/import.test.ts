/**
 * The community's import procedure (upstream-trade-walkie-monitor.md D.5), sent with curl exactly as
 * the wiki shows it, to a monitor in front of a running (fake) lifecycle: pools and workers are
 * created, updated, deleted, restarted and kicked, and the answers have upstream's shape.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { RunningMonitor } from '../../src/monitor/index.js'
import { startFakeLifecycle, type FakeLifecycle } from './fake-lifecycle.js'
import { startTestMonitor, waitForPeer } from './helpers.js'

const run = promisify(execFile)
let lm: FakeLifecycle
let mon: RunningMonitor
before(async () => {
  lm = await startFakeLifecycle()
  mon = await startTestMonitor([lm.address])
  await waitForPeer(mon, lm.peerId)
})
after(async () => {
  await mon?.stop()
  await lm?.stop()
})

/** `curl -s -X POST <monitor>/ptp/proxy/<LM>/<method> -H 'Content-Type: application/json' -d <body>`; the raw answer. */
async function curl(method: string, body?: string): Promise<{ text: string; json: any }> {
  const args = ['-s', '-X', 'POST', `http://127.0.0.1:${mon.port}/ptp/proxy/${lm.peerId}/${method}`, '-H', 'Content-Type: application/json']
  if (body !== undefined) args.push('-d', body)
  const { stdout } = await run('curl', args, { timeout: 30_000 })
  return { text: stdout, json: JSON.parse(stdout) }
}

test('D.5: import pools and workers, list, update, restart, kick and delete with the wiki\'s curl commands', async () => {
  const mnemonic = 'legal winner thank year wave sausage worth useful legal winner thank yellow'
  const pools = await curl('CreatePool', `{"pools":[{"pid":2,"name":"test2","owner":{"mnemonic":"${mnemonic}"},"enabled":true,"realPhalaSs58":"","syncOnly":false}]}`)
  assert.equal(pools.json.hasError, false, pools.text)
  assert.equal(pools.json.data.pools[0].pid, '2')
  assert.ok(!pools.text.includes(mnemonic), 'the mnemonic does not come back')
  assert.equal([...lm.pools.values()][0]!.mnemonic, mnemonic)

  const workers = await curl('CreateWorker', '{"workers":[{"pid":2,"name":"test-node-1","endpoint":"http://10.0.0.1:8000","enabled":true,"stake":"4000000000000000","syncOnly":false},{"pid":"2","name":"test-node-2","endpoint":"http://10.0.0.2:8000","enabled":true,"stake":"4000000000000000","syncOnly":false}]}')
  // the wiki's sample answer, key for key
  assert.match(workers.text, /^\{"data":\{"workers":\[\{"uuid":"[0-9a-f-]{36}","pid":"2","name":"test-node-1","endpoint":"http:\/\/10\.0\.0\.1:8000","enabled":true,"deleted":false,"stake":"4000000000000000","syncOnly":false\},/)
  assert.match(workers.text, /\],?\}?,?"hasError":false,"meta":\{"createdAt":"\d+","requestNonce":"[0-9a-f-]{36}","nonce":"[0-9a-f-]{36}","hasError":false\}\}$/)
  assert.equal(lm.workers.size, 2)
  const [w1, w2] = workers.json.data.workers

  const status = await curl('GetWorkerStatus', '{}')
  assert.equal(status.json.data.workerStates.length, 2)
  assert.equal(status.json.data.workerStates[0].status, 'S_IDLE')

  const poolUuid = pools.json.data.pools[0].uuid
  const upd = await curl('UpdatePool', `{"items":[{"id":{"uuid":"${poolUuid}"},"pool":{"pid":2,"name":"renamed","realPhalaSs58":"","enabled":true,"syncOnly":false}}]}`)
  assert.equal(upd.json.data.pools[0].name, 'renamed')
  assert.equal(lm.pools.get(poolUuid)!.mnemonic, mnemonic, 'no owner: the operator is kept')

  const restart = await curl('RestartWorker', `{"ids":["${w1.uuid}"]}`)
  assert.equal(restart.json.hasError, false)
  assert.deepEqual(lm.calls.findLast((c) => c.method === 'RestartWorker')!.request.ids, [w1.uuid])
  const kick = await curl('KickWorker', `{"ids":["${w2.uuid}"]}`)
  assert.equal(kick.json.data.workerStates[0].status, 'S_KICKED')
  const missing = await curl('RestartWorker', '{"ids":["00000000-0000-0000-0000-000000000000"]}')
  assert.equal(missing.json.hasError, true)
  assert.deepEqual(missing.json.error, { type: 2, message: 'Worker 00000000-0000-0000-0000-000000000000 not found!' })

  const del = await curl('UpdateWorker', `{"items":[{"id":{"uuid":"${w2.uuid}"},"worker":{"deleted":true}}]}`)
  assert.equal(del.json.hasError, false)
  assert.equal(lm.workers.size, 1)
  const delPool = await curl('UpdatePool', `{"items":[{"id":{"uuid":"${poolUuid}"},"pool":{"deleted":true}}]}`)
  assert.equal(delPool.json.hasError, false)
  assert.equal(lm.pools.size, 0)

  // a list with nothing in it, and a body-less POST as scripts send it
  const none = await curl('ListPool')
  assert.equal(none.text.startsWith('{"data":{},"hasError":false,"meta":{'), true, none.text)
})
