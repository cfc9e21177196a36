import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { backoffDelay, retry, sleep, sleepUntilReconnected, AbortedError } from '../../src/common/retry.js'

test('backoff grows exponentially up to the cap, with bounded jitter', () => {
  const noJitter = { minMs: 100, maxMs: 1000, jitter: 0 }
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, noJitter)), [100, 200, 400, 800, 1000, 1000])
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(3, { minMs: 100, maxMs: 1000, jitter: 0.5 })
    assert.ok(d >= 200 && d <= 400, String(d))
  }
})

test('retry succeeds after failures and gives up after maxAttempts', async () => {
  let calls = 0
  const v = await retry(async () => {
    if (++calls < 3) throw new Error('flaky')
    return 'ok'
  }, { what: 'test', minMs: 1, maxMs: 2 })
  assert.equal(v, 'ok')
  assert.equal(calls, 3)
  calls = 0
  await assert.rejects(retry(async () => { calls++; throw new Error('always') }, { what: 'test', minMs: 1, maxMs: 2, maxAttempts: 4 }), /always/)
  assert.equal(calls, 4)
})

test('retry stops on a non-retryable error and when aborted', async () => {
  let calls = 0
  await assert.rejects(retry(async () => { calls++; throw new Error('fatal') }, { what: 't', minMs: 1, retryable: () => false }), /fatal/)
  assert.equal(calls, 1)
  const ac = new AbortController()
  const p = retry(async () => { throw new Error('down') }, { what: 't', minMs: 10_000, signal: ac.signal })
  setImmediate(() => ac.abort())
  await assert.rejects(p, AbortedError)
  await assert.rejects(sleep(10_000, AbortSignal.abort()), AbortedError)
})

test('a backoff wait ends when the chain reconnects, leaves no listener behind, and still aborts', async () => {
  const events = new EventEmitter()
  const t0 = Date.now()
  const waiting = sleepUntilReconnected(60_000, events)
  assert.equal(events.listenerCount('connected'), 1)
  events.emit('connected')
  await waiting
  assert.ok(Date.now() - t0 < 5_000, 'woke on connected, not after the 60 s backoff')
  assert.equal(events.listenerCount('connected'), 0)
  // A short sleep ending on time also removes its listener.
  await sleepUntilReconnected(5, events)
  assert.equal(events.listenerCount('connected'), 0)
  const ac = new AbortController()
  const aborted = sleepUntilReconnected(60_000, events, ac.signal)
  ac.abort()
  await assert.rejects(aborted, AbortedError)
  assert.equal(events.listenerCount('connected'), 0)
  // Without events it is a plain sleep.
  await sleepUntilReconnected(5, undefined)
})
