/**
 * Weakness 4 (header latency near the tip; default liveJustificationGap 4), against a devnet making a relay block every 200 ms with
 * a justification period of 64 and a set change every 200 blocks: two data providers over the same
 * chain (finalized-head poll at upstream's 3 s), one with live GRANDPA justifications and one
 * without, each feeding its own devnet pRuntime from its blob server as the lifecycle does. With
 * live justifications the worker stays within a few blocks of the relay head; without, its lag
 * grows toward the justification period. A live justification closes dry ranges, never a window.
 * Prints the figures (test/bench/tip-lag.bench.ts prints the same as one JSON line).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { measureTipLag } from './lag-measure.js'
import { quiet } from './e2e-helpers.js'

const o = { blockMs: 200, justificationPeriod: 64, sessionBlocks: 200, pollMs: 3000, warmupMs: 6000, measureMs: 20_000, history: 100 }

test(`worker lag to the relay head with and without live justifications (blocks every ${o.blockMs} ms, justification period ${o.justificationPeriod})`, async (t) => {
  const r = await measureTipLag(o, quiet())
  const out = { ...o, relayBlocksMeasured: r.relayBlocksMeasured, live: r.live.figures, storedOnly: r.storedOnly.figures }
  t.diagnostic(JSON.stringify(out))
  const fl = r.live.figures
  const fs = r.storedOnly.figures
  assert.ok(r.relayBlocksMeasured > o.justificationPeriod, `the run covers more than one justification period (${r.relayBlocksMeasured} blocks)`)
  assert.ok(r.live.subscribed && !r.storedOnly.subscribed, 'only the live data provider subscribed')
  assert.ok(fl.liveUsed > o.justificationPeriod / 4, `live justifications used (default gap 4): ${fl.liveUsed}`)
  assert.ok(fl.lagBlocksMax < 10, `with live justifications the worker stays within 10 blocks of the head: ${JSON.stringify(fl)}`)
  assert.ok(fs.lagBlocksMax >= o.justificationPeriod * 0.75, `without, its lag grows toward the justification period: ${JSON.stringify(fs)}`)
  // The live worker crossed the set change at 200: its own light client switched sets from the digest.
  assert.ok(r.live.synced > o.sessionBlocks, `live worker synced to ${r.live.synced}`)
  for (const [name, m] of [['live', r.live], ['stored only', r.storedOnly]] as const) {
    assert.equal(m.windows[0]?.isFinished, true, `${name}: window 0 finished`)
    assert.equal(m.windows[0]?.parentStopBlock, o.sessionBlocks, `${name}: window 0 ends at the set-change block, not at a live-justified one`)
    assert.equal(m.windows[1]?.isFinished, false, `${name}: no later window ended (no set change since)`)
  }
})
