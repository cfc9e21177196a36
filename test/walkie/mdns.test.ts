import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { PEER_FIXTURE, ROOT } from './proc.js'

// mDNS multicasts: it runs ONLY inside a network namespace made here (`unshare -n`), with
// multicast on its own loopback. If that namespace cannot be made, the nodes never start.
function whyNoNetns(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace (unshare -n)'
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return `cannot create a network namespace: ${r.error?.message ?? r.stderr.trim()}`
  return undefined
}

const skip = whyNoNetns()
let child: ChildProcess | undefined
after(() => {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
})

describe('walkie mDNS (private network namespace)', () => {
  it('two node processes meet by mDNS alone, without boot nodes', { skip: skip ? `skipped: ${skip}` : false }, async () => {
    const node = (tag: string) => {
      const init = JSON.stringify({ tag, disableMdns: false, mdnsIntervalMs: 500, bootNodes: [], role: tag === 'a' ? 'WR_DATA_PROVIDER_INT' : 'WR_LIFECYCLE_MANAGER' })
      return `'${process.execPath}' --import tsx --import ./src/polyfill.ts '${PEER_FIXTURE}' '${init}'`
    }
    const script = `ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && { ${node('a')} & ${node('b')} & wait; }`
    child = spawn('unshare', ['-n', 'sh', '-c', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += String(d)))
    const ready: Record<string, string> = {}
    const met = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nodes did not meet by mDNS within 30 s; stderr: ${stderr.slice(-2000)}`)), 30_000)
      const seen: Record<string, string> = {}
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        let ev: Record<string, any>
        try {
          ev = JSON.parse(line)
        } catch {
          return
        }
        if (ev.event === 'ready') ready[ev.tag] = ev.peerId
        if (ev.event === 'peer' && ev.type === 'up' && ev.compatible) seen[ev.tag] = ev.peerId
        if (seen.a && seen.b) {
          clearTimeout(timer)
          resolve(seen)
        }
      })
      child!.on('exit', (code) => reject(new Error(`namespace exited (${code}) early: ${stderr.slice(-2000)}`)))
    })
    assert.equal(met.a, ready.b, 'A met B')
    assert.equal(met.b, ready.a, 'B met A')
    process.kill(-child.pid!, 'SIGTERM')
  })
})
