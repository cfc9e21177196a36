/**
 * Blob server throughput: 16 concurrent clients (each with 8 requests in flight) reading values of
 * 1 KiB, 64 KiB and 2 MiB from a real LevelDB store over loopback TCP, CRC checked on the client.
 * A last row serves 1 KiB from memory, to show the server's own cost without LevelDB.
 * Client and server share this process (and the machine's 2 cores), so the figures are a floor.
 * Prints one JSON line: requests/s and MiB/s per value size.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { quietLogger } from '../helpers/log.js'
import { createBlobClient, createBlobServer, createStore, WriteBatch } from '../../src/data_provider/index.js'

const CLIENTS = 16
const DEPTH = 8
const SECONDS = 3
const SIZES: [string, number][] = [['1KiB', 1024], ['64KiB', 64 * 1024], ['2MiB', 2 * 1024 * 1024]]
const KEYS_PER_SIZE = 32

const logger = quietLogger()
const dir = mkdtempSync(join(tmpdir(), 'prb-bench-blob-'))
const store = createStore({ path: dir })
await store.open()
for (const [name, size] of SIZES) {
  const b = new WriteBatch()
  for (let i = 0; i < KEYS_PER_SIZE; i++) {
    const v = Buffer.alloc(size)
    for (let j = 0; j < size; j += 4096) v[j] = (i + j) & 0xff
    b.put(`bench:${name}:${i}`, v)
  }
  await store.write(b)
}
const memory = new Map<string, Buffer>()
for (let i = 0; i < KEYS_PER_SIZE; i++) memory.set(`mem:1KiB:${i}`, Buffer.alloc(1024, i))
const server = createBlobServer({ host: '127.0.0.1', port: 0 }, { logger, lookup: async (k) => (k.startsWith('mem:') ? memory.get(k) : store.get(k)) })
const { port } = await server.start()
const clients = Array.from({ length: CLIENTS }, () => createBlobClient({ host: '127.0.0.1', port }))
await Promise.all(clients.map((c) => c.connect()))
// Warm-up (JIT, LevelDB block cache), not measured.
for (let r = 0; r < 20; r++) await Promise.all(clients.map((c, ci) => c.get(`bench:64KiB:${(ci + r) % KEYS_PER_SIZE}`)))
for (let r = 0; r < 200; r++) await Promise.all(clients.map((c, ci) => c.get(`bench:1KiB:${(ci + r) % KEYS_PER_SIZE}`)))

const result: Record<string, unknown> = { clients: CLIENTS, inFlightPerClient: DEPTH, seconds: SECONDS }
for (const [name, size, prefix] of [...SIZES.map(([n, s]) => [n, s, 'bench'] as const), ['1KiB-from-memory', 1024, 'mem'] as const]) {
  const keyName = prefix === 'mem' ? '1KiB' : name
  let requests = 0
  let bytes = 0
  const until = performance.now() + SECONDS * 1000
  const t0 = performance.now()
  await Promise.all(clients.flatMap((c, ci) => Array.from({ length: DEPTH }, async (_, d) => {
    let i = ci * DEPTH + d
    while (performance.now() < until) {
      const v = await c.get(`${prefix}:${keyName}:${i++ % KEYS_PER_SIZE}`)
      if (!v || v.length !== size) throw new Error(`bad value for ${name}`)
      requests++
      bytes += v.length
    }
  })))
  const secs = (performance.now() - t0) / 1000
  result[name] = { requestsPerSec: Math.round(requests / secs), MiBPerSec: Math.round((bytes / secs / 1048576) * 10) / 10 }
}
await Promise.all(clients.map((c) => c.close()))
await server.stop()
await store.close()
rmSync(dir, { recursive: true, force: true })
process.stdout.write(JSON.stringify({ bench: 'blob-server', ...result }) + '\n')
