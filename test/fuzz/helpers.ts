/**
 * The fuzz suite's tools: a seeded generator (a failure names its seed and reproduces with
 * PRB_FUZZ_SEED=<seed>), raw TCP exchanges, malformed HTTP requests and JSON values, and the real
 * entry (`node dist/index.js`) as a child process whose life the tests check.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'

/** The seed of this run: PRB_FUZZ_SEED reproduces a failing one. */
export const SEED = process.env.PRB_FUZZ_SEED ?? 'prb-fuzz-1'

/** A deterministic generator (mulberry32 over an FNV-1a hash of the seed). */
export class Rng {
  #s: number
  constructor(seed: string) {
    let h = 0x811c9dc5
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193)
    this.#s = h >>> 0
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }
  /** A string mixing URL-hostile characters, printable ASCII and some non-ASCII. */
  nasty(n: number): string {
    const special = ['[', ']', '%', '%zz', '%00', ':', '@', '#', '?', '//', '\\', '..', '{', '}', '|', '^', '`', '"', "'", '<', '>', 'é', '\u2028', '😀', '*', '~', '&', '=', '+', ';', ',']
    let s = ''
    while (s.length < n) s += this.chance(0.4) ? this.pick(special) : String.fromCharCode(0x21 + this.int(94))
    return s
  }
  /** A random JSON value, `depth` levels at most. */
  json(depth = 3): unknown {
    const k = this.int(depth > 0 ? 9 : 6)
    switch (k) {
      case 0: return null
      case 1: return this.chance(0.5)
      case 2: return this.pick([0, -1, 1, 2 ** 53, -(2 ** 63), 1.5, 1e308, 4294967296, this.int(1e9)])
      case 3: return this.pick(['', '0x', '0x00', '0xzz', '0x' + 'ff'.repeat(32), this.nasty(this.int(40))])
      case 4: return this.pick(['0x' + this.bytes(this.int(64)).toString('hex'), String(this.int(100))])
      case 5: return this.int(2) ? [] : {}
      case 6:
      case 7: return Array.from({ length: this.int(5) }, () => this.json(depth - 1))
      default: {
        const o: Record<string, unknown> = {}
        for (let i = this.int(5); i > 0; i--) o[this.pick(['id', 'jsonrpc', 'method', 'params', '__proto__', 'constructor', this.nasty(6)])] = this.json(depth - 1)
        return o
      }
    }
  }
}

/**
 * Send `data` on a fresh TCP connection and collect what comes back until the server closes, one
 * HTTP answer head has arrived (when `httpHead`), or `waitMs` passed. Never rejects.
 */
export function exchange(port: number, data: Buffer | string, o: { waitMs?: number; httpHead?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const s = connect({ host: '127.0.0.1', port })
    const done = (): void => {
      clearTimeout(timer)
      s.destroy()
      resolve(Buffer.concat(chunks))
    }
    const timer = setTimeout(done, o.waitMs ?? 1000)
    s.on('data', (c: Buffer) => {
      chunks.push(c)
      if (o.httpHead && Buffer.concat(chunks).includes('\r\n\r\n')) done()
    })
    s.on('error', done)
    s.on('close', done)
    s.write(data, () => undefined)
  })
}

/** `n` sockets that connect and then say nothing (or only `prefix`), held until `release()`. */
export async function idleSockets(port: number, n: number, prefix?: Buffer | string): Promise<{ sockets: Socket[]; release: () => void }> {
  const sockets: Socket[] = []
  for (let i = 0; i < n; i++) {
    const s = await new Promise<Socket>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port }, () => resolve(c))
      c.once('error', reject)
    })
    s.on('error', () => undefined)
    if (prefix) s.write(prefix)
    sockets.push(s)
  }
  return { sockets, release: () => { for (const s of sockets) s.destroy() } }
}

/** Run `jobs` with at most `width` at once. */
export async function pool(width: number, jobs: Array<() => Promise<unknown>>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) await jobs[next++]!()
  }))
}

/** Malformed and odd HTTP/1.1 requests: request lines, targets, headers, bodies. */
export function badHttpRequests(rng: Rng, n: number): string[] {
  const fixed = [
    'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST http://[::1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}',
    'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://:99999/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://a b HTTP/1.1\r\nHost: x\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET %zz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
    'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /' + 'a'.repeat(70_000) + ' HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"jsonrpc"',
    'GET / HTTP/1.1\r\nno colon here\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\n' + 'X-A: b\r\n'.repeat(3000) + '\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'b'.repeat(20_000) + '\r\n\r\n',
    '\r\n\r\n',
    'GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ???\r\nSec-WebSocket-Version: 99\r\n\r\n',
    'GET /status HTTP/1.1\r\nHost: x\r\n\r\nGET http://[ HTTP/1.1\r\nHost: x\r\n\r\n',
  ]
  const out = [...fixed]
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'G3T', '']
  while (out.length < n) {
    const m = rng.pick(methods)
    const target = rng.pick(['', '/', 'http://', 'http://x', '//', '/prpc/', '/bin_api/']) + rng.nasty(rng.int(60))
    const body = rng.chance(0.5) ? JSON.stringify(rng.json()) : rng.nasty(rng.int(100))
    const head = rng.chance(0.8) ? `Host: ${rng.pick(['x', '[', '127.0.0.1:0', rng.nasty(8)])}\r\n` : ''
    const len = rng.chance(0.8) ? `Content-Length: ${rng.pick([String(Buffer.byteLength(body)), '0', '99999999', 'x'])}\r\n` : ''
    out.push(`${m} ${target} HTTP/1.1\r\n${head}${len}Connection: close\r\n\r\n${body}`)
  }
  return out
}

export interface Entry {
  child: ChildProcess
  lines: Array<Record<string, any>>
  /** Still running (no exit, no signal). */
  alive: () => boolean
  stop: () => Promise<number | null>
}

/** `node dist/index.js` with `env`; resolves once a log line satisfies `ready` (within `ms`). */
export async function spawnEntry(env: Record<string, string>, ready: (rec: Record<string, any>) => boolean, ms = 60_000): Promise<Entry & { ready: Record<string, any> }> {
  const child = spawn(process.execPath, ['dist/index.js'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Array<Record<string, any>> = []
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += String(c) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const rec = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${ms} ms; stderr: ${stderr.slice(-2000)}`)), ms)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let r: Record<string, any>
      try {
        r = JSON.parse(line)
      } catch {
        r = { raw: line }
      }
      lines.push(r)
      if (ready(r)) {
        clearTimeout(timer)
        resolve(r)
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited early with ${code}; stderr: ${stderr.slice(-2000)}`))
    })
  })
  return {
    child,
    lines,
    ready: rec,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(t)
      return code
    },
  }
}
