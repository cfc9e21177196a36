import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cleanupStack } from '../../src/common/module.js'

function recordingLog() {
  const warned: Array<{ what: unknown; msg: string }> = []
  return { warned, log: { warn: (o: { what: unknown }, msg: string) => void warned.push({ what: o.what, msg }) } as never }
}

test('cleanups run last first, each once; a failing one is logged and the rest still run', async () => {
  const { warned, log } = recordingLog()
  const ran: string[] = []
  const s = cleanupStack(log)
  s.push('a', async () => void ran.push('a'))
  s.push('b', async () => { ran.push('b'); throw new Error('boom') })
  s.push('c', async () => void ran.push('c'))
  await s.run()
  await s.run()
  assert.deepEqual(ran, ['c', 'b', 'a'])
  assert.deepEqual(warned, [{ what: 'b', msg: 'stopping b failed' }])
})

test('start(): a failed start stops what was made and is not pushed; a good one is stopped by run()', async () => {
  const { log } = recordingLog()
  const events: string[] = []
  const part = (name: string, fail: boolean) => ({
    start: async () => { events.push(`start ${name}`); if (fail) throw new Error(`${name} failed`) },
    stop: async () => void events.push(`stop ${name}`),
  })
  const s = cleanupStack(log)
  await assert.rejects(s.start('x', () => part('x', true)), /x failed/)
  const y = await s.start('y', () => part('y', false))
  assert.ok(y)
  await s.run()
  assert.deepEqual(events, ['start x', 'stop x', 'start y', 'stop y'])
})
