/**
 * The README is a promise: its env table equals the schemas, and its commands work. Every command
 * of its ```sh blocks is either run here (the devnet's control calls, --print-config) or named in
 * ELSEWHERE with the test that runs it; a new command that is neither fails this test.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { envTableMarkdown, SCHEMAS } from '../../src/config/index.js'
import { createLogger } from '../../src/common/logger.js'
import { spawnEntry, SMALL_DEVNET } from './entry-process.js'
import { readmeImportBlock } from '../helpers/readme.js'
import { DEPLOYMENT_COMMANDS } from '../deploy/readme-commands.js'

const readme = readFileSync('README.md', 'utf8')
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }

/** The commands of the README's sh blocks, comments stripped. */
function commands(): string[] {
  const out: string[] = []
  for (const m of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of m[1]!.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim()
      if (cmd && !cmd.startsWith('#')) out.push(cmd)
    }
  }
  return out
}

/** Commands that start long-running things, and the test that runs each; checked against package.json here. */
const ELSEWHERE: Record<string, { test: string; check: () => void }> = {
  'npm ci && npm run bridge:devnet': {
    test: 'test/foundation/bridge-on-devnet.test.ts',
    check: () => assert.match(pkg.scripts['bridge:devnet']!, /^npm run build && node scripts\/bridge-on-devnet\.mjs$/),
  },
  'npm ci && npm test': { test: '(this suite)', check: () => assert.match(pkg.scripts.test!, /^npm run build && .*node scripts\/run-tests\.mjs$/) },
  'npm run build': { test: '(npm test builds first)', check: () => assert.ok(pkg.scripts.build) },
  'PHALA_MODULE=devnet node dist/index.js': { test: 'test/foundation/entry-devnet.test.ts', check: () => undefined },
  ...DEPLOYMENT_COMMANDS,
}

const CONTROL = /^curl -s (?:-X (GET|POST) )?'?localhost:9955(\/[^' ]*)'?$/
const PRINT_CONFIG = /^PHALA_MODULE=(\w+) node dist\/index\.js --print-config$/

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

test('every README command is run by this test or by the one named for it', () => {
  const cmds = commands()
  assert.ok(cmds.length >= 8, `found ${cmds.length} commands`)
  const importBlock = readmeImportBlock(readme).split('\n').map((l) => l.replace(/\s+#.*$/, '').trim())
  for (const c of cmds) {
    if (CONTROL.test(c) || PRINT_CONFIG.test(c)) continue
    if (importBlock.includes(c)) continue // run as written by test/monitor/readme-import.test.ts
    const e = ELSEWHERE[c]
    assert.ok(e, `README command "${c}" is run by no test: run it in test/foundation/readme.test.ts or name its test in ELSEWHERE`)
    e.check()
  }
  for (const c of Object.keys(ELSEWHERE)) assert.ok(cmds.includes(c), `ELSEWHERE names "${c}", which the README no longer has`)
})

test('the README\'s --print-config commands print the module\'s configuration as JSON', () => {
  const cmds = commands().filter((c) => PRINT_CONFIG.test(c))
  assert.ok(cmds.length > 0)
  for (const c of cmds) {
    const out = execFileSync('sh', ['-c', c], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 })
    const cfg = JSON.parse(out) as Record<string, unknown>
    assert.equal(cfg.PHALA_MODULE, PRINT_CONFIG.exec(c)![1])
  }
})

test('the README\'s devnet control commands, as written, against a devnet on the control port they name', async (t) => {
  const cmds = commands().filter((c) => CONTROL.test(c))
  assert.ok(cmds.length >= 5, cmds.join('\n'))
  const p = spawnEntry(SMALL_DEVNET)
  t.after(() => p.kill())
  const ready = await p.line(/^devnet ready/)
  const port = new URL(ready.control).port
  for (const c of cmds) {
    // the command as written, with the test's free port for 9955 (and 127.0.0.1: the devnet binds IPv4)
    const cmd = c.replace('localhost:9955', `127.0.0.1:${port}`)
    const r = spawnSync('sh', ['-c', `${cmd} -w '\\n%{http_code}'`], { encoding: 'utf8', timeout: 120_000 })
    assert.equal(r.status, 0, `${c}: ${r.stderr}`)
    const lines = r.stdout.trimEnd().split('\n')
    const status = lines.pop()
    assert.equal(status, '200', `${c} answered ${status}: ${lines.join('\n')}`)
    JSON.parse(lines.join('\n'))
  }
  const status = JSON.parse(execFileSync('curl', ['-s', `127.0.0.1:${port}/status`], { encoding: 'utf8' })) as { relay: { best: number }; finalityStalled: boolean; paused: boolean }
  assert.ok(status.relay.best >= 20 + 100, 'the 100 blocks were made')
  assert.equal(status.finalityStalled, true)
  assert.equal(status.paused, true)
  p.child.kill('SIGTERM')
  assert.equal(await p.exited, 0)
})

test('`npx bunyan -o short` pretty-prints the daemons\' JSON log lines, as the README says', () => {
  assert.match(readme, /`npx bunyan -o short` pretty-prints them/)
  const stream = new PassThrough()
  let raw = ''
  stream.on('data', (d) => (raw += String(d)))
  createLogger({ level: 'info', stream }).child({ module: 'devnet' }).info({ relayBest: 7 }, 'devnet history made')
  const out = execFileSync('npx', ['--no-install', 'bunyan', '-o', 'short'], { input: raw, encoding: 'utf8', timeout: 60_000 })
  assert.match(out, /INFO prb.*devnet history made/)
})
