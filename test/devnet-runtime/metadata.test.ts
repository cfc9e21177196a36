import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Metadata, TypeRegistry, expandMetadata } from '@polkadot/types'
import { u8aToHex, hexToU8a, compactStripLength } from '@polkadot/util'
import { blake2AsHex } from '@polkadot/util-crypto'
import { runtime, MiniChain } from './helpers.js'
import { mapKey } from '../../src/devnet/para-runtime/storage.js'
import { USER_EXTENSIONS } from '../../src/devnet/para-runtime/index.js'

/** A decorated storage entry gives the compact-length-prefixed key. */
const keyOf = (entry: unknown, ...args: unknown[]): string => u8aToHex(compactStripLength((entry as (...a: unknown[]) => Uint8Array)(...args))[1])

const CHAINS = {
  phala: { sp: 89, bp: 92, assets: 42, specName: 'phala', txVersion: 5, paraId: 2035 },
  khala: { sp: 93, bp: 96, assets: 89, specName: 'khala', txVersion: 6, paraId: 2004 },
} as const
type Chain = keyof typeof CHAINS

const runtimes = new Map<Chain, Promise<Awaited<ReturnType<typeof runtime>>>>()
const runtimeOf = (chain: Chain) => {
  let r = runtimes.get(chain)
  if (!r) runtimes.set(chain, (r = chain === 'phala' ? runtime() : runtime({ chain, genesisTimeMs: 1 })))
  return r
}

/** A client registry decorated with `hex` (V14 by default: what state_getMetadata serves). */
async function decorated(chain: Chain, which: 'v14' | 'v15' = 'v14') {
  const rt = await runtimeOf(chain)
  const registry = new TypeRegistry()
  const metadata = new Metadata(registry, (which === 'v14' ? rt.metadataHex : rt.metadataV15Hex!) as `0x${string}`)
  registry.setMetadata(metadata, undefined, USER_EXTENSIONS)
  return { rt, registry, metadata, d: expandMetadata(registry, metadata) }
}

