import type { ModuleStart } from './common/module.js'
import type { ConfigFor, ModuleName } from './config/index.js'

/**
 * The daemons `PHALA_MODULE` can start, each loaded only when chosen. `null`: not built yet in
 * this version (the entry says so and exits 2).
 */
export const MODULE_LOADERS: { [M in ModuleName]: (() => Promise<ModuleStart<ConfigFor<M>>>) | null } = {
  data_provider: null,
  lifecycle: null,
  trade: null,
  monitor: null,
  devnet: null,
}
