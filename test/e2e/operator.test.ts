/**
 * The operator's first day, end to end: every daemon its own process on the devnet, an empty
 * /var/data, and the pools and workers imported through the monitor's JSON proxy as the README's
 * import block does it. Four workers in two pools (pool 1 run by Bob as Alice's proxy, with
 * `realPhalaSs58`) end S_ACTIVE by GetWorkerStatus and computing on chain, each registered, added
 * and started exactly once, the proxied pool's calls signed by Bob inside proxy.proxy. Then the
 * operator's page goes down: kill -9 of the monitor and its restart, after which the bridge is as it
 * was (fault-runner.ts: every worker S_ACTIVE, nothing sent twice, nothing lost).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { faultRunner, kill9AndRestart } from './fault-runner.js'
import { ChainLedger, addBobAsProxy, allActive, describeStatus, importFleet, sessionsOnChain, startBridge, storeSnapshot, waitFor, workerStatus, type Bridge, type Fleet } from './harness.js'

let b: Bridge
let running: { fleet: Fleet; pubkeys: string[]; toActiveMs: number } | undefined
before(async () => {
  b = await startBridge({ pruntimes: 4 })
})
after(async () => {
  await b?.stop()
})

test('from an empty data dir to 4 workers S_ACTIVE in 2 pools (one proxied), all through the monitor', async () => {
  const mark = { start: Date.now() } as Record<string, number>
  const fleet: Fleet = await addBobAsProxy(b)
  mark.proxy = Date.now()
  await waitFor(async () => {
    const d = await b.client.discover()
    return d.lifecycleManagers.some((p) => p.peerId === b.lmPeerId) && d.dataProviders.some((p) => p.peerId === b.dpPeerId)
  }, 60_000, 'the monitor discovers the lifecycle and the data provider')
  mark.discover = Date.now()
  assert.deepEqual(await storeSnapshot(b), { pools: [], workers: [] }, 'the store starts empty')

  const answers = await importFleet(b, fleet)
  assert.equal(answers.pools.status, 200)
  assert.equal(answers.pools.body.hasError, false, JSON.stringify(answers.pools.body))
  assert.equal(answers.workers.status, 200)
  assert.equal(answers.workers.body.hasError, false, JSON.stringify(answers.workers.body))
  const store = await storeSnapshot(b)
  assert.equal(store.pools.length, 2)
  assert.equal(store.workers.length, 4)
  assert.ok(!JSON.stringify(store).includes('//Bob') && !JSON.stringify(store).includes('//Alice'), 'no mnemonic in ListPool / ListWorker')

  const t0 = Date.now()
  await waitFor(() => allActive(b, 4), 300_000, () => `all 4 workers S_ACTIVE: ${'see below'}`, 1000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${await describeStatus(b)}`)
  })
  const toActiveMs = Date.now() - t0

  const rows = await workerStatus(b)
  const byName = new Map(rows.map((r) => [r.name, r]))
  const pubkeys = ['w0', 'w1', 'w2', 'w3'].map((n) => byName.get(n)!.publicKey)
  assert.deepEqual(await sessionsOnChain(b, pubkeys, fleet.pids), ['WorkerIdle', 'WorkerIdle', 'WorkerIdle', 'WorkerIdle'], 'each worker computing on chain')

  mark.onChain = Date.now()
  const ledger = new ChainLedger(b, [fleet.alice.address, fleet.bob.address])
  const calls = await ledger.update()
  const per = ledger.perWorker()
  for (const pk of pubkeys) {
    const c = per[`0x${pk.replace(/^0x/, '')}`] ?? {}
    assert.deepEqual({ reg: c.registerWorker, add: c.addWorker, start: c.startComputing }, { reg: 1, add: 1, start: 1 }, `worker ${pk}: ${JSON.stringify(c)}`)
  }
  const bobCalls = calls.filter((c) => c.signer === fleet.bob.address).map((c) => c.call)
  assert.ok(bobCalls.includes('phalaStakePoolv2.addWorker') && bobCalls.includes('phalaStakePoolv2.startComputing'), `the proxied pool's calls are Bob's: ${bobCalls.join(',')}`)
  assert.deepEqual(ledger.duplicates(), [], 'no call landed twice')
  running = { fleet, pubkeys, toActiveMs }
  mark.ledger = Date.now()
  const phases = Object.fromEntries(Object.entries(mark).slice(1).map(([k, v], i) => [k + 'Ms', v - Object.values(mark)[i]!]))
  process.stdout.write(JSON.stringify({ e2e: 'operator', toActiveMs, calls: calls.length, phases }) + '\n')
})

test('kill -9 of the monitor, then its restart: the bridge is as it was', async () => {
  assert.ok(running, 'the first test ran')
  const faults = faultRunner({ b, ...running })
  try {
    await faults.run('kill -9 monitor', kill9AndRestart(() => b.monitor))
  } finally {
    await faults.summary('operator.test.ts')
  }
})
