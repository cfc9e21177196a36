/**
 * Operator intent carried out on chain (beyond upstream): a computing worker moved to another pool
 * leaves the old pool on chain (stopComputing, the cool-down, reclaimPoolWorker, removeWorker) and
 * computes in the new one; a deleted computing worker and a kicked one stop computing on chain.
 * The devnet's cool-down is 6 s of chain time here (7 days on Khala), so the wait is exercised.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

let bed: Bed
const uuids: string[] = []
const pubkeys: string[] = []
const stake = 5_000n * PHA
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')

before(async () => {
  bed = await startBed({ pruntimes: 3, pools: 2, blockMs: 1000, coolDownPeriodSecs: 6 })
  await bed.lm.repo.createPools([
    { pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } },
    { pid: 1, name: 'pool-1', owner: { mnemonic: '//Alice' } },
  ])
  const ws = await bed.lm.repo.createWorkers(bed.pr.workers.map((w, i) => ({ pid: 0, name: `worker-${i}`, endpoint: w.endpoint, stake: stake.toString() })))
  for (const w of ws) uuids.push(w.worker.uuid)
  for (const w of bed.pr.workers) pubkeys.push(w.publicKey())
  await waitFor(() => uuids.every((u) => report(bed, u)?.status === 'S_ACTIVE'), 240_000, () => describeWorkers(bed, uuids))
})

after(async () => {
  await bed?.stop()
})

const count = async (call: string, pubkey: string): Promise<number> =>
  (await landedCalls(bed.api, [alice.address])).filter((c) => c.call === call && c.argsHex.includes(pubkey.slice(2))).length

test('a computing worker moved to another pool leaves the old pool on chain and computes in the new one', async () => {
  const pk = pubkeys[0]!
  assert.equal((await onChain(bed.api, 0, pk)).state, 'WorkerIdle')
  await bed.lm.repo.updateWorkers([{ id: { uuid: uuids[0]! }, worker: { pid: 1 } }])
  await waitFor(async () => (await onChain(bed.api, 1, pk)).state === 'WorkerIdle', 180_000, () => describeWorkers(bed, uuids.slice(0, 1)))
  await waitFor(() => report(bed, uuids[0]!)?.status === 'S_ACTIVE', 60_000, () => describeWorkers(bed, uuids.slice(0, 1)))
  const s = await onChain(bed.api, 1, pk)
  assert.equal(s.pid, '1', 'assigned to the new pool')
  assert.equal(s.stake, stake)
  const binding = (await bed.api.query.phalaComputation.workerBindings(pk)).toJSON() as string | null
  assert.ok(binding, 'bound to a session')
  for (const call of ['phalaStakePoolv2.stopComputing', 'phalaStakePoolv2.reclaimPoolWorker', 'phalaStakePoolv2.removeWorker']) {
    assert.equal(await count(call, pk), 1, `${call} once`)
  }
  assert.equal(await count('phalaStakePoolv2.addWorker', pk), 2, 'added to pool 0, then to pool 1')
  assert.equal(await count('phalaStakePoolv2.startComputing', pk), 2, 'started in pool 0, then in pool 1')
  const pool0 = (await bed.api.query.phalaBasePool.pools(0)).toJSON() as { stakePool?: { workers: string[]; cdWorkers: string[] } }
  assert.ok(!pool0.stakePool?.workers.includes(pk), 'not in the old pool\'s workers')
})

test('deleting a computing worker stops computing on chain', async () => {
  const pk = pubkeys[1]!
  await bed.lm.repo.updateWorkers([{ id: { uuid: uuids[1]! }, worker: { deleted: true } }])
  await waitFor(async () => (await onChain(bed.api, 0, pk)).state === 'WorkerCoolingDown', 120_000, () => describeWorkers(bed, uuids.slice(1, 2)))
  assert.equal(await count('phalaStakePoolv2.stopComputing', pk), 1)
})

test('a kicked worker stops computing on chain', async () => {
  const pk = pubkeys[2]!
  assert.equal((await onChain(bed.api, 0, pk)).state, 'WorkerIdle')
  bed.lm.engine()!.kick(uuids[2]!)
  await waitFor(async () => (await onChain(bed.api, 0, pk)).state === 'WorkerCoolingDown', 120_000, () => describeWorkers(bed, uuids.slice(2)))
  await waitFor(() => report(bed, uuids[2]!)?.status === 'S_KICKED', 60_000, () => describeWorkers(bed, uuids.slice(2)))
  assert.equal(await count('phalaStakePoolv2.stopComputing', pk), 1)
})
