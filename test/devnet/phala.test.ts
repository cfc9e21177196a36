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

test('pha_getStorageChangesAt of genesis is every pair; of a block, its writes', async () => {
  const g = await api.rpc.chain.getBlockHash(0)
  const provider = (api as unknown as { _rpcCore: { provider: { send(m: string, p: unknown[]): Promise<string> } } })._rpcCore.provider
  const raw = await provider.send('pha_getStorageChangesAt', [g.toHex()])
  const pairs = await api.rpc.state.getPairs('0x', g)
  assert.match(raw, /^0x/)
  // Compact count prefix equals the number of genesis pairs.
  const n = pairs.length
  const b0 = parseInt(raw.slice(2, 4), 16)
  const count = (b0 & 3) === 0 ? b0 >> 2 : (b0 & 3) === 1 ? (b0 | (parseInt(raw.slice(4, 6), 16) << 8)) >> 2 : -1
  if (count >= 0) assert.equal(count, n)
  assert.ok(n > 10)
})
