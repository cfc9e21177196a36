/**
 * PHALA_LOCAL_DB_PATH checked before LevelDB sees it, so a bad path stops start-up at once with
 * the variable, the path, the cause and what to do (ConfigError: status 2, like a bad value).
 *
 * Why not `mkdirSync(path, { recursive: true })`: on a virtual filesystem such as /proc, mkdir of a
 * missing entry answers ENOENT although the parent exists, and Node's recursive mkdir then loops
 * forever at full CPU. Each missing component is created on its own here, so every failure is seen.
 */
import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ConfigError } from '../common/errors.js'

const VAR = 'PHALA_LOCAL_DB_PATH'
const VIRTUAL = /^\/(proc|sys)(\/|$)/

function fail(path: string, cause: string, todo: string): never {
  throw new ConfigError(`${VAR}=${JSON.stringify(path)} cannot hold the data provider's database: ${cause}; ${todo}`)
}

function uid(): string {
  return typeof process.getuid === 'function' ? ` (prb runs as uid ${process.getuid()})` : ''
}

/** The cause of a filesystem error at `at`, in words, and what to do about it. */
function explain(path: string, at: string, e: NodeJS.ErrnoException, doing = 'cannot reach'): never {
  const where = ` (${doing} ${at})`
  if (VIRTUAL.test(at)) fail(path, `${at} is on a kernel virtual filesystem (${at.split('/')[1]}), where no files can be stored (${e.code})`, `point ${VAR} at a directory on a real, writable volume`)
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      fail(path, `permission denied${where}${uid()}`, `create the directory and give that user write access to it (chown/chmod), or point ${VAR} at a writable directory`)
    case 'EROFS':
      fail(path, `read-only filesystem${where}`, `point ${VAR} at a writable volume (in Docker: a volume mounted without :ro)`)
    case 'ENOTDIR':
      fail(path, `a part of the path is a file, not a directory${where}`, `point ${VAR} at a directory, or move that file away`)
    case 'ENOSPC':
      fail(path, `no space left on the device${where}`, 'free some space or use another volume')
    case 'ENOENT':
      fail(path, `the filesystem refuses to create ${at} although its parent exists (not a regular filesystem?)`, `point ${VAR} at a directory on a real, writable volume`)
    default:
      fail(path, `${e.code ?? 'error'}${where}: ${e.message}`, `check the path and its volume, or point ${VAR} at another directory`)
  }
}

function stat(path: string, at: string): Stats | undefined {
  try {
    return statSync(at, { throwIfNoEntry: false })
  } catch (e) {
    explain(path, at, e as NodeJS.ErrnoException)
  }
}

/** Make sure `path` is (or now is) a writable directory; else a ConfigError that says why. */
export function prepareDbDir(path: string): void {
  const abs = resolve(path)
  const missing: string[] = []
  for (let p = abs; ; p = dirname(p)) {
    const s = stat(path, p)
    if (s) {
      if (!s.isDirectory()) {
        if (p === abs) fail(path, 'it is a file, not a directory', `point ${VAR} at a directory (it is created when missing), or move the file away`)
        fail(path, `${p} is a file, not a directory`, `point ${VAR} at a directory, or move that file away`)
      }
      break
    }
    missing.unshift(p)
    if (dirname(p) === p) break
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir)
    } catch (e) {
      // Another process may have made it meanwhile.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && stat(path, dir)?.isDirectory()) continue
      explain(path, dir, e as NodeJS.ErrnoException, 'cannot create')
    }
  }
  try {
    accessSync(abs, constants.W_OK | constants.X_OK)
  } catch (e) {
    explain(path, abs, e as NodeJS.ErrnoException, 'cannot write to')
  }
}
