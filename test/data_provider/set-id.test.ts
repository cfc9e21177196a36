/**
 * Weakness 12: set ids are u64 on chain, the upstream-compatible proto stores them as uint32
 * (ParentBlock) and int32 (Window, RangeMeta). A set id that does not fit is a clear error, never a
 * silent wrap: in the fetcher, at the block carrying it, and in every record encoder.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { u8aToHex } from '@polkadot/util'
import { blake2AsU8a } from '@polkadot/util-crypto'
import { encodeHeader, u64Le } from '../../src/common/grandpa.js'
import { decodeParentBlock, decodeRangeMeta, decodeWindow, encodeParentBlock, encodeRangeMeta, encodeWindow, MAX_SET_ID } from '../../src/data_provider/store.js'
import { HashLoader, type RpcClient } from '../../src/data_provider/fetch/hashes.js'
import { fetchRelayBlock, relayFetchContext } from '../../src/data_provider/fetch/relay.js'
import { STORAGE_KEYS, parasHeadsKey, storedSetId } from '../../src/data_provider/fetch/scale-util.js'
import { parentRecord } from './chain-fixture.js'

const meta = {
  parentStartBlock: 1, parentStopBlock: 2, paraStartBlock: -1, paraStopBlock: -1, parentRange: [1, 2], paraRange: [],
  drySyncHeaderReqKey: 'k', latestSetId: 0, blobParentStopBlock: 0, blobParaStopBlock: 0, blobSyncHeaderReqKey: '',
}
const win = { parentStartBlock: 1, parentStopBlock: -1, paraStartBlock: 0, paraStopBlock: -1, windowId: 0, setId: -1, isFinished: false }

test('records keep the largest set id their field holds and refuse the next one', () => {
  const pb = parentRecord({ number: 7, setId: MAX_SET_ID.parentBlock, justified: true, paraNumber: 1 })
  assert.equal(decodeParentBlock(encodeParentBlock(pb)).setId, 0xffff_ffff)
  assert.throws(() => encodeParentBlock({ ...pb, setId: 2 ** 32 }), (e: Error & { code?: string }) => e.code === 'ERR_SET_ID_RANGE' && /uint32 ParentBlock.set_id/.test(e.message))
  assert.equal(decodeRangeMeta(encodeRangeMeta({ ...meta, latestSetId: 2 ** 31 - 1 })).latestSetId, 2 ** 31 - 1)
  assert.throws(() => encodeRangeMeta({ ...meta, latestSetId: 2 ** 31 }), /int32 RangeMeta.latest_set_id/)
  assert.throws(() => encodeRangeMeta({ ...meta, latestSetId: 2 ** 32 + 5 }), /would wrap silently/)
  assert.equal(decodeWindow(encodeWindow(win)).setId, -1, 'the "not known yet" sentinel stays allowed')
  assert.equal(decodeWindow(encodeWindow({ ...win, setId: 2 ** 31 - 1 })).setId, 2 ** 31 - 1)
  assert.throws(() => encodeWindow({ ...win, setId: 2 ** 31 }), /int32 Window.set_id/)
})

test('storedSetId: u64 from the chain to the stored number, refused above 2^31-1 with the block named', () => {
  assert.equal(storedSetId(0n, 'x'), 0)
  assert.equal(storedSetId(2n ** 31n - 1n, 'x'), 2 ** 31 - 1)
  assert.throws(() => storedSetId(2n ** 32n, 'relay block 9'), (e: Error & { code?: string }) => e.code === 'ERR_SET_ID_RANGE' && e.message.startsWith('relay block 9: GRANDPA set id 4294967296'))
})

test('the fetcher refuses a relay block whose Grandpa.CurrentSetId is 2^32 (no wrap to 0)', async () => {
  const header = { parentHash: '0x' + '11'.repeat(32), number: 5, stateRoot: '0x' + '22'.repeat(32), extrinsicsRoot: '0x' + '33'.repeat(32), digest: [] as string[] }
  const hash = u8aToHex(blake2AsU8a(encodeHeader(header), 256))
  const headsKey = parasHeadsKey(2035)
  const chain: RpcClient = {
    name: 'relay',
    async rpc<T>(method: string): Promise<T> {
      switch (method) {
        case 'chain_getBlockHash': return hash as T
        case 'chain_getHeader': return { ...header, number: '0x5', digest: { logs: [] } } as T
        case 'chain_getBlock': return { block: { header: { ...header, number: '0x5', digest: { logs: [] } } }, justifications: null } as T
        case 'state_queryStorageAt': return [{ block: hash, changes: [[STORAGE_KEYS.grandpaSetId, u8aToHex(u64Le(2n ** 32n))], [headsKey, null]] }] as T
        case 'state_getReadProof': return { at: hash, proof: [] } as T
        default: throw new Error(`unexpected ${method}`)
      }
    },
  }
  const ctx = relayFetchContext(chain, new HashLoader(chain), headsKey, 8)
  await assert.rejects(fetchRelayBlock(ctx, 5), (e: Error & { code?: string }) => e.code === 'ERR_SET_ID_RANGE' && /relay block 5/.test(e.message))
})
