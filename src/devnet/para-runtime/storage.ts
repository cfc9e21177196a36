/**
 * Storage keys and a layered write overlay over the engine's StateView. Layers give Substrate's
 * semantics: every dispatch is transactional (a failed call leaves no writes, fees and nonce stay).
 */
import { xxhashAsU8a, blake2AsU8a } from '@polkadot/util-crypto'
import { u8aConcat, u8aToHex, hexToU8a, stringToU8a } from '@polkadot/util'
import type { TypeRegistry } from '@polkadot/types'
import type { StateView } from '../runtime-api.js'

export type Hasher = 'Twox64Concat' | 'Blake2_128Concat' | 'Identity'

export function prefixKey(pallet: string, item: string): Uint8Array {
  return u8aConcat(xxhashAsU8a(stringToU8a(pallet), 128), xxhashAsU8a(stringToU8a(item), 128))
}

export function hashKey(hasher: Hasher, key: Uint8Array): Uint8Array {
  if (hasher === 'Twox64Concat') return u8aConcat(xxhashAsU8a(key, 64), key)
  if (hasher === 'Blake2_128Concat') return u8aConcat(blake2AsU8a(key, 128), key)
  return key
}

export function valueKey(pallet: string, item: string): string {
  return u8aToHex(prefixKey(pallet, item))
}

export function mapKey(pallet: string, item: string, ...keys: [Hasher, Uint8Array][]): string {
  return u8aToHex(u8aConcat(prefixKey(pallet, item), ...keys.map(([h, k]) => hashKey(h, k))))
}

/** Encodes/decodes values by metadata lookup id. */
export class Codec {
  constructor(readonly registry: TypeRegistry) {}

  encode(typeId: number, value: unknown): Uint8Array {
    return this.registry.createTypeUnsafe(this.registry.createLookupType(typeId), [value]).toU8a()
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  decode(typeId: number, data: Uint8Array | string): any {
    return this.registry.createTypeUnsafe(this.registry.createLookupType(typeId), [typeof data === 'string' ? hexToU8a(data) : data])
  }
}

/** A stack of write layers over a read-only base state. */
export class Overlay {
  private layers: Map<string, string | null>[] = [new Map()]

  constructor(private readonly base: StateView) {}

  get(key: string): string | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]
      if (layer.has(key)) {
        const v = layer.get(key)
        return v === null ? undefined : v
      }
    }
    return this.base.get(key)
  }

  set(key: string, value: string | Uint8Array | null): void {
    this.layers[this.layers.length - 1].set(key, value === null ? null : typeof value === 'string' ? value : u8aToHex(value))
  }

  /** Keys under `prefix` in base and overlay, deleted ones removed, sorted. */
  keysWithPrefix(prefix: string): string[] {
    const keys = new Set(this.base.keysWithPrefix(prefix))
    for (const layer of this.layers) {
      for (const [k, v] of layer) {
        if (!k.startsWith(prefix)) continue
        if (v === null) keys.delete(k)
        else keys.add(k)
      }
    }
    return [...keys].sort()
  }

  begin(): void {
    this.layers.push(new Map())
  }

  commit(): void {
    const top = this.layers.pop()
    if (!top || this.layers.length === 0) throw new Error('overlay commit without begin')
    const below = this.layers[this.layers.length - 1]
    for (const [k, v] of top) below.set(k, v)
  }

  rollback(): void {
    if (this.layers.length < 2) throw new Error('overlay rollback without begin')
    this.layers.pop()
  }

  /** Run `fn` in a layer kept only when it returns without throwing. */
  transactional<T>(fn: () => T): T {
    this.begin()
    try {
      const r = fn()
      this.commit()
      return r
    } catch (e) {
      this.rollback()
      throw e
    }
  }

  /** All writes (after the base), for BuiltBlock.changes. */
  changes(): Map<string, string | null> {
    if (this.layers.length !== 1) throw new Error('overlay has open layers')
    const out = new Map<string, string | null>()
    for (const [k, v] of this.layers[0]) {
      // A delete of a key absent in the base, or a write of the same value, is still a write in
      // Substrate's overlay; the engine decides what to keep. We drop only no-op deletes.
      if (v === null && this.base.get(k) === undefined) continue
      out.set(k, v)
    }
    return out
  }
}

/** An in-memory StateView (genesis, tests). */
export class MapState implements StateView {
  constructor(readonly map: Map<string, string> = new Map()) {}
  get(key: string): string | undefined {
    return this.map.get(key)
  }
  keysWithPrefix(prefix: string): string[] {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort()
  }
  apply(changes: Map<string, string | null>): void {
    for (const [k, v] of changes) {
      if (v === null) this.map.delete(k)
      else this.map.set(k, v)
    }
  }
}

export { hexToU8a, u8aToHex }
