import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import { installShutdown } from '../../src/common/shutdown.js'
import { createLogger } from '../../src/common/logger.js'

function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

const quiet = createLogger({ level: 'fatal', stream: new Writable({ write: (_c, _e, cb) => cb() }) })

test('a signal stops the module once and exits 0', async () => {
  const signals = new EventEmitter()
  let stops = 0
  const exited = deferred<number>()
  installShutdown({ stop: async () => void stops++ }, { logger: quiet, exit: (c) => exited.resolve(c), signals: signals as never })
  signals.emit('SIGTERM')
  assert.equal(await exited.promise, 0)
  assert.equal(stops, 1)
})

test('a second signal exits at once with 1', async () => {
  const signals = new EventEmitter()
  const codes: number[] = []
  const never = deferred<void>()
  installShutdown({ stop: () => never.promise }, { logger: quiet, exit: (c) => codes.push(c), signals: signals as never })
  signals.emit('SIGINT')
  assert.deepEqual(codes, [])
  signals.emit('SIGINT')
  assert.deepEqual(codes, [1])
  never.resolve()
})

test('a stop that takes longer than the timeout exits 1', async () => {
  const signals = new EventEmitter()
  const exited = deferred<number>()
  installShutdown({ stop: () => new Promise<void>(() => {}) }, { logger: quiet, exit: (c) => exited.resolve(c), signals: signals as never, timeoutMs: 50 })
  signals.emit('SIGTERM')
  assert.equal(await exited.promise, 1)
})

test('a failing stop exits 1', async () => {
  const signals = new EventEmitter()
  const exited = deferred<number>()
  installShutdown({ stop: async () => { throw new Error('db close failed') } }, { logger: quiet, exit: (c) => exited.resolve(c), signals: signals as never })
  signals.emit('SIGTERM')
  assert.equal(await exited.promise, 1)
})
