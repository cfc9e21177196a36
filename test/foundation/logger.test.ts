import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { createLogger, SecretGuard, componentLogger } from '../../src/common/logger.js'

function collect() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l: string) => l !== ''))
      cb()
    },
  })
  return { lines, stream }
}

test('JSON lines named prb, with module and component fields', () => {
  const { lines, stream } = collect()
  const root = createLogger({ level: 'info', stream }).child({ module: 'lifecycle' })
  componentLogger(root, 'runner').info({ worker: 'w1' }, 'hello')
  root.debug('not shown at info')
  assert.equal(lines.length, 1)
  const rec = JSON.parse(lines[0]!)
  assert.equal(rec.name, 'prb')
  assert.equal(rec.module, 'lifecycle')
  assert.equal(rec.component, 'runner')
  assert.equal(rec.worker, 'w1')
  assert.equal(rec.msg, 'hello')
})

test('errors are serialised with their cause and code', () => {
  const { lines, stream } = collect()
  const log = createLogger({ level: 'info', stream })
  const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  log.error({ err: new Error('fetch block 12 failed', { cause }) }, 'failed')
  const rec = JSON.parse(lines[0]!)
  assert.equal(rec.err.message, 'fetch block 12 failed')
  assert.equal(rec.err.cause.message, 'socket hang up')
  assert.equal(rec.err.cause.code, 'ECONNRESET')
})

test('the guard keeps registered secrets and secret-named fields out of every line', () => {
  const { lines, stream } = collect()
  const guard = new SecretGuard()
  const mnemonic = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk'
  guard.add(mnemonic)
  const log = createLogger({ level: 'info', stream, guard })
  log.info(`operator is ${mnemonic}`)
  log.info({ mnemonic: 'another secret phrase here' }, 'field')
  log.error({ err: new Error(`bad mnemonic "${mnemonic}"`) }, 'oops')
  log.info({ req: { owner: { mnemonic: 'nested secret words' } } }, 'request')
  const all = lines.join('\n')
  assert.ok(!all.includes(mnemonic))
  assert.ok(!all.includes('another secret phrase here'))
  assert.ok(!all.includes('nested secret words'))
  assert.equal(lines.length, 4)
  assert.match(all, /\[REDACTED\]/)
})
