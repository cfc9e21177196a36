/**
 * Walkie start/stop: stop() during a start leaves nothing listening; a failed start can be retried
 * on the same node; concurrent start() calls share one start; stop() is idempotent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { accepts } from '../helpers/net.js'
import { createWalkie, WalkieError, type WalkieInit } from '../../src/walkie/index.js'
import { quietLogger } from '../helpers/log.js'
import { FAST } from './helpers.js'

/** A port something listens on (to make Walkie's listen fail), and a way to free it. */
async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return { port: (server.address() as AddressInfo).port, server }
}

const init = (port: number): WalkieInit => ({
  role: 'WR_DATA_PROVIDER_INT', chainIdentity: '0xc1', bridgeIdentity: 'default', identity: { ephemeral: true },
  ...FAST, listenAddresses: [`/ip4/127.0.0.1/tcp/${port}`],
})

test('stop() during start(): once both settle, nothing listens on the port', async () => {
  const { port, server } = await occupy()
  await new Promise<void>((r) => server.close(() => r()))
  const w = createWalkie(init(port), { logger: quietLogger() })
  const started = w.start()
  const stopped = w.stop()
  await Promise.allSettled([started, stopped])
  await stopped
  assert.equal(await accepts(port), false, 'a node started after stop() began was left listening')
  await assert.rejects(w.start(), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_STOPPED')
})

test('a failed start (port taken) can be retried on the same node once the port is free; concurrent starts share one', async () => {
  const { port, server } = await occupy()
  const w = createWalkie(init(port), { logger: quietLogger() })
  try {
    await assert.rejects(w.start())
    await new Promise<void>((r) => server.close(() => r()))
    const [a, b] = [w.start(), w.start()]
    assert.equal(a, b, 'concurrent start() calls share one promise')
    await a
    assert.equal(await accepts(port), true, 'the retried start listens')
    assert.ok(w.multiaddrs().some((m) => m.includes(`/tcp/${port}`)))
  } finally {
    await w.stop()
    await w.stop()
  }
  assert.equal(await accepts(port), false)
})
