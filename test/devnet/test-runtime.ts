/**
 * A minimal ParaRuntime to drive the chain engine in tests without the Phala runtime:
 * Substrate's shipped metadata, and "transactions" that are SCALE Vec<u8> of JSON
 * {s: signer, n: nonce, p?: priority, bad?: true}. Nonces live at TEST_NONCE_PREFIX ++ hex(signer).
 */
import substrateMetadata, { version as substrateVersion } from '@polkadot/types-support/metadata/static-substrate'
import { blake2AsHex, xxhashAsHex } from '@polkadot/util-crypto'
import { compactFromU8a, compactToU8a, hexToU8a, stringToHex, stringToU8a, u8aConcat, u8aToHex, u8aToString } from '@polkadot/util'
import { mqTag } from '../../src/devnet/chain/index.js'
import type { BuiltBlock, ParaRuntime, StateView, TxValidity } from '../../src/devnet/runtime-api.js'

export const SYSTEM_NUMBER = xxhashAsHex('System', 128) + xxhashAsHex('Number', 128).slice(2)
export const TEST_NONCE_PREFIX = xxhashAsHex('Test', 128) + xxhashAsHex('Nonce', 128).slice(2)

export function testTx(o: { s: string; n: number; p?: number; bad?: boolean; mq?: { sender: string; seq: number } }): string {
  const b = stringToU8a(JSON.stringify(o))
  return u8aToHex(u8aConcat(compactToU8a(b.length), b))
}

function parse(hex: string): { s: string; n: number; p?: number; bad?: boolean; mq?: { sender: string; seq: number } } | undefined {
  try {
    const b = hexToU8a(hex)
    const [offset, len] = compactFromU8a(b)
    return JSON.parse(u8aToString(b.subarray(offset, offset + len.toNumber()))) as { s: string; n: number; p?: number }
  } catch {
    return undefined
  }
}

const nonceKey = (s: string): string => TEST_NONCE_PREFIX + stringToHex(s).slice(2)
const u32 = (n: number): string => u8aToHex(new Uint8Array(new Uint32Array([n]).buffer))
const readU32 = (v: string | undefined): number => (v ? new DataView(hexToU8a(v).buffer).getUint32(0, true) : 0)

export function createTestRuntime(): ParaRuntime {
  const validate = (state: StateView, hex: string): TxValidity => {
    const tx = parse(hex)
    if (!tx) return { ok: false, error: { code: 1001, message: 'Extrinsic has invalid format: not a test tx' } }
    if (tx.bad) return { ok: false, error: { code: 1010, message: 'Invalid Transaction', data: 'Transaction has a bad signature' } }
    const onChain = readU32(state.get(nonceKey(tx.s)))
    if (tx.n < onChain) return { ok: false, error: { code: 1010, message: 'Invalid Transaction', data: 'Transaction is outdated' } }
    return {
      ok: true, hash: blake2AsHex(hexToU8a(hex)), provides: [stringToHex(`${tx.s}:${tx.n}`), ...(tx.mq ? [mqTag(tx.mq.sender, tx.mq.seq)] : [])],
      requires: tx.n > onChain ? [stringToHex(`${tx.s}:${tx.n - 1}`)] : [], priority: tx.p ?? 1, signer: stringToHex(tx.s), nonce: tx.n,
    }
  }
  return {
    metadataHex: substrateMetadata,
    runtimeVersion: { ...(substrateVersion as Record<string, unknown>), stateVersion: 0 },
    chainName: 'Test Para',
    properties: { ss58Format: 30, tokenDecimals: 12, tokenSymbol: 'PHA' },
    genesisStorage: () => new Map([[SYSTEM_NUMBER, u32(0)], [xxhashAsHex(':code', 64), '0x00']]),
    validateTransaction: (state, _ctx, hex) => validate(state, hex),
    buildBlock(state, ctx, offered): BuiltBlock {
      const changes = new Map<string, string | null>([[SYSTEM_NUMBER, u32(ctx.number)]])
      // The relay parent goes into state, like parachainSystem.validationData.
      changes.set(xxhashAsHex('Test', 128) + xxhashAsHex('RelayParent', 128).slice(2), ctx.relayParent.hash)
      const included: BuiltBlock['included'] = []
      const dropped: BuiltBlock['dropped'] = []
      const extrinsics: string[] = []
      const nonces = new Map<string, number>()
      for (const hex of offered) {
        const tx = parse(hex)!
        const expected = nonces.get(tx.s) ?? readU32(state.get(nonceKey(tx.s)))
        const hash = blake2AsHex(hexToU8a(hex))
        if (tx.n < expected) {
          dropped.push({ hash, error: { code: 1010, message: 'Invalid Transaction', data: 'Transaction is outdated' } })
          continue
        }
        if (tx.n > expected) continue
        nonces.set(tx.s, tx.n + 1)
        changes.set(nonceKey(tx.s), u32(tx.n + 1))
        included.push({ index: extrinsics.length, hash, success: true })
        extrinsics.push(hex)
      }
      return { extrinsics, changes, included, dropped, digest: [] }
    },
    accountNonce: (state, address) => readU32(state.get(nonceKey(u8aToString(hexToU8a(address))))),
    queryInfo: () => ({ weight: { refTime: 1000, proofSize: 10 }, class: 'Normal', partialFee: '12345' }),
    mqNextSequence: () => 0,
  }
}
