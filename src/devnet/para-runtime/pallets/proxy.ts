/** pallet_proxy (index 5): add_proxy / remove_proxy / proxy with Khala's ProxyType filters. */
import type { Call } from '@polkadot/types/interfaces'
import { u8aEq } from '@polkadot/util'
import { moduleErrRaw, type Core } from '../core.js'
import { KHALA_INDICES } from '../phala-pallets-meta.js'
import { ensureSigned, toDispatchError, type Handler } from '../dispatch.js'
import { lookup, reserve, readAccount, writeAccount } from './balances.js'

const CENTS = 10_000_000_000n
/** Khala's deposit(items, bytes) = items * 15 CENTS + bytes * 6 CENTS; base = deposit(1, 8), factor = deposit(0, 33). */
export const PROXY_DEPOSIT_BASE = 15n * CENTS + 8n * 6n * CENTS
export const PROXY_DEPOSIT_FACTOR = 33n * 6n * CENTS
const MAX_PROXIES = 32

const err = (name: string, idx: number) => moduleErrRaw(KHALA_INDICES.Proxy, idx, `Proxy.${name}`)
const PROXY_TYPES = ['Any', 'NonTransfer', 'CancelProxy', 'Governance', 'Collator', 'StakePoolManager'] as const

const STAKE_POOL_MANAGER = new Set([
  'phalaStakePoolv2.addWorker', 'phalaStakePoolv2.removeWorker', 'phalaStakePoolv2.startComputing', 'phalaStakePoolv2.stopComputing',
  'phalaStakePoolv2.restartComputing', 'phalaStakePoolv2.reclaimPoolWorker', 'phalaStakePoolv2.create',
  'phalaRegistry.registerWorker', 'phalaRegistry.registerWorkerV2', 'phalaMq.syncOffchainMessage',
])

/** InstanceFilter<RuntimeCall> for ProxyType (chain.md §1.2; NonTransfer/CancelProxy as in Substrate). */
export function proxyFilter(type: string): (call: Call) => boolean {
  const key = (c: Call): string => `${c.section}.${c.method}`
  switch (type) {
    case 'Any': return () => true
    case 'NonTransfer': return (c) => c.section !== 'balances' && c.section !== 'assets'
    case 'CancelProxy': return (c) => key(c) === 'proxy.rejectAnnouncement' || c.section === 'utility'
    case 'StakePoolManager': return (c) => c.section === 'utility' || STAKE_POOL_MANAGER.has(key(c))
    default: return () => false
  }
}

interface ProxyDef { delegate: Uint8Array; proxyType: string; delay: number }

function proxiesType(core: Core): number {
  const p = core.meta.metadata.asLatest.pallets.find((x) => x.name.toString() === 'Proxy')
  const item = p?.storage.unwrap().items.find((i) => i.name.toString() === 'Proxies')
  if (!item) throw new Error('Proxy.Proxies missing from metadata')
  return item.type.asMap.value.toNumber()
}

function readProxies(d: Parameters<Handler>[0], who: Uint8Array): { defs: ProxyDef[]; deposit: bigint } {
  const raw = d.env.state.get(d.it.proxiesKey(who))
  if (!raw) return { defs: [], deposit: 0n }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const [defs, deposit] = d.core.codec.decode(proxiesType(d.core), raw) as any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { defs: defs.map((x: any) => ({ delegate: x.delegate.toU8a(), proxyType: x.proxyType.toString(), delay: x.delay.toNumber() })), deposit: deposit.toBigInt() }
}

function writeProxies(d: Parameters<Handler>[0], who: Uint8Array, defs: ProxyDef[], deposit: bigint): void {
  if (defs.length === 0) d.env.state.set(d.it.proxiesKey(who), null)
  else d.env.state.set(d.it.proxiesKey(who), d.core.codec.encode(proxiesType(d.core), [defs, deposit]))
}

export const proxyHandlers: Record<string, Handler> = {
  'proxy.addProxy': (d, origin, a) => {
    const who = ensureSigned(origin)
    const delegate = lookup(a.delegate)
    const proxyType = a.proxyType.toString()
    const delay = a.delay.toNumber()
    if (u8aEq(who, delegate)) throw err('NoSelfProxy', 7)
    const { defs, deposit } = readProxies(d, who)
    if (defs.some((x) => u8aEq(x.delegate, delegate) && x.proxyType === proxyType && x.delay === delay)) throw err('Duplicate', 4)
    if (defs.length >= MAX_PROXIES) throw err('TooMany', 0)
    defs.push({ delegate, proxyType, delay })
    const newDeposit = PROXY_DEPOSIT_BASE + PROXY_DEPOSIT_FACTOR * BigInt(defs.length)
    if (newDeposit > deposit) reserve(d.env, d.it, who, newDeposit - deposit)
    writeProxies(d, who, defs, newDeposit)
    d.env.deposit('Proxy', 'ProxyAdded', { delegator: who, delegatee: delegate, proxyType, delay })
  },
  'proxy.removeProxy': (d, origin, a) => {
    const who = ensureSigned(origin)
    const delegate = lookup(a.delegate)
    const proxyType = a.proxyType.toString()
    const delay = a.delay.toNumber()
    const { defs, deposit } = readProxies(d, who)
    const i = defs.findIndex((x) => u8aEq(x.delegate, delegate) && x.proxyType === proxyType && x.delay === delay)
    if (i < 0) throw err('NotFound', 1)
    defs.splice(i, 1)
    const newDeposit = defs.length ? PROXY_DEPOSIT_BASE + PROXY_DEPOSIT_FACTOR * BigInt(defs.length) : 0n
    const acc = readAccount(d.env, d.it, who)
    if (acc && deposit > newDeposit) {
      const back = deposit - newDeposit
      acc.reserved -= back
      acc.free += back
      writeAccount(d.env, d.it, who, acc)
      d.env.deposit('Balances', 'Unreserved', { who, amount: back })
    }
    writeProxies(d, who, defs, newDeposit)
    d.env.deposit('Proxy', 'ProxyRemoved', { delegator: who, delegatee: delegate, proxyType, delay })
  },
  'proxy.proxy': (d, origin, a) => {
    const who = ensureSigned(origin)
    const real = lookup(a.real)
    const force: string | undefined = a.forceProxyType.isSome ? a.forceProxyType.unwrap().toString() : undefined
    const { defs } = readProxies(d, real)
    const def = defs.find((x) => u8aEq(x.delegate, who) && (force === undefined || x.proxyType === force))
    if (!def) throw err('NotProxy', 2)
    if (def.delay > 0) throw err('Unannounced', 6)
    if (!PROXY_TYPES.includes(def.proxyType as (typeof PROXY_TYPES)[number])) throw err('NotProxy', 2)
    const filter = proxyFilter(def.proxyType)
    const parent = origin.filter
    let result: Record<string, unknown> = { Ok: null }
    try {
      d.dispatch({ kind: 'signed', who: real, filter: parent ? (c) => parent(c) && filter(c) : filter }, a.call as Call)
    } catch (e) {
      result = { Err: toDispatchError(e).error }
    }
    d.env.deposit('Proxy', 'ProxyExecuted', { result })
  },
}
