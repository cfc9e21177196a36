/**
 * The GRANDPA storage move of today's relay chains (pallet-grandpa v5): before relay block
 * `grandpaV5At` the authorities are under `:grandpa_authorities`, from it only in
 * `Grandpa.Authorities`. On both chain identities the data provider syncs across the move (set
 * changes before and after it), its authority proofs cover both keys and the set id, and a devnet
 * pRuntime is fed across it from the blob server. With the move at genesis (0) the genesis proof
 * holds Grandpa.Authorities only, which pRuntime accepts as well.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { u8aToHex } from '@polkadot/util'
import { createChainConnection } from '../../src/common/chain.js'
import { encodeAuthorityList, readAuthorityList, readHeader, ScaleReader } from '../../src/common/grandpa.js'
import { verifyProof } from '../../src/common/trie.js'
import { createBlobClient, decodeGenesis } from '../../src/data_provider/index.js'
import { HashLoader } from '../../src/data_provider/fetch/hashes.js'
import { fetchRelayBlock, relayFetchContext } from '../../src/data_provider/fetch/relay.js'
import { STORAGE_KEYS, parasHeadsKey } from '../../src/data_provider/fetch/scale-util.js'
import { startPruntimes } from '../../src/devnet/pruntime/index.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'
import { caughtUp, describeProgress, feedFromBlobs, quiet, startDp, startTestDevnet, tempDir, waitFor } from './e2e-helpers.js'

for (const [chain, V5_AT] of [['phala', 50], ['khala', 50], ['phala', 0]] as const) {
  test(`${chain}: the data provider and pRuntime sync across the GRANDPA storage move at relay block ${V5_AT}`, async (t) => {
    const logger = quiet()
    const dir = tempDir()
    // Set changes at 40 (old key) and 80 (new key); justifications every 8.
    const dn = await startTestDevnet({ chain, history: 100, grandpaV5At: V5_AT }, logger)
    t.after(() => dn.stop())
    const paraId = chain === 'phala' ? 2035 : 2004
    const relay = createChainConnection({ url: dn.relayUrl, name: 'relay' }, { logger })
    relay.start()
    t.after(() => relay.stop())

    // The relay state: the list moves, the old key is gone.
    const at = async (n: number, key: string): Promise<string | null> => relay.rpc<string | null>('state_getStorage', [key, await relay.rpc<string>('chain_getBlockHash', [n])])
    if (V5_AT > 0) {
      assert.ok(await at(V5_AT - 1, STORAGE_KEYS.grandpaAuthorities))
      assert.equal(await at(V5_AT - 1, STORAGE_KEYS.grandpaAuthoritiesV5), null)
    }
    assert.equal(await at(V5_AT, STORAGE_KEYS.grandpaAuthorities), null, ':grandpa_authorities is gone from the move on')
    assert.equal(await at(V5_AT, STORAGE_KEYS.grandpaAuthoritiesV5), u8aToHex(encodeAuthorityList(dn.relay.authoritySet(dn.relay.setIdAt(V5_AT)).authorities)))
    assert.equal(await at(80, STORAGE_KEYS.grandpaAuthoritiesV5), u8aToHex(encodeAuthorityList(dn.relay.authoritySet(2).authorities)))

    // The set change after the move carries the new list, proven with both keys and the set id.
    const ctx = relayFetchContext(relay, new HashLoader(relay), parasHeadsKey(paraId), 8)
    for (const [n, setId] of [[40, 1n], [80, 2n]] as const) {
      const b = await fetchRelayBlock(ctx, n)
      const r = new ScaleReader(b.authoritySetChange)
      assert.equal(r.u8(), 1)
      const list = readAuthorityList(r)
      assert.equal(r.u64(), setId)
      const proof = Array.from({ length: r.compact() }, () => r.bytes())
      assert.deepEqual(list, dn.relay.authoritySet(Number(setId)).authorities)
      const root = dn.relay.chain.byNumber(n)!.header.stateRoot
      const proven = verifyProof(root, proof, [STORAGE_KEYS.grandpaAuthoritiesV5, STORAGE_KEYS.grandpaAuthorities, STORAGE_KEYS.grandpaSetId])
      const before = n < V5_AT
      assert.equal(proven.get(before ? STORAGE_KEYS.grandpaAuthorities : STORAGE_KEYS.grandpaAuthoritiesV5), before ? u8aToHex(Uint8Array.of(1, ...encodeAuthorityList(list))) : u8aToHex(encodeAuthorityList(list)))
      assert.equal(proven.get(before ? STORAGE_KEYS.grandpaAuthoritiesV5 : STORAGE_KEYS.grandpaAuthorities) ?? null, null, 'the other key is proven absent')
      assert.ok(proven.get(STORAGE_KEYS.grandpaSetId), 'the set id is in the proof')
    }

    const pr = await startPruntimes({ count: 1, host: '127.0.0.1', basePort: 0 }, logger)
    t.after(() => pr.stop())
    const dp = await startDp(dn, dir.path, logger)
    t.after(async () => {
      await dp.stop()
      dir.remove()
    })
    await dp.booted
    const blob = createBlobClient({ host: '127.0.0.1', port: dp.blobServerPort() })
    t.after(() => blob.close())
    await waitFor(() => caughtUp(dp, dn), 60_000, () => `caught up: ${describeProgress(dp, dn)}`)
    assert.equal(dp.info().paraId, paraId)

    // A worker from the para genesis (relay block 0) through the move and both set changes.
    const raw = await blob.get(`genesis:${paraId}:pb`)
    assert.ok(raw)
    const genesis = decodeGenesis(raw)
    const gr = new ScaleReader(genesis.bridgeGenesisInfo)
    const genesisHeader = readHeader(gr)
    readAuthorityList(gr)
    gr.u64()
    const genesisProof = Array.from({ length: gr.compact() }, () => gr.bytes())
    const genesisProven = verifyProof(genesisHeader.stateRoot, genesisProof, [STORAGE_KEYS.grandpaAuthoritiesV5, STORAGE_KEYS.grandpaAuthorities, STORAGE_KEYS.grandpaSetId])
    assert.ok(genesisProven.get(V5_AT === 0 ? STORAGE_KEYS.grandpaAuthoritiesV5 : STORAGE_KEYS.grandpaAuthorities), 'the genesis proof holds the list where the chain keeps it')
    const w0 = new PruntimeClient(pr.workers[0]!.endpoint)
    await w0.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
      skipRa: false, encodedGenesisInfo: genesis.bridgeGenesisInfo, encodedGenesisState: genesis.genesisState, isParachain: true,
    })
    const r0 = await feedFromBlobs(blob, pr.workers[0]!.endpoint)
    assert.ok(r0.info.headernum - 1 >= 96, `relay headers synced to ${r0.info.headernum - 1}, past the move and both set changes`)
    assert.equal('0x' + r0.info.stateRoot, dn.para.chain.byNumber(r0.info.blocknum - 1)!.header.stateRoot)

  })
}
