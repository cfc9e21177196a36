/** Stopping the devnet: idempotent, and every caller of stop() waits for the one shutdown. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { accepts } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'
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
