/** The devnet with the Phala para runtime, through unmodified @polkadot/api: sign, send, watch, errors. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import type { ISubmittableResult } from '@polkadot/types/types'
import type { Devnet } from '../../src/devnet/devnet.js'
import { USER_EXTENSIONS } from '../../src/devnet/para-runtime/index.js'
import { startDevnet } from '../../src/devnet/devnet.js'
import { ScaleReader, decodeHeader } from '../../src/common/grandpa.js'
import { decodeExact } from '../../src/common/bridge-types.js'
import { hexToU8a, u8aToHex } from '@polkadot/util'
import type { Option, Raw } from '@polkadot/types'
import { quietLogger } from './helpers.js'

let devnet: Devnet
let api: ApiPromise
const keyring = new Keyring({ type: 'sr25519', ss58Format: 30 })

before(async () => {
  devnet = await startDevnet({ paraPort: 0, relayPort: 0, history: 20, blockMs: 100, justificationPeriod: 16, sessionBlocks: 40 }, quietLogger)
  api = await ApiPromise.create({ provider: new WsProvider(devnet.paraUrl), noInitWarn: true, throwOnConnect: true, signedExtensions: USER_EXTENSIONS })
})
after(async () => {
  await api?.disconnect()
  await devnet?.stop()
})

/** signAndSend, resolving on the first status `until` accepts (deadline 20 s). */
function send(tx: ReturnType<ApiPromise['tx']['balances']['transferKeepAlive']>, signer: ReturnType<Keyring['addFromUri']>,
  until: (r: ISubmittableResult) => boolean, opts: { nonce?: number } = {}): Promise<{ last: ISubmittableResult; statuses: string[] }> {
  const statuses: string[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no final status; saw ${statuses.join(',')}`)), 20_000)
    tx.signAndSend(signer, opts, (r) => {
      statuses.push(r.status.type)
      if (until(r)) {
        clearTimeout(timer)
        resolve({ last: r, statuses })
      }
    }).catch((e: unknown) => {
      clearTimeout(timer)
      reject(e as Error)
    })
  })
}

test('para block #1 carries the validation data; chain identity is stable', async () => {
  const h1 = await api.rpc.chain.getBlockHash(1)
  assert.equal(h1.toHex(), devnet.para.chain.byNumber(1)!.hash)
  const vd = await (await api.at(h1)).query.parachainSystem.validationData()
  const json = vd.toJSON() as { relayParentNumber: number; relayParentStorageRoot: string }
  assert.equal(json.relayParentNumber, 1)
  assert.equal(json.relayParentStorageRoot, devnet.relay.chain.byNumber(1)!.header.stateRoot)
  assert.equal((await api.query.parachainInfo.parachainId()).toString(), '2035')
  // The relay's paras.heads at block 1 is the para genesis header.
  const head = devnet.relay.chain.state.get(devnet.relay.headsKey, 1)!
  assert.equal(decodeHeader(new ScaleReader(head).bytes()).number, 0)
})

test('a transfer from //Alice is finalized with its events; sending the same nonce again is outdated', async () => {
  const alice = keyring.addFromUri('//Alice')
  const bob = keyring.addFromUri('//Bob')
  const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber()
  const before = ((await api.query.system.account(bob.address)).toJSON() as { data: { free: number | string } }).data.free
  const { last, statuses } = await send(api.tx.balances.transferKeepAlive(bob.address, 10n ** 12n), alice, (r) => r.status.isFinalized, { nonce })
  // polkadot.js drops the InBlock result when Finalized arrives before it fetched InBlock's events
  // (switchMap), which happens with fast blocks on a loaded machine; rpc.test.ts checks every status raw.
  assert.equal(statuses[0], 'Ready')
  assert.equal(statuses.at(-1), 'Finalized')
  const names = last.events.map((e) => `${e.event.section}.${e.event.method}`)
  assert.ok(names.includes('balances.Transfer'), names.join(' '))
  assert.ok(names.includes('system.ExtrinsicSuccess'), names.join(' '))
  const fin = await api.rpc.chain.getFinalizedHead()
  assert.ok((await api.rpc.chain.getHeader(fin)).number.toNumber() >= (await api.rpc.chain.getHeader(last.status.asFinalized)).number.toNumber())
  const afterFree = ((await api.query.system.account(bob.address)).toJSON() as { data: { free: number | string } }).data.free
  assert.equal(BigInt(afterFree) - BigInt(before), 10n ** 12n)
  await assert.rejects(
    api.tx.balances.transferKeepAlive(bob.address, 10n ** 12n).signAndSend(alice, { nonce }),
    /1010: Invalid Transaction: Transaction is outdated/,
  )
})

test('phalaStakePoolv2.addWorker from a non-owner fails with a pallet error read by name', async () => {
  const bob = keyring.addFromUri('//Bob')
  const tx = api.tx.phalaStakePoolv2.addWorker(0, '0x' + '11'.repeat(32))
  const { last } = await send(tx as never, bob, (r) => r.status.isInBlock)
  assert.ok(last.dispatchError?.isModule)
  const meta = api.registry.findMetaError(last.dispatchError!.asModule)
  assert.equal(meta.section, 'phalaStakePoolv2')
  assert.equal(meta.name, 'WorkerNotRegistered')
  assert.ok(last.events.some((e) => e.event.method === 'ExtrinsicFailed'))
})

test('the same seed gives the same chains with the Phala runtime', async () => {
  const again = await startDevnet({ paraPort: 0, relayPort: 0, history: 20, blockMs: 100, justificationPeriod: 16, sessionBlocks: 40 }, quietLogger)
  try {
    again.pause() // timestamps follow blockMs, so compare with the same blockMs; history only
    assert.equal(again.relay.chain.byNumber(20)!.hash, devnet.relay.chain.byNumber(20)!.hash)
    assert.equal(again.para.chain.byNumber(10)!.hash, devnet.para.chain.byNumber(10)!.hash)
  } finally {
    await again.stop()
  }
})

/** The raw StorageChanges of pha_getStorageChangesAt, decoded exactly (every byte used). */
function decodeChanges(raw: string): Array<[string, string | null]> {
  const v = decodeExact('StorageChanges', hexToU8a(raw)).toJSON() as { mainStorageChanges: Array<[string, string | null]>; childStorageChanges: unknown[] }
  assert.deepEqual(v.childStorageChanges, [])
  return v.mainStorageChanges.map(([k, val]) => [k.toLowerCase(), val === null ? null : val.toLowerCase()])
}

test('pha_getStorageChangesAt of genesis is every pair; of a block, its writes, each equal to the state the node serves', async () => {
  const provider = (api as unknown as { _rpcCore: { provider: { send(m: string, p: unknown[]): Promise<string> } } })._rpcCore.provider
  const g = await api.rpc.chain.getBlockHash(0)
  const genesis = decodeChanges(await provider.send('pha_getStorageChangesAt', [g.toHex()]))
  const pairs = await api.rpc.state.getPairs('0x', g)
  assert.ok(pairs.length > 10)
  assert.deepEqual(
    new Map(genesis),
    new Map(pairs.map(([k, v]) => [k.toHex().toLowerCase(), u8aToHex(v.toU8a(true)).toLowerCase()])),
    'genesis: every pair, with its value',
  )
  assert.ok(genesis.every(([, v]) => v !== null), 'genesis deletes nothing')

  // A produced para block (the devnet makes one per two relay blocks): its writes, no more.
  const n = 4
  const h = await api.rpc.chain.getBlockHash(n)
  const writes = decodeChanges(await provider.send('pha_getStorageChangesAt', [h.toHex()]))
  assert.ok(writes.length > 0, `block ${n} writes something (timestamp, validation data ...)`)
  assert.ok(writes.length < genesis.length, 'a block sends its writes, not the whole state')
  assert.deepEqual(writes, devnet.para.chain.byNumber(n)!.changes, 'the writes the devnet applied for that block')
  const prev = await api.rpc.chain.getBlockHash(n - 1)
  for (const [k, v] of writes) {
    const at = await api.rpc.state.getStorage<Option<Raw>>(k, h)
    assert.equal(at.isSome ? at.unwrap().toHex().toLowerCase() : null, v, `value of ${k} at #${n}`)
  }
  // and at least one of them is a change from the block before
  const before = await Promise.all(writes.map(async ([k]) => {
    const o = await api.rpc.state.getStorage<Option<Raw>>(k, prev)
    return o.isSome ? o.unwrap().toHex().toLowerCase() : null
  }))
  assert.ok(writes.some(([, v], i) => before[i] !== v), 'a write changes a value')
})
