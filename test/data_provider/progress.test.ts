/**
 * The progress line (progress.ts) with a memory logger and a hand-driven clock: written when a
 * height changes (at most every 5 s) or once a minute when idle, not every 5 s; during an outage it
 * names the chain and since when, keeps the last heights and gives no ETA (it said "caught up"
 * before, from a frozen target); an overall ETA; the DB size. Then the running data provider: its
 * progress line and Info carry the DB size.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProgressReporter, type ProgressSnapshot } from '../../src/data_provider/progress.js'
import type { InfoHeights } from '../../src/data_provider/service.js'
import { memoryLogger } from '../helpers/log.js'
import { quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

function heights(o: Partial<InfoHeights> = {}): InfoHeights {
  return {
    paraId: 2035, parentStartHeader: 0, parentTarget: 1000, parentFetchedHeight: 100, parentProcessedHeight: 100, parentCommittedHeight: 90,
    paraTarget: 500, paraFetchedHeight: 50, paraProcessedHeight: 50, paraCommittedHeight: 50, blobServerPort: 8012, dbBytes: 0, ...o,
  }
}

function snap(o: Partial<ProgressSnapshot> = {}, h: Partial<InfoHeights> = {}): ProgressSnapshot {
  return {
    heights: heights(h), status: 'S_SYHCHING', relayDone: 0, paraDone: 0, relayFailures: 0, paraFailures: 0,
    relay: { reachable: true }, para: { reachable: true }, booted: true, dbBytes: 3 * 1024 * 1024, ...o,
  }
}

function reporter() {
  const mem = memoryLogger('info')
  let now = 1_000_000
  const r = new ProgressReporter({}, { logger: mem.logger, now: () => now })
  return { r, mem, advance: (ms: number) => { now += ms }, now: () => now }
}

test('written when a height changed (at most every 5 s), else once a minute', () => {
  const { r, mem, advance } = reporter()
  assert.equal(r.tick(snap()), true, 'the first look is written')
  advance(5000)
  assert.equal(r.tick(snap()), false, 'nothing changed after 5 s: no line (one every 5 s before)')
  for (let i = 0; i < 10; i++) {
    advance(5000)
    r.tick(snap())
  }
  assert.equal(mem.lines().length, 1, 'idle for 55 s: still one line')
  advance(5000)
  assert.equal(r.tick(snap()), true, 'idle for a minute: one line')
  advance(1000)
  assert.equal(r.tick(snap({}, { parentFetchedHeight: 101 })), false, 'a change 1 s after a line waits')
  advance(4000)
  assert.equal(r.tick(snap({}, { parentFetchedHeight: 102 })), true, 'a change 5 s after a line is written')
  assert.equal(mem.lines().length, 3)
})

test('an outage: the chain and since when, the last heights, no ETA and no "caught up"; once a minute', () => {
  const { r, mem, advance, now } = reporter()
  // Caught up when the relay node went away: the frozen target equals the fetched height.
  const down = now()
  const caught = { parentFetchedHeight: 1000, parentProcessedHeight: 1000, paraFetchedHeight: 500, paraProcessedHeight: 500 }
  advance(65_000)
  const outage = snap({ status: 'S_IDLE', relay: { reachable: false, downSince: down } }, caught)
  assert.equal(r.tick(outage), true)
  for (let i = 0; i < 11; i++) {
    advance(5000)
    r.tick(outage)
  }
  const lines = mem.lines()
  assert.equal(lines.length, 1, 'one line a minute while nothing moves')
  const l = lines[0]!
  assert.equal(l.level, 40, 'a warning')
  assert.match(l.msg, new RegExp(`^sync stalled: relay chain unreachable since ${new Date(down).toISOString()} \\(65 s\\)`))
  assert.match(l.msg, /last relay block fetched 1000 \(target 1000 when last seen\), para 500/)
  assert.match(l.msg, /no ETA until it is back/)
  assert.doesNotMatch(l.msg, /caught up|ETA \d/)
  assert.equal(l.caughtUp, false)
  assert.equal(l.eta, null)
  assert.equal(l.relay.reachable, false)
  assert.equal(l.relay.downSince, new Date(down).toISOString())
  assert.equal(l.para.reachable, true)
  // Back: the change of reachability is written at once.
  advance(5000)
  assert.equal(r.tick(snap({ status: 'S_IDLE' }, caught)), true)
  assert.match(mem.lines()[1]!.msg, /^sync: relay 1000\/1000 .*overall ETA caught up/)
})

test('before the chains answer at start: says so, no ETA', () => {
  const { r, mem } = reporter()
  r.tick(snap({ booted: false, relay: { reachable: false, downSince: 1_000_000 }, para: { reachable: false, downSince: 1_000_000 } }, { parentTarget: -1, parentFetchedHeight: -1, paraTarget: -1, paraFetchedHeight: -1 }))
  assert.match(mem.lines()[0]!.msg, /^sync stalled: relay chain unreachable since .*, para chain unreachable since .*; not started syncing yet/)
})

test('the overall ETA is the later chain\'s, from the rate over the last minute; the DB size is on the line', () => {
  const { r, mem, advance } = reporter()
  r.tick(snap({ relayDone: 0, paraDone: 0 }))
  advance(10_000)
  // relay: 1000 blocks in 10 s = 100 blk/s, 400 left = 4 s; para: 50 in 10 s = 5 blk/s, 200 left = 40 s.
  r.tick(snap({ relayDone: 1000, paraDone: 50 }, { parentTarget: 1500, parentFetchedHeight: 1100, paraTarget: 300, paraFetchedHeight: 100 }))
  const l = mem.lines()[1]!
  assert.match(l.msg, /^sync: relay 1100\/1500 \(100\.0 blk\/s, ETA 4 s\), para 100\/300 \(5\.0 blk\/s, ETA 40 s\); overall ETA 40 s;/)
  assert.equal(l.eta, 40)
  assert.match(l.msg, /DB 3\.0 MiB$/)
  assert.equal(l.dbBytes, 3 * 1024 * 1024)
  // No progress for a minute and blocks left: the ETA is unknown, not a number.
  advance(61_000)
  r.tick(snap({ relayDone: 1000, paraDone: 50 }, { parentTarget: 1500, parentFetchedHeight: 1100, paraTarget: 300, paraFetchedHeight: 100 }))
  advance(61_000)
  r.tick(snap({ relayDone: 1000, paraDone: 50 }, { parentTarget: 1500, parentFetchedHeight: 1100, paraTarget: 300, paraFetchedHeight: 100 }))
  assert.match(mem.lines().at(-1)!.msg, /overall ETA unknown \(no progress over the last minute\)/)
})

test('the running data provider: its progress line and Info carry the DB size', async (t) => {
  const logger = quiet()
  const dn = await startTestDevnet({ history: 60 }, logger)
  t.after(() => dn.stop())
  const dir = tempDir()
  t.after(() => dir.remove())
  const mem = memoryLogger('info')
  const dp = await startDp(dn, dir.path, mem.logger, { progressLogMs: 200 })
  t.after(() => dp.stop())
  await dp.booted
  await waitFor(() => dp.info().dbBytes > 0, 20_000, () => `Info.dbBytes: ${JSON.stringify(dp.info())}`)
  await waitFor(() => mem.lines().some((l) => /^sync: .*overall ETA .*; DB [\d.]+ (KiB|MiB)$/.test(l.msg) && l.dbBytes > 0), 20_000, () => `a progress line with the DB size: ${mem.lines().filter((l) => /sync/.test(l.msg)).map((l) => l.msg).join('\n')}`)
})
