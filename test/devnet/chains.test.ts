/**
 * Both chain identities through unmodified @polkadot/api: names and properties agree within each
 * (Phala 2035 under Polkadot, Khala 2004 under Kusama), the relay content a client reads (BABE
 * digests, inclusion events, Paras.Parachains / ParaLifecycles, System.BlockHash(0)), metadata
 * versions, the runtime APIs through state_call, the RPCs real clients call, finality lag 2, and
 * the calls: remark succeeds, an unimplemented call fails naming the devnet and pays no fee.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import { Metadata, TypeRegistry } from '@polkadot/types'
import { u8aToHex } from '@polkadot/util'
import type { ISubmittableResult } from '@polkadot/types/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { EventRecord } from '@polkadot/types/interfaces'
import { startDevnet } from '../../src/devnet/devnet.js'
import { USER_EXTENSIONS } from '../../src/devnet/para-runtime/index.js'
import { encodeAuthorityList } from '../../src/common/grandpa.js'
import { quietLogger, waitFor } from './helpers.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any

const CHAINS = {
  phala: { para: 'Phala', relay: 'Polkadot', paraId: 2035, sp: 89, ss58: 0, token: 'DOT', decimals: 10 },
  khala: { para: 'Khala', relay: 'Kusama', paraId: 2004, sp: 93, ss58: 2, token: 'KSM', decimals: 12 },
} as const

/** signAndSend until in a block; the result of that status. */
function inBlock(tx: SubmittableExtrinsic<'promise'>, signer: Parameters<SubmittableExtrinsic<'promise'>['signAndSend']>[0]): Promise<ISubmittableResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not in a block within 60 s')), 60_000)
    tx.signAndSend(signer, (r) => {
      if (r.status.isInBlock) {
        clearTimeout(timer)
        resolve(r)
      }
    }).catch((e: unknown) => {
      clearTimeout(timer)
      reject(e as Error)
    })
  })
}

