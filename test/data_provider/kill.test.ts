/**
 * kill -9 at any moment, then a restart, resumes from the last committed block with no gap and no
 * corrupt record: the real entry (`node dist/index.js`, PHALA_MODULE=data_provider) is SIGKILLed
 * three times mid-sync, restarted each time, finishes, stops cleanly on SIGTERM (exit 0), and its DB
 * equals (every key, every value) the DB of a run that was never killed.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createBlobClient, createStore } from '../../src/data_provider/index.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { freePort } from '../helpers/net.js'
import { spawnEntry, type EntryProcess } from '../foundation/entry-process.js'
import { caughtUp, describeProgress, heightsOf, lastJustified, quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

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

/** The data provider as an operator runs it, with the options the reference run has. */
function spawnDataProvider(dbPath: string, keysDir: string, blobPort: number): EntryProcess {
  return spawnEntry({
    PHALA_MODULE: 'data_provider',
    PHALA_LOGGER_LEVEL: 'warn',
    PHALA_PARENT_CHAIN_ENDPOINT: dn.relayUrl,
    PHALA_CHAIN_ENDPOINT: dn.paraUrl,
    PHALA_LOCAL_DB_PATH: dbPath,
    PHALA_PEER_ID_PREFIX: keysDir,
    PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blobPort),
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    PHALA_PARENT_PARALLEL_BLOCKS: '4',
    PHALA_PARA_PARALLEL_BLOCKS: '4',
    PHALA_PARENT_JUSTIFICATION_PERIOD: '8',
    PHALA_ENABLE_PARA_BATCH_SYNC: 'true',
    PHALA_DATA_PROVIDER_BLOB_MAX_PARA_BLOCK_RANGE_COUNT: '4',
  })
}

/** For each key family (the key without its last number), the key with the highest number. */
function lastKeys(db: Map<string, string>): string[] {
  const best = new Map<string, { n: number; key: string }>()
  for (const key of db.keys()) {
    const m = /^(.*?)(\d+)(\D*)$/.exec(key)
    if (!m) continue
    const family = `${m[1]}#${m[3]}`
    const n = Number(m[2])
    if ((best.get(family)?.n ?? -1) < n) best.set(family, { n, key })
  }
  return [...best.values()].map((b) => b.key)
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

test('SIGKILL the real entry three times mid-sync, restart, finish, SIGTERM: exit 0 and the DB equals a run that was never killed', async () => {
  // The reference first: its DB says what "finished" means (the last key of every family).
  const clean = tempDir()
  dirs.push(clean)
  const fin = dn.status()
  const lastBatch = Math.floor(fin.para.finalized / 4) * 4
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
  const b = await dump(clean.path)
  assert.ok(b.size > 5000, `reference DB has ${b.size} keys`)
  const sentinels = lastKeys(b)
  assert.ok(sentinels.includes(`rangeCoverByParentBlock:${lastJustified(dn)}`), sentinels.join(' '))

  const killed = tempDir()
  dirs.push(killed)
  const dbPath = join(killed.path, 'db')
  const keysDir = join(killed.path, 'keys')
  const blobPort = await freePort()
  const has = async (key: string): Promise<boolean> => {
    const client = createBlobClient({ host: '127.0.0.1', port: blobPort, timeoutMs: 5000, connectTimeoutMs: 2000 })
    try {
      return (await client.get(key)) !== null
    } catch {
      return false // not listening yet
    } finally {
      await client.close()
    }
  }
  const finished = async (): Promise<boolean> => {
    for (const k of sentinels) if (!(await has(k))) return false
    return true
  }
  // Kill points: while ranges are being written early, in the middle, late.
  for (const at of [150, 520, 890]) {
    const c = spawnDataProvider(dbPath, keysDir, blobPort)
    try {
      await waitFor(() => has(`rangeCoverByParentBlock:${at}`), 60_000, () => `entry past relay ${at}; stderr: ${c.stderr().slice(-500)}`, 50)
      assert.equal(await has(`rangeCoverByParentBlock:${lastJustified(dn)}`), false, 'killed mid-sync')
    } finally {
      c.child.kill('SIGKILL')
      assert.equal(await c.exited, 'SIGKILL')
    }
  }
  const c = spawnDataProvider(dbPath, keysDir, blobPort)
  try {
    await waitFor(finished, 60_000, () => `restarted entry finishes: missing ${sentinels.length} sentinels?; stderr: ${c.stderr().slice(-500)}`, 200)
  } finally {
    c.child.kill('SIGTERM')
    assert.equal(await c.exited, 0, `clean exit on SIGTERM: ${c.stderr()}`)
  }
  assert.ok(!c.lines.some((l) => l.level >= 50), `no error or fatal line: ${JSON.stringify(c.lines.filter((l) => l.level >= 50).slice(0, 3))}`)

  const a = await dump(dbPath)
  const missing = [...b.keys()].filter((k) => !a.has(k))
  const extra = [...a.keys()].filter((k) => !b.has(k))
  const differ = [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k))
  assert.deepEqual({ missing: missing.slice(0, 10), extra: extra.slice(0, 10), differ: differ.slice(0, 10) }, { missing: [], extra: [], differ: [] })
})
