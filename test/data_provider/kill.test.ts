/**
 * kill -9 at any moment, then a restart, resumes from the last committed block with no gap and no
 * corrupt record: the data provider runs as a child process, is SIGKILLed three times mid-sync,
 * restarted each time, finishes, and its DB equals (every key, every value) the DB of a run that
 * was never killed.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createStore } from '../../src/data_provider/index.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { caughtUp, describeProgress, heightsOf, isCaughtUp, quiet, type Heights, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const runner = fileURLToPath(new URL('./kill-runner.ts', import.meta.url))
const logger = quiet()
let dn: Devnet
const dirs: Array<{ remove(): void }> = []

before(async () => {
  dn = await startTestDevnet({ history: 1200, rpcLatencyMs: 20 }, logger)
})

after(async () => {
  await dn?.stop()
  for (const d of dirs) d.remove()
})

interface Child {
  proc: ChildProcess
  last: Heights | undefined
  exited: Promise<number | null>
}

function spawnRunner(dbPath: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', runner, dn.relayUrl, dn.paraUrl, dbPath, '4'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const c: Child = { proc, last: undefined, exited: new Promise((r) => proc.once('exit', (code) => r(code))) }
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    try {
      c.last = JSON.parse(l) as Heights
    } catch {
      // a line cut by the kill
    }
  })
  return c
}

async function dump(path: string): Promise<Map<string, string>> {
  const store = createStore({ path })
  await store.open()
  try {
    const m = new Map<string, string>()
    for await (const [k, v] of store.entries()) m.set(k, v.toString('hex'))
    return m
  } finally {
    await store.close()
  }
}

test('SIGKILL three times mid-sync, restart, finish: the DB equals a run that was never killed', async () => {
  const killed = tempDir()
  dirs.push(killed)
  const fin = dn.status()
  const lastBatch = Math.floor(fin.para.finalized / 4) * 4
  // Kill points: while relay blocks are fetched, while para batches and ranges are written.
  for (const at of [150, 520, 890]) {
    const c = spawnRunner(killed.path)
    try {
      await waitFor(() => (c.last?.parentFetchedHeight ?? -1) >= at, 40_000, () => `child past relay ${at}: ${JSON.stringify(c.last)}`)
      assert.ok(c.last!.parentFetchedHeight < fin.relay.finalized, 'killed mid-sync')
    } finally {
      c.proc.kill('SIGKILL')
      await c.exited
    }
  }
  const c = spawnRunner(killed.path)
  try {
    await waitFor(() => !!c.last && isCaughtUp(c.last, dn) && c.last.batchHeight >= lastBatch, 40_000, () => `restarted child finishes: ${JSON.stringify(c.last)}`)
  } finally {
    c.proc.kill('SIGTERM')
    assert.equal(await c.exited, 0, 'clean exit on SIGTERM')
  }

  const clean = tempDir()
  dirs.push(clean)
  const dp = await startDp(dn, clean.path, logger, { parentParallel: 32, paraParallel: 32, paraBatchSize: 4 })
  try {
    await dp.booted
    await waitFor(() => caughtUp(dp, dn) && heightsOf(dp).batchHeight >= lastBatch, 40_000, () => `reference run: ${describeProgress(dp, dn)}`)
    // Live justifications are on (the default) in every run, yet history sync stays deterministic:
    // all these blocks were finalized before any run subscribed, so none was announced to it.
    const live = dp.fetchStats()?.live
    assert.equal(live?.subscribed, true, 'subscribed to live justifications')
    assert.equal(live?.used, 0, 'no live justification in a history sync')
  } finally {
    await dp.stop()
  }
  const [a, b] = await Promise.all([dump(killed.path), dump(clean.path)])
  assert.ok(b.size > 5000, `reference DB has ${b.size} keys`)
  const missing = [...b.keys()].filter((k) => !a.has(k))
  const extra = [...a.keys()].filter((k) => !b.has(k))
  const differ = [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k))
  assert.deepEqual({ missing: missing.slice(0, 10), extra: extra.slice(0, 10), differ: differ.slice(0, 10) }, { missing: [], extra: [], differ: [] })
})