for (const chain of ['phala', 'khala'] as const) {
  const c = CHAINS[chain]
  test(`${chain}: one identity on both chains, the relay content, metadata, runtime APIs, RPCs, finality and calls`, async (t) => {
    const dn = await startDevnet({ chain, paraPort: 0, relayPort: 0, history: 30, blockMs: 300, justificationPeriod: 8, sessionBlocks: 20, pools: 1 }, quietLogger)
    t.after(() => dn.stop())
    dn.pause()
    const relay = await ApiPromise.create({ provider: new WsProvider(dn.relayUrl), noInitWarn: true, throwOnConnect: true })
    t.after(() => relay.disconnect())
    const para = await ApiPromise.create({ provider: new WsProvider(dn.paraUrl), noInitWarn: true, throwOnConnect: true, signedExtensions: USER_EXTENSIONS })
    t.after(() => para.disconnect())

    // Identity.
    assert.equal((await relay.rpc.system.chain()).toString(), c.relay)
    assert.equal((await para.rpc.system.chain()).toString(), c.para)
    for (const api of [relay, para]) {
      assert.match((await api.rpc.system.name()).toString(), /prb-devnet/)
      assert.match((await api.rpc.system.version()).toString(), /prb-devnet/)
      assert.equal((await api.rpc.system.chainType()).toString(), 'Development')
    }
    const rp = await relay.rpc.system.properties()
    assert.deepEqual([rp.ss58Format.unwrap().toNumber(), rp.tokenSymbol.unwrap()[0]!.toString(), rp.tokenDecimals.unwrap()[0]!.toNumber()], [c.ss58, c.token, c.decimals])
    assert.equal(relay.runtimeVersion.specName.toString(), c.relay.toLowerCase())
    assert.equal(para.runtimeVersion.specName.toString(), chain)
    assert.equal((await para.query.parachainInfo.parachainId()).toString(), String(c.paraId))
    assert.deepEqual([...para.tx.phalaStakePoolv2.addWorker.callIndex], [c.sp, 1])

    // Relay content.
    assert.deepEqual((await relay.query.paras.parachains()).toJSON(), [c.paraId])
    assert.equal((await relay.query.paras.paraLifecycles(c.paraId)).toString(), 'Parachain')
    assert.equal((await relay.query.system.blockHash(0)).toHex(), dn.relay.chain.genesisHash)
    const h10 = await relay.rpc.chain.getHeader(await relay.rpc.chain.getBlockHash(10))
    const pre = h10.digest.logs[0]!
    assert.ok(pre.isPreRuntime && pre.asPreRuntime[0].toString() === 'BABE', 'a BABE pre-runtime digest')
    const ph = await para.rpc.chain.getHeader(await para.rpc.chain.getBlockHash(5))
    assert.ok(ph.digest.logs[0]!.isPreRuntime && ph.digest.logs[0]!.asPreRuntime[0].toString() === 'aura', 'an Aura pre-runtime digest')
    const events = (await (await relay.at(await relay.rpc.chain.getBlockHash(10))).query.system.events()) as Any as EventRecord[]
    const included = events.find((e) => e.event.section === 'paraInclusion' && e.event.method === 'CandidateIncluded')
    assert.ok(included, `CandidateIncluded among ${events.map((e) => `${e.event.section}.${e.event.method}`)}`)
    const receipt = included.event.data[0] as unknown as { descriptor: { paraId: { toNumber(): number } } }
    assert.equal(receipt.descriptor.paraId.toNumber(), c.paraId)
    assert.ok(events.some((e) => e.event.section === 'system' && e.event.method === 'ExtrinsicSuccess'))

    // Metadata: V14 everywhere, V15 only when asked for.
    const registry = new TypeRegistry()
    for (const api of [relay, para]) {
      assert.equal(new Metadata(registry, (await api.rpc.state.getMetadata()).toHex()).version, 14)
      const versions = registry.createType('Vec<u32>', (await api.rpc.state.call('Metadata_metadata_versions', '0x')).toU8a(true))
      assert.deepEqual(versions.toJSON(), [14, 15])
      const v15 = registry.createType('Option<OpaqueMetadata>', (await api.rpc.state.call('Metadata_metadata_at_version', '0x0f000000')).toU8a(true)) as unknown as { unwrap(): { toU8a(b: boolean): Uint8Array } }
      assert.equal(new Metadata(new TypeRegistry(), v15.unwrap().toU8a(true)).version, 15)
      const v14 = registry.createType('OpaqueMetadata', (await api.rpc.state.call('Metadata_metadata', '0x')).toU8a(true))
      assert.equal(new Metadata(new TypeRegistry(), v14.toU8a(true)).version, 14)
      const core: Any = registry.createType('RuntimeVersion', (await api.rpc.state.call('Core_version', '0x')).toU8a(true))
      assert.equal(core.specName.toString(), api.runtimeVersion.specName.toString())
      assert.equal(core.specVersion.toNumber(), api.runtimeVersion.specVersion.toNumber())
      const methods = (await api.rpc.rpc.methods()).methods.map((m) => m.toString())
      assert.equal(new Set(methods).size, methods.length, 'rpc_methods lists each method once')
      assert.equal((await api.rpc.system.accountNextIndex('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY')).toNumber() >= 0, true)
    }

    // Relay runtime APIs and RPCs.
    const fin = await relay.rpc.chain.getFinalizedHead()
    const setId = dn.relay.setIdAt((await relay.rpc.chain.getHeader(fin)).number.toNumber())
    assert.equal(u8aToHex((await relay.rpc.state.call('GrandpaApi_grandpa_authorities', '0x', fin)).toU8a(true)), u8aToHex(encodeAuthorityList(dn.relay.authoritySet(setId).authorities)))
    assert.equal(registry.createType('u64', (await relay.rpc.state.call('GrandpaApi_current_set_id', '0x', fin)).toU8a(true)).toNumber(), setId)
    assert.deepEqual((await relay.rpc.author.pendingExtrinsics()).toJSON(), [])
    assert.equal((await relay.rpc.system.accountNextIndex('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY')).toNumber(), 0)
    assert.equal((await relay.rpc.state.call('AccountNonceApi_account_nonce', '0x' + '00'.repeat(32))).toHex(), '0x00000000')

    // Para runtime APIs and RPCs on a signed transfer.
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 30 })
    const alice = keyring.addFromUri('//Alice')
    const bob = keyring.addFromUri('//Bob')
    const transfer = await para.tx.balances.transferKeepAlive(bob.address, 10n ** 12n).signAsync(alice)
    const raw = (await (para as unknown as { _rpcCore: { provider: WsProvider } })._rpcCore.provider.send('payment_queryInfo', [transfer.toHex()])) as { weight: Record<string, number>; class: string; partialFee: string }
    assert.deepEqual(Object.keys(raw.weight).sort(), ['proof_size', 'ref_time'])
    // (@polkadot/api's rpc.payment.queryInfo decodes the pre-V2 u64 weight, as against a real node; clients use the runtime API.)
    const info = { partialFee: { toBigInt: () => BigInt(raw.partialFee) } }
    assert.ok(info.partialFee.toBigInt() > 0n)
    assert.equal(raw.class, 'normal')
    const paymentInfo = await para.tx.balances.transferKeepAlive(bob.address, 10n ** 12n).paymentInfo(alice)
    assert.ok(paymentInfo.partialFee.toBigInt() > 0n, 'tx.paymentInfo works')
    const details = await para.rpc.payment.queryFeeDetails(transfer.toHex())
    const inc = details.inclusionFee.unwrap()
    assert.equal(inc.baseFee.toBigInt() + inc.lenFee.toBigInt() + inc.adjustedWeightFee.toBigInt(), info.partialFee.toBigInt())
    const len = new Uint8Array(4)
    new DataView(len.buffer).setUint32(0, transfer.encodedLength, true)
    const viaCall: Any = registry.createType('RuntimeDispatchInfoV2', (await para.rpc.state.call('TransactionPaymentApi_query_info', transfer.toHex() + u8aToHex(len).slice(2))).toU8a(true))
    assert.equal(viaCall.partialFee.toBigInt(), info.partialFee.toBigInt())
    const fd: Any = registry.createType('FeeDetails', (await para.rpc.state.call('TransactionPaymentApi_query_fee_details', transfer.toHex() + u8aToHex(len).slice(2))).toU8a(true))
    assert.equal(fd.inclusionFee.unwrap().lenFee.toBigInt(), inc.lenFee.toBigInt())
    const best = await para.rpc.chain.getBlockHash()
    const validity: Any = registry.createType('TransactionValidity', (await para.rpc.state.call('TaggedTransactionQueue_validate_transaction', '0x02' + transfer.toHex().slice(2) + best.toHex().slice(2))).toU8a(true))
    assert.ok(validity.isOk, `valid: ${validity.toString()}`)
    const stale = await para.tx.balances.transferKeepAlive(bob.address, 1n).signAsync(alice, { nonce: 0 })
    await para.rpc.author.submitExtrinsic(transfer.toHex())
    dn.resume()
    // Finality lag 2 and the para following the relay.
    await waitFor(async () => ((await para.query.system.account(alice.address)) as Any).nonce.toNumber() >= 1, 60_000, 'the transfer in a block')
    assert.equal(u8aToHex((await para.rpc.state.call('AccountNonceApi_account_nonce', u8aToHex(alice.publicKey))).toU8a(true)), '0x01000000')
    const invalid: Any = registry.createType('TransactionValidity', (await para.rpc.state.call('TaggedTransactionQueue_validate_transaction', '0x02' + stale.toHex().slice(2) + (await para.rpc.chain.getBlockHash()).toHex().slice(2))).toU8a(true))
    assert.ok(invalid.isErr && invalid.asErr.isInvalid && invalid.asErr.asInvalid.isStale, `stale: ${invalid.toString()}`)
    const s = dn.status()
    assert.equal(s.relay.best - s.relay.finalized, 2, JSON.stringify(s))

    // remark / remarkWithEvent succeed; an unimplemented call fails naming the devnet and pays no fee.
    const r1 = await inBlock(para.tx.system.remarkWithEvent('hello'), alice)
    assert.ok(r1.events.some((e) => e.event.section === 'system' && e.event.method === 'Remarked'))
    assert.ok(r1.events.some((e) => e.event.method === 'ExtrinsicSuccess'))
    const r0 = await inBlock(para.tx.system.remark('hi'), alice)
    assert.ok(r0.events.some((e) => e.event.method === 'ExtrinsicSuccess'))
    const before = ((await para.query.system.account(bob.address)) as Any).data.free.toBigInt()
    const r2 = await inBlock(para.tx.balances.transferAll(alice.address, false), bob)
    assert.ok(r2.dispatchError?.isModule)
    const meta = para.registry.findMetaError(r2.dispatchError!.asModule)
    assert.equal(`${meta.section}.${meta.name}`, 'system.NotSupportedByDevnet')
    assert.match(meta.docs.join(' '), /not supported by the devnet/)
    const paid = r2.events.find((e) => e.event.section === 'transactionPayment' && e.event.method === 'TransactionFeePaid')
    assert.equal((paid!.event.data[1] as unknown as { toBigInt(): bigint }).toBigInt(), 0n, 'no fee')
    const after = ((await para.query.system.account(bob.address)) as Any).data.free.toBigInt()
    assert.equal(after, before, 'the balance is untouched')
    dn.pause()
    const st = dn.status()
    const relayFin = dn.relay.chain.byNumber(st.relay.finalized)!
    assert.ok(st.para.finalized <= st.para.best && st.para.finalized >= 1)
    // The para's finalized head is the one the relay's finalized block holds.
    const heads = await relay.query.paras.heads.at(relayFin.hash, c.paraId) as unknown as { unwrap(): { toU8a(b: boolean): Uint8Array } }
    const headNumber = (para.registry.createType('Header', heads.unwrap().toU8a(true)) as Any).number.toNumber()
    assert.equal(st.para.finalized, headNumber)
  })
}
