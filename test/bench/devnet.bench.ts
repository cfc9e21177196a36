/**
 * Devnet benchmark, one JSON line:
 *  - relay blocks (with their para blocks) made per second at start-up (history of 10,000);
 *  - chain_getBlock + state_getReadProof(paras.heads) calls answered per second by the relay
 *    under 16 concurrent WebSocket clients asking for random blocks.
 * Uses the Phala para runtime (BENCH_DEVNET_RUNTIME=test: the engine's trivial test runtime).
 */
import { WebSocket } from 'ws'
import { createLogger } from '../../src/common/logger.js'
import { startDevnet } from '../../src/devnet/devnet.js'
import type { ParaRuntime } from '../../src/devnet/runtime-api.js'
import { parasHeadsKey } from '../../src/devnet/relay/index.js'
import { createTestRuntime } from '../devnet/test-runtime.js'

const HISTORY = Number(process.env.BENCH_DEVNET_HISTORY ?? 10_000)
const CLIENTS = 16
const DURATION_MS = 5_000

// BENCH_DEVNET_RUNTIME=test measures the engine alone (trivial runtime).
const runtimeName = process.env.BENCH_DEVNET_RUNTIME === 'test' ? 'test' : 'phala'
const createRuntime: ((o: object) => Promise<ParaRuntime> | ParaRuntime) | undefined = runtimeName === 'test' ? () => createTestRuntime() : undefined

const logger = createLogger({ level: 'fatal' })
const t0 = performance.now()
const devnet = await startDevnet({ paraPort: 0, relayPort: 0, history: HISTORY, blockMs: 3_600_000, ...(createRuntime ? { createRuntime } : {}) }, logger)
const startMs = performance.now() - t0
const rssMbAfterStart = Math.round(process.memoryUsage().rss / 2 ** 20)

const hashes = devnet.relay.chain.blocks.map((b) => b.hash)
const key = parasHeadsKey(2035)
let calls = 0
let errors = 0
const stopAt = performance.now() + DURATION_MS
const t1 = performance.now()
await Promise.all(Array.from({ length: CLIENTS }, async (_, ci) => {
  const ws = new WebSocket(devnet.relayUrl)
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j) })
  const pending = new Map<number, () => void>()
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { id: number; error?: unknown }
    if (m.error) errors++
    pending.get(m.id)?.()
    pending.delete(m.id)
  })
  let id = 0
  let i = ci
  while (performance.now() < stopAt) {
    const hash = hashes[(i = (i * 7919 + 104729) % hashes.length)]!
    const call = (method: string, params: unknown[]): Promise<void> => new Promise((r) => {
      pending.set(++id, r)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
    await call('chain_getBlock', [hash])
    await call('state_getReadProof', [[key], hash])
    calls += 2
  }
  ws.terminate()
}))
const rpcMs = performance.now() - t1
await devnet.stop()

process.stdout.write(JSON.stringify({
  bench: 'devnet',
  runtime: runtimeName,
  historyRelayBlocks: HISTORY,
  paraBlocks: Math.floor(HISTORY / 2),
  startMs: Math.round(startMs),
  relayBlocksPerSec: Math.round(HISTORY / (startMs / 1000)),
  rpcClients: CLIENTS,
  rpcCallsPerSec: Math.round(calls / (rpcMs / 1000)),
  rpcErrors: errors,
  rssMbAfterStart,
  goalStartUnder30s: startMs < 30_000,
}) + '\n')
