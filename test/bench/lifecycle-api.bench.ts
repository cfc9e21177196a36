// The lifecycle's management API over Walkie on loopback: one CreateWorker of 500 workers (the
// issue's bound: answered in under 2 s), one UpdateWorker disabling all 500, ListWorker and
// GetWorkerStatus of 500, and a restart (store open + operator check) with 500 workers.
// Prints one JSON line; logs are off.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { quietLogger } from '../helpers/log.js'
import { lifecycleConfig, recordingEngine, startChain, startClient, startLm } from '../lifecycle/helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'prb-bench-lc-'))
const chain = await startChain()
const config = lifecycleConfig(dir, chain)
let lm = await startLm(config, quietLogger(), recordingEngine())
let client = await startClient(lm)
const call = (m: string, r: unknown) => client.call(lm.peerId, m as never, r as never) as Promise<any>
const timed = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return +(performance.now() - t0).toFixed(1)
}

await call('CreatePool', { pools: [{ pid: 1, name: 'p1', owner: { mnemonic: '//Alice' } }, { pid: 2, name: 'p2', owner: { mnemonic: '//Bob' } }] })
const workers = (prefix: string) => Array.from({ length: 500 }, (_, i) => ({ pid: 1 + (i % 2), name: `${prefix}-${i}`, endpoint: `http://10.${i >> 8}.${i & 255}.1:8000`, stake: '4000000000000000', enabled: true }))
await call('CreateWorker', { workers: workers('warm') })
const createWorker500Ms = await timed(() => call('CreateWorker', { workers: workers('bulk') }))
const list = (await call('ListWorker', {})).workers.filter((w: any) => w.name.startsWith('bulk-'))
const updateWorker500Ms = await timed(() => call('UpdateWorker', { items: list.map((w: any) => ({ id: { uuid: w.uuid }, worker: { enabled: false } })) }))
const listWorker1000Ms = await timed(() => call('ListWorker', {}))
const getWorkerStatus1000Ms = await timed(() => call('GetWorkerStatus', {}))
await client.stop()
await lm.stop()
const t0 = performance.now()
lm = await startLm(config, quietLogger(), recordingEngine())
const restartStoreMs = +(performance.now() - t0).toFixed(1)
client = await startClient(lm)
const afterRestart = (await call('ListWorker', {})).workers.length
await client.stop()
await lm.stop()
await chain.stop()
rmSync(dir, { recursive: true, force: true })
process.stdout.write(JSON.stringify({ bench: 'lifecycle-api', createWorker500Ms, updateWorker500Ms, listWorker1000Ms, getWorkerStatus1000Ms, restartStoreMs, workersAfterRestart: afterRestart, boundMs: 2000, withinBound: createWorker500Ms < 2000 }) + '\n')
