/**
 * The JSON-RPC methods every Substrate node serves (chain_*, state_*, system_*, rpc_methods),
 * over one ChainStore. Chain-specific methods (author_*, pha_*, payment_*) are added by the
 * caller into the same table.
 */
import { blake2AsHex } from '@polkadot/util-crypto'
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { TypeRegistry } from '@polkadot/types'
import type { BlockRecord, ChainStore } from './chain.js'
import { GRANDPA_ENGINE_ID } from '../../common/grandpa.js'
import { RpcError } from './rpc-error.js'
import type { CallHandler, MethodTable, Params, SubscriptionMethod } from './rpc-server.js'

export interface ChainInfo {
  chain: ChainStore
  /** V14: state_getMetadata, Metadata_metadata, Metadata_metadata_at_version(14) */
  metadataHex: string
  /** V15: only Metadata_metadata_at_version(15), as a node serves it */
  metadataV15Hex?: string
  runtimeVersion: Record<string, unknown>
  systemChain: string
  systemName: string
  systemVersion: string
  properties: Record<string, unknown>
  /** Runtime APIs other than Metadata_* answered through state_call: result hex, or undefined = not found. */
  stateCall?(method: string, dataHex: string, block: BlockRecord): string | undefined
}

export function headerJson(b: BlockRecord): object {
  const h = b.header
  return {
    parentHash: h.parentHash,
    number: '0x' + h.number.toString(16),
    stateRoot: h.stateRoot,
    extrinsicsRoot: h.extrinsicsRoot,
    digest: { logs: h.digest },
  }
}

const HEX = /^(0x)?([0-9a-fA-F]{2})*$/

/** Bytes parameter; like the node (impl-serde) the 0x prefix is optional and "" is empty. */
export function hexParam(params: Params, i: number, what: string): string {
  const v = params[i]
  if (typeof v !== 'string' || !HEX.test(v)) throw RpcError.invalidParams(`${what}: expected 0x-prefixed hex, got ${JSON.stringify(v)}`)
  return (v.startsWith('0x') ? v : '0x' + v).toLowerCase()
}

/** A subscription callback must never break block production. */
function guarded<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void {
  return (...a) => {
    try {
      fn(...a)
    } catch {
      // A failing notification only concerns that subscriber.
    }
  }
}

function hashParam(params: Params, i: number): string {
  const v = params[i]
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(v)) throw RpcError.invalidParams(`block hash: expected 32 bytes of 0x hex, got ${JSON.stringify(v)}`)
  return v
}

function keysParam(params: Params, i: number): string[] {
  const v = params[i]
  if (!Array.isArray(v)) throw RpcError.invalidParams(`keys: expected an array of hex keys, got ${JSON.stringify(v)}`)
  return v.map((_, j) => hexParam(v, j, 'key'))
}

function blockNumberParam(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) return parseInt(v, 16)
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return parseInt(v, 10)
  throw RpcError.invalidParams(`block number expected, got ${JSON.stringify(v)}`)
}