for (const chain of ['phala', 'khala'] as const) {
  const c = CHAINS[chain]
  for (const which of ['v14', 'v15'] as const) {
    test(`${chain}: metadata ${which} has ${chain}'s pallet indices and a client registry sees the calls at their indices`, async () => {
      const { metadata, d } = await decorated(chain, which)
      assert.equal(metadata.version, which === 'v14' ? 14 : 15)
      const pallets = Object.fromEntries(metadata.asLatest.pallets.map((p) => [p.name.toString(), p.index.toNumber()]))
      assert.deepEqual(pallets, {
        System: 0, Timestamp: 1, Utility: 3, Proxy: 5, ParachainInfo: 20, ParachainSystem: 21, Balances: 40, TransactionPayment: 41, Aura: 53,
        PhalaMq: 85, PhalaRegistry: 86, PhalaComputation: 87, Assets: c.assets, PhalaStakePoolv2: c.sp, PhalaBasePool: c.bp,
      })
      const idx = (f: { callIndex: Uint8Array }) => [...f.callIndex]
      assert.deepEqual(idx(d.tx.phalaStakePoolv2.addWorker), [c.sp, 1])
      assert.deepEqual(idx(d.tx.phalaStakePoolv2.startComputing), [c.sp, 13])
      assert.deepEqual(idx(d.tx.phalaStakePoolv2.stopComputing), [c.sp, 14])
      assert.deepEqual(idx(d.tx.phalaStakePoolv2.restartComputing), [c.sp, 17])
      assert.deepEqual(idx(d.tx.phalaRegistry.registerWorker), [86, 6])
      assert.deepEqual(idx(d.tx.phalaRegistry.registerWorkerV2), [86, 7])
      assert.deepEqual(idx(d.tx.phalaMq.syncOffchainMessage), [85, 0])
      assert.deepEqual(idx(d.tx.utility.forceBatch), [3, 4])
      assert.deepEqual(idx(d.tx.proxy.proxy), [5, 0])
      assert.deepEqual(idx(d.tx.balances.transferKeepAlive), [40, 3])
      assert.deepEqual(d.tx.phalaStakePoolv2.startComputing.meta.args.map((a) => `${a.name}:${a.type}`), ['pid:u64', 'worker:SpCoreSr25519Public', 'stake:u128'])
    })
  }

  test(`${chain}: storage keys computed by a client equal the runtime keys; constants and signed extensions are the runtime's`, async () => {
    const { registry, d } = await decorated(chain)
    const origin = registry.createType('PhalaMqMessageOrigin', { Worker: '0x' + '12'.repeat(32) })
    assert.equal(keyOf(d.query.phalaMq.offchainIngress, origin), mapKey('PhalaMq', 'OffchainIngress', ['Twox64Concat', origin.toU8a()]))
    assert.equal(keyOf(d.query.system.events), '0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7')
    const pk = hexToU8a('0x' + '34'.repeat(32))
    for (const [q, pallet, item] of [
      [d.query.phalaRegistry.workers, 'PhalaRegistry', 'Workers'], [d.query.phalaComputation.workerBindings, 'PhalaComputation', 'WorkerBindings'],
      [d.query.phalaComputation.sessions, 'PhalaComputation', 'Sessions'], [d.query.phalaComputation.stakes, 'PhalaComputation', 'Stakes'],
      [d.query.phalaStakePoolv2.workerAssignments, 'PhalaStakePoolv2', 'WorkerAssignments'],
    ] as const) {
      assert.equal(keyOf(q, pk), mapKey(pallet, item, ['Twox64Concat', pk]), `${pallet}.${item}`)
    }
    assert.equal(d.consts.system.ss58Prefix.toString(), '30')
    assert.equal(d.consts.balances.existentialDeposit.toString(), '10000000000')
    assert.equal(d.consts.phalaComputation.minInitP.toString(), '50')
    assert.equal(registry.chainSS58, 30)
    assert.deepEqual(registry.signedExtensions, ['CheckNonZeroSender', 'CheckSpecVersion', 'CheckTxVersion', 'CheckGenesis', 'CheckMortality', 'CheckNonce', 'CheckWeight', 'CheckMqSequence', 'ChargeTransactionPayment', 'CheckMetadataHash'])
    const version = registry.createType('RuntimeVersion', hexToU8a(d.consts.system.version.toHex())) as any
    assert.equal(version.specName.toString(), c.specName)
    assert.equal(version.specVersion.toNumber(), 1290)
    assert.equal(version.transactionVersion.toNumber(), c.txVersion)
  })

  test(`${chain}: runtime version, properties, para id and DispatchError.Module indices decode by name with their docs`, async () => {
    const { rt, registry } = await decorated(chain)
    assert.equal(rt.chainName, chain === 'phala' ? 'Phala' : 'Khala')
    assert.equal(rt.runtimeVersion.specName, c.specName)
    assert.equal(rt.runtimeVersion.specVersion, 1290)
    assert.equal(rt.runtimeVersion.transactionVersion, c.txVersion)
    const paraIdKey = mapKey('ParachainInfo', 'ParachainId')
    assert.equal(rt.genesisStorage().get(paraIdKey), u8aToHex(new Uint8Array(new Uint32Array([c.paraId]).buffer)))
    const apis = rt.runtimeVersion.apis as [string, number][]
    assert.ok(apis.some(([id, v]) => id === blake2AsHex('Core', 64) && v === 4))
    assert.ok(apis.some(([id]) => id === '0x37e397fc7c91f5e4'), 'Metadata api')
    assert.deepEqual(rt.properties, { ss58Format: 30, tokenDecimals: 12, tokenSymbol: 'PHA' })
    const meta = (index: number, error: number) => {
      const e = new Uint8Array(4)
      e[0] = error
      return registry.findMetaError({ index: registry.createType('u8', index), error: registry.createType('[u8;4]', e) } as never)
    }
    const name = (index: number, error: number) => { const m = meta(index, error); return `${m.section}.${m.name}` }
    assert.equal(name(85, 1), 'phalaMq.BadSequence')
    assert.equal(name(86, 14), 'phalaRegistry.InvalidRuntimeInfoHash')
    assert.equal(name(86, 27), 'phalaRegistry.PRuntimeRejected')
    assert.equal(name(86, 37), 'phalaRegistry.ParachainIdMismatch')
    assert.equal(name(87, 16), 'phalaComputation.BenchmarkTooLow')
    assert.equal(name(c.sp, 7), 'phalaStakePoolv2.UnauthorizedPoolOwner')
    assert.equal(name(c.bp, 5), 'phalaBasePool.PoolDoesNotExist')
    assert.equal(name(0, 5), 'system.CallFiltered')
    assert.equal(name(0, 6), 'system.NotSupportedByDevnet')
    assert.equal(name(3, 0), 'utility.TooManyCalls')
    // "section.Name: docs" as the bridge logs it: every Phala pallet error has one line of docs.
    const e = meta(87, 12)
    assert.equal(`${e.section}.${e.name}: ${e.docs.join(' ')}`, "phalaComputation.InsufficientStake: The stake is below the minimum for the worker's score.")
    for (const [pallet, index] of [['PhalaMq', 85], ['PhalaRegistry', 86], ['PhalaComputation', 87], ['PhalaStakePoolv2', c.sp], ['PhalaBasePool', c.bp]] as const) {
      const errors = registry.metadata.pallets.find((p) => p.name.toString() === pallet)!.errors.unwrap()
      const variants = registry.lookup.getSiType(errors.type).def.asVariant.variants
      for (const v of variants) assert.ok(meta(index, v.index.toNumber()).docs.join('').length > 5, `${pallet}.${v.name.toString()} has docs`)
    }
  })
}

test('registerWorkerV2 checks para id and rejects a None attestation', async () => {
  const c = new MiniChain(await runtime())
  const info = { version: 2, machineId: 'm', pubkey: '0x' + '56'.repeat(32), ecdhPubkey: '0x' + '57'.repeat(32), genesisBlockHash: '0x' + '00'.repeat(32), features: [], operator: null, paraId: 2035, maxConsensusVersion: 1 }
  const { makeDevnetIasReport } = await import('../../src/devnet/attestation.js')
  const wrongPara = c.registry.createType('PhalaTypesWorkerRegistrationInfoV2', { ...info, paraId: 2004 }).toU8a()
  const rep = makeDevnetIasReport(wrongPara, c.timeOf(1))
  const ias = { SgxIas: { raReport: u8aToHex(rep.raReport), signature: u8aToHex(rep.signature), rawSigningCert: u8aToHex(rep.rawSigningCert) } }
  c.block([
    c.sign(c.alice, c.call('phalaRegistry', 'registerWorkerV2', [wrongPara, ias]), { nonce: 0 }),
    c.sign(c.alice, c.call('phalaRegistry', 'registerWorkerV2', [info, null]), { nonce: 1 }),
  ])
  const err = (i: number) => c.errorName(c.eventsOf(i).find((e) => e.method === 'ExtrinsicFailed')!.data.dispatchError)
  assert.equal(err(2), 'phalaRegistry.ParachainIdMismatch')
  assert.equal(err(3), 'phalaRegistry.NoneAttestationDisabled')
})
