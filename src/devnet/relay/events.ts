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

const encoded = new WeakMap<TypeRegistry, { success: Uint8Array; included: (paraId: number, relayParent: string, head: string) => Uint8Array }>()

/**
 * The two records, encoded once per registry: ExtrinsicSuccess never changes, and CandidateIncluded
 * is assembled from its fixed layout (checked once against the metadata's own encoding) since
 * building it through the registry for every block costs more than the rest of the block.
 */
function recordsOf(registry: TypeRegistry): NonNullable<ReturnType<typeof encoded.get>> {
  let r = encoded.get(registry)
  if (r) return r
  const success = record(registry, { applyExtrinsic: 0 }, 'System', 'ExtrinsicSuccess', [{ weight: { refTime: 10_000_000, proofSize: 1_500 }, class: 'Mandatory', paysFee: 'Yes' }])
  const slow = (paraId: number, relayParent: string, head: string): Uint8Array => record(registry, 'finalization', 'ParaInclusion', 'CandidateIncluded', [
    // Hex, not bytes: @polkadot/types reads a Uint8Array given for Bytes as already length-prefixed.
    { descriptor: { paraId, relayParent, paraHead: u8aToHex(blake2AsU8a(hexToU8a(head), 256)) } }, head, 0, 0,
  ])
  const e = eventMeta(registry, 'ParaInclusion', 'CandidateIncluded')
  const zero32 = new Uint8Array(32)
  // descriptor { para_id, relay_parent, collator, pvd hash, pov hash, erasure root, signature[64], para_head, code hash }, commitments hash, head, core, group
  const fast = (paraId: number, relayParent: string, head: string): Uint8Array => {
    const h = hexToU8a(head)
    return u8aConcat(new Uint8Array([1, e.pallet, e.index]), u32Le(paraId), hexToU8a(relayParent), zero32, zero32, zero32, zero32, new Uint8Array(64),
      blake2AsU8a(h, 256), zero32, zero32, compactToU8a(h.length), h, u32Le(0), u32Le(0), new Uint8Array([0]))
  }
  const probe = ['0x' + '12'.repeat(40), '0x' + '34'.repeat(32)] as const
  const ok = u8aToHex(fast(7, probe[1], probe[0])) === u8aToHex(slow(7, probe[1], probe[0]))
  r = { success, included: ok ? fast : slow }
  encoded.set(registry, r)
  return r
}

/** SCALE Vec<EventRecord> of relay block `n` (built before it is appended: best is its parent). */
export function relayEvents(relay: RelayEventSource, n: number, paraHeadHex: string | undefined): string {
  const r = recordsOf(relay.registry)
  const records: Uint8Array[] = [r.success]
  if (paraHeadHex && n > 1) records.push(r.included(relay.init.paraId, relay.chain.best.hash, paraHeadHex))
  return u8aToHex(u8aConcat(compactToU8a(records.length), ...records))
}
