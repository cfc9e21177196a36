/** The placeholder engine of this version: enabled workers report S_IDLE saying the engine is not built; others are not run. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createEngine, ENGINE_NOT_BUILT, type EngineDeps, type WorkerView } from '../../src/lifecycle/index.js'
import { memoryLogger } from '../helpers/log.js'

test('placeholder engine: S_IDLE "worker engine not built in this version" for enabled workers only', async () => {
  const { logger, text } = memoryLogger()
  const engine = createEngine({ logger } as unknown as EngineDeps)
  const pool = { uuid: 'p', pid: '1', name: 'p', enabled: true, syncOnly: false, operatorSs58: 'x', operatorPublicKey: '0x00' }
  const w = (uuid: string, enabled: boolean): WorkerView => ({ uuid, name: uuid, endpoint: 'http://127.0.0.1:8000', stake: '1000000000000', enabled, syncOnly: false, pool })
  engine.apply([w('a', true), w('b', false)])
  assert.equal(engine.report('a')?.status, 'S_IDLE')
  assert.match(engine.report('a')!.lastMessage, new RegExp(`^\\[[^\\]]+\\] ${ENGINE_NOT_BUILT}$`))
  assert.equal(engine.report('b'), undefined)
  engine.apply([w('a', false)])
  assert.equal(engine.report('a'), undefined, 'a disabled worker is no longer run')
  assert.match(text(), /worker engine not built in this version/)
  await engine.stop()
})
