/**
 * Child process of recovery.test.ts and the benchmark: a trader (Walkie client of the given
 * lifecycle, Redis, parachain) with short Bull lock timings, until killed or SIGTERM. Prints one
 * JSON line `{"ready":true}` once accepting jobs, then its stats every 200 ms.
 *   node --import tsx --import ./src/polyfill.ts test/trade/trader-child.ts '<options JSON>'
 */
import { createChainConnection } from '../../src/common/chain.js'
import { createPoolDirectory, createTrader, loadLifecycleKey, walkiePoolSource } from '../../src/trade/index.js'
import { testLogger, traderWalkie } from './helpers.js'

interface ChildOptions {
  redisUrl: string
  paraUrl: string
  keyDir: string
  bootNode: string
  chainIdentity: string
  batchSize?: number
  batchMs?: number
  poolConcurrency?: number
}

const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions
const logger = testLogger()
const walkie = traderWalkie(o.chainIdentity, o.bootNode)
await walkie.start()
const conn = createChainConnection({ url: o.paraUrl, name: 'para', reconnect: { minMs: 50, maxMs: 500 } }, { logger })
conn.start()
const pools = createPoolDirectory({}, { source: walkiePoolSource(walkie), lifecycleKey: () => loadLifecycleKey(o.keyDir), logger })
const trader = createTrader({
  redisUrl: o.redisUrl, batchSize: o.batchSize ?? 30, batchMs: o.batchMs ?? 300, poolConcurrency: o.poolConcurrency ?? 1,
  lockDurationMs: 2000, stalledIntervalMs: 1000, progressLogMs: 0,
}, { logger, chain: conn, pools })
await trader.start()
process.stdout.write(JSON.stringify({ ready: true }) + '\n')
const timer = setInterval(() => process.stdout.write(JSON.stringify(trader.stats()) + '\n'), 200)
process.on('SIGTERM', () => {
  clearInterval(timer)
  void (async () => {
    await trader.stop()
    await conn.stop()
    await walkie.stop()
    process.exit(0)
  })()
})
