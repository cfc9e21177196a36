import type { ModuleStart } from './common/module.js'
import type { ConfigFor, DevnetConfig, ModuleName } from './config/index.js'
import type { DevnetOptions } from './devnet/index.js'

/** The devnet's options from its environment variables. */
export function devnetOptions(c: DevnetConfig): DevnetOptions {
  return {
    host: c.PHALA_DEVNET_HOST,
    paraPort: c.PHALA_DEVNET_PARA_PORT,
    relayPort: c.PHALA_DEVNET_RELAY_PORT,
    blockMs: c.PHALA_DEVNET_BLOCK_MS,
    justificationPeriod: c.PHALA_DEVNET_JUSTIFICATION_PERIOD,
    sessionBlocks: c.PHALA_DEVNET_SESSION_BLOCKS,
    chain: c.PHALA_DEVNET_CHAIN,
    paraId: c.PHALA_DEVNET_PARA_ID,
    grandpaV5At: c.PHALA_DEVNET_GRANDPA_V5_AT,
    finalityLag: c.PHALA_DEVNET_FINALITY_LAG,
    reorgEvery: c.PHALA_DEVNET_REORG_EVERY,
    heartbeatEvery: c.PHALA_DEVNET_HEARTBEAT_EVERY,
    heartbeatWindow: c.PHALA_DEVNET_HEARTBEAT_WINDOW,
    seed: c.PHALA_DEVNET_SEED,
    history: c.PHALA_DEVNET_HISTORY,
    rpcLatencyMs: c.PHALA_DEVNET_RPC_LATENCY_MS,
    controlPort: c.PHALA_DEVNET_CONTROL_PORT,
    pools: c.PHALA_DEVNET_POOLS,
    pruntimes: c.PHALA_DEVNET_PRUNTIMES,
    pruntimePort: c.PHALA_DEVNET_PRUNTIME_PORT,
    ...(c.PHALA_DEVNET_DATA_DIR ? { pruntimeDataDir: c.PHALA_DEVNET_DATA_DIR } : {}),
  }
}

/**
 * The daemons `PHALA_MODULE` can start, each loaded only when chosen. `null`: not built yet in
 * this version (the entry says so and exits 2).
 */
export const MODULE_LOADERS: { [M in ModuleName]: (() => Promise<ModuleStart<ConfigFor<M>>>) | null } = {
  data_provider: async () => (await import('./data_provider/main.js')).start,
  lifecycle: async () => (await import('./lifecycle/index.js')).start,
  trade: async () => (await import('./trade/index.js')).start,
  monitor: async () => (await import('./monitor/index.js')).start,
  devnet: async () => {
    const { start } = await import('./devnet/index.js')
    return (ctx) => start({ ...ctx, config: devnetOptions(ctx.config) })
  },
}
