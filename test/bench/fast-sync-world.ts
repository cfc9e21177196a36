/**
 * The fast-sync benchmark's outside world, in a worker thread (as in production, where the chain,
 * the data provider and each pRuntime are other processes and machines): a devnet with `history`
 * relay blocks (blocks only on demand), its data provider caught up, and `pruntimes` devnet
 * pRuntimes. The lifecycle's engine runs alone in the benchmark's main thread, so no other heap
 * (20,000 blocks of history) or its collections weigh on it. (The pRuntimes in a third thread were
 * slower on 2 cores: measured 0.36-0.45 s against 0.26-0.34 s for the fast run.)
 *
 * Messages: in {type: 'clear'} (forget the simulated pRuntimes' shared work) | {type: 'stop'};
 * out {type: 'ready', ...} | {type: 'cleared'} | {type: 'stopped'} | {type: 'error', message}.
 */
import '../../src/polyfill.js'
import { parentPort, workerData } from 'node:worker_threads'
import { clearSharedWork, startPruntimes } from '../../src/devnet/pruntime/index.js'
import { caughtUp, describeProgress, quiet, startDevnetWith, startWalkieDp, waitFor } from '../lifecycle-sync/helpers.js'

export interface WorldOptions {
  history: number
  pruntimes: number
  /** Relay blocks between GRANDPA justifications, the devnet's and the data provider's. */
  justificationPeriod: number
  /** Relay blocks between authority set changes. */
  sessionBlocks: number
}

export interface WorldReady {
  type: 'ready'
  paraUrl: string
  dpAddress: string
  chainIdentity: string
  endpoints: string[]
  /** The data provider's last justified relay range start (a worker at the head has synced past it). */
  parentRangeHeight: number
  paraHead: number
  dataProviderSyncMs: number
}

const port = parentPort!
const o = workerData as WorldOptions
const logger = quiet()

async function start(): Promise<() => Promise<void>> {
  const dn = await startDevnetWith({ history: o.history, justificationPeriod: o.justificationPeriod, sessionBlocks: o.sessionBlocks }, logger)
  const pr = await startPruntimes({ count: o.pruntimes, host: '127.0.0.1', basePort: 0 }, logger)
  const dp = await startWalkieDp(dn, logger, { justificationPeriod: o.justificationPeriod, liveJustifications: false, parentParallel: 64, paraParallel: 32 })
  const t0 = Date.now()
  await waitFor(() => caughtUp(dp.dp, dn), 900_000, () => describeProgress(dp.dp, dn))
  const ready: WorldReady = {
    type: 'ready', paraUrl: dn.paraUrl, dpAddress: dp.dp.walkie()!.multiaddrs()[0]!.toString(), chainIdentity: dp.dp.chainIdentity()!,
    endpoints: pr.workers.map((w) => w.endpoint), parentRangeHeight: dp.dp.builderProgress()?.parentRangeHeight ?? -1,
    paraHead: dp.dp.info()?.paraProcessedHeight ?? -1, dataProviderSyncMs: Date.now() - t0,
  }
  port.postMessage(ready)
  return async () => {
    await dp.stop()
    await pr.stop()
    await dn.stop()
  }
}

try {
  const stop = await start()
  port.on('message', (m: { type: string }) => {
    if (m.type === 'clear') {
      clearSharedWork()
      port.postMessage({ type: 'cleared' })
    } else if (m.type === 'stop') {
      void stop().then(() => {
        port.postMessage({ type: 'stopped' })
        port.close()
      })
    }
  })
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) })
}
