// Runs every benchmark under test/bench/ in turn; each prints one JSON line of figures.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const only = process.argv.slice(2)
const files = only.length > 0 ? only : readdirSync(join('test', 'bench')).filter((f) => f.endsWith('.bench.ts')).sort().map((f) => join('test', 'bench', f))
let failed = 0
for (const file of files) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', file], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) {
    failed++
    console.error(`benchmark ${file} failed with status ${r.status}`)
  }
}
process.exit(failed > 0 ? 1 : 0)
