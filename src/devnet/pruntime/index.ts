/**
 * The devnet's simulated pRuntime workers: `startPruntimes` runs `count` HTTP servers speaking
 * pRuntime's API on consecutive ports, all in this process, each with a control handle for faults.
 */
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { u8aToHex } from '@polkadot/util'
import type { Logger } from '../../common/logger.js'
import { componentLogger } from '../../common/logger.js'
import type { TrieVersion } from '../../common/trie.js'
import { loadOrCreateIdentity, type WorkerIdentity } from './identity.js'
import { Phactory } from './phactory.js'
import { clearDecodedRequests, createPruntimeServer, type Faults, type PruntimeServer } from './server.js'
import { clearSharedStates } from './para-state.js'

export { Phactory, type PhactoryOptions } from './phactory.js'

/**
 * The simulated workers of a process share what one of them computed (decoded requests, state
 * transitions, checks; keyed by their exact inputs), so a hundred workers cost about one. A
 * benchmark of one worker's own cost clears them first, or it measures another worker's work.
 */
export function clearSharedWork(): void {
  clearDecodedRequests()
  clearSharedStates()
}
export { PRuntimeError } from './errors.js'
export type { Faults } from './server.js'
export { Feeder, feedWorker, type FeedOptions, type RpcSender } from './feeder.js'
export { PruntimeClient, PruntimeCallError, type PhactoryInfoPlain } from './client.js'

export interface PruntimesOptions {
  count: number
  host: string
  basePort: number
  /** Each worker seals its identity under `<dataDir>/pruntime-<index>/`; without it, identities live in memory (they survive crash/kick, not a process restart). */
  dataDir?: string
  /** Answer POST /kick (pRuntime's ENABLE_KICK_API). Default true. */
  enableKick?: boolean
  /** Trie layout of the para state (must match the devnet chain). Default 0. */
  paraStateVersion?: TrieVersion
  benchScore?: number
  registrationInfoVersion?: 1 | 2
  /** See PhactoryOptions.heartbeatEveryBlocks (default 0: no heartbeats). */
  heartbeatEveryBlocks?: number
  /** Offer LoadChainState (GetInfo's can_load_chain_state); false = a pRuntime without fast sync. Default true. */
  canLoadChainState?: boolean
}

/** Per-worker control (in-process). */
export interface PruntimeHandle {
  readonly index: number
  readonly port: number
  readonly endpoint: string
  /** The worker's current pRuntime (a new one after crash/kick). */
  phactory(): Phactory
  publicKey(): string
  /**
   * The enclave restarts: all chain state is lost; the identity key survives, as pRuntime's sealed
   * key does. `wipeIdentity` also loses the sealed key (a new machine): a new identity, re-sealed
   * under dataDir when given.
   */
  crash(opts?: { wipeIdentity?: boolean }): void
  /** Accept connections and requests, never answer (until cleared). */
  hang(on?: boolean): void
  /** Delay every answer by `ms` (0 clears). */
  slow(ms: number): void
  /** Answer every request with HTTP 500 (until cleared). */
  failWith500(on?: boolean): void
  /** Clear all injected faults. */
  heal(): void
  readonly faults: Readonly<Faults>
}

export interface RunningPruntimes {
  workers: PruntimeHandle[]
  stop(): Promise<void>
}

export async function startPruntimes(opts: PruntimesOptions, logger: Logger): Promise<RunningPruntimes> {
  await cryptoWaitReady()
  const started: PruntimeServer[] = []
  const workers: PruntimeHandle[] = []
  let stopping: Promise<void> | undefined
  // Every caller waits for the one shutdown.
  const stop = (): Promise<void> => {
    stopping ??= Promise.all(started.map((s) => s.close())).then(() => undefined)
    return stopping
  }
  try {
    for (let i = 0; i < opts.count; i++) {
      const port = opts.basePort === 0 ? 0 : opts.basePort + i
      const log = componentLogger(logger, 'pruntime', { worker: i })
      const dir = opts.dataDir ? join(opts.dataDir, `pruntime-${i}`) : undefined
      let identity: WorkerIdentity = loadOrCreateIdentity(dir)
      const make = (): Phactory =>
        new Phactory({ identity, logger: log, paraStateVersion: opts.paraStateVersion, benchScore: opts.benchScore, registrationInfoVersion: opts.registrationInfoVersion, heartbeatEveryBlocks: opts.heartbeatEveryBlocks, ...(opts.canLoadChainState === false ? { canLoadChainState: false } : {}) })
      let phactory = make()
      const faults: Faults = { hang: false, error: false, delayMs: 0 }
      const restart = (wipeIdentity = false): void => {
        if (wipeIdentity) {
          if (dir) rmSync(join(dir, 'identity.json'), { force: true })
          identity = loadOrCreateIdentity(dir)
        }
        phactory = make()
      }
      const srv = createPruntimeServer({ phactory: () => phactory, faults, enableKick: opts.enableKick ?? true, onKick: () => restart(), logger: log })
      await new Promise<void>((resolve, reject) => {
        srv.server.once('error', reject)
        srv.server.listen(port, opts.host, () => resolve())
      })
      started.push(srv)
      const addr = srv.server.address()
      const actualPort = typeof addr === 'object' && addr ? addr.port : port
      workers.push({
        index: i,
        port: actualPort,
        endpoint: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${actualPort}`,
        phactory: () => phactory,
        publicKey: () => u8aToHex(phactory.identity.identity.publicKey),
        crash: (o) => {
          log.warn({ wipeIdentity: !!o?.wipeIdentity }, 'fault: crash (chain state lost)')
          restart(!!o?.wipeIdentity)
        },
        hang: (on = true) => {
          faults.hang = on
        },
        slow: (ms: number) => {
          faults.delayMs = Math.max(0, ms)
        },
        failWith500: (on = true) => {
          faults.error = on
        },
        heal: () => {
          faults.hang = false
          faults.error = false
          faults.delayMs = 0
        },
        faults,
      })
    }
  } catch (e) {
    await stop()
    const hint = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `; a port of ${opts.basePort}..${opts.basePort + opts.count - 1} is taken: stop what holds it, or choose another base port` : ''
    throw new Error(`cannot start ${opts.count} pRuntime workers on ${opts.host}:${opts.basePort}+: ${(e as Error).message}${hint}`, { cause: e })
  }
  logger.info({ count: opts.count, host: opts.host, firstPort: workers[0]?.port }, 'pRuntime workers listening')
  return { workers, stop }
}
