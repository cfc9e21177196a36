/** Helpers of the lifecycle tests: config from env, a devnet for the chain identity, a Walkie client, a recording engine. */
import { join } from 'node:path'
import { loadConfig, type LifecycleConfig } from '../../src/config/index.js'
import type { Logger } from '../../src/common/logger.js'
import { startDevnet, type Devnet } from '../../src/devnet/index.js'
import { createWalkie, type Walkie } from '../../src/walkie/index.js'
import {
  startLifecycle, type EngineDeps, type RunningLifecycle, type WorkerEngine, type WorkerReport, type WorkerView,
} from '../../src/lifecycle/index.js'
import { quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'

/**
 * Liveness probes time out after min(interval, 5 s) and a peer silent for staleAfterMs is hung up,
 * calls in flight included: on a loaded machine keep both loose, the tests here are not about it.
 */
export const TEST_WALKIE = { livenessIntervalMs: 3000, staleAfterMs: 120_000, bootRetryMinMs: 100, bootRetryMaxMs: 500, rpcTimeoutMs: 30_000 }

/** A devnet with few blocks and no timer: enough for para block #1, the chain identity. */
export function startChain(): Promise<Devnet> {
  return startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, history: 8, blockMs: 3_600_000, justificationPeriod: 8, sessionBlocks: 40, pools: 0 }, quietLogger())
}

/** The lifecycle's config as the entry would load it from these variables. */
export function lifecycleConfig(dir: string, chain: { paraUrl: string; relayUrl: string } | undefined, env: Record<string, string> = {}): LifecycleConfig {
  return loadConfig('lifecycle', {
    PHALA_MODULE: 'lifecycle',
    PHALA_LOCAL_DB_PATH: join(dir, 'local.db'),
    PHALA_PEER_ID_PREFIX: join(dir, 'keys'),
    PHALA_CHAIN_ENDPOINT: chain?.paraUrl ?? 'ws://127.0.0.1:9',
    PHALA_PARENT_CHAIN_ENDPOINT: chain?.relayUrl ?? 'ws://127.0.0.1:9',
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    ...env,
  }).config
}

export interface RecordingEngine {
  applied: Array<readonly WorkerView[]>
  restarts: Array<{ uuid: string; refreshRa: boolean }>
  kicks: string[]
  created: number
  factory: (deps: EngineDeps) => WorkerEngine
  last(): readonly WorkerView[] | undefined
}

/** An engine that records what the lifecycle hands it and reports enabled workers S_SYNCHING. */
export function recordingEngine(): RecordingEngine {
  const rec: RecordingEngine = {
    applied: [], restarts: [], kicks: [], created: 0,
    last: () => rec.applied.at(-1),
    factory: () => {
      rec.created++
      return {
        apply: (w) => void rec.applied.push(w),
        restart: (uuid, o) => void rec.restarts.push({ uuid, refreshRa: o?.refreshRa === true }),
        kick: (uuid) => void rec.kicks.push(uuid),
        report: (uuid): WorkerReport | undefined => {
          const w = rec.last()?.find((x) => x.uuid === uuid)
          if (!w?.enabled) return undefined
          return {
            status: 'S_SYNCHING', initialized: true, parentHeaderSynchedTo: 10, paraHeaderSynchedTo: 5, paraBlockDispatchedTo: 4,
            publicKey: 'ab'.repeat(32), lastMessage: '[2026-01-01T00:00:00.000Z] Synching block data...', sessionInfoJson: '{"runtimeInfo":{}}', workerAccountId: '',
          }
        },
        stop: async () => {},
      }
    },
  }
  return rec
}

export async function startLm(config: LifecycleConfig, logger: Logger, engine?: RecordingEngine): Promise<RunningLifecycle> {
  const lm = await startLifecycle({ config, walkie: TEST_WALKIE, reconnectMinMs: 50, reconnectMaxMs: 500 }, { logger, ...(engine ? { createEngine: engine.factory } : {}) })
  return lm
}

/** A client node (as the monitor is) connected to the lifecycle, once it serves. */
export async function startClient(lm: RunningLifecycle): Promise<Walkie> {
  await lm.booted
  const client = createWalkie({
    role: 'WR_CLIENT', chainIdentity: lm.chainIdentity()!, bridgeIdentity: 'default', identity: { ephemeral: true }, listenAddresses: [], disableMdns: true, ...TEST_WALKIE,
  }, { logger: quietLogger() })
  try {
    await client.start()
    await client.dial(lm.walkie()!.multiaddrs()[0]!)
    await waitFor(() => client.peers().some((p) => p.peerId === lm.peerId), 10_000, 'the client met the lifecycle')
  } catch (err) {
    await client.stop()
    throw err
  }
  return client
}
