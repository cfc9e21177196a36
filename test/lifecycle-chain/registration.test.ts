/**
 * Registration as upstream (upstream-lifecycle.md §8.2) with PHALA_ENFORCE_MIN_BENCH_SCORE=true and a
 * PHALA_MIN_BENCH_SCORE above what the devnet's pRuntime scores: the worker registers, then waits
 * for the benchmark ("Waiting for benchmark...") and is not added to its pool; a RestartWorker
 * re-registers it because its on-chain initialScore is at or below the minimum; a
 * RefreshRaAndRestartWorker re-registers it with a fresh RA report because the operator asked.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

const MIN_SCORE = 4_000_000_000
let bed: Bed
let uuid: string
let pk: string
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')

before(async () => {
  bed = await startBed({ pruntimes: 1, pools: 1, blockMs: 1500, env: { PHALA_MIN_BENCH_SCORE: String(MIN_SCORE), PHALA_ENFORCE_MIN_BENCH_SCORE: 'true' } })
  await bed.lm.repo.createPools([{ pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } }])
  const [w] = await bed.lm.repo.createWorkers([{ pid: 0, name: 'worker-0', endpoint: bed.pr.workers[0]!.endpoint, stake: (5_000n * PHA).toString() }])
  uuid = w!.worker.uuid
  pk = bed.pr.workers[0]!.publicKey()
})

after(async () => {
  await bed?.stop()
})

const calls = async (name: string): Promise<number> => (await landedCalls(bed.api, [alice.address])).filter((c) => c.call === name).length
const score = (): number | null => ((report(bed, uuid)?.details as { onChain?: { initialScore: number | null } } | undefined)?.onChain?.initialScore) ?? null
const waiting = (): boolean => report(bed, uuid)?.status === 'S_PRE_ACTIVE' && /Waiting for benchmark\.\.\./.test(report(bed, uuid)!.lastMessage)

test('with the minimum enforced, a worker scored below it waits for the benchmark and is not added', async () => {
  await waitFor(() => waiting() && (score() ?? 0) > 0, 240_000, () => describeWorkers(bed, [uuid]))
  assert.ok(score()! <= MIN_SCORE)
  const blocks = bed.dn.para.chain.best.number + 10
  await waitFor(() => bed.dn.para.chain.best.number >= blocks, 60_000, 'ten more blocks')
  assert.equal(await calls('phalaRegistry.registerWorker'), 1, 'registered once')
  assert.equal(await calls('phalaStakePoolv2.addWorker'), 0, 'not added while the score is below the minimum')
  assert.equal((await onChain(bed.api, 0, pk)).pid, null)
  assert.ok(waiting(), describeWorkers(bed, [uuid]))
})

test('RestartWorker re-registers a worker whose initialScore is at or below PHALA_MIN_BENCH_SCORE', async () => {
  bed.lm.engine()!.restart(uuid)
  await waitFor(async () => (await calls('phalaRegistry.registerWorker')) === 2, 240_000, () => describeWorkers(bed, [uuid]))
  await waitFor(waiting, 120_000, () => describeWorkers(bed, [uuid]))
})

test('RefreshRaAndRestartWorker registers again with a fresh RA report', async () => {
  bed.lm.engine()!.restart(uuid, { refreshRa: true })
  await waitFor(async () => (await calls('phalaRegistry.registerWorker')) === 3, 240_000, () => describeWorkers(bed, [uuid]))
  await waitFor(waiting, 120_000, () => describeWorkers(bed, [uuid]))
  const blocks = bed.dn.para.chain.best.number + 10
  await waitFor(() => bed.dn.para.chain.best.number >= blocks, 60_000, 'ten more blocks')
  assert.equal(await calls('phalaRegistry.registerWorker'), 3, 'one registration per request, no more')
  const regs = (await landedCalls(bed.api, [alice.address])).filter((c) => c.call === 'phalaRegistry.registerWorker')
  assert.equal(new Set(regs.map((c) => c.argsHex)).size, 3, 'each with its own RA report')
})
