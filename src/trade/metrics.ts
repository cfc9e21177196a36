/**
 * The trader's Prometheus series, read at scrape time from the trader's own counters and lanes and
 * from the Bull queue in Redis (the queue is shared by every trader, so its counts are the bridge's):
 * jobs by state and action, jobs this trader finished, extrinsics sent, each operator's next nonce
 * and extrinsics (batches) in flight. The trade daemon serves them; the lifecycle adds them to its
 * own /metrics when it runs the trader itself (USE_BUILT_IN_TRADER).
 */
import type { Metrics } from '../common/metrics.js'
import type { Trader } from './trader.js'

/** Queue states read by action; completed and failed hold the jobs kept (PHALA_TRADE_KEEP_JOBS). */
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const
/** Jobs read per state for the action breakdown (the per-state totals are exact whatever the count). */
const BY_ACTION_LIMIT = 5000

interface QueueSnapshot {
  counts: Record<string, number>
  byAction: Array<{ state: string; action: string; n: number }>
}

/** `trader()` may be undefined (the lifecycle's trader starts with its engine): no trade series then. */
export function registerTradeMetrics(m: Metrics, trader: () => Trader | undefined): void {
  const registers = [m.registry]
  let cached: { at: number; p: Promise<QueueSnapshot | undefined> } | undefined
  // One Redis read per scrape, whichever series asks first.
  const snapshot = (): Promise<QueueSnapshot | undefined> => {
    const now = Date.now()
    if (cached && now - cached.at < 1000) return cached.p
    const t = trader()
    const p = t ? readQueue(t) : Promise.resolve(undefined)
    cached = { at: now, p }
    return p
  }

  new m.Gauge({
    name: 'prb_trade_queue_jobs',
    help: 'jobs of the trade queue prbmq__main by state (completed and failed: those kept, PHALA_TRADE_KEEP_JOBS)',
    labelNames: ['state'],
    registers,
    async collect() {
      this.reset()
      const s = await snapshot()
      if (s) for (const state of STATES) this.set({ state }, s.counts[state] ?? 0)
    },
  })
  new m.Gauge({
    name: 'prb_trade_jobs',
    help: `jobs of the trade queue by state and action (at most the ${BY_ACTION_LIMIT} newest of each state)`,
    labelNames: ['state', 'action'],
    registers,
    async collect() {
      this.reset()
      const s = await snapshot()
      if (s) for (const r of s.byAction) this.set({ state: r.state, action: r.action }, r.n)
    },
  })
  new m.Counter({
    name: 'prb_trade_jobs_processed_total',
    help: 'jobs this trader finished since start, by outcome',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset()
      const st = trader()?.stats()
      if (!st) return
      this.inc({ outcome: 'completed' }, st.done)
      this.inc({ outcome: 'failed' }, st.failed)
    },
  })
  new m.Gauge({
    name: 'prb_trade_jobs_running',
    help: 'jobs this trader is working on',
    registers,
    collect() {
      this.set(trader()?.stats().running ?? 0)
    },
  })
  new m.Gauge({
    name: 'prb_trade_calls_waiting',
    help: 'calls waiting to be put in a batch (PHALA_TRADE_BATCH_SIZE / PHALA_TRADE_BATCH_MS)',
    registers,
    collect() {
      this.set(trader()?.stats().waiting ?? 0)
    },
  })
  new m.Counter({
    name: 'prb_trade_calls_finalized_total',
    help: 'calls whose extrinsic was finalized, since start',
    registers,
    collect() {
      this.reset()
      this.inc(trader()?.stats().callsFinalized ?? 0)
    },
  })
  new m.Counter({
    name: 'prb_trade_extrinsics_sent_total',
    help: 'extrinsics (one utility.forceBatch each) sent since start, by operator',
    labelNames: ['operator'],
    registers,
    collect() {
      this.reset()
      for (const o of trader()?.operators() ?? []) this.inc({ operator: o.address }, o.sent)
    },
  })
  new m.Gauge({
    name: 'prb_trade_extrinsics_in_flight',
    help: 'extrinsics (batches) sent and not yet finalized or dropped, by operator',
    labelNames: ['operator'],
    registers,
    collect() {
      this.reset()
      for (const o of trader()?.operators() ?? []) this.set({ operator: o.address }, o.inFlight)
    },
  })
  new m.Gauge({
    name: 'prb_trade_next_nonce',
    help: 'the nonce the next extrinsic of each operator takes (absent until the lane has read the chain)',
    labelNames: ['operator'],
    registers,
    collect() {
      this.reset()
      for (const o of trader()?.operators() ?? []) if (o.nextNonce >= 0) this.set({ operator: o.address }, o.nextNonce)
    },
  })
}

/** A scrape must answer even while Redis does not (ioredis queues commands until it reconnects). */
const QUEUE_READ_TIMEOUT_MS = 3000

async function readQueue(t: Trader): Promise<QueueSnapshot | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), QUEUE_READ_TIMEOUT_MS)
  })
  try {
    return await Promise.race([readQueueNow(t), late])
  } finally {
    clearTimeout(timer)
  }
}

async function readQueueNow(t: Trader): Promise<QueueSnapshot | undefined> {
  try {
    const counts = (await t.queue.getJobCounts()) as unknown as Record<string, number>
    const byAction: QueueSnapshot['byAction'] = []
    await Promise.all(STATES.map(async (state) => {
      if (!counts[state]) return
      const jobs = await t.queue.getJobs([state], 0, BY_ACTION_LIMIT - 1)
      const n = new Map<string, number>()
      for (const j of jobs) {
        // A job removed between the listing and the read comes back null.
        const action = (j?.data as { action?: unknown } | undefined)?.action
        if (typeof action === 'string') n.set(action, (n.get(action) ?? 0) + 1)
      }
      for (const [action, k] of n) byAction.push({ state, action, n: k })
    }))
    return { counts, byAction }
  } catch {
    // Redis away: the queue series are left out of this scrape; the in-process ones still answer.
    return undefined
  }
}
