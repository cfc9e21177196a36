// Walkie RPC between two nodes on loopback: calls/s and latency for a small message and a 4 MiB blob.
// Prints one JSON line; logs are off.
import { quietLogger } from '../helpers/log.js'
import { createWalkie, type Walkie } from '../../src/walkie/index.js'

const logger = quietLogger()
const base = { chainIdentity: '0xbench', bridgeIdentity: 'bench', identity: { ephemeral: true } as const, listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true }

function pct(sorted: number[], p: number): number {
  return +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(3)
}

async function run(client: Walkie, peer: string, key: string, seconds: number, concurrency: number, maxCalls: number) {
  const lat: number[] = []
  const end = performance.now() + seconds * 1000
  const t0 = performance.now()
  let bytes = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end && lat.length < maxCalls) {
      const s = performance.now()
      const r = await client.call(peer, 'GetBlobByKey', { key })
      lat.push(performance.now() - s)
      bytes += r.data.length
    }
  }))
  const secs = (performance.now() - t0) / 1000
  lat.sort((a, b) => a - b)
  return { concurrency, calls: lat.length, callsPerSec: +(lat.length / secs).toFixed(1), MiBPerSec: +(bytes / secs / 1048576).toFixed(1), p50Ms: pct(lat, 0.5), p99Ms: pct(lat, 0.99) }
}

const server = createWalkie({ ...base, role: 'WR_DATA_PROVIDER_INT' }, { logger })
const small = Buffer.alloc(64, 7)
const blob = Buffer.alloc(4 * 1024 * 1024, 9)
server.handle('GetBlobByKey', (req) => ({ key: req.key, data: req.key === 'big' ? blob : small }))
await server.start()
const client = createWalkie({ ...base, role: 'WR_LIFECYCLE_MANAGER', bootNodes: server.multiaddrs() }, { logger })
await client.start()
await client.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
const peer = server.peerId
await run(client, peer, 'small', 1, 1, 500) // warm-up

const result = {
  bench: 'walkie',
  small64B: await run(client, peer, 'small', 3, 1, 100_000),
  small64Bx16: await run(client, peer, 'small', 3, 16, 100_000),
  blob4MiB: await run(client, peer, 'big', 4, 1, 10_000),
  blob4MiBx4: await run(client, peer, 'big', 4, 4, 10_000),
}
await client.stop()
await server.stop()
process.stdout.write(JSON.stringify(result) + '\n')
