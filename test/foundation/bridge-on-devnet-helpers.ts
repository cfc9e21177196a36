/**
 * Running the README's first command (scripts/bridge-on-devnet.mjs) in tests: the launcher in its own
 * process group, as a terminal's foreground job is, on free ports; waiting for its workers through the
 * monitor's proxy and on the chain; Ctrl-C as the terminal sends it.
 */
import assert from 'node:assert/strict'
import { alive, spawnEntry, type EntryProcess } from './entry-process.js'
import { waitFor } from '../helpers/wait.js'
import { connectApi } from '../trade/helpers.js'
import { accepts, freePort } from '../helpers/net.js'
import { onChain } from '../lifecycle-chain/helpers.js'

export type Line = Record<string, any>

/** Every port on 0 (free ones); the devnet as the launcher runs it (4 pRuntimes, its block time). */
export function launch(dataDir: string, env: Record<string, string> = {}): EntryProcess {
  return spawnEntry({
    PRB_DEVNET_DATA_DIR: dataDir,
    PRB_DEVNET_BLOB_PORT: '0',
    PRB_DEVNET_DP_WALKIE_PORT: '0',
    PRB_DEVNET_LM_WALKIE_PORT: '0',
    PRB_DEVNET_REDIS_PORT: '0',
    PRB_DEVNET_MONITOR_PORT: '0',
    PRB_DEVNET_BOARD_PORT: '0',
    PHALA_DEVNET_PARA_PORT: '0',
    PHALA_DEVNET_RELAY_PORT: '0',
    PHALA_DEVNET_CONTROL_PORT: '0',
    PHALA_DEVNET_PRUNTIME_PORT: '0',
    ...env,
  }, { script: 'scripts/bridge-on-devnet.mjs', detached: true })
}

export const pidsOf = (lines: Line[]): Map<string, number> => {
  const pids = new Map<string, number>(lines.filter((l) => l.module === 'bridge-on-devnet' && /^started /.test(l.msg)).map((l) => [l.daemon, l.pid]))
  // redis-server itself, under its supervisor
  const redis = lines.find((l) => l.module === 'redis' && l.msg === 'started redis-server')
  if (redis) pids.set('redis-server', redis.redisPid)
  return pids
}

const index = (lines: Line[], pred: (l: Line) => boolean): number => lines.findIndex(pred)
export const DAEMONS = ['devnet', 'redis', 'data_provider', 'lifecycle', 'trade', 'monitor']
/** Up to 2 minutes is the goal; the machine running the tests may be loaded, so the deadline is generous. */
export const ACTIVE_DEADLINE_MS = 240_000

async function post(url: string, body: unknown = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  assert.equal(res.status, 200, `${url}: ${res.status}`)
  return res.json()
}

/** As an operator: the monitor's discover, then the lifecycle's GetWorkerStatus through its proxy. */
async function workerStates(monitor: string): Promise<any[]> {
  const d = await post(`${monitor}/ptp/discover`)
  const lm = d.lifecycleManagers?.[0]?.peerId
  if (!lm) return []
  const s = await post(`${monitor}/ptp/proxy/${lm}/GetWorkerStatus`)
  assert.equal(s.hasError, false, JSON.stringify(s.error))
  return s.data.workerStates ?? []
}

/** Launch, wait until the 4 workers are S_ACTIVE through the monitor and computing on the chain; the measured seconds. */
export async function toActive(p: EntryProcess, t: { diagnostic(m: string): void }): Promise<{ monitor: string; board: string; para: string; states: any[]; seconds: number }> {
  const t0 = Date.now()
  const up = await p.line(/^bridge running on the devnet/, ACTIVE_DEADLINE_MS)
  const monitor = up.monitor.replace(/\/fleet$/, '')
  let states: any[] = []
  await waitFor(async () => {
    if (p.child.exitCode !== null) return true
    states = await workerStates(monitor).catch(() => [])
    return states.length === 4 && states.every((w) => w.status === 'S_ACTIVE')
  }, ACTIVE_DEADLINE_MS - (Date.now() - t0), () => `4 workers S_ACTIVE through the monitor: ${JSON.stringify(states.map((w) => [w.worker?.name, w.status, w.lastMessage]))}`, 1000)
  assert.equal(p.child.exitCode, null, `the launcher exited: ${p.stderr()}`)
  const seconds = Math.round((Date.now() - t0) / 1000)
  t.diagnostic(`4/4 workers S_ACTIVE through the monitor ${seconds} s after the launch`)
  // the launcher's own progress line says so too
  await p.line(/^4\/4 workers S_ACTIVE after \d+ s$/, 30_000)
  const api = await connectApi(up.para)
  try {
    for (const w of states) {
      const s = await onChain(api, 0, `0x${w.publicKey}`)
      assert.equal(s.state, 'WorkerIdle', `${w.worker.name} is computing on the devnet chain (its session)`)
      assert.equal(s.stake, 5_000n * 10n ** 12n, `${w.worker.name} staked 5000 PHA`)
      assert.equal(s.pid, '0')
    }
  } finally {
    await api.disconnect()
  }
  return { monitor, board: up.board, para: up.para, states, seconds }
}

/** SIGINT to the group and once more to the launcher; every daemon, redis-server included, stops cleanly in reverse order. */
export async function ctrlC(p: EntryProcess): Promise<void> {
  const pids = pidsOf(p.lines)
  assert.deepEqual([...pids.keys()].filter((n) => n !== 'redis-server'), DAEMONS)
  process.kill(-p.child.pid!, 'SIGINT')
  p.child.kill('SIGINT')
  const code = await p.exited
  const stops = p.lines.filter((l) => l.module === 'bridge-on-devnet' && / stopped$/.test(l.msg)).map((l) => [l.daemon, l.code, l.signal])
  const errors = p.lines.filter((l) => l.level >= 50).map((l) => `${l.module}: ${l.msg}`)
  assert.equal(code, 0, `the launcher's exit code; daemons stopped with ${JSON.stringify(stops)}; errors: ${errors.join(' | ')}; ${p.stderr()}`)
  const lines = p.lines
  const cleanStop = (m: string) => index(lines, (l) => l.module === m && l.msg === 'Stopped cleanly.')
  for (const m of DAEMONS) assert.ok(cleanStop(m) >= 0, `${m} stopped cleanly`)
  for (let i = 1; i < DAEMONS.length; i++) assert.ok(cleanStop(DAEMONS[i - 1]!) > cleanStop(DAEMONS[i]!), `${DAEMONS[i - 1]} stopped after ${DAEMONS[i]}`)
  assert.ok(!lines.some((l) => /Second signal/.test(l.msg)), 'no daemon took a second signal')
  for (const m of DAEMONS) {
    const signals = lines.filter((l) => l.module === m && /^Shutting down/.test(l.msg)).map((l) => l.signal)
    assert.deepEqual(signals, ['SIGTERM'], `${m} got one signal, the launcher's`)
  }
  for (const [name, pid] of pids) assert.equal(alive(pid), false, `${name} (${pid}) is gone`)
}

/** The first of 4 consecutive ports free on 127.0.0.1 a moment ago (the devnet's pRuntimes take base, base+1 ...). */
export async function fourFreePorts(): Promise<number> {
  for (;;) {
    const base = await freePort()
    if (base > 65_000) continue
    const taken = await Promise.all([1, 2, 3].map((i) => accepts(base + i)))
    if (!taken.some(Boolean)) return base
  }
}

