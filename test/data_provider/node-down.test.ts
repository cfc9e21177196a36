/**
 * The chain node down for a while, not only a dropped socket: its port refuses connections, blocks
 * are made meanwhile, then it comes back on the same port. The data provider keeps retrying without
 * dying and resumes: it fetches what was made while it was down and stays consistent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { memoryLogger } from '../helpers/log.js'
import { accepts } from '../helpers/net.js'
import { startTcpProxy } from '../helpers/proxy.js'
import { caughtUp, describeProgress, quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

test('both chain nodes down (ports refusing), blocks made meanwhile, nodes back on the same ports: the data provider resumes and catches up', async (t) => {
  const dn = await startTestDevnet({ history: 30 }, quiet())
  t.after(() => dn.stop())
  const relay = await startTcpProxy(dn.relayPort)
  const para = await startTcpProxy(dn.paraPort)
  t.after(async () => {
    await relay.close()
    await para.close()
  })
  const dir = tempDir()
  t.after(() => dir.remove())
  const log = memoryLogger('info')
  const dp = await startDp(dn, dir.path, log.logger, { relayUrl: `ws://127.0.0.1:${relay.port}`, paraUrl: `ws://127.0.0.1:${para.port}` })
  t.after(() => dp.stop())
  await dp.booted
  await waitFor(() => caughtUp(dp, dn), 60_000, () => `first catch-up: ${describeProgress(dp, dn)}`)
  const connects = { relay: dp.relay.connects, para: dp.para.connects }

  await Promise.all([relay.down(), para.down()])
  assert.equal(await accepts(relay.port), false, 'the relay port refuses connections')
  assert.equal(await accepts(para.port), false, 'the para port refuses connections')
  await dn.makeBlocks(40)
  const target = dn.status()
  // Down for a while: several reconnect attempts of each chain fail.
  const failures = (chain: string) => log.lines().filter((l) => l.level === 40 && l.chain === chain && /not reachable; reconnecting/.test(l.msg)).length
  await waitFor(() => failures('relay') >= 3 && failures('para') >= 3, 60_000, () => `failed reconnects: relay ${failures('relay')}, para ${failures('para')}`)
  assert.equal(dp.relay.ready, false)
  assert.ok(dp.info().parentFetchedHeight < target.relay.finalized, 'nothing was fetched while the node was down')

  await Promise.all([relay.up(), para.up()])
  await waitFor(() => dp.relay.connects > connects.relay && dp.para.connects > connects.para, 60_000, 'reconnected to both chains')
  await waitFor(() => caughtUp(dp, dn), 60_000, () => `caught up after the outage: ${describeProgress(dp, dn)}`)
  const i = dp.info()
  assert.ok(i.parentFetchedHeight >= target.relay.finalized && i.paraFetchedHeight >= target.para.finalized, JSON.stringify(i))
  assert.ok(!log.lines().some((l) => l.level >= 60), 'no fatal line')
})
