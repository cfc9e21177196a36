/**
 * A pRuntime crash of an active worker (its chain state lost, its sealed identity kept): the
 * lifecycle syncs it again and it ends back in S_ACTIVE with no operator action and no second
 * registration on chain (upstream registered again, pRuntime's `registered` being false after a restart).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

let bed: Bed
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')

before(async () => {
  bed = await startBed({ pruntimes: 1, pools: 1 })
})

after(async () => {
  await bed?.stop()
})

test('a pRuntime crash of an active worker ends back in S_ACTIVE, with no second registration', async () => {
  await bed.lm.repo.createPools([{ pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } }])
  const [w] = await bed.lm.repo.createWorkers([{ pid: 0, name: 'worker-0', endpoint: bed.pr.workers[0]!.endpoint, stake: (5_000n * PHA).toString() }])
  const uuid = w!.worker.uuid
  const pk = bed.pr.workers[0]!.publicKey()
  await waitFor(() => report(bed, uuid)?.status === 'S_ACTIVE', 240_000, () => describeWorkers(bed, [uuid]))
  const registrations = async (): Promise<number> => (await landedCalls(bed.api, [alice.address])).filter((c) => c.call.startsWith('phalaRegistry.registerWorker')).length
  assert.equal(await registrations(), 1)
  bed.pr.workers[0]!.crash()
  await waitFor(() => report(bed, uuid)?.status !== 'S_ACTIVE', 60_000, () => describeWorkers(bed, [uuid]))
  await waitFor(() => report(bed, uuid)?.status === 'S_ACTIVE', 180_000, () => describeWorkers(bed, [uuid]))
  assert.equal((await onChain(bed.api, 0, pk)).state, 'WorkerIdle')
  assert.equal(bed.pr.workers[0]!.phactory().info().initialized, true, 'the new pRuntime was initialized again')
  assert.equal(await registrations(), 1, 'no registration after the crash')
})
