/**
 * Heartbeat challenges as pRuntime meets them: the chain's PhalaMq.OutboundMessages of a dispatched
 * block may hold `SystemEvent::HeartbeatChallenge { seed: U256, online_target: U256 }` on
 * `phala/system/event`; a computing worker is hit when `seed ^ blake2_256(pubkey) <= online_target`
 * (U256, little-endian) and answers with a WorkingReportEvent::Heartbeat for that block.
 */
import { u8aToHex } from '@polkadot/util'
import { blake2AsU8a } from '@polkadot/util-crypto'
import { ScaleReader } from '../../common/grandpa.js'
import { valueKey } from './storage-keys.js'

export const OUTBOUND_MESSAGES_KEY = valueKey('PhalaMq', 'OutboundMessages')
const SYSTEM_EVENT_TOPIC = 'phala/system/event'

export interface Challenge {
  block: number
  seed: Uint8Array
  onlineTarget: Uint8Array
}

/** MessageOrigin: skip its bytes (variants per chain.md §2.3). */
function skipOrigin(r: ScaleReader): void {
  const v = r.u8()
  if (v === 0 || v === 4) r.bytes()
  else if (v === 1 || v === 2 || v === 3 || v === 6) r.take(32)
  else if (v !== 5 && v !== 255) throw new Error(`unknown MessageOrigin ${v}`)
}

/** The heartbeat challenges in a block's SCALE Vec<Message> (PhalaMq.OutboundMessages). */
export function challengesIn(block: number, outboundHex: string | undefined): Challenge[] {
  if (!outboundHex) return []
  const out: Challenge[] = []
  try {
    const r = new ScaleReader(outboundHex)
    const n = r.compact()
    for (let i = 0; i < n; i++) {
      skipOrigin(r)
      const destination = new TextDecoder().decode(r.bytes())
      const payload = r.bytes()
      if (destination !== SYSTEM_EVENT_TOPIC || payload[0] !== 1 || payload.length !== 65) continue
      out.push({ block, seed: payload.slice(1, 33), onlineTarget: payload.slice(33, 65) })
    }
  } catch {
    // Not a message list this worker can read: no challenge for it.
  }
  return out
}

const leToBig = (b: Uint8Array): bigint => BigInt(u8aToHex(b.slice().reverse()))

export function isHit(c: Challenge, pubkey: Uint8Array): boolean {
  const x = leToBig(c.seed) ^ leToBig(blake2AsU8a(pubkey, 256))
  return x <= leToBig(c.onlineTarget)
}
