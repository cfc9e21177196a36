/**
 * A chain node that was down for a while (not a dropped socket: nothing listens on its port) is
 * reached again within a few seconds of coming back: the reconnect backoff is capped by
 * PHALA_CHAIN_RECONNECT_MAX_MS (default 3 s; it grew to 30 s before, so a node back after 10 s
 * waited up to ~16 s more).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocketServer } from 'ws'
import { createChainConnection, DEFAULT_RECONNECT_MAX_MS } from '../../src/common/chain.js'
import { loadConfig } from '../../src/config/index.js'
import { dataProviderOptions } from '../../src/data_provider/main.js'
import { memoryLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'

function listen(port: number): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port })
    wss.once('listening', () => resolve(wss))
    wss.once('error', reject)
  })
}

function close(wss: WebSocketServer): Promise<void> {
  for (const c of wss.clients) c.terminate()
  return new Promise((resolve) => wss.close(() => resolve()))
}

test('PHALA_CHAIN_RECONNECT_MAX_MS: default 3000, parsed, and handed to the data provider', () => {
  assert.equal(DEFAULT_RECONNECT_MAX_MS, 3000)
  assert.equal(dataProviderOptions(loadConfig('data_provider', {}).config).reconnectMaxMs, 3000)
  assert.equal(dataProviderOptions(loadConfig('data_provider', { PHALA_CHAIN_RECONNECT_MAX_MS: '1500' }).config).reconnectMaxMs, 1500)
  assert.throws(() => loadConfig('data_provider', { PHALA_CHAIN_RECONNECT_MAX_MS: '10' }), /PHALA_CHAIN_RECONNECT_MAX_MS="10" is invalid: expected an integer from 100 to 600000 \(ms\)/)
})

test('a node down for ~10 s is reached again within a few seconds of coming back (default cap)', async (t) => {
  const port = await freePort()
  let wss = await listen(port)
  const mem = memoryLogger('info')
  const chain = createChainConnection({ url: `ws://127.0.0.1:${port}`, name: 'relay' }, { logger: mem.logger })
  t.after(async () => {
    await chain.stop()
    await close(wss)
  })
  chain.start()
  await chain.whenReady({ timeoutMs: 10_000 })
  const connects = chain.connects

  // The node goes away: nothing listens on the port until it comes back.
  await close(wss)
  const attempts = (): Array<{ attempt: number; delayMs: number }> => mem.lines().filter((l) => typeof l.delayMs === 'number' && l.chain === 'relay') as never
  // Attempt 6 is scheduled after ~0.5+1+2+3+3 s down; uncapped (30 s) its delay would be 16 s.
  await waitFor(() => attempts().some((a) => a.attempt >= 6), 30_000, () => `six failed attempts: ${JSON.stringify(attempts())}`)
  for (const a of attempts()) assert.ok(a.delayMs <= DEFAULT_RECONNECT_MAX_MS, `attempt ${a.attempt} waits ${a.delayMs} ms, above the cap`)

  wss = await listen(port)
  const back = Date.now()
  await waitFor(() => chain.connects > connects, 15_000, 'reconnected')
  const took = Date.now() - back
  // The cap plus the WebSocket handshake on a loaded machine.
  assert.ok(took <= DEFAULT_RECONNECT_MAX_MS + 2000, `reconnected ${took} ms after the node came back`)
  assert.ok(mem.lines().some((l) => /relay chain reconnected/.test(String(l.msg))), 'the reconnect is logged')
})
