/**
 * The built entry as an operator runs it (`npm test` builds first): what the README promises of
 * `node dist/index.js`: --print-config for every module with secrets redacted, bad values and
 * arguments exit 2 with one line each, the warnings for unused or mistyped variables reach the log
 * of a running daemon, and a module not built yet says so and exits 2.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { MODULE_NAMES, SCHEMAS, type ModuleName } from '../../src/config/index.js'
import { MODULE_LOADERS } from '../../src/modules.js'
import { tempDir } from '../helpers/fs.js'
import { freePort } from '../helpers/net.js'
import { ENTRY, spawnEntry } from './entry-process.js'

function run(env: Record<string, string>, args: string[] = [], argv0: string[] = [ENTRY]) {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '' }
  const r = spawnSync(process.execPath, [...argv0, ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('an unknown PHALA_MODULE exits 2 naming the variable and the valid values, no stack trace', () => {
  const r = run({ PHALA_MODULE: 'bogus' })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /PHALA_MODULE="bogus" is not a module; valid values: data_provider, lifecycle, trade, monitor, devnet/)
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
  assert.equal(r.stdout, '')
})

test('a missing PHALA_MODULE exits 2', () => {
  const r = run({})
  assert.equal(r.status, 2)
  assert.match(r.stderr, /PHALA_MODULE is not set; set it to one of: data_provider, lifecycle, trade, monitor, devnet/)
})

test('bad values exit 2 with one line per bad variable, naming it and the value, before anything starts', () => {
  const r = run({ PHALA_MODULE: 'data_provider', PHALA_PARENT_CHAIN_ENDPOINT: 'not-a-url', PHALA_DATA_PROVIDER_LOCAL_SERVER: '80x' })
  assert.equal(r.status, 2)
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 2, r.stderr)
  assert.match(r.stderr, /PHALA_PARENT_CHAIN_ENDPOINT="not-a-url" is invalid: expected a URL/)
  assert.match(r.stderr, /PHALA_DATA_PROVIDER_LOCAL_SERVER="80x" is invalid: expected an integer/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
  assert.equal(r.stdout, '', 'no daemon started: nothing logged')
})

const secretValue = (name: string): string => `${name.toLowerCase()}-s3cret-0123456789abcdef`

for (const module of MODULE_NAMES) {
  test(`--print-config for ${module}: every variable of its schema, defaults applied, secrets redacted, exit 0`, () => {
    const schema = SCHEMAS[module] as Record<string, { name: string; secret?: boolean; defaultText: string }>
    const secrets = Object.values(schema).filter((s) => s.secret).map((s) => s.name)
    const env: Record<string, string> = { PHALA_MODULE: module }
    for (const s of secrets) env[s] = secretValue(s)
    let r = run(env, ['--print-config'])
    // a secret with a format of its own (a mnemonic ...) that the stand-in does not meet is left unset
    const refused = secrets.filter((s) => r.status === 2 && r.stderr.includes(`${s}=`))
    for (const s of refused) delete env[s]
    if (refused.length > 0) r = run(env, ['--print-config'])
    assert.equal(r.status, 0, r.stderr)
    const cfg = JSON.parse(r.stdout) as Record<string, unknown>
    assert.equal(cfg.PHALA_MODULE, module)
    for (const spec of Object.values(schema)) assert.ok(spec.name in cfg, `${module}: ${spec.name} is printed`)
    assert.equal(cfg.PHALA_LOGGER_LEVEL, 'info', 'the default applies')
    for (const s of secrets) {
      if (refused.includes(s)) continue
      assert.equal(cfg[s], '[REDACTED]', `${module}: ${s} is set and redacted`)
      assert.ok(!r.stdout.includes(env[s]!) && !r.stderr.includes(env[s]!), `${module}: the value of ${s} appears nowhere`)
    }
    assert.equal(r.stderr, '')
  })
}

test('--print-config shows upstream defaults and what the environment sets', () => {
  const r = run({ PHALA_MODULE: 'lifecycle', PHALA_PRPC_REQUEST_TIMEOUT: '9000' }, ['--print-config'])
  assert.equal(r.status, 0, r.stderr)
  const cfg = JSON.parse(r.stdout)
  assert.equal(cfg.PHALA_LIFECYCLE_BLOB_QUEUE_SIZE, 36)
  assert.equal(cfg.PHALA_PRPC_REQUEST_TIMEOUT, 9000)
  assert.equal(cfg.PHALA_WALKIE_PSK, null, 'an unset secret prints as null')
})

test('an unknown argument exits 2', () => {
  const r = run({ PHALA_MODULE: 'lifecycle' }, ['--frobnicate'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unknown argument "--frobnicate"/)
})

test('a running daemon logs one warning per unused, mistyped, stale or unknown variable, naming it', async (t) => {
  const dir = tempDir(t, 'prb-cli-warn-')
  const dead = await freePort()
  const p = spawnEntry({
    PHALA_MODULE: 'data_provider',
    PHALA_PARENT_CHAIN_ENDPOINT: `ws://127.0.0.1:${dead}`,
    PHALA_CHAIN_ENDPOINT: `ws://127.0.0.1:${dead}`,
    PHALA_LOCAL_DB_PATH: join(dir, 'db'),
    PHALA_PEER_ID_PREFIX: join(dir, 'keys'),
    PHALA_DATA_PROVIDER_LOCAL_SERVER: '0',
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    // unused upstream variable, a known typo, an older prb's, and an unknown PHALA_ name
    PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT: '60',
    PHALA_DATA_PROVIDER_LOCAL_SERVER_PORT: '8012',
    PHALA_REDIS_ENDPOINT: 'redis://127.0.0.1:6379',
    PHALA_SPELLED_WRONG: '1',
  })
  t.after(() => p.kill())
  await p.line(/^Starting data_provider/)
  const warns = p.lines.filter((l) => l.level === 40 && l.module === 'data_provider' && !l.component)
  const one = (re: RegExp) => assert.equal(warns.filter((l) => re.test(l.msg)).length, 1, `${re}: ${JSON.stringify(warns.map((l) => l.msg))}`)
  one(/^PHALA_DATA_PROVIDER_BLOB_MAX_RANGE_COUNT is accepted for compatibility but has no effect/)
  one(/^PHALA_DATA_PROVIDER_LOCAL_SERVER_PORT is not read by prb; did you mean PHALA_DATA_PROVIDER_LOCAL_SERVER\?/)
  one(/^PHALA_REDIS_ENDPOINT belongs to an older prb and is ignored/)
  one(/^PHALA_SPELLED_WRONG is not a prb variable and is ignored; check its spelling/)
  p.child.kill('SIGTERM')
  assert.equal(await p.exited, 0, p.stderr())
})

const NOT_BUILT = MODULE_NAMES.filter((m) => MODULE_LOADERS[m] === null)

for (const module of NOT_BUILT) {
  test(`PHALA_MODULE=${module} (not built yet in this version) says so on one line and exits 2`, () => {
    const r = run({ PHALA_MODULE: module })
    assert.equal(r.status, 2)
    assert.match(r.stderr, new RegExp(`^prb: PHALA_MODULE=${module}: this module is not built yet in this version of prb; available now: `))
    assert.equal(r.stderr.trim().split('\n').length, 1)
    assert.equal(r.stdout, '')
  })
}

test('the not-built mechanism on the real entry, with a module made unbuilt for the test', () => {
  // The entry and its loader table are one module instance: set a loader to null, then run the entry.
  const victim: ModuleName = 'devnet'
  const code = (args: string[] = []) => `process.argv.splice(1, Infinity, "dist/index.js", ...${JSON.stringify(args)}); const m = await import(${JSON.stringify(new URL('../../dist/modules.js', import.meta.url).href)}); m.MODULE_LOADERS.${victim} = null; await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)})`
  const r = run({ PHALA_MODULE: victim }, [], ['--input-type=module', '-e', code()])
  assert.equal(r.status, 2, r.stderr)
  const built = MODULE_NAMES.filter((m) => m !== victim && MODULE_LOADERS[m] !== null)
  assert.equal(r.stderr, `prb: PHALA_MODULE=${victim}: this module is not built yet in this version of prb; available now: ${built.join(', ')}\n`)
  assert.equal(r.stdout, '', 'nothing started')
  // and --print-config still works for it
  const p = run({ PHALA_MODULE: victim }, [], ['--input-type=module', '-e', code(['--print-config'])])
  assert.equal(p.status, 0, p.stderr)
  assert.equal(JSON.parse(p.stdout).PHALA_MODULE, victim)
})
