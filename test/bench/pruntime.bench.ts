/**
 * pRuntime simulator benchmark (one JSON line on stdout):
 *   dispatchBlocksPerSec   one worker, bin_api dispatch_block of devnet para blocks (1 block per call,
 *                          and 20 per call), payloads prebuilt so only the worker is timed;
 *   memoryPerWorkerBytes   heap+external per initialized worker (headers synced, 40 blocks dispatched), 200 workers;
 *   getInfo p50/p99 ms     200 idle workers in one process, GetInfo round robin over keep-alive
 *                          node:http: paced at 400/s (6x the lifecycle's poll rate), and saturated
 *                          with 16 in flight (throughput). The client shares the process and its
 *                          2 cores, so these are upper bounds.
 */
import '../../src/polyfill.js'
import v8 from 'node:v8'
import vm from 'node:vm'
import { quietLogger } from '../helpers/log.js'
import { startDevnet } from '../../src/devnet/devnet.js'
import { startPruntimes } from '../../src/devnet/pruntime/index.js'
import { Feeder } from '../../src/devnet/pruntime/feeder.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'

const WORKERS = 200
const logger = quietLogger()
v8.setFlagsFromString('--expose_gc')
const gc = vm.runInNewContext('gc') as () => void

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d

const dn = await startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, blockMs: 3_600_000, history: 400, justificationPeriod: 8, sessionBlocks: 100, pools: 1 }, logger)
const feeder = await Feeder.connect(dn.relayUrl, dn.paraUrl)
try {
  // ---- payloads, built once --------------------------------------------------------------------
  const genesis = await feeder.genesis()
  const headerBodies: Uint8Array[] = []
  let next = { headernum: genesis.relayNumber + 1, paraHeadernum: 0 }
  for (;;) {
    const h = await feeder.headers(next.headernum, next.paraHeadernum)
    if (!h) break
    headerBodies.push(h.body)
    next = { headernum: h.relayTo + 1, paraHeadernum: h.paraTo + 1 }
  }
  const lastPara = next.paraHeadernum - 1
  const single: Uint8Array[] = []
  for (let n = 1; n <= lastPara; n++) single.push(await feeder.blocks(n, n))
  const batched: Uint8Array[] = []
  for (let n = 1; n <= lastPara; n += 20) batched.push(await feeder.blocks(n, Math.min(lastPara, n + 19)))

  const pr = await startPruntimes({ count: WORKERS, host: '127.0.0.1', basePort: 0 }, logger)
  try {
    const init = async (c: PruntimeClient): Promise<void> => {
      await c.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
        encodedGenesisInfo: genesis.encodedGenesisInfo,
        encodedGenesisState: genesis.encodedGenesisState,
        isParachain: true,
      })
      for (const b of headerBodies) await c.binApi('sync_combined_headers', b)
    }

    // ---- dispatch speed, one worker ------------------------------------------------------------
    const c0 = new PruntimeClient(pr.workers[0]!.endpoint)
    await init(c0)
    let t = performance.now()
    for (const b of single) await c0.binApi('dispatch_block', b)
    const singleMs = performance.now() - t
    pr.workers[0]!.crash()
    await init(c0)
    t = performance.now()
    for (const b of batched) await c0.binApi('dispatch_block', b)
    const batchedMs = performance.now() - t
    const info0 = await c0.getInfo()
    if (info0.blocknum !== lastPara + 1) throw new Error(`worker 0 dispatched to ${info0.blocknum - 1}, expected ${lastPara}`)

    // ---- memory per worker -----------------------------------------------------------------------
    gc()
    const m0 = process.memoryUsage()
    const clients = pr.workers.map((w) => new PruntimeClient(w.endpoint))
    // The other workers: synced and dispatched to para block 40 (the para state hardly grows with height).
    for (let i = 1; i < WORKERS; i++) {
      await init(clients[i]!)
      for (const b of batched.slice(0, 2)) await clients[i]!.binApi('dispatch_block', b)
    }
    gc()
    const m1 = process.memoryUsage()
    const perWorker = (m1.heapUsed + m1.external - (m0.heapUsed + m0.external)) / (WORKERS - 1)

    // ---- GetInfo latency, 200 idle workers ---------------------------------------------------------
    const lat: number[] = []
    const total = 4000
    let issued = 0
    const lane = async (): Promise<void> => {
      while (issued < total) {
        const c = clients[issued++ % WORKERS]!
        const s = performance.now()
        await c.getInfo()
        lat.push(performance.now() - s)
      }
    }
    const satStart = performance.now()
    await Promise.all(Array.from({ length: 16 }, lane)) // warm-up pass is included; 4000 calls
    const satMs = performance.now() - satStart
    lat.sort((a, b) => a - b)

    // Paced: 400 GetInfo/s spread over the 200 workers (the lifecycle polls each every 3 s, i.e. ~67/s).
    const paced: number[] = []
    const pacedTotal = 2000
    await new Promise<void>((resolve, reject) => {
      let sent = 0
      let done = 0
      const start = performance.now()
      const tick = (): void => {
        const due = Math.min(pacedTotal, Math.floor(((performance.now() - start) / 1000) * 400) + 1)
        for (; sent < due; sent++) {
          const c = clients[sent % WORKERS]!
          const s0 = performance.now()
          c.getInfo().then(() => {
            paced.push(performance.now() - s0)
            if (++done === pacedTotal) resolve()
          }, reject)
        }
        if (sent < pacedTotal) setTimeout(tick, 2)
      }
      tick()
    })
    paced.sort((a, b) => a - b)

    process.stdout.write(
      JSON.stringify({
        bench: 'pruntime',
        paraBlocks: lastPara,
        dispatchBlocksPerSec: round((lastPara / singleMs) * 1000, 1),
        dispatchBlocksPerSecBatched20: round((lastPara / batchedMs) * 1000, 1),
        workers: WORKERS,
        memoryPerWorkerBytes: Math.round(perWorker),
        rssMiB: round(m1.rss / 2 ** 20, 1),
        getInfoPacedPerSec: 400,
        getInfoP50Ms: round(pct(paced, 50)),
        getInfoP99Ms: round(pct(paced, 99)),
        getInfoMaxMs: round(paced[paced.length - 1]!),
        getInfoSaturatedInFlight: 16,
        getInfoSaturatedPerSec: round(total / (satMs / 1000), 0),
        getInfoSaturatedP50Ms: round(pct(lat, 50)),
        getInfoSaturatedP99Ms: round(pct(lat, 99)),
      }) + '\n',
    )
  } finally {
    await pr.stop()
  }
} finally {
  await feeder.disconnect()
  await dn.stop()
}
