/**
 * The chain steps' test bed: a devnet producing blocks, its pRuntimes, a data provider on Walkie,
 * a Redis per test file, and the real lifecycle (store, key, Walkie, sync engine, chain steps,
 * built-in trader) booting from the data provider; plus readers of what landed on chain.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { hexToU8a, u8aToHex } from '@polkadot/util'
import type { Logger } from '../../src/common/logger.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { poolSubAccount } from '../../src/devnet/para-runtime/index.js'
import { createEngine, startLifecycle, type RunningLifecycle, type WorkerReport } from '../../src/lifecycle/index.js'
import type { EngineTuning } from '../../src/lifecycle/index.js'
import { caughtUp, describeProgress, quiet, startDevnetWith, startWalkieDp, waitFor, type TestDp } from '../lifecycle-sync/helpers.js'
import { lifecycleConfig, TEST_WALKIE } from '../lifecycle/helpers.js'
import { connectApi, landedCalls, startRedis, type TestRedis } from '../trade/helpers.js'

export { waitFor, landedCalls }
export const PHA = 10n ** 12n

export interface Bed {
  dn: Devnet
  pr: RunningPruntimes
  dp: TestDp
  redis: TestRedis
  api: ApiPromise
  lm: RunningLifecycle
  logger: Logger
  dir: string
  stop(): Promise<void>
  /** Stop the lifecycle and start it again on the same store, key and Redis (a restart). */
  restartLifecycle(): Promise<void>
}

export const TUNING: EngineTuning = {
  sync: { infoPollMs: 200, retryMinMs: 100, retryMaxMs: 1000, infoRefreshMs: 500, disableFastSync: true },
  chain: { retryMinMs: 500, retryMaxMs: 5000, jobTimeoutMs: 120_000 },
  trader: { batchMs: 300, progressLogMs: 0, tickMs: 200 },
  board: false,
}

export interface BedOptions {
  pruntimes: number
  pools: number
  blockMs?: number
  registrationInfoVersion?: 1 | 2
  /** Extra lifecycle environment (PHALA_MIN_BENCH_SCORE, ...). */
  env?: Record<string, string>
  /** USE_BUILT_IN_TRADER (default true); false: the test runs the trade daemon itself. */
  builtInTrader?: boolean
  /** The devnet's PhalaComputation.CoolDownPeriod (default 7 days). */
  coolDownPeriodSecs?: number
  tuning?: EngineTuning
}

export async function startBed(o: BedOptions): Promise<Bed> {
  const logger = quiet()
  const dir = mkdtempSync(join(tmpdir(), 'prb-lc-chain-'))
  const parts: Array<() => Promise<void>> = []
  const stop = async (): Promise<void> => {
    for (const fn of parts.reverse()) await fn().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const redis = await startRedis()
    parts.push(() => redis.stop())
    const dn = await startDevnetWith({ history: 40, blockMs: o.blockMs ?? 400, pools: o.pools, ...(o.coolDownPeriodSecs !== undefined ? { coolDownPeriodSecs: o.coolDownPeriodSecs } : {}) }, logger)
    parts.push(() => dn.stop())
    const pr = await startPruntimes({ count: o.pruntimes, host: '127.0.0.1', basePort: 0, ...(o.registrationInfoVersion ? { registrationInfoVersion: o.registrationInfoVersion } : {}) }, logger)
    parts.push(() => pr.stop())
    const dp = await startWalkieDp(dn, logger)
    parts.push(() => dp.stop())
    await waitFor(() => caughtUp(dp.dp, dn), 60_000, () => describeProgress(dp.dp, dn))
    const api = await connectApi(dn.paraUrl)
    parts.push(() => api.disconnect())
    const config = lifecycleConfig(dir, dn, {
      PHALA_Q_REDIS_ENDPOINT: redis.url,
      USE_BUILT_IN_TRADER: o.builtInTrader === false ? 'false' : 'true',
      PHALA_WALKIE_BOOT_NODES: dp.dp.walkie()!.multiaddrs()[0]!,
      PHALA_TRADE_BATCH_MS: '300',
      PHALA_PRPC_REQUEST_TIMEOUT: '5000',
      ...o.env,
    })
    const boot = async (): Promise<RunningLifecycle> => {
      const lm = await startLifecycle({ config, walkie: TEST_WALKIE, reconnectMinMs: 50, reconnectMaxMs: 500 }, { logger, createEngine: (d) => createEngine(d, o.tuning ?? TUNING) })
      await lm.booted
      return lm
    }
    const bed: Bed = { dn, pr, dp, redis, api, lm: await boot(), logger, dir, stop,
      restartLifecycle: async () => {
        await bed.lm.stop()
        bed.lm = await boot()
      },
    }
    parts.push(() => bed.lm.stop())
    return bed
  } catch (err) {
    await stop()
    throw err
  }
}

export function report(bed: Bed, uuid: string): WorkerReport | undefined {
  return bed.lm.engine()?.report(uuid)
}

export function describeWorkers(bed: Bed, uuids: string[]): string {
  return JSON.stringify(uuids.map((u) => {
    const r = report(bed, u)
    return r && { u, s: r.status, m: r.lastMessage, b: r.paraBlockDispatchedTo, c: r.details?.onChain }
  }))
}

export interface OnChainSession { state: string; stake: bigint; pid: string | null; registered: boolean }

/** What the chain says about a worker (by its 0x public key) in pool `pid`. */
export async function onChain(api: ApiPromise, pid: number, pubkey: string): Promise<OnChainSession> {
  const session = u8aToHex(poolSubAccount(pid, hexToU8a(pubkey)))
  const [s, st, asg, reg] = await Promise.all([
    api.query.phalaComputation.sessions(session),
    api.query.phalaComputation.stakes(session),
    api.query.phalaStakePoolv2.workerAssignments(pubkey),
    api.query.phalaRegistry.workers(pubkey),
  ])
  const sj = s.toJSON() as { state?: string } | null
  const stJ = st.toJSON() as string | number | null
  return {
    state: sj?.state ?? 'none',
    stake: stJ === null ? 0n : BigInt(stJ),
    pid: (asg.toJSON() as number | null) === null ? null : String(asg.toJSON()),
    registered: !(reg as unknown as { isNone: boolean }).isNone,
  }
}
