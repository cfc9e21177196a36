/**
 * System.Events of a relay block, encoded with the relay's own metadata: the timestamp inherent's
 * System.ExtrinsicSuccess, and ParaInclusion.CandidateIncluded for the para head the block takes
 * (its descriptor names the para, the relay parent and the head's hash; the other descriptor
 * fields are zero, as the devnet has no collators or validators).
 */
import { blake2AsU8a } from '@polkadot/util-crypto'
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import type { TypeRegistry } from '@polkadot/types'
import { u32Le } from '../../common/grandpa.js'

interface EventMeta { pallet: number; index: number; fields: number[] }

const cache = new WeakMap<TypeRegistry, Map<string, EventMeta>>()

function eventMeta(registry: TypeRegistry, pallet: string, name: string): EventMeta {
  let m = cache.get(registry)
  if (!m) cache.set(registry, (m = new Map()))
  const key = `${pallet}.${name}`
  let e = m.get(key)
  if (!e) {
    const p = registry.metadata.pallets.find((x) => x.name.toString() === pallet)
    if (!p || p.events.isNone) throw new Error(`relay metadata has no events for ${pallet}`)
    const v = registry.lookup.getSiType(p.events.unwrap().type).def.asVariant.variants.find((x) => x.name.toString() === name)
    if (!v) throw new Error(`relay metadata has no event ${key}`)
    e = { pallet: p.index.toNumber(), index: v.index.toNumber(), fields: v.fields.map((f) => f.type.toNumber()) }
    m.set(key, e)
  }
  return e
}

/** Phase: ApplyExtrinsic(u32) = 0, Finalization = 1, Initialization = 2. */
type Phase = { applyExtrinsic: number } | 'finalization' | 'initialization'

function record(registry: TypeRegistry, phase: Phase, pallet: string, name: string, values: unknown[]): Uint8Array {
  const e = eventMeta(registry, pallet, name)
  const ph = typeof phase === 'object' ? u8aConcat(new Uint8Array([0]), u32Le(phase.applyExtrinsic)) : new Uint8Array([phase === 'finalization' ? 1 : 2])
  const fields = e.fields.map((t, i) => registry.createTypeUnsafe(registry.createLookupType(t), [values[i]]).toU8a())
  return u8aConcat(ph, new Uint8Array([e.pallet, e.index]), ...fields, new Uint8Array([0]))
}

export interface RelayEventSource {
  readonly registry: TypeRegistry
  readonly init: { paraId: number }
  readonly chain: { best: { hash: string } }
}

/** SCALE Vec<EventRecord> of relay block `n` (built before it is appended: best is its parent). */
export function relayEvents(relay: RelayEventSource, n: number, paraHeadHex: string | undefined): string {
  const { registry } = relay
  const records: Uint8Array[] = [
    record(registry, { applyExtrinsic: 0 }, 'System', 'ExtrinsicSuccess', [{ weight: { refTime: 10_000_000, proofSize: 1_500 }, class: 'Mandatory', paysFee: 'Yes' }]),
  ]
  if (paraHeadHex && n > 1) {
    // Hex, not bytes: @polkadot/types reads a Uint8Array given for Bytes as already length-prefixed.
    records.push(record(registry, 'finalization', 'ParaInclusion', 'CandidateIncluded', [
      { descriptor: { paraId: relay.init.paraId, relayParent: relay.chain.best.hash, paraHead: u8aToHex(blake2AsU8a(hexToU8a(paraHeadHex), 256)) } },
      paraHeadHex, 0, 0,
    ]))
  }
  return u8aToHex(u8aConcat(compactToU8a(records.length), ...records))
}
