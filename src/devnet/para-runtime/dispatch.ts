/**
 * Call dispatch: origin call filters (ProxyType), every dispatch in its own storage layer (as
 * FRAME since 0.9.25), and the routing table from `section.method` to the pallet handlers.
 */
import type { Call } from '@polkadot/types/interfaces'
import type { Codec } from '@polkadot/types/types'
import { blake2AsU8a } from '@polkadot/util-crypto'
import { BadOrigin, DispatchErr, NOT_SUPPORTED, SYSTEM_CALL_FILTERED, type Core, type Env, type Origin } from './core.js'
import type { Items } from './items.js'
import { lookup, transfer } from './pallets/balances.js'
import { utilityHandlers } from './pallets/utility.js'
import { proxyHandlers } from './pallets/proxy.js'
import { mqHandlers } from './pallets/mq.js'
import { registryHandlers } from './pallets/registry.js'
import { stakePoolHandlers } from './pallets/stake-pool.js'

/** A dispatch origin with the call filter it carries (set by proxy.proxy). */
export type DispatchOrigin = Origin & { filter?: (call: Call) => boolean }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Args = Record<string, any>
export interface Dispatcher {
  core: Core
  env: Env
  it: Items
  /** Dispatch a (nested) call: filter, then a transactional layer. Throws DispatchErr. */
  dispatch(origin: DispatchOrigin, call: Call): void
  /** The devnet implements this call (one it does not fails with System.NotSupportedByDevnet and pays no fee). */
  supports(call: Call): boolean
}
export type Handler = (d: Dispatcher, origin: DispatchOrigin, a: Args, call: Call) => void

export function ensureSigned(origin: DispatchOrigin): Uint8Array {
  if (origin.kind !== 'signed') throw BadOrigin()
  return origin.who
}

const notImplemented = (call: Call): DispatchErr => NOT_SUPPORTED(`${call.section}.${call.method}`)

const baseHandlers: Record<string, Handler> = {
  'system.remark': (_d, origin) => { if (origin.kind === 'none') throw BadOrigin() },
  'system.remarkWithEvent': (d, origin, a) => {
    const sender = ensureSigned(origin)
    d.env.deposit('System', 'Remarked', { sender, hash: blake2AsU8a(a.remark.toU8a(true), 256) })
  },
  'balances.transferKeepAlive': (d, o, a) => transfer(d.env, d.it, ensureSigned(o), lookup(a.dest), a.value.toBigInt(), true),
  'balances.transferAllowDeath': (d, o, a) => transfer(d.env, d.it, ensureSigned(o), lookup(a.dest), a.value.toBigInt(), false),
  'timestamp.set': (d, o, a) => {
    if (o.kind !== 'none') throw BadOrigin()
    d.it.timestampNow.put(d.env.state, a.now.toBigInt())
  },
}

export function createDispatcher(core: Core, env: Env, it: Items, extra: Record<string, Handler> = {}): Dispatcher {
  const table: Record<string, Handler> = {
    ...baseHandlers, ...utilityHandlers, ...proxyHandlers, ...mqHandlers, ...registryHandlers, ...stakePoolHandlers, ...extra,
  }
  const d: Dispatcher = {
    core,
    env,
    it,
    supports: (call) => table[`${call.section}.${call.method}`] !== undefined || rootOnly(call),
    dispatch(origin, call) {
      if (origin.filter && !origin.filter(call)) throw SYSTEM_CALL_FILTERED()
      const h = table[`${call.section}.${call.method}`]
      if (!h) {
        // Root-only calls of the standard pallets fail on origin first, as on a real chain.
        if (origin.kind !== 'root' && rootOnly(call)) throw BadOrigin()
        throw notImplemented(call).resolve(core.indices)
      }
      // argsEntries are keyed by the metadata (snake_case) names; handlers use camelCase.
      const args: Args = Object.fromEntries((call.argsEntries as [string, Codec][]).map(([k, v]) => [camel(k), v]))
      env.transactional(() => {
        try {
          h(d, origin, args, call)
        } catch (e) {
          if (e instanceof DispatchErr) throw e.resolve(core.indices)
          // A runtime bug: fail this call (as a panic would fail the block on a real chain, which the devnet avoids).
          core.opts.logger?.error({ err: e, call: `${call.section}.${call.method}` }, 'para runtime: call handler failed')
          throw toDispatchError(e)
        }
      })
    },
  }
  return d
}

const rootOnly = (call: Call): boolean => call.section === 'system' || call.method.startsWith('force') || call.method.startsWith('sudo')

/** sp_runtime::DispatchError of a thrown error (non-DispatchErr is a devnet bug, reported as Other). */
export function toDispatchError(e: unknown): DispatchErr {
  if (e instanceof DispatchErr) return e
  return new DispatchErr({ Other: null }, `Other(devnet runtime error: ${(e as Error)?.message ?? String(e)})`)
}

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
