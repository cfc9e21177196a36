import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { envTableMarkdown, SCHEMAS } from '../../src/config/index.js'

const readme = readFileSync('README.md', 'utf8')

test('the README env table equals the one generated from the schemas (npm run docs:env)', () => {
  const m = /<!-- env-table:start -->\n([\s\S]*?)<!-- env-table:end -->/.exec(readme)
  assert.ok(m, 'README lacks the env-table markers')
  assert.equal(m[1]!.trim(), envTableMarkdown().trim(), 'README env table is stale: run `npm run docs:env` and paste the output between the markers')
})

test('every variable of every schema appears in the README', () => {
  for (const schema of Object.values(SCHEMAS)) {
    for (const spec of Object.values(schema)) assert.ok(readme.includes('`' + spec.name + '`'), spec.name)
  }
})

test('the README names its two commands and they exist in package.json', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
  assert.match(readme, /npm ci && npm run bridge:devnet/)
  assert.match(readme, /npm ci && npm test/)
  assert.ok(pkg.scripts['bridge:devnet'])
  assert.ok(pkg.scripts.devnet)
  assert.ok(pkg.scripts.test)
  assert.ok(pkg.scripts.bench)
})
