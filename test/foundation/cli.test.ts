import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

// These run the built entry, as an operator does: `npm test` builds first.
const ENTRY = 'dist/index.js'

function run(env: Record<string, string>, args: string[] = []) {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '' }
  const r = spawnSync(process.execPath, [ENTRY, ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('the built entry exists (npm run build)', () => {
  assert.ok(existsSync(ENTRY), `${ENTRY} is missing; run npm run build`)
})

test('an unknown PHALA_MODULE exits 2 naming the variable and the valid values, no stack trace', () => {
  const r = run({ PHALA_MODULE: 'bogus' })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /PHALA_MODULE="bogus" is not a module; valid values: data_provider, lifecycle, trade, monitor, devnet/)
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('a missing PHALA_MODULE exits 2', () => {
  const r = run({})
  assert.equal(r.status, 2)
  assert.match(r.stderr, /PHALA_MODULE is not set; set it to one of: data_provider, lifecycle, trade, monitor, devnet/)
})

test('a bad endpoint exits 2 naming the variable and the value', () => {
  const r = run({ PHALA_MODULE: 'data_provider', PHALA_PARENT_CHAIN_ENDPOINT: 'not-a-url' })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /PHALA_PARENT_CHAIN_ENDPOINT="not-a-url" is invalid: expected a URL/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('--print-config prints the effective configuration as JSON with upstream defaults', () => {
  const r = run({ PHALA_MODULE: 'lifecycle', PHALA_WALKIE_PSK: 'a-very-secret-pre-shared-key' }, ['--print-config'])
  assert.equal(r.status, 0, r.stderr)
  const cfg = JSON.parse(r.stdout)
  assert.equal(cfg.PHALA_MODULE, 'lifecycle')
  assert.equal(cfg.PHALA_LIFECYCLE_BLOB_QUEUE_SIZE, 36)
  assert.equal(cfg.PHALA_PRPC_REQUEST_TIMEOUT, 8000)
  assert.equal(cfg.PHALA_WALKIE_PSK, '[REDACTED]')
  assert.ok(!r.stdout.includes('a-very-secret-pre-shared-key'))
})

test('an unknown argument exits 2', () => {
  const r = run({ PHALA_MODULE: 'lifecycle' }, ['--frobnicate'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unknown argument "--frobnicate"/)
})
