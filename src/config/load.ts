import { ConfigError } from '../common/errors.js'
import { SCHEMAS, type ConfigFor, type ModuleName } from './schemas.js'
import type { Env, Schema, VarSpec } from './spec.js'

export const REDACTED = '[REDACTED]'

/** Names operators are known to mistype, with the name prb reads. */
const KNOWN_MISTAKES: Readonly<Record<string, string>> = {
  PHALA_DATA_PROVIDER_LOCAL_SERVER_PORT: 'PHALA_DATA_PROVIDER_LOCAL_SERVER',
  PHALA_LRU_CACHE_DEBUG_LOG_INTERVAL: 'PHALA_LRU_CACHE_DBUG_LOG_INTERVAL',
  PHALA_WALKIE_BOOTNODES: 'PHALA_WALKIE_BOOT_NODES',
  PHALA_PARENT_ENDPOINT: 'PHALA_PARENT_CHAIN_ENDPOINT',
}

/** Variables of older prb versions that v2 (and prb) ignore. */
const STALE = /^(PHALA_DB_|PHALA_REDIS_ENDPOINT$|PHALA_NAMESPACE$|PHALA_ENABLE_KEEP_ALIVE$|NS_FETCH$|NEXT_PUBLIC_NS_LIST$)/

function allKnownNames(): Set<string> {
  const names = new Set<string>(['PHALA_MODULE', 'SYNC_TYPE', 'PHALA_PARA_ID'])
  for (const s of Object.values(SCHEMAS)) for (const spec of Object.values(s as Schema)) names.add(spec.name)
  return names
}

export interface LoadedConfig<M extends ModuleName> {
  module: M
  config: ConfigFor<M>
  /** Lines worth a warning at start-up (unknown or stale variables, unused ones that are set). */
  warnings: string[]
  /** Values of secret variables that are set, for the log guard. */
  secrets: string[]
}

function describe(raw: string): string {
  return JSON.stringify(raw.length > 200 ? raw.slice(0, 200) + '…' : raw)
}

/** Parse every variable of the module's schema; all problems are reported together. */
export function loadConfig<M extends ModuleName>(module: M, env: Env): LoadedConfig<M> {
  const schema = SCHEMAS[module] as Schema
  const out: Record<string, unknown> = {}
  const problems: string[] = []
  const warnings: string[] = []
  const secrets: string[] = []
  for (const [key, spec] of Object.entries(schema)) {
    const raw = env[spec.name]
    if (raw === undefined || raw.trim() === '') {
      try {
        out[key] = typeof spec.default === 'function' ? (spec.default as (e: Env) => unknown)(env) : spec.default
      } catch {
        // A default derived from another variable whose value is bad: that variable reports it.
        out[key] = undefined
      }
      continue
    }
    try {
      out[key] = spec.parse(raw)
    } catch (e) {
      const shown = spec.secret ? '(secret, not shown)' : describe(raw)
      problems.push(`${spec.name}=${shown} is invalid: ${(e as Error).message}`)
      continue
    }
    if (spec.secret) secrets.push(raw)
    if (spec.unused) warnings.push(`${spec.name} is accepted for compatibility but has no effect in prb: ${spec.description}`)
  }
  const known = allKnownNames()
  for (const name of Object.keys(env).sort()) {
    if (KNOWN_MISTAKES[name]) warnings.push(`${name} is not read by prb; did you mean ${KNOWN_MISTAKES[name]}?`)
    else if (STALE.test(name)) warnings.push(`${name} belongs to an older prb and is ignored`)
    else if (name.startsWith('PHALA_') && !known.has(name)) warnings.push(`${name} is not a prb variable and is ignored; check its spelling`)
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
  return { module, config: out as ConfigFor<M>, warnings, secrets }
}

/** The effective configuration as JSON-ready data, keyed by variable name, secrets redacted. */
export function printableConfig(module: ModuleName, config: object): Record<string, unknown> {
  const schema = SCHEMAS[module] as Schema
  const out: Record<string, unknown> = { PHALA_MODULE: module }
  for (const [key, spec] of Object.entries(schema) as [string, VarSpec<unknown>][]) {
    const value = (config as Record<string, unknown>)[key]
    out[spec.name] = spec.secret ? (value === undefined ? null : REDACTED) : (value ?? null)
  }
  return out
}