export function addChainMethods(info: ChainInfo, table: MethodTable): void {
  const { chain } = info
  const c = table.calls
  const metaBytes = hexToU8a(info.metadataHex)
  const metaVersion = metaBytes[4] ?? 14
  const byVersion = new Map<number, Uint8Array>([[metaVersion, metaBytes]])
  if (info.metadataV15Hex) byVersion.set(15, hexToU8a(info.metadataV15Hex))
  const versions = [...byVersion.keys()].sort((a, b) => a - b)
  const versionCodec = new TypeRegistry()

  const add = (names: string[], fn: CallHandler): void => {
    for (const n of names) c.set(n, fn)
  }
  const sub = (names: string[], m: SubscriptionMethod): void => {
    for (const n of names) table.subs.set(n, m)
  }

  add(['rpc_methods'], () => ({ methods: [...new Set([...c.keys(), ...table.subs.keys(), ...[...table.subs.values()].flatMap((s) => s.unsubscribe)])].sort(), version: 1 }))
  add(['system_chain'], () => info.systemChain)
  add(['system_name'], () => info.systemName)
  add(['system_version'], () => info.systemVersion)
  add(['system_properties'], () => info.properties)
  add(['system_chainType'], () => 'Development')
  add(['system_health'], () => ({ peers: 0, isSyncing: false, shouldHavePeers: false }))
  add(['system_peers'], () => [])
  add(['system_nodeRoles'], () => ['Authority'])
  add(['system_localPeerId'], () => '12D3KooWDevnetDevnetDevnetDevnetDevnetDevnetDevnet')
  add(['system_localListenAddresses'], () => [])
  add(['system_syncState'], () => ({ startingBlock: 0, currentBlock: chain.best.number, highestBlock: chain.best.number }))

  add(['chain_getBlockHash', 'chain_getHead'], (p) => {
    const one = (v: unknown): string | null => {
      if (v === undefined || v === null) return chain.best.hash
      return chain.byNumber(blockNumberParam(v)!)?.hash ?? null
    }
    return Array.isArray(p[0]) ? p[0].map(one) : one(p[0])
  })
  add(['chain_getHeader'], (p) => {
    if (p[0] === undefined || p[0] === null) return headerJson(chain.best)
    const b = chain.byHash(hashParam(p, 0))
    return b ? headerJson(b) : null
  })
  add(['chain_getBlock'], (p) => {
    let b: BlockRecord | undefined = chain.best
    if (p[0] !== undefined && p[0] !== null) {
      b = chain.byHash(hashParam(p, 0))
    }
    if (!b) return null
    return {
      block: { header: headerJson(b), extrinsics: b.extrinsics },
      // Substrate serialises ([u8;4], Vec<u8>) pairs as number arrays.
      justifications: b.justification ? [[[...hexToU8a(GRANDPA_ENGINE_ID)], [...b.justification]]] : null,
    }
  })
  add(['chain_getFinalizedHead', 'chain_getFinalisedHead'], () => chain.finalized.hash)

  const headSub = (event: 'block' | 'finalized', notification: string, unsubscribe: string[], initial: () => BlockRecord): SubscriptionMethod => ({
    notification,
    unsubscribe,
    subscribe(_p, sink) {
      sink.emit(headerJson(initial()))
      const on = guarded((b: BlockRecord): void => sink.emit(headerJson(b)))
      chain.on(event, on)
      return () => chain.off(event, on)
    },
  })
  sub(['chain_subscribeNewHeads', 'chain_subscribeNewHead', 'subscribe_newHead'],
    headSub('block', 'chain_newHead', ['chain_unsubscribeNewHeads', 'chain_unsubscribeNewHead', 'unsubscribe_newHead'], () => chain.best))
  sub(['chain_subscribeAllHeads'], headSub('block', 'chain_allHead', ['chain_unsubscribeAllHeads'], () => chain.best))
  sub(['chain_subscribeFinalizedHeads', 'chain_subscribeFinalisedHeads'],
    headSub('finalized', 'chain_finalizedHead', ['chain_unsubscribeFinalizedHeads', 'chain_unsubscribeFinalisedHeads'], () => chain.finalized))

  // --- state
  add(['state_getStorage', 'state_getStorageAt'], (p) => {
    const key = hexParam(p, 0, 'key')
    return chain.state.get(key, chain.at(p[1]).number) ?? null
  })
  add(['state_getStorageHash', 'state_getStorageHashAt'], (p) => {
    const v = chain.state.get(hexParam(p, 0, 'key'), chain.at(p[1]).number)
    return v === undefined ? null : blake2AsHex(hexToU8a(v), 256)
  })
  add(['state_getStorageSize', 'state_getStorageSizeAt'], (p) => {
    const v = chain.state.get(hexParam(p, 0, 'key'), chain.at(p[1]).number)
    return v === undefined ? null : (v.length - 2) / 2
  })
  add(['state_queryStorageAt'], (p) => {
    const keys = keysParam(p, 0)
    const b = chain.at(p[1])
    return [{ block: b.hash, changes: keys.map((k) => [k, chain.state.get(k, b.number) ?? null]) }]
  })
  add(['state_queryStorage'], (p) => {
    const keys = keysParam(p, 0)
    const from = chain.at(p[1])
    const to = chain.at(p[2] ?? chain.best.hash)
    if (to.number < from.number) throw new RpcError(4001, 'Invalid block range')
    const out: object[] = []
    let last = new Map<string, string | null>()
    for (let n = from.number; n <= to.number; n++) {
      const changes: [string, string | null][] = []
      for (const k of keys) {
        const v = chain.state.get(k, n) ?? null
        if (n === from.number || last.get(k) !== v) changes.push([k, v])
        last.set(k, v)
      }
      if (changes.length) out.push({ block: chain.byNumber(n)!.hash, changes })
    }
    last = new Map()
    return out
  })
  const keysPaged: CallHandler = (p) => {
    const prefix = p[0] === undefined || p[0] === null ? '0x' : hexParam(p, 0, 'prefix')
    const count = p[1]
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw RpcError.invalidParams(`count: expected an integer, got ${JSON.stringify(count)}`)
    if (count > 1000) throw new RpcError(4002, `count exceeds maximum value. value: ${count}, max: 1000`)
    const start = p[2] === undefined || p[2] === null ? undefined : hexParam(p, 2, 'startKey')
    return chain.state.keysWithPrefix(prefix, chain.at(p[3]).number, start, count)
  }
  add(['state_getKeysPaged', 'state_getKeysPagedAt'], keysPaged)
  add(['state_getKeys'], (p) => chain.state.keysWithPrefix(hexParam(p, 0, 'prefix'), chain.at(p[1]).number))
  add(['state_getPairs'], (p) => {
    const prefix = hexParam(p, 0, 'prefix')
    const n = chain.at(p[1]).number
    return chain.state.keysWithPrefix(prefix, n).map((k) => [k, chain.state.get(k, n)!])
  })
  add(['state_getReadProof'], async (p) => {
    const keys = keysParam(p, 0)
    const b = chain.at(p[1])
    const snap = await chain.snapshot(b.number)
    return { at: b.hash, proof: snap.prove(keys) }
  })
  add(['state_getMetadata'], (p) => {
    chain.at(p[0])
    return info.metadataHex
  })
  add(['state_getRuntimeVersion', 'chain_getRuntimeVersion'], (p) => {
    chain.at(p[0])
    return info.runtimeVersion
  })
  add(['state_call', 'state_callAt'], (p) => {
    if (typeof p[0] !== 'string') throw RpcError.invalidParams('method name expected')
    const method = p[0]
    const data = hexParam(p, 1, 'data')
    const b = chain.at(p[2])
    if (method === 'Metadata_metadata_versions') return u8aToHex(u8aConcat(compactToU8a(versions.length), ...versions.map((v) => new Uint8Array([v, 0, 0, 0]))))
    if (method === 'Metadata_metadata') return u8aToHex(u8aConcat(compactToU8a(metaBytes.length), metaBytes))
    if (method === 'Metadata_metadata_at_version') {
      const v = hexToU8a(data)
      if (v.length !== 4) throw new RpcError(4003, 'Client error: Execution failed: Other("Failed to decode version")')
      const m = byVersion.get(new DataView(v.buffer, v.byteOffset).getUint32(0, true))
      return m ? u8aToHex(u8aConcat(new Uint8Array([1]), compactToU8a(m.length), m)) : '0x00'
    }
    if (method === 'Core_version') return versionCodec.createType('RuntimeVersion', info.runtimeVersion).toHex()
    const out = info.stateCall?.(method, data, b)
    if (out === undefined) {
      throw new RpcError(4003, `Client error: Execution failed: Other("Exported method ${method} is not found")`)
    }
    return out
  })

  sub(['state_subscribeRuntimeVersion', 'chain_subscribeRuntimeVersion'], {
    notification: 'state_runtimeVersion',
    unsubscribe: ['state_unsubscribeRuntimeVersion', 'chain_unsubscribeRuntimeVersion'],
    subscribe(_p, sink) {
      sink.emit(info.runtimeVersion)
      return () => undefined
    },
  })
  sub(['state_subscribeStorage'], {
    notification: 'state_storage',
    unsubscribe: ['state_unsubscribeStorage'],
    subscribe(p, sink) {
      const keys = p[0] === undefined || p[0] === null ? undefined : keysParam(p, 0)
      const best = chain.best
      if (keys) sink.emit({ block: best.hash, changes: keys.map((k) => [k, chain.state.get(k, best.number) ?? null]) })
      const set = keys ? new Set(keys) : undefined
      const on = guarded((b: BlockRecord): void => {
        const changes = set ? b.changes.filter(([k]) => set.has(k)) : b.changes
        if (changes.length) sink.emit({ block: b.hash, changes })
      })
      chain.on('block', on)
      return () => chain.off('block', on)
    },
  })
}
