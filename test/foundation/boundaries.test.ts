/**
 * Module boundaries (spec README, Layout): "A module reaches another only through its public entry,
 * never through its files."
 *
 * A part is a folder of src/ with its own entry: each top-level module (walkie, data_provider,
 * devnet, lifecycle, trade ...), every deeper folder holding an index.ts (data_provider/fetch,
 * devnet/para-runtime, devnet/pruntime ...), and the sub-parts listed in SUB_PARTS_WITHOUT_ENTRY.
 * An import from a file of part P into part Q is fine when
 *   - Q is src/common or src/config (shared by every module, imported file by file);
 *   - Q is P, or Q contains P (a sub-part uses the files of the module it lives in);
 *   - the target is Q's index.ts;
 *   - it matches one of ALLOWED below, each with its reason.
 * The files at the root of src/ (index.ts, modules.ts, polyfill.ts) are the program's entry: only
 * other root files import them. src/common and src/config import no module.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import ts from 'typescript'
import { tsFilesUnder } from '../helpers/fs.js'

const SHARED = ['src/common', 'src/config']

/** Sub-parts that have no index.ts yet; their files are reached only from the places ALLOWED names. */
const SUB_PARTS_WITHOUT_ENTRY: string[] = []

interface Allowed { from: RegExp; to: RegExp; why: string }

const ALLOWED: Allowed[] = [
  {
    from: /^src\/modules\.ts$/,
    to: /^src\/data_provider\/main\.ts$/,
    why: 'the daemon entry, loaded lazily when PHALA_MODULE=data_provider; data_provider/index.ts stays the light library entry (store, builder, blob server/client) that tests and other modules load without libp2p and @polkadot/api',
  },
]

const toPosix = (p: string): string => p.split('\\').join('/')

/** Every relative import of `file` (static, `export ... from`, dynamic `import()`), resolved to a src path. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const info = ts.preProcessFile(text, true, true)
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.normalize(posix.join(posix.dirname(toPosix(file)), spec)).replace(/\.js$/, '.ts'))
}

const within = (path: string, folder: string): boolean => path.startsWith(folder + '/')

/** Folders that are parts, deepest first. */
function partsOf(files: string[]): string[] {
  const parts = new Set<string>(SUB_PARTS_WITHOUT_ENTRY)
  for (const f of files) {
    const segs = f.split('/')
    if (segs.length >= 3) parts.add(segs.slice(0, 2).join('/'))
    if (segs.length >= 4 && f.endsWith('/index.ts')) parts.add(posix.dirname(f))
  }
  return [...parts].sort((a, b) => b.split('/').length - a.split('/').length || a.localeCompare(b))
}

/** The deepest part holding `path`; '' for the files at the root of src/. */
function partOf(path: string, parts: string[]): string {
  return parts.find((p) => within(path, p)) ?? ''
}

interface Violation { from: string; to: string; rule: string }

function checkBoundaries(files: string[], importsFor: (f: string) => string[]): { violations: Violation[]; used: Set<Allowed> } {
  const parts = partsOf(files)
  const violations: Violation[] = []
  const used = new Set<Allowed>()
  for (const from of files) {
    const p = partOf(from, parts)
    for (const to of importsFor(from)) {
      if (!within(to, 'src')) continue
      const q = partOf(to, parts)
      let rule: string | undefined
      if (SHARED.some((s) => within(from, s)) && !SHARED.some((s) => within(to, s))) {
        rule = `${p} is shared and must not depend on a module`
      } else if (SHARED.some((s) => within(to, s))) {
        continue
      } else if (q === '') {
        if (p !== '') rule = 'the files at the root of src/ are the program entry; modules do not import them'
      } else if (q === p || within(p, q)) {
        continue
      } else if (to !== `${q}/index.ts`) {
        rule = `reach ${q} through ${q}/index.ts (export what you need there)`
      }
      if (rule === undefined) continue
      const allowed = ALLOWED.find((a) => a.from.test(from) && a.to.test(to))
      if (allowed) used.add(allowed)
      else violations.push({ from, to, rule })
    }
  }
  return { violations, used }
}

const files = tsFilesUnder('src').map(toPosix)

test('every module reaches another only through its index.ts (src/common and src/config excepted)', () => {
  const { violations } = checkBoundaries(files, (f) => importsOf(f))
  assert.deepEqual(violations, [], 'a new import crosses a module boundary: import from the module\'s index.ts (and export what is needed there)')
})

test('every allowed exception is still needed, and the sub-parts without an entry still exist', () => {
  const { used } = checkBoundaries(files, (f) => importsOf(f))
  const stale = ALLOWED.filter((a) => !used.has(a)).map((a) => `${a.from} -> ${a.to}`)
  assert.deepEqual(stale, [], 'no import needs this exception any more: remove it from ALLOWED')
  for (const sp of SUB_PARTS_WITHOUT_ENTRY) {
    assert.ok(existsSync(sp), `${sp} is gone: remove it from SUB_PARTS_WITHOUT_ENTRY`)
    assert.ok(!existsSync(join(sp, 'index.ts')), `${sp} has an index.ts now: remove it from SUB_PARTS_WITHOUT_ENTRY and import through it`)
  }
})

test('the checker sees static, re-export and dynamic imports, and flags a reach into another module\'s file', () => {
  const src = [
    "import type { A } from '../walkie/rpc.js'",
    "export { b } from '../common/retry.js'",
    "const m = await import('../devnet/pruntime/phactory.js')",
    "import {",
    "  c,",
    "} from './store.js'",
  ].join('\n')
  assert.deepEqual(importsOf('src/data_provider/x.ts', src), [
    'src/walkie/rpc.ts', 'src/common/retry.ts', 'src/devnet/pruntime/phactory.ts', 'src/data_provider/store.ts',
  ])
  const fake = ['src/data_provider/x.ts', 'src/data_provider/store.ts', 'src/walkie/index.ts', 'src/walkie/rpc.ts', 'src/devnet/index.ts',
    'src/devnet/pruntime/index.ts', 'src/devnet/pruntime/phactory.ts', 'src/common/retry.ts', 'src/common/bad.ts']
  const imports: Record<string, string[]> = {
    'src/data_provider/x.ts': importsOf('src/data_provider/x.ts', src),
    'src/devnet/pruntime/phactory.ts': ['src/devnet/index.ts'], // a sub-part may use its module's files
    'src/common/bad.ts': ['src/walkie/index.ts'], // shared code must not depend on a module
  }
  const { violations } = checkBoundaries(fake, (f) => imports[f] ?? [])
  assert.deepEqual(violations.map((v) => `${v.from} -> ${v.to}`), [
    'src/data_provider/x.ts -> src/walkie/rpc.ts',
    'src/data_provider/x.ts -> src/devnet/pruntime/phactory.ts',
    'src/common/bad.ts -> src/walkie/index.ts',
  ])
})
