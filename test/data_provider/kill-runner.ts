/**
 * Child process of kill.test.ts (and of the data-provider benchmark): runs the data provider (no
 * Walkie) against the devnet URLs given as arguments and prints one JSON line of heights (with the
 * builder's range/batch heights and the peak RSS) every 50 ms, until killed or SIGTERM.
 *   node --import tsx --import ./src/polyfill.ts test/data_provider/kill-runner.ts <relayUrl> <paraUrl> <dbPath> [parallel] [options JSON]
 */
import { createLogger } from '../../src/common/logger.js'
import { startDataProvider, type DataProviderOptions } from '../../src/data_provider/main.js'

const [relayUrl, paraUrl, dbPath, parallel, extra] = process.argv.slice(2)
if (!relayUrl || !paraUrl || !dbPath) {
  process.stderr.write('usage: kill-runner.ts <relayUrl> <paraUrl> <dbPath> [parallel] [options JSON]\n')
  process.exit(2)
}
const logger = createLogger({ level: 'error', stream: process.stderr })
const p = Number(parallel ?? '4')
const dp = await startDataProvider({
  relayUrl, paraUrl, dbPath,
  blobServer: { host: '127.0.0.1', port: 0 },
  parentParallel: p, paraParallel: p, justificationPeriod: 8, paraBatchSize: 4,
  walkie: null, targetPollMs: 100, progressLogMs: 60_000, reconnectMinMs: 50, reconnectMaxMs: 500,
  ...(extra ? (JSON.parse(extra) as Partial<DataProviderOptions>) : {}),
}, { logger })
const line = (): string => JSON.stringify({
  ...dp.info(),
  rangeHeight: dp.builderProgress()?.parentRangeHeight ?? -1,
  batchHeight: dp.builderProgress()?.paraBatchCommittedHeight ?? -1,
  t: Date.now(),
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
})
const timer = setInterval(() => process.stdout.write(line() + '\n'), 50)
process.on('SIGTERM', () => {
  clearInterval(timer)
  void dp.stop().then(() => process.exit(0))
})
