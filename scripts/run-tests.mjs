// Runs every node:test suite under test/ (not the benchmarks) in one `node --test` call.
// Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function find(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (p !== join('test', 'bench')) out.push(...find(p))
    } else if (name.endsWith('.test.ts')) out.push(p)
  }
  return out
}

const only = process.argv.slice(2)
const files = only.length > 0 ? only : find('test')
if (files.length === 0) {
  console.error('no test files found under test/')
  process.exit(1)
}
const args = ['--import', 'tsx', '--import', './src/polyfill.ts', '--test', '--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=./scripts/failure-summary-reporter.mjs', '--test-reporter-destination=stdout', '--test-timeout=600000', '--test-concurrency=3', ...files]
const r = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(r.status ?? 1)
