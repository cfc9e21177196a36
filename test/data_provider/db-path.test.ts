/**
 * A PHALA_LOCAL_DB_PATH that cannot hold the database stops the real entry (`node dist/index.js`)
 * at once, naming the variable, the path, the cause and what to do; a path under /proc failed to
 * start at all before (Node's recursive mkdir spins there at full CPU).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createStore } from '../../src/data_provider/index.js'
import { tempDir } from '../helpers/fs.js'

const ENTRY = 'dist/index.js'

function run(dbPath: string, asNobody = false) {
  const env = {
    PATH: process.env.PATH ?? '',
    PHALA_MODULE: 'data_provider',
    PHALA_LOCAL_DB_PATH: dbPath,
    PHALA_DATA_PROVIDER_LOCAL_SERVER: '0',
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0',
    PHALA_PARENT_CHAIN_ENDPOINT: 'ws://127.0.0.1:9',
    PHALA_CHAIN_ENDPOINT: 'ws://127.0.0.1:9',
  }
  const [cmd, args] = asNobody
    // CAP_DAC_READ_SEARCH kept: nobody reads the entry wherever the checkout is (a `mktemp -d`
    // clone is 0700), while its writes are still checked, which is what the test is about.
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', process.execPath, ENTRY]]
    : [process.execPath, [ENTRY]]
  const started = Date.now()
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout, ms: Date.now() - started }
}

function assertClear(r: ReturnType<typeof run>, path: string, cause: RegExp, todo: RegExp, status = 2): void {
  assert.equal(r.signal, null, `the entry did not exit by itself within 30 s (stderr: ${r.stderr})`)
  assert.equal(r.status, status, `exit status (stderr: ${r.stderr}, stdout: ${r.stdout.slice(0, 500)})`)
  assert.ok(r.stderr.includes(`PHALA_LOCAL_DB_PATH=${JSON.stringify(path)}`), `names the variable and the path: ${r.stderr}`)
  assert.match(r.stderr, cause)
  assert.match(r.stderr, todo)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

test('the entry is built (npm run build)', () => {
  assert.ok(existsSync(ENTRY), `${ENTRY} is missing; run npm run build`)
})

test('a path that is a file: "not a directory" and what to do, status 2', (t) => {
  const file = join(tempDir(t), 'db')
  writeFileSync(file, 'not a database')
  assertClear(run(file), file, /it is a file, not a directory/, /point PHALA_LOCAL_DB_PATH at a directory/)
  const below = join(file, 'sub')
  assertClear(run(below), below, /is a file, not a directory/, /point PHALA_LOCAL_DB_PATH at a directory/)
})

test('a path under /proc fails fast with the cause instead of spinning', () => {
  const path = `/proc/prb-db-test-${process.pid}/db`
  const r = run(path)
  assertClear(r, path, /kernel virtual filesystem \(proc\)/, /point PHALA_LOCAL_DB_PATH at a directory on a real, writable volume/)
  assert.ok(r.ms < 20_000, `exited after ${r.ms} ms`)
})

test('a read-only directory: permission denied, with the user and what to do', (t) => {
  const root = process.getuid?.() === 0
  // root writes anywhere: run the entry as nobody then (setpriv, util-linux).
  if (root && spawnSync('setpriv', ['--version']).status !== 0) return t.skip('running as root without setpriv: cannot make a directory read-only for the entry')
  const dir = tempDir(t)
  chmodSync(dir, 0o755)
  const ro = join(dir, 'ro')
  mkdirSync(ro)
  chmodSync(ro, 0o555)
  const uid = root ? 65534 : process.getuid!()
  const inside = join(ro, 'db')
  assertClear(run(inside, root), inside, new RegExp(`permission denied \\(cannot create ${inside}\\) \\(prb runs as uid ${uid}\\)`), /give that user write access to it/)
  assertClear(run(ro, root), ro, new RegExp(`permission denied \\(cannot write to ${ro}\\)`), /or point PHALA_LOCAL_DB_PATH at a writable directory/)
})

test('a database another process holds: names the lock and what to do, status 1', async (t) => {
  const path = tempDir(t)
  const store = createStore({ path })
  await store.open()
  try {
    const r = run(path)
    assert.equal(r.signal, null)
    assert.equal(r.status, 1, r.stderr)
    assert.ok(r.stderr.includes(`PHALA_LOCAL_DB_PATH=${JSON.stringify(path)}`), r.stderr)
    assert.match(r.stderr, /another process \(another data provider\?\) has this database open: stop it/)
  } finally {
    await store.close()
  }
})
