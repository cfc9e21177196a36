import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const PEER_FIXTURE = join(ROOT, 'test', 'walkie', 'fixtures', 'peer.ts')

export interface PeerProcess {
  child: ChildProcess
  /** Every JSON line printed so far. */
  events: Record<string, any>[]
  ready: Promise<{ peerId: string; addrs: string[] }>
  exited: Promise<number | null>
}

/** Run the fixture peer: `prefix` wraps the node command (e.g. `unshare -n ...`) when given. */
export function spawnPeer(init: Record<string, unknown>, wrap?: (cmd: string[]) => string[]): PeerProcess {
  const cmd = [process.execPath, '--import', 'tsx', '--import', './src/polyfill.ts', PEER_FIXTURE, JSON.stringify(init)]
  const [bin, ...args] = wrap ? wrap(cmd) : cmd
  const child = spawn(bin, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const events: Record<string, any>[] = []
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += String(d)))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const ready = new Promise<{ peerId: string; addrs: string[] }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let ev: Record<string, any>
      try {
        ev = JSON.parse(line)
      } catch {
        return
      }
      events.push(ev)
      if (ev.event === 'ready') resolve({ peerId: ev.peerId, addrs: ev.addrs })
    })
    void exited.then((code) => reject(new Error(`peer process exited (${code}) before ready: ${stderr.slice(-2000)}`)))
  })
  ready.catch(() => {})
  return { child, events, ready, exited }
}
