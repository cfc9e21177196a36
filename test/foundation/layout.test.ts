import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tsFilesUnder } from '../helpers/fs.js'

const files = tsFilesUnder('src')

test('only src/config and the entry read process.env', () => {
  const offenders = files.filter((f) => !f.startsWith(join('src', 'config')) && f !== join('src', 'index.ts') && /process\.env\b/.test(readFileSync(f, 'utf8')))
  assert.deepEqual(offenders, [], 'components take typed options; map the variable in src/config instead')
})

test('no console.* in src/ outside the entry (use the logger)', () => {
  const offenders = files.filter((f) => f !== join('src', 'index.ts') && /\bconsole\.(log|error|warn|info|debug)\(/.test(readFileSync(f, 'utf8')))
  assert.deepEqual(offenders, [])
})

test('the polyfill is the first import of the entry', () => {
  const first = readFileSync(join('src', 'index.ts'), 'utf8').split('\n').find((l) => l.startsWith('import'))
  assert.equal(first, "import './polyfill.js'")
})
