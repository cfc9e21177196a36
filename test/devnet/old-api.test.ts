/**
 * An older @polkadot/api (10.x, the generation upstream v2 ships with; it cannot decode V15
 * metadata) connects to both chains of both identities and decodes blocks and events. It is
 * installed for this test only, into a temp directory, from the npm registry; when the install
 * fails, the test fails saying so.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Keyring } from '@polkadot/keyring'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { startDevnet } from '../../src/devnet/devnet.js'
import { USER_EXTENSIONS } from '../../src/devnet/para-runtime/index.js'
import { tempDir } from '../helpers/fs.js'
import { quietLogger, waitFor } from './helpers.js'

const run = promisify(execFile)
const OLD_API = '@polkadot/api@10.x'
/** Made at module level: an after() registered inside before() would run right after it. */
const dir = tempDir({ after: (fn) => after(fn) }, 'prb-old-api-')

const CLIENT = `
import { ApiPromise, WsProvider } from '@polkadot/api'
const [relayUrl, paraUrl, paraBlock] = process.argv.slice(2)
const out = {}
for (const [name, url, at] of [['relay', relayUrl, null], ['para', paraUrl, paraBlock]]) {
  const api = await ApiPromise.create({ provider: new WsProvider(url), throwOnConnect: true, noInitWarn: true,
    // 10.x predates CheckMetadataHash (the real runtimes have it too): a client of that age declares it.
    signedExtensions: { CheckMqSequence: { extrinsic: {}, payload: {} }, CheckMetadataHash: { extrinsic: { mode: 'u8' }, payload: { metadataHash: 'Option<[u8;32]>' } } } })
  const hash = at ? await api.rpc.chain.getBlockHash(Number(at)) : await api.rpc.chain.getFinalizedHead()
  const block = await api.rpc.chain.getBlock(hash)
  const events = await (await api.at(hash)).query.system.events()
  out[name] = {
    chain: (await api.rpc.system.chain()).toString(),
    metadataVersion: api.runtimeMetadata.version,
    apiVersion: (await import('@polkadot/api/packageInfo')).packageInfo.version,
    number: block.block.header.number.toNumber(),
    extrinsics: block.block.extrinsics.map((x) => x.method.section + '.' + x.method.method),
    signers: block.block.extrinsics.filter((x) => x.isSigned).map((x) => x.signer.toString()),
    events: events.map((e) => e.event.section + '.' + e.event.method),
  }
  await api.disconnect()
}
process.stdout.write(JSON.stringify(out))
`

before(async () => {
  try {
    await run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', OLD_API], { timeout: 300_000 })
  } catch (e) {
    throw new Error(`could not install ${OLD_API} from the npm registry into ${dir} for this test (is the registry reachable?): ${String((e as Error)?.message ?? e)}`)
  }
  writeFileSync(join(dir, 'client.mjs'), CLIENT)
}, { timeout: 360_000 })

for (const chain of ['phala', 'khala'] as const) {
  test(`${chain}: ${OLD_API} decodes blocks and events of both chains`, { timeout: 300_000 }, async (t) => {
    const dn = await startDevnet({ chain, paraPort: 0, relayPort: 0, history: 20, blockMs: 3_600_000, justificationPeriod: 8, sessionBlocks: 20, pools: 1 }, quietLogger)
    t.after(() => dn.stop())
    // A signed transfer in a para block, so the old client decodes a signed extrinsic and its events.
    const api = await ApiPromise.create({ provider: new WsProvider(dn.paraUrl), noInitWarn: true, throwOnConnect: true, signedExtensions: USER_EXTENSIONS })
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 30 })
    const alice = keyring.addFromUri('//Alice')
    await api.tx.balances.transferKeepAlive(keyring.addFromUri('//Bob').address, 10n ** 12n).signAndSend(alice)
    await api.disconnect()
    await waitFor(() => dn.para.pool.pending().length === 1, 10_000, 'the transfer in the pool')
    await dn.makeBlocks(4)
    const paraBlock = dn.para.chain.blocks.findIndex((b) => b.extrinsics.length > 2)
    assert.ok(paraBlock > 0, 'the transfer is in a para block')

    const { stdout } = await run(process.execPath, [join(dir, 'client.mjs'), dn.relayUrl, dn.paraUrl, String(paraBlock)], { cwd: dir, timeout: 120_000 })
    const out = JSON.parse(stdout) as Record<'relay' | 'para', { chain: string; metadataVersion: number; apiVersion: string; number: number; extrinsics: string[]; signers: string[]; events: string[] }>
    assert.match(out.para.apiVersion, /^10\./)
    assert.equal(out.relay.chain, chain === 'phala' ? 'Polkadot' : 'Kusama')
    assert.equal(out.para.chain, chain === 'phala' ? 'Phala' : 'Khala')
    assert.equal(out.relay.metadataVersion, 14)
    assert.equal(out.para.metadataVersion, 14)
    assert.equal(out.relay.number, dn.status().relay.finalized)
    assert.deepEqual(out.relay.extrinsics, ['timestamp.set'])
    assert.ok(out.relay.events.includes('system.ExtrinsicSuccess'), out.relay.events.join())
    assert.equal(out.para.number, paraBlock)
    assert.deepEqual(out.para.extrinsics, ['timestamp.set', 'parachainSystem.setValidationData', 'balances.transferKeepAlive'])
    assert.deepEqual(out.para.signers, [alice.address])
    for (const e of ['balances.Transfer', 'transactionPayment.TransactionFeePaid', 'system.ExtrinsicSuccess']) assert.ok(out.para.events.includes(e), `${e} in ${out.para.events.join()}`)
  })
}
