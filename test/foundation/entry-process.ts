/** The built entry (`node dist/index.js`) as a child process, its JSON log lines kept for assertions. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { createInterface } from 'node:readline'
import { waitFor } from '../helpers/wait.js'

export const ENTRY = 'dist/index.js'

export interface EntryProcess {
  child: ChildProcess
  /** Every JSON line printed on stdout so far. */
  lines: Array<Record<string, any>>
  stderr: () => string
  /** Exit code, or the signal's name when a signal killed it. */
  exited: Promise<number | string>
  /** The first line whose msg matches (waits up to `ms`). */
  line(re: RegExp, ms?: number): Promise<Record<string, any>>
  kill(): void
}

export function spawnEntry(env: Record<string, string>, opts: { args?: string[]; ipc?: boolean; detached?: boolean; script?: string } = {}): EntryProcess {
  const stdio: StdioOptions = opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe']
  const child = spawn(process.execPath, [opts.script ?? ENTRY, ...(opts.args ?? [])], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio,
    detached: opts.detached ?? false,
  })
  const lines: Array<Record<string, any>> = []
  let err = ''
  child.stderr!.on('data', (d) => (err += String(d)))
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l))
    } catch {
      lines.push({ msg: l, raw: true })
    }
  })
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))
  let done = false
  void exited.then(() => (done = true))
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    async line(re, ms = 60_000) {
      const find = () => lines.find((l) => typeof l.msg === 'string' && re.test(l.msg))
      await waitFor(() => find() !== undefined || done, ms, () => `a log line matching ${re}; last lines: ${JSON.stringify(lines.slice(-3))}; stderr: ${err.slice(-500)}`)
      const l = find()
      if (!l) throw new Error(`exited before a line matching ${re}: ${JSON.stringify(lines.slice(-5))}; stderr: ${err.slice(-1000)}`)
      return l
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          if (opts.detached) process.kill(-child.pid!, 'SIGKILL')
          else child.kill('SIGKILL')
        } catch {
          // gone
        }
      }
    },
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A devnet that starts fast and makes no blocks by itself. */
export const SMALL_DEVNET: Record<string, string> = {
  PHALA_MODULE: 'devnet',
  PHALA_DEVNET_PARA_PORT: '0',
  PHALA_DEVNET_RELAY_PORT: '0',
  PHALA_DEVNET_CONTROL_PORT: '0',
  PHALA_DEVNET_PRUNTIME_PORT: '0',
  PHALA_DEVNET_PRUNTIMES: '1',
  PHALA_DEVNET_HISTORY: '20',
  PHALA_DEVNET_BLOCK_MS: '600000',
}
