/**
 * The GRANDPA RPCs of a Substrate node (sc-consensus-grandpa-rpc), as @polkadot/api names them
 * (types/interfaces/grandpa): `grandpa_subscribeJustifications` (notification
 * `grandpa_justifications`, result = hex of the SCALE GrandpaJustification, one per finalized block,
 * no initial value) and `grandpa_proveFinality(blockNumber)` -> hex of SCALE FinalityProof
 * { block: H256, justification: Bytes, unknown_headers: Vec<Header> } or null.
 */
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { type MethodTable, RpcError } from '../chain/index.js'
import type { RelayChain } from './relay.js'

function blockNumber(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) return parseInt(v, 16)
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return parseInt(v, 10)
  throw RpcError.invalidParams(`block number expected, got ${JSON.stringify(v)}`)
}

/**
 * FinalityProof for block `n`: justified at the block that ends n's authority set (a set-change
 * block, stored justification) when that is final, else at the finalized head (the voter's latest
 * justification); unknown_headers are the headers after n up to the justified block, as Substrate.
 */
export function proveFinality(relay: RelayChain, n: number): string | null {
  const fin = relay.chain.finalizedNumber
  if (n < 1 || n > fin) return null
  const sb = relay.init.sessionBlocks
  const setEnd = Math.ceil(n / sb) * sb
  const at = setEnd <= fin ? setEnd : fin
  const rec = relay.chain.byNumber(at)!
  const justification = relay.justificationOf(at)
  const headers: Uint8Array[] = []
  for (let b = n + 1; b <= at; b++) headers.push(hexToU8a(relay.chain.byNumber(b)!.headerHex))
  return u8aToHex(u8aConcat(hexToU8a(rec.hash), compactToU8a(justification.length), justification, compactToU8a(headers.length), ...headers))
}

export function addGrandpaMethods(relay: RelayChain, table: MethodTable): void {
  table.subs.set('grandpa_subscribeJustifications', {
    notification: 'grandpa_justifications',
    unsubscribe: ['grandpa_unsubscribeJustifications'],
    subscribe(_p, sink) {
      const on = (_n: number, j: Uint8Array): void => {
        try {
          sink.emit(u8aToHex(j))
        } catch {
          // a failing notification concerns only that subscriber
        }
      }
      relay.justifications.on('justification', on)
      return () => relay.justifications.off('justification', on)
    },
  })
  table.calls.set('grandpa_proveFinality', (p) => proveFinality(relay, blockNumber(p[0])))
}
