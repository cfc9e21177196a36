/**
 * The relay's runtime APIs through state_call, and the node RPCs a client asks every chain for.
 * The devnet relay takes no transactions, so the transaction APIs answer as for a runtime that
 * rejects every call (validity `Invalid(Call)`), with a fee from the encoded length only.
 */
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { decodeAddress } from '@polkadot/util-crypto'
import { encodeAuthorityList, u64Le } from '../../common/grandpa.js'
import { type BlockRecord, type MethodTable, RpcError } from '../chain/index.js'
import { encodeFeeDetails, RELAY_VALIDITY, u128Le } from '../chain/index.js'
import type { RelayChain } from './relay.js'

const BASE_FEE = 1_000_000n
const BYTE_FEE = 10_000n

export function relayStateCall(relay: RelayChain, method: string, data: string, block: BlockRecord): string | undefined {
  const setId = relay.setIdAt(block.number)
  switch (method) {
    case 'GrandpaApi_grandpa_authorities': return u8aToHex(encodeAuthorityList(relay.authoritySet(setId).authorities))
    case 'GrandpaApi_current_set_id': return u8aToHex(u64Le(setId))
    case 'AccountNonceApi_account_nonce': return '0x00000000'
    case 'TaggedTransactionQueue_validate_transaction': return RELAY_VALIDITY
    case 'TransactionPaymentApi_query_info': {
      const len = BigInt(hexToU8a(data).length - 4)
      return u8aToHex(u8aConcat(compactToU8a(0), compactToU8a(0), new Uint8Array([0]), u128Le(BASE_FEE + BYTE_FEE * len)))
    }
    case 'TransactionPaymentApi_query_fee_details': {
      const len = BigInt(hexToU8a(data).length - 4)
      return encodeFeeDetails({ inclusionFee: { baseFee: String(BASE_FEE), lenFee: String(BYTE_FEE * len), adjustedWeightFee: '0' }, tip: '0' })
    }
    default: return undefined
  }
}

export function addRelayMethods(table: MethodTable): void {
  const c = table.calls
  c.set('author_pendingExtrinsics', () => [])
  const nextIndex = (p: unknown[]): number => {
    try {
      if (typeof p[0] !== 'string') throw new Error('not a string')
      decodeAddress(p[0])
    } catch (e) {
      throw RpcError.invalidParams(`invalid account ${JSON.stringify(p[0])}: ${String((e as Error)?.message ?? e)}`)
    }
    // The devnet relay has no accounts and takes no transactions.
    return 0
  }
  c.set('system_accountNextIndex', nextIndex)
  c.set('account_nextIndex', nextIndex)
}
