/**
 * Worker lag to the relay head near the tip, with and without live GRANDPA justifications
 * (weakness 4): devnet relay block every 200 ms, justification period 64, a set change every 200
 * blocks, the data providers' finalized-head poll at upstream's 3 s; 20 s measured after a 6 s
 * warm-up; live mode with the default liveJustificationGap (4) and with 1. Prints one JSON line: lag in blocks
 * (mean/p95/max) and per-block latency in seconds.
 */
import { quietLogger } from '../helpers/log.js'
import { measureTipLag } from '../data_provider/lag-measure.js'

const o = { blockMs: 200, justificationPeriod: 64, sessionBlocks: 200, pollMs: 3000, warmupMs: 6000, measureMs: 20_000, history: 100 }
const r = await measureTipLag(o, quietLogger())
// The same with a live justification at every finalized block (liveJustificationGap 1: 4x the DB growth).
const r1 = await measureTipLag({ ...o, liveGap: 1 }, quietLogger())
process.stdout.write(JSON.stringify({ bench: 'tip-lag', ...o, relayBlocksMeasured: r.relayBlocksMeasured, liveDefaultGap4: r.live.figures, liveGap1: r1.live.figures, storedOnly: r.storedOnly.figures }) + '\n')
