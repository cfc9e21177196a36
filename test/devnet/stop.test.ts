/** Stopping the devnet: idempotent, and every caller of stop() waits for the one shutdown. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { accepts } from '../helpers/net.js'
import { quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'
import { createRpcServer } from '../../src/devnet/chain/index.js'
import { RawClient, startTestDevnet } from './helpers.js'

test('a second, concurrent stop() resolves only once every server is closed; a third is a no-op', async () => {
  const dn = await startTestDevnet({ controlPort: 0, pruntimes: 1, pruntimePort: 0 })
  const ports = [dn.relayPort, dn.paraPort, dn.controlPort!, Number(new URL(dn.pruntimes!.workers[0]!.endpoint).port)]
  for (const p of ports) assert.equal(await accepts(p), true, `port ${p} is open while running`)
  const clients = [await RawClient.connect(dn.relayUrl), await RawClient.connect(dn.paraUrl)]
  await waitFor(() => dn.status().connections === 2, 5000, 'both WebSockets counted')
  const first = dn.stop()
  await dn.stop()
  assert.equal(dn.status().connections, 0, 'the second stop() resolved before the chains dropped their WebSockets')
  for (const p of ports) assert.equal(await accepts(p), false, `port ${p} is closed once the second stop() resolved`)
  await first
  await dn.stop()
  for (const c of clients) c.close()
})

test('the RPC server: a second, concurrent stop() resolves only after the first one finished', async () => {
  const server = createRpcServer({
    name: 'test', host: '127.0.0.1', port: 0, latencyMs: 0, logger: quietLogger(),
    table: { calls: new Map([['ping', () => 'pong']]), subs: new Map() },
  })
  await server.start()
  const client = await RawClient.connect(server.url)
  await waitFor(() => server.connections === 1, 5000, 'the WebSocket counted')
  let firstDone = false
  const first = server.stop().then(() => { firstDone = true })
  await server.stop()
  assert.equal(firstDone, true, 'the second stop() resolved while the first was still closing the server')
  assert.equal(await accepts(server.port), false, 'the port is closed once the second stop() resolved')
  await first
  await server.stop()
  client.close()
})
