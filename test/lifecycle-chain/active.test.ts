/**
 * The lifecycle on the devnet with the trader built in: 4 workers in 2 pools from an empty store
 * to S_ACTIVE, each session WorkerIdle on chain with its stake; then the operator's edits carried
 * out on chain (a raised stake restarts computing, a disabled worker stops computing). The pRuntime
 * crash is in crash.test.ts (its own devnet, so each file stays within the runner's timeout).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

let bed: Bed
const uuids: string[] = []
const pubkeys: string[] = []
const pids = [0, 0, 1, 1]
const stake = 5_000n * PHA
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')

before(async () => {
  bed = await startBed({ pruntimes: 4, pools: 2 })
})

after(async () => {
  await bed?.stop()
})

test('4 workers in 2 pools: from an empty store to S_ACTIVE, each session WorkerIdle on chain', async () => {
  const repo = bed.lm.repo
  assert.equal(repo.listPools().length, 0)
  await repo.createPools([
    { pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } },
    { pid: 1, name: 'pool-1', owner: { mnemonic: '//Alice' } },
  ])
  const ws = await repo.createWorkers(bed.pr.workers.map((w, i) => ({ pid: pids[i]!, name: `worker-${i}`, endpoint: w.endpoint, stake: stake.toString() })))
  for (const w of ws) uuids.push(w.worker.uuid)
  for (const w of bed.pr.workers) pubkeys.push(w.publicKey())
  await waitFor(() => uuids.every((u) => report(bed, u)?.status === 'S_ACTIVE'), 240_000, () => describeWorkers(bed, uuids))
  for (const [i, pk] of pubkeys.entries()) {
    const s = await onChain(bed.api, pids[i]!, pk)
    assert.equal(s.state, 'WorkerIdle', `worker ${i} computing on chain`)
    assert.equal(s.stake, stake, `worker ${i} staked as configured`)
    assert.equal(s.pid, String(pids[i]))
    const r = report(bed, uuids[i]!)!
    assert.match(r.lastMessage, /Now the worker should be active\./)
    assert.notEqual(r.workerAccountId, '')
    assert.equal((JSON.parse(r.sessionInfoJson) as { state: string }).state, 'WorkerIdle')
  }
  const calls = await landedCalls(bed.api, [alice.address])
  for (const want of ['phalaRegistry.registerWorker', 'phalaStakePoolv2.addWorker', 'phalaStakePoolv2.startComputing']) {
    assert.equal(calls.filter((c) => c.call === want).length, 4, `${want} once per worker: ${calls.map((c) => c.call).join(',')}`)
  }
})

test('raising a worker\'s stake restarts it with the new stake on chain', async () => {
  assert.ok(uuids.length === 4, 'the first test ran')
  const higher = 6_000n * PHA
  await bed.lm.repo.updateWorkers([{ id: { uuid: uuids[0]! }, worker: { stake: higher.toString() } }])
  await waitFor(async () => (await onChain(bed.api, 0, pubkeys[0]!)).stake === higher, 120_000, () => describeWorkers(bed, uuids.slice(0, 1)))
  await waitFor(() => report(bed, uuids[0]!)?.status === 'S_ACTIVE', 60_000, () => describeWorkers(bed, uuids.slice(0, 1)))
  assert.equal((await onChain(bed.api, 0, pubkeys[0]!)).state, 'WorkerIdle')
  const calls = await landedCalls(bed.api, [alice.address])
  assert.equal(calls.filter((c) => c.call === 'phalaStakePoolv2.restartComputing').length, 1)
})

test('disabling a computing worker stops computing on chain', async () => {
  assert.ok(uuids.length === 4, 'the first test ran')
  await bed.lm.repo.updateWorkers([{ id: { uuid: uuids[3]! }, worker: { enabled: false } }])
  await waitFor(async () => (await onChain(bed.api, 1, pubkeys[3]!)).state === 'WorkerCoolingDown', 120_000, () => describeWorkers(bed, uuids.slice(3)))
  const calls = await landedCalls(bed.api, [alice.address])
  assert.equal(calls.filter((c) => c.call === 'phalaStakePoolv2.stopComputing').length, 1)
})
