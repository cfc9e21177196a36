/** The runtime differences between Phala and Khala the bridge can meet (chain.md §1.2): CheckWorkerRegisterTime. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import { u8aToHex } from '@polkadot/util'
import { mapKey } from '../../src/devnet/para-runtime/storage.js'
import { MiniChain, runtime } from './helpers.js'

const RELAY_GENESIS = '0x' + '77'.repeat(32)

for (const chain of ['phala', 'khala'] as const) {
  test(`${chain}: CheckWorkerRegisterTime ${chain === 'phala' ? 'refuses' : 'lets'} a worker registered before the gatekeeper launched ${chain === 'phala' ? 'binding' : 'bind'}`, async () => {
    const c = new MiniChain(await runtime({ chain, genesisTimeMs: Date.UTC(2025, 0, 1), relayGenesisHash: RELAY_GENESIS }), Date.UTC(2025, 0, 1))
    const worker = new Keyring({ type: 'sr25519' }).addFromUri('//worker-legacy')
    // A registered, benchmarked worker entry without WorkerAddedAt: registered before the gatekeeper launched.
    const entry = c.registry.createType('PhalaPalletsRegistryPalletWorkerInfoV2', {
      pubkey: worker.publicKey, ecdhPubkey: worker.publicKey, runtimeVersion: 2, lastUpdated: 1, operator: u8aToHex(c.alice.publicKey),
      attestationProvider: 'Ias', confidenceLevel: 1, initialScore: 2000, features: [4, 1],
    })
    c.state.map.set(mapKey('PhalaRegistry', 'Workers', ['Twox64Concat', worker.publicKey]), entry.toHex())
    c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'addWorker', [0, worker.publicKey]))])
    const failed = c.eventsOf(2).find((e) => e.method === 'ExtrinsicFailed')
    if (chain === 'phala') assert.equal(failed && c.errorName(failed.data.dispatchError), 'phalaStakePoolv2.FailedToBindSessionAndWorker')
    else assert.equal(failed, undefined, 'Khala does not check the registration time')
  })
}
