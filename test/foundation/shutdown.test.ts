/**
 * Stopping, on the real entry (`node dist/index.js`) with real signals: a clean stop exits 0, a
 * signal during start-up still stops cleanly, a second signal exits at once, a half-started data
 * provider stops, and a daemon whose supervisor is gone stops. The two paths a real process cannot
 * be driven into on demand (a stop that fails, one that hangs) are checked on the function.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { installShutdown } from '../../src/common/shutdown.js'
import { quietLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { tempDir } from '../helpers/fs.js'
import { spawnEntry, SMALL_DEVNET } from './entry-process.js'

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} on a running devnet: a clean stop, exit 0`, async (t) => {
    const p = spawnEntry(SMALL_DEVNET)
    t.after(() => p.kill())
    await p.line(/^devnet ready/)
    p.child.kill(signal)
    assert.equal(await p.exited, 0, p.stderr())
    const shutting = await p.line(/^Shutting down;/)
    assert.equal(shutting.signal, signal)
    await p.line(/^Stopped cleanly\.$/)
    assert.ok(!p.lines.some((l) => /Second signal/.test(l.msg)))
  })
}

test('a signal during start-up: the handler is already there; the daemon stops cleanly once started, exit 0', async (t) => {
  // 1000 blocks of history take seconds: the signal lands while start() runs.
  const p = spawnEntry({ ...SMALL_DEVNET, PHALA_DEVNET_HISTORY: '1000' })
  t.after(() => p.kill())
  await p.line(/^Starting devnet/)
  p.child.kill('SIGTERM')
  await p.line(/^Shutting down during start-up/)
  assert.equal(await p.exited, 0, p.stderr())
  await p.line(/^Stopped cleanly\.$/)
})

test('a second signal exits at once with 1 (on a real process, while the first stop waits)', async (t) => {
  const p = spawnEntry({ ...SMALL_DEVNET, PHALA_DEVNET_HISTORY: '3000' })
  t.after(() => p.kill())
  await p.line(/^Starting devnet/)
  p.child.kill('SIGTERM')
  await p.line(/^Shutting down during start-up/)
  p.child.kill('SIGINT')
  assert.equal(await p.exited, 1, p.stderr())
  await p.line(/^Second signal: exiting now/)
  assert.ok(!p.lines.some((l) => /^devnet ready/.test(l.msg)), 'it did not wait for start-up to end')
})

test('a half-started data provider (its chain node unreachable, boot retrying) stops cleanly on SIGTERM', async (t) => {
  const dir = tempDir(t, 'prb-shutdown-dp-')
  const dead = await freePort()
  const p = spawnEntry({
    PHALA_MODULE: 'data_provider',
    PHALA_PARENT_CHAIN_ENDPOINT: `ws://127.0.0.1:${dead}`,
    PHALA_CHAIN_ENDPOINT: `ws://127.0.0.1:${dead}`,
    PHALA_LOCAL_DB_PATH: join(dir, 'db'),
    PHALA_PEER_ID_PREFIX: join(dir, 'keys'),
    PHALA_DATA_PROVIDER_LOCAL_SERVER: '0',
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
  })
  t.after(() => p.kill())
  await p.line(/chain not reachable; reconnecting/)
  p.child.kill('SIGTERM')
  assert.equal(await p.exited, 0, p.stderr())
  await p.line(/^data provider stopped$/)
  await p.line(/^Stopped cleanly\.$/)
})

test('started by a supervisor over IPC: when the supervisor is gone (channel closed), the daemon stops cleanly', async (t) => {
  const p = spawnEntry(SMALL_DEVNET, { ipc: true })
  t.after(() => p.kill())
  const messages: unknown[] = []
  p.child.on('message', (m) => messages.push(m))
  await p.line(/^devnet ready/)
  // the supervisor is told when a signal would stop the daemon, not kill it
  assert.deepEqual(messages, [{ prb: 'stop-handler-installed' }])
  p.child.disconnect()
  assert.equal(await p.exited, 0, p.stderr())
  assert.equal((await p.line(/^Shutting down;/)).signal, 'disconnect')
  await p.line(/^Stopped cleanly\.$/)
})

test('a module whose start gives up on the aborted ctx.signal: "Stopped during start-up", exit 0', async (t) => {
  // The real entry, with the devnet's loader swapped for a start that waits on ctx.signal.
  const modules = new URL('../../dist/modules.js', import.meta.url).href
  const entry = new URL('../../dist/index.js', import.meta.url).href
  const code = `process.argv.splice(1, Infinity, 'dist/index.js'); const m = await import(${JSON.stringify(modules)});
    m.MODULE_LOADERS.devnet = async () => (ctx) => new Promise((_, reject) => {
      const busy = setInterval(() => {}, 1000); // a start-up at work (a real one holds sockets, timers)
      ctx.signal.addEventListener('abort', () => { clearInterval(busy); reject(Object.assign(new Error('start-up aborted'), { name: 'AbortError' })) })
    });
    await import(${JSON.stringify(entry)})`
  const p = spawnEntry({ PHALA_MODULE: 'devnet' }, { script: '--input-type=module', args: ['-e', code] })
  t.after(() => p.kill())
  await p.line(/^Starting devnet/)
  p.child.kill('SIGINT')
  assert.equal(await p.exited, 0, p.stderr())
  await p.line(/^Shutting down during start-up/)
  const stopped = await p.line(/^Stopped during start-up\.$/)
  assert.equal(stopped.err?.name, 'AbortError')
})

function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

test('a stop that takes longer than the timeout exits 1, counted from when stop() begins', async () => {
  const signals = new EventEmitter()
  const exited = deferred<number>()
  const started = deferred<{ stop: () => Promise<void> }>()
  installShutdown(started.promise, { logger: quietLogger(), exit: (c) => exited.resolve(c), signals: signals as never, timeoutMs: 50 })
  signals.emit('SIGTERM')
  await new Promise((r) => setTimeout(r, 120)) // longer than the timeout, still starting: no exit yet
  let code: number | undefined
  void exited.promise.then((c) => (code = c))
  await Promise.resolve()
  assert.equal(code, undefined, 'the timeout does not run while start-up is still going')
  started.resolve({ stop: () => new Promise<void>(() => {}) })
  assert.equal(await exited.promise, 1)
})

test('a failing stop exits 1', async () => {
  const signals = new EventEmitter()
  const exited = deferred<number>()
  installShutdown({ stop: async () => { throw new Error('db close failed') } }, { logger: quietLogger(), exit: (c) => exited.resolve(c), signals: signals as never })
  signals.emit('SIGTERM')
  assert.equal(await exited.promise, 1)
})
