/**
 * Fast sync falls back to replay, and says so: with fast sync on, a fresh worker whose pRuntime
 * cannot load chain state (its GetInfo flag is off), and one whose pRuntime refuses the state it is
 * given (LoadChainState rejected: a state of another para id), both replay every block to the head.
 * Each says why in the log and in its status (last message, details). A state that pRuntime takes
 * but that is not the block's is refused at the first dispatch after it, where pRuntime cannot go
 * back: the worker's status says so and what to do. The wrong states are real: the engine reads the
 * para state through a JSON-RPC proxy that alters state_getPairs, and the devnet pRuntime answers
 * as phactory does.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import type { SyncEngine, SyncWorkerEvent } from '../../src/lifecycle/sync/index.js'
import { PARACHAIN_ID_KEY } from '../../src/devnet/pruntime/storage-keys.js'
import { memoryLogger } from '../helpers/log.js'
import { atHead, caughtUp, describe, describeProgress, lifecycleWalkie, quiet, startDevnetWith, startEngine, startWalkieDp, waitFor, workerView, type TestDp } from './helpers.js'

const logger = quiet()
const mem = memoryLogger('info')
let dn: Devnet
let noLoad: RunningPruntimes
let loads: RunningPruntimes
let dp: TestDp
let walkie: Walkie
let engine: SyncEngine | undefined
let proxy: WebSocketServer
let proxyUrl = ''
let alteredPairs = 0
/** What the proxy changes in each state_getPairs answer: ParachainInfo.ParachainId, or a byte of the last value. */
let alter: 'paraId' | 'lastValue' = 'paraId'

/** A WebSocket JSON-RPC proxy to the devnet's para node that alters every state_getPairs answer (`alter`). */
async function startAlteringProxy(target: string): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  wss.on('connection', (client) => {
    const up = new WebSocket(target)
    const pending: string[] = []
    const pairsIds = new Set<unknown>()
    up.on('open', () => {
      for (const m of pending.splice(0)) up.send(m)
    })
    client.on('message', (data) => {
      const text = String(data)
      try {
        const m = JSON.parse(text) as { id?: unknown; method?: string }
        if (m.method === 'state_getPairs') pairsIds.add(m.id)
      } catch {
        // passed on as it is
      }
      if (up.readyState === WebSocket.OPEN) up.send(text)
      else pending.push(text)
    })
    up.on('message', (data) => {
      let text = String(data)
      const m = JSON.parse(text) as { id?: unknown; result?: Array<[string, string]> }
      if (pairsIds.has(m.id) && Array.isArray(m.result)) {
        pairsIds.delete(m.id)
        if (alter === 'paraId') {
          // Another para's state: pRuntime refuses it at once.
          const pair = m.result.find(([k]) => k.toLowerCase() === PARACHAIN_ID_KEY.toLowerCase())!
          pair[1] = '0x' + Buffer.from(new Uint32Array([Buffer.from(pair[1].slice(2), 'hex').readUInt32LE(0) + 1]).buffer).toString('hex')
        } else {
          // The last value, one byte changed: the state no longer gives the header's state root.
          const last = m.result[m.result.length - 1]!
          const v = last[1]
          last[1] = v.slice(0, -2) + (v.endsWith('00') ? '01' : '00')
        }
        alteredPairs++
        text = JSON.stringify(m)
      }
      if (client.readyState === WebSocket.OPEN) client.send(text)
    })
    client.on('close', () => up.close())
    up.on('close', () => client.close())
    up.on('error', () => client.close())
  })
  return wss
}

