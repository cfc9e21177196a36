/**
 * scripts/check-image-build.mjs: docker/Dockerfile's steps run on this machine without an engine.
 * The runtime file set (production dependencies, dist/, proto/, monitor/) starts the devnet, a data
 * provider on it and a monitor with the image's entry; each passes the image's HEALTHCHECK and fails it
 * once stopped; what needs an engine or root is named as skipped. To stay within the test runner's
 * 300 s per file on a loaded machine it reuses this checkout's npm ci and tsc output (npm test builds
 * the same sources first) and leaves the lifecycle and the trader to a full run of the script
 * (`node scripts/check-image-build.mjs`, which starts all five roles).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/fs.js'

function runScript(args: string[], timeoutMs: number): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/check-image-build.mjs', ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: stdout + stderr })
    })
  })
}

test('the Dockerfile\'s runtime stage gives a file set that runs the roles healthy; the skipped steps are named', async () => {
  const { status, out } = await runScript(['--reuse-build', '--roles', 'devnet,data_provider,monitor'], 290_000)
  assert.equal(status, 0, out)
  assert.match(out, /^skipped {2}RUN npm ci --no-audit --no-fund: --reuse-build/m)
  assert.match(out, /^skipped {2}RUN npm run build: --reuse-build/m)
  assert.match(out, /^ran {6}RUN npm ci --omit=dev/m)
  assert.match(out, /^copied {3}COPY --from=build \/src\/dist \.\/dist$/m)
  assert.match(out, /^checked {2}runtime file set: dist, monitor, node_modules, package-lock\.json, package\.json, proto; none of the lockfile's \d+ dev-only packages/m)
  for (const role of ['devnet', 'data_provider', 'monitor']) {
    assert.match(out, new RegExp(`^healthy  ${role}: \`node dist/index\\.js\` from the runtime file set, HEALTHCHECK passed`, 'm'), role)
    assert.match(out, new RegExp(`^stopped  ${role}: exit 0 on SIGTERM; then its HEALTHCHECK fails \\(status 1\\)`, 'm'), role)
  }
  assert.match(out, /^served {3}monitor page \/discover/m)
  assert.match(out, /^met {6}monitor \/ptp\/discover lists 1 data provider\(s\)/m)
  for (const role of ['lifecycle', 'trade']) assert.match(out, new RegExp(`^skipped  role ${role}: not in --roles`, 'm'))
  for (const s of [/^ {2}- FROM node:\d+[\w.-]* AS build: no engine/m, /^ {2}- FROM node:\d+[\w.-]* AS runtime: no engine/m, /^ {2}- USER node:/m, /^ {2}- VOLUME \["\/var\/data"\]:/m, /^ {2}- RUN chown node:node \/var\/data:/m]) {
    assert.match(out, s)
  }
  assert.match(out, /check-image-build: OK/)
})

test('a Dockerfile that copies what .dockerignore leaves out of the context fails, naming the step', async (t) => {
  const dir = tempDir(t)
  const df = join(dir, 'Dockerfile')
  writeFileSync(df, 'FROM node:24-bookworm-slim AS build\nWORKDIR /src\nCOPY test ./test\n')
  const { status, out } = await runScript(['--dockerfile', df], 120_000)
  assert.equal(status, 1, out)
  assert.match(out, /FAILED {3}build: COPY test: \.dockerignore excludes it from the build context/)
  assert.match(out, /check-image-build: 1 FAILED/)
})
