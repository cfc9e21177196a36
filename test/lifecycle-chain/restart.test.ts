/**
 * Idempotence across restarts: the lifecycle (with its built-in trader) is stopped and started
 * again on the same store and Redis twice in the middle of the chain steps (while registrations
 * are under way, then while workers are being added and started). Every worker still ends in
 * S_ACTIVE, and the chain got each registration, addWorker and startComputing exactly once: a
 * restarted lifecycle reads what is already on chain and re-attaches to the jobs still queued
 * (a registration's job id is its runtime info, not the fresh RA report).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

let bed: Bed
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')

before(async () => {
  bed = await startBed({ pruntimes: 4, pools: 2, blockMs: 1500 })
})

after(async () => {
  await bed?.stop()
})

test('a lifecycle restarted in the middle of the steps sends no registration, addWorker or startComputing twice', async () => {
  await bed.lm.repo.createPools([
    { pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } },
    { pid: 1, name: 'pool-1', owner: { mnemonic: '//Alice' } },
  ])
  const ws = await bed.lm.repo.createWorkers(bed.pr.workers.map((w, i) => ({ pid: i % 2, name: `worker-${i}`, endpoint: w.endpoint, stake: (5_000n * PHA).toString() })))
  const uuids = ws.map((w) => w.worker.uuid)

  // 1: once the first worker started its chain steps (registration under way).
  await waitFor(() => uuids.some((u) => report(bed, u)?.status === 'S_PRE_ACTIVE'), 240_000, () => describeWorkers(bed, uuids))
  await bed.restartLifecycle()
  // 2: once a worker is in its pool on chain but not every worker computes yet.
  await waitFor(async () => {
    const states = await Promise.all(bed.pr.workers.map((w, i) => onChain(bed.api, i % 2, w.publicKey())))
    return states.some((s) => s.pid !== null) && states.some((s) => s.state !== 'WorkerIdle')
  }, 240_000, () => describeWorkers(bed, uuids))
  await bed.restartLifecycle()

  await waitFor(() => uuids.every((u) => report(bed, u)?.status === 'S_ACTIVE'), 300_000, () => describeWorkers(bed, uuids))
  for (const [i, w] of bed.pr.workers.entries()) assert.equal((await onChain(bed.api, i % 2, w.publicKey())).state, 'WorkerIdle', `worker ${i} computing`)
  const calls = await landedCalls(bed.api, [alice.address])
  const seen = new Set<string>()
  const duplicates = calls.filter((c) => {
    const key = `${c.call}:${c.argsHex}`
    const dup = seen.has(key)
    seen.add(key)
    return dup
  })
  assert.deepEqual(duplicates.map((c) => c.call), [], 'no call landed twice with the same arguments')
  for (const want of ['phalaRegistry.registerWorker', 'phalaStakePoolv2.addWorker', 'phalaStakePoolv2.startComputing']) {
    assert.equal(calls.filter((c) => c.call === want).length, 4, `${want} once per worker: ${calls.map((c) => c.call).join(',')}`)
  }
})