before(async () => {
  dn = await startDevnetWith({ history: 300 }, logger)
  noLoad = await startPruntimes({ count: 1, host: '127.0.0.1', basePort: 0, canLoadChainState: false }, logger)
  loads = await startPruntimes({ count: 2, host: '127.0.0.1', basePort: 0 }, logger)
  dp = await startWalkieDp(dn, logger)
  await waitFor(() => caughtUp(dp.dp, dn), 120_000, () => describeProgress(dp.dp, dn))
  walkie = await lifecycleWalkie([dp.dp], logger)
  proxy = await startAlteringProxy(dn.paraUrl)
  proxyUrl = `ws://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})

after(async () => {
  await engine?.stop()
  for (const c of proxy?.clients ?? []) c.terminate()
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)))
  await walkie?.stop()
  await dp?.stop()
  await noLoad?.stop()
  await loads?.stop()
  await dn?.stop()
})

test('a worker that cannot load chain state, or whose LoadChainState is rejected, replays to the head and says so', async () => {
  const events: SyncWorkerEvent[] = []
  const messageAtFallback = new Map<string, string>()
  const uuids = ['w-0', 'w-1']
  const endpoints = new Map([['w-0', noLoad.workers[0]!.endpoint], ['w-1', loads.workers[0]!.endpoint]])
  engine = startEngine(walkie, mem.logger, { disableFastSync: false, chainEndpoint: proxyUrl, fastSyncMinBlocks: 16 })
  const e = engine
  e.events.on('worker', (ev) => {
    events.push(ev)
    // The message the status shows the moment the worker decides (later status changes replace it).
    if (ev.type === 'fastSync') messageAtFallback.set(ev.uuid, e.report(ev.uuid)?.lastMessage ?? '')
  })
  const dpHead = dp.dp.info().paraProcessedHeight
  assert.ok(dpHead >= 32, `enough para blocks for fast sync to be worth it (${dpHead})`)
  e.apply([workerView(0, endpoints.get('w-0')!), workerView(1, endpoints.get('w-1')!)])
  await waitFor(() => atHead(e, uuids, dp.dp), 300_000, () => describe(e, uuids, dp.dp))

  // Both fell back and replayed from block 1: every para block reached each pRuntime by dispatch_block.
  for (const [uuid, w] of [['w-0', noLoad.workers[0]!], ['w-1', loads.workers[0]!]] as const) {
    const fs = events.filter((ev) => ev.type === 'fastSync' && ev.uuid === uuid)
    assert.equal(fs.length, 1, `${uuid}: one fast sync decision: ${JSON.stringify(fs)}`)
    assert.equal(fs[0]!.type === 'fastSync' && fs[0]!.ok, false, `${uuid} did not load a state`)
    const h = w.phactory().heights()!
    assert.equal('0x' + String(w.phactory().info().stateRoot), dn.para.chain.byNumber(h.blocknum - 1)!.header.stateRoot, `${uuid}: its state is the chain's, by replay`)
  }
  // The pRuntime without the flag was never sent a state; the other one refused the altered state.
  assert.ok(alteredPairs >= 1, 'the engine read the (altered) state through the proxy')
  const flagOff = events.find((ev) => ev.type === 'fastSync' && ev.uuid === 'w-0')!
  const rejected = events.find((ev) => ev.type === 'fastSync' && ev.uuid === 'w-1')!
  assert.match(String(flagOff.type === 'fastSync' && flagOff.message), /cannot load chain state/)
  assert.match(String(rejected.type === 'fastSync' && rejected.message), /Loading different parachain state, loading=2036, init=2035/)

  // Said in the status: the last message when it happened, and the report's details from then on.
  assert.match(messageAtFallback.get('w-0')!, /Fast sync not possible: pRuntime cannot load chain state .*replaying every block instead/)
  assert.match(messageAtFallback.get('w-1')!, /Fast sync failed \(Loading different parachain state, loading=2036, init=2035\); replaying the blocks instead/)
  assert.match(String(e.report('w-0')!.details!.fastSync), /^replayed: pRuntime cannot load chain state/)
  assert.match(String(e.report('w-1')!.details!.fastSync), /^replayed: LoadChainState failed: Loading different parachain state/)
  for (const u of uuids) assert.equal(e.report(u)!.status, 'S_SYNCHED')

  // Said in the log.
  const lines = mem.lines()
  assert.ok(lines.some((l) => l.worker === 'worker-0' && /pRuntime cannot load chain state; falling back to replaying every block/.test(l.msg)), 'log line for the flag-off worker')
  assert.ok(lines.some((l) => l.worker === 'worker-1' && /fast sync failed; falling back to replaying every block/.test(l.msg) && /Loading different parachain state/.test(l.err)), `log line for the rejected worker: ${JSON.stringify(lines.filter((l) => l.worker === 'worker-1' && /fast sync/.test(l.msg)))}`)
})

test('a loaded state that is not the block\'s is refused at the first dispatch; the status says so and what to do', async () => {
  await engine?.stop()
  alter = 'lastValue'
  const before = alteredPairs
  const w = loads.workers[1]!
  engine = startEngine(walkie, mem.logger, { disableFastSync: false, chainEndpoint: proxyUrl, fastSyncMinBlocks: 16 })
  const e = engine
  const events: SyncWorkerEvent[] = []
  e.events.on('worker', (ev) => events.push(ev))
  e.apply([workerView(2, w.endpoint)])
  const said = /The chain state loaded at para block (\d+) does not match that block's header \(StateRootMismatch block=\1 .*\); this pRuntime cannot continue: stop it, remove its data and start it again/
  await waitFor(() => said.test(e.report('w-2')?.lastMessage ?? ''), 120_000, () => describe(e, ['w-2'], dp.dp))
  assert.ok(alteredPairs > before, 'the engine read the altered state')
  const loaded = events.find((ev) => ev.type === 'fastSync')
  assert.ok(loaded && loaded.type === 'fastSync' && loaded.ok, `pRuntime took the state: ${JSON.stringify(loaded)}`)
  const h = w.phactory().heights()!
  assert.equal(h.blocknum, loaded.block + 1, 'nothing dispatched after the loaded block')
  assert.ok(h.paraHeadernum > loaded.block + 1, 'the headers to dispatch the next block are there')
  assert.equal(e.report('w-2')!.status, 'S_SYNCHING', 'not reported at the head')
})
