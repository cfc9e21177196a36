/** `PHALA_MODULE=devnet`: the relay chain and the Phala parachain over JSON-RPC (see devnet.ts). */
import type { ModuleContext, RunningModule } from '../common/module.js'
import { type DevnetOptions, startDevnet } from './devnet.js'

export { startDevnet, DEVNET_DEFAULTS, DEFAULT_GENESIS_TIME_MS, DEFAULT_GRANDPA_V5_AT, DEFAULT_FINALITY_LAG } from './devnet.js'
export { IDENTITIES, CHAIN_NAMES, identityOf, type ChainName, type ChainIdentity } from './identity.js'
export type { Devnet, DevnetOptions, DevnetStatus, RuntimeFactoryOptions } from './devnet.js'

export async function start(ctx: ModuleContext<DevnetOptions>): Promise<RunningModule> {
  const devnet = await startDevnet(ctx.config, ctx.logger.child({ module: 'devnet' }))
  return { stop: () => devnet.stop() }
}
