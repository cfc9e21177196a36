/**
 * A failure only the operator can fix ends in S_ERROR saying so: a pool whose operator (//Bob) is
 * not the pool owner (//Alice) on chain gets the chain's UnauthorizedPoolOwner in lastMessage, with
 * what to do, and nothing more is sent for it. The pRuntime here answers as pRuntime HEAD does
 * (WorkerRegistrationInfoV2), so the worker registers with registerWorkerV2.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

let bed: Bed
const bob = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Bob')

before(async () => {
  bed = await startBed({ pruntimes: 1, pools: 1, registrationInfoVersion: 2 })
})

after(async () => {
  await bed?.stop()
})

test('a pool whose operator is not the pool owner ends in S_ERROR with UnauthorizedPoolOwner', async () => {
  await bed.lm.repo.createPools([{ pid: 0, name: 'not-mine', owner: { mnemonic: '//Bob' } }])
  const [w] = await bed.lm.repo.createWorkers([{ pid: 0, name: 'worker-bob', endpoint: bed.pr.workers[0]!.endpoint, stake: (5_000n * PHA).toString() }])
  const uuid = w!.worker.uuid
  await waitFor(() => report(bed, uuid)?.status === 'S_ERROR', 240_000, () => describeWorkers(bed, [uuid]))
  const r = report(bed, uuid)!
  assert.match(r.lastMessage, /phalaStakePoolv2\.UnauthorizedPoolOwner/)
  assert.match(r.lastMessage, /UpdatePool/, 'says what to do')
  const pk = bed.pr.workers[0]!.publicKey()
  const s = await onChain(bed.api, 0, pk)
  assert.equal(s.registered, true, 'registered (anyone may register)')
  assert.equal(s.pid, null, 'not in the pool')
  // Blocked, not retried: a few blocks later addWorker was tried once.
  const blocks = bed.dn.para.chain.best.number + 10
  await waitFor(() => bed.dn.para.chain.best.number >= blocks, 60_000, 'ten more blocks')
  const landed = await landedCalls(bed.api, [bob.address])
  assert.equal(landed.filter((c) => c.call === 'phalaRegistry.registerWorkerV2').length, 1, `registered once with registerWorkerV2: ${landed.map((c) => c.call).join()}`)
  const adds = landed.filter((c) => c.call === 'phalaStakePoolv2.addWorker')
  assert.equal(adds.length, 1, 'addWorker sent once, not retried')
  assert.equal(report(bed, uuid)?.status, 'S_ERROR')
})
