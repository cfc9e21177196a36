/** In-process chain around the para runtime for tests: blocks, signing with @polkadot/keyring, events. */
import { cryptoWaitReady, blake2AsHex } from '@polkadot/util-crypto'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { u8aToHex, bnToU8a, u8aConcat } from '@polkadot/util'
import type { Call } from '@polkadot/types/interfaces'
import { createParaRuntime, type DevnetParaRuntime, type ParaRuntimeOptions } from '../../src/devnet/para-runtime/index.js'
import { MapState } from '../../src/devnet/para-runtime/storage.js'
import type { BuiltBlock, ChainContext } from '../../src/devnet/runtime-api.js'

export const EVENTS_KEY = '0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7'
export const GENESIS_TIME = Date.UTC(2025, 0, 1)

let cached: DevnetParaRuntime | undefined
export async function runtime(opts?: ParaRuntimeOptions): Promise<DevnetParaRuntime> {
  await cryptoWaitReady()
  if (opts) return createParaRuntime(opts)
  cached ??= createParaRuntime({ genesisTimeMs: GENESIS_TIME })
  return cached
}

export interface EventView { phase: string; section: string; method: string; data: Record<string, unknown>; raw: any }

export class MiniChain {
  state: MapState
  readonly hashes: string[]
  readonly keyring = new Keyring({ type: 'sr25519', ss58Format: 30 })
  readonly alice: KeyringPair
  readonly bob: KeyringPair
  readonly charlie: KeyringPair

  constructor(readonly rt: DevnetParaRuntime, readonly genesisTime = GENESIS_TIME) {
    this.state = new MapState(rt.genesisStorage())
    this.hashes = [blake2AsHex(`genesis ${genesisTime}`)]
    this.alice = this.keyring.addFromUri('//Alice')
    this.bob = this.keyring.addFromUri('//Bob')
    this.charlie = this.keyring.addFromUri('//Charlie')
  }

  get registry() { return this.rt.registry }
  get number(): number { return this.hashes.length - 1 }
  get genesisHash(): string { return this.hashes[0] }
  timeOf(n: number): number { return this.genesisTime + n * 12_000 }

  ctx(): ChainContext {
    return { genesisHash: this.genesisHash, blockHash: (n) => this.hashes[n], bestNumber: this.number }
  }

  block(txs: string[]): BuiltBlock {
    const n = this.number + 1
    const b = this.rt.buildBlock(this.state, {
      ...this.ctx(), number: n, parentHash: this.hashes[n - 1], timestampMs: this.timeOf(n),
      relayParent: { number: 100 + n, hash: blake2AsHex(`relay ${n}`), storageRoot: blake2AsHex(`root ${n}`) },
    }, txs)
    this.state.apply(b.changes)
    this.hashes.push(blake2AsHex(u8aConcat(bnToU8a(n, { bitLength: 32 }), ...b.extrinsics.map((x) => new TextEncoder().encode(x)))))
    return b
  }

  call(section: string, method: string, args: unknown[]): Call {
    const meta = this.registry.metadata.pallets.find((p) => p.name.toString().toLowerCase() === section.toLowerCase())
    if (!meta) throw new Error(`no pallet ${section}`)
    const calls = this.registry.lookup.getSiType(meta.calls.unwrap().type).def.asVariant.variants
    const v = calls.find((c) => camel(c.name.toString()) === method)
    if (!v) throw new Error(`no call ${section}.${method}`)
    if (args.length !== v.fields.length) throw new Error(`${section}.${method} takes ${v.fields.length} args`)
    return this.registry.createType('Call', { callIndex: [meta.index.toNumber(), v.index.toNumber()], args })
  }

  sign(pair: KeyringPair, call: Call, o: { nonce?: number; era?: 'immortal' | number; tip?: bigint; mode?: number } = {}): string {
    const nonce = o.nonce ?? this.rt.accountNonce(this.state, pair.address)
    const xt = this.registry.createType('Extrinsic', call)
    let era = this.registry.createType('ExtrinsicEra', '0x00')
    let blockHash = this.genesisHash
    if (typeof o.era === 'number') {
      era = this.registry.createType('ExtrinsicEra', { current: this.number, period: o.era })
      blockHash = this.hashes[this.number]
    }
    xt.sign(pair, {
      blockHash, genesisHash: this.genesisHash, nonce, era, tip: o.tip ?? 0, mode: o.mode ?? 0,
      runtimeVersion: this.registry.createType('RuntimeVersion', this.rt.runtimeVersion), signedExtensions: this.registry.signedExtensions,
    } as never)
    return xt.toHex()
  }

  events(): EventView[] {
    const raw = this.state.get(EVENTS_KEY)
    const recs = this.registry.createType('Vec<FrameSystemEventRecord>', raw) as unknown as any[]
    return recs.map((r) => ({
      phase: r.phase.toString(), section: r.event.section, method: r.event.method, raw: r,
      data: Object.fromEntries((r.event.data.names ?? []).map((n: string, i: number) => [n, r.event.data[i]])),
    }))
  }

  /** Events of the extrinsic at `index` in the last block. */
  eventsOf(index: number): EventView[] {
    return this.events().filter((e) => e.phase === JSON.stringify({ applyExtrinsic: index }))
  }

  /** "section.Name" of a DispatchError codec (as the bridge formats it). */
  errorName(err: any): string {
    if (err.isModule) {
      const m = this.registry.findMetaError(err.asModule)
      return `${m.section}.${m.name}`
    }
    return err.type
  }

  free(pair: KeyringPair | Uint8Array): bigint {
    const who = pair instanceof Uint8Array ? pair : pair.publicKey
    const v = this.state.get(accountKey(who))
    if (!v) return 0n
    return (this.registry.createType('FrameSystemAccountInfo', v) as any).data.free.toBigInt()
  }
}

export function nonceOf(c: MiniChain, pair: KeyringPair): number {
  return c.rt.accountNonce(c.state, pair.address)
}

export function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

import { mapKey } from '../../src/devnet/para-runtime/storage.js'
export function accountKey(who: Uint8Array): string {
  return mapKey('System', 'Account', ['Blake2_128Concat', who])
}

export const hex = u8aToHex
