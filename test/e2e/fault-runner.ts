/**
 * One fault at a time on a running fleet, and what it cost: the time until every worker is
 * S_ACTIVE again, fed past the chain's final block at the end of the fault, the trade jobs queued
 * by then done and every session computing on chain (WorkerIdle); transactions sent twice (a call
 * landing again with the same arguments, or a worker registered, added or started more than once);
 * data lost (ListPool / ListWorker differ before and after). Each fault prints one JSON line
 * {"e2e":"fault",...}; `summary()` one {"e2e":"faults",...} line with all of them.
 */
import assert from 'node:assert/strict'
import { ChainLedger, allActive, type Daemon, describeStatus, sampleStatus, sessionsOnChain, storeSnapshot, unfinishedJobs, waitFor, type RunningFleet, type StatusSampler } from './harness.js'

export const RECOVER_MS = 180_000

export interface FaultRunner {
  run(name: string, inject: () => Promise<void>): Promise<void>
  /** Print the summary line and stop sampling. */
  summary(file: string): Promise<void>
}

export function faultRunner(f: RunningFleet): FaultRunner {
  const { b, fleet, pubkeys } = f
  const n = pubkeys.length
  const ledger = new ChainLedger(b, [fleet.alice.address, fleet.bob.address])
  const sampler: StatusSampler = sampleStatus(b, n)
  const figures: Array<Record<string, unknown>> = []

  const extraWorkerCalls = (): string[] => {
    const per = ledger.perWorker()
    const bad: string[] = []
    for (const pk of pubkeys) {
      const c = per[`0x${pk.replace(/^0x/, '')}`] ?? {}
      for (const k of ['registerWorker', 'addWorker', 'startComputing']) if (c[k] !== 1) bad.push(`${pk.slice(0, 10)} ${k} x${c[k] ?? 0}`)
    }
    return bad
  }
  const recovered = async (paraAtLeast: number, jobs: Set<string>): Promise<boolean> => {
    if (!await allActive(b, n, paraAtLeast)) return false
    const left = await unfinishedJobs(b).catch(() => undefined)
    if (!left || left.some((j) => jobs.has(j))) return false
    // The test's own chain connection is dropped by some faults too: a read failing while it
    // reconnects means "not known yet", not a failed recovery.
    const sessions = await sessionsOnChain(b, pubkeys, fleet.pids).catch(() => undefined)
    return !!sessions && sessions.every((s) => s === 'WorkerIdle')
  }

  return {
    async run(name, inject) {
      await ledger.update()
      const storeBefore = await storeSnapshot(b)
      const callsBefore = ledger.calls.length
      const t0 = Date.now()
      await inject()
      const faultMs = Date.now() - t0
      const target = (await b.control.status()).para.finalized
      const jobs = new Set(await unfinishedJobs(b).catch(() => []))
      await waitFor(() => recovered(target, jobs), RECOVER_MS, () => `${name}: recovery (every worker S_ACTIVE, fed to para #${target}, the ${jobs.size} jobs queued done, WorkerIdle on chain)`, 1000)
        .catch(async (err: Error) => {
          throw new Error(`${err.message}: ${await describeStatus(b)}; chain ${JSON.stringify(await sessionsOnChain(b, pubkeys, fleet.pids).catch(() => null))}; jobs left ${JSON.stringify(await unfinishedJobs(b).catch(() => null))}`)
        })
      const recoverMs = Date.now() - t0
      await ledger.update()
      const twice = ledger.duplicates(callsBefore)
      const extra = extraWorkerCalls()
      const storeAfter = await storeSnapshot(b)
      const c = sampler.counts(t0)
      const fig = {
        fault: name, faultMs, recoverMs, sentTwice: twice.reduce((s, d) => s + d.times - 1, 0) + extra.length,
        dataLost: JSON.stringify(storeAfter) !== JSON.stringify(storeBefore), callsLanded: ledger.calls.length - callsBefore,
        activeFraction: c.samples ? Number((c.active / c.samples).toFixed(4)) : null, failedPolls: c.failedPolls,
      }
      figures.push(fig)
      process.stdout.write(JSON.stringify({ e2e: 'fault', ...fig }) + '\n')
      assert.deepEqual(twice, [], `${name}: calls landed twice`)
      assert.deepEqual(extra, [], `${name}: worker calls not exactly once`)
      assert.deepEqual(storeAfter, storeBefore, `${name}: the lifecycle's pools and workers changed`)

    },
    async summary(file) {
      await sampler.stop()
      const c = sampler.counts()
      process.stdout.write(JSON.stringify({
        e2e: 'faults', file, faults: figures, activeFraction: c.samples ? Number((c.active / c.samples).toFixed(4)) : null,
        peakRssKb: Object.fromEntries(b.daemons.map((d) => [d.name, d.peakRssKb()])),
      }) + '\n')
    },
  }
}

/** kill -9 of a daemon's process group, then its start (waiting for its readiness line). */
export const kill9AndRestart = (d: () => Daemon) => async (): Promise<void> => {
  await d().kill9()
  await d().start()
}
