export { loadConfig, printableConfig, REDACTED, type LoadedConfig } from './load.js'
export { SCHEMAS, MODULE_NAMES, type ModuleName, type ConfigFor, type DataProviderConfig, type LifecycleConfig, type TradeConfig, type MonitorConfig, type DevnetConfig } from './schemas.js'
export type { VarSpec, Env, Schema } from './spec.js'
export { envTableMarkdown } from './docs.js'
