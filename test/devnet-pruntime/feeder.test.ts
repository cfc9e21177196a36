/**
 * Against the devnet chain: the feeder brings a worker from InitRuntime to the head across GRANDPA
 * set changes and the GRANDPA storage move; the worker's attestation registers it on the devnet para chain; it then sees its
 * registration, sends a BenchReport the chain accepts (initial score), and purges it. Started computing,
 * it answers the chain's heartbeat challenges; when its egress stops reaching the chain it becomes
 * unresponsive on chain, and recovers once the egress is relayed again.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ApiPromise, WsProvider, Keyring } from '@polkadot/api'
import { u8aToHex, u8aToString } from '@polkadot/util'
import { startDevnet, type Devnet } from '../../src/devnet/devnet.js'
import { startPruntimes, type RunningPruntimes } from '../../src/devnet/pruntime/index.js'
import { Feeder, feedWorker } from '../../src/devnet/pruntime/feeder.js'
import { PruntimeClient } from '../../src/devnet/pruntime/client.js'
import { decodeEgressMessages } from '../../src/common/bridge-types.js'
import { quietLogger } from './client.js'

const logger = quietLogger()
let dn: Devnet
let pr: RunningPruntimes
let feeder: Feeder & { disconnect(): Promise<void> }
let api: ApiPromise

before(async () => {
  // The GRANDPA storage move at 30: set change 20 under :grandpa_authorities, 40 in Grandpa.Authorities.
  dn = await startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, blockMs: 6000, history: 50, justificationPeriod: 4, sessionBlocks: 20, pools: 1, grandpaV5At: 30, heartbeatEvery: 2, heartbeatWindow: 8 }, logger)
  pr = await startPruntimes({ count: 1, host: '127.0.0.1', basePort: 0 }, logger)
  feeder = await Feeder.connect(dn.relayUrl, dn.paraUrl)
  api = await ApiPromise.create({ provider: new WsProvider(dn.paraUrl), noInitWarn: true, throwOnConnect: true })
})

after(async () => {
  await api?.disconnect()
  await feeder?.disconnect()
  await pr?.stop()
  await dn?.stop()
})

/** Submit a signed extrinsic and make blocks until it is in one; returns its events' names. */
async function submit(tx: ReturnType<ApiPromise['tx']['system']['remark']>): Promise<string[]> {
  const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')
  let resolve!: (v: string[]) => void
  let reject!: (e: Error) => void
  const promise = new Promise<string[]>((a, b) => {
    resolve = a
    reject = b
  })
  const unsub = await tx.signAndSend(alice, (r) => {
    if (r.status.isInBlock || r.status.isFinalized) {
      unsub()
      resolve(r.events.map((e) => `${e.event.section}.${e.event.method}`))
    }
    if (r.isError) reject(new Error(`tx failed: ${r.status.type}`))
  })
  // Para blocks come on even relay blocks; make enough for inclusion.
  for (let i = 0; i < 30; i++) {
    const done = await Promise.race([promise.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))])
    if (done) break
    await dn.makeBlocks(2)
  }
  return promise
}

test('the feeder syncs a worker from InitRuntime to the head, across set changes; the worker registers and reports its benchmark', async () => {
  const w = pr.workers[0]!
  const h = await feedWorker(feeder, w.endpoint, { logger })
  const st = dn.status()
  // Relay: up to the last justified final block (justificationPeriod 4).
  assert.ok(h.headernum > st.relay.finalized - 4, `relay synced to ${h.headernum - 1} of ${st.relay.finalized}`)
  assert.equal(h.blocknum, h.paraHeadernum, 'every synced para header is dispatched')
  assert.ok(w.phactory().heights()!.setId >= 2n, 'the worker followed the set changes')
  const paraHash = await api.rpc.chain.getBlockHash(h.blocknum - 1)
  const paraHeader = await api.rpc.chain.getHeader(paraHash)
  assert.equal('0x' + (await new PruntimeClient(w.endpoint).getInfo()).stateRoot, paraHeader.stateRoot.toHex())

  // Registration with the worker's own attestation (what the lifecycle does).
  const client = new PruntimeClient(w.endpoint)
  const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')
  type Ri = { encodedRuntimeInfo: Uint8Array; attestation: { payload: { report: string; signature: Uint8Array; signingCert: Uint8Array } } }
  const ri = await client.prpc<Ri>('GetRuntimeInfo', 'pruntime_rpc.GetRuntimeInfoRequest', 'pruntime_rpc.InitRuntimeResponse', { forceRefreshRa: true, encodedOperator: alice.publicKey })
  const events = await submit(
    api.tx.phalaRegistry!.registerWorker!(u8aToHex(ri.encodedRuntimeInfo), {
      SgxIas: { raReport: u8aToHex(new TextEncoder().encode(ri.attestation.payload.report)), signature: u8aToHex(ri.attestation.payload.signature), rawSigningCert: u8aToHex(ri.attestation.payload.signingCert) },
    }),
  )
  assert.ok(events.includes('phalaRegistry.WorkerAdded'), events.join(','))

  // Feed past the registration: the worker sees it and queues a signed BenchReport.
  await dn.makeBlocks(6)
  await feedWorker(feeder, w.endpoint, { logger })
  let info = await client.getInfo()
  assert.equal(info.registered, true)
  assert.equal(Number(info.pendingMessages), 1)
  const eg = await client.prpc<{ encodedMessages: Uint8Array }>('GetEgressMessages', 'google.protobuf.Empty', 'pruntime_rpc.GetEgressMessagesResponse')
  const [group] = decodeEgressMessages(eg.encodedMessages)
  assert.equal(u8aToString(group!.messages[0]!.destination), '^phala/registry/event')
  const { bridgeRegistry } = await import('../../src/common/bridge-types.js')
  const signed = bridgeRegistry().createType('SignedMessage', {
    message: { sender: { Worker: u8aToHex(group!.origin.subarray(1)) }, destination: u8aToHex(group!.messages[0]!.destination), payload: u8aToHex(group!.messages[0]!.payload) },
    sequence: group!.messages[0]!.sequence,
    signature: u8aToHex(group!.messages[0]!.signature),
  })
  const mqEvents = await submit(api.tx.phalaMq!.syncOffchainMessage!(signed.toHex()))
  assert.ok(mqEvents.includes('phalaRegistry.InitialScoreSet'), mqEvents.join(','))
  const onChain = (await api.query.phalaRegistry!.workers!(u8aToHex(group!.origin.subarray(1)))).toJSON() as { initialScore: number }
  assert.ok(onChain.initialScore > 50, `initial score ${onChain.initialScore}`)

  // Once the worker has dispatched the block that took the message, it purges it.
  await dn.makeBlocks(6)
  await feedWorker(feeder, w.endpoint, { logger })
  info = await client.getInfo()
  assert.equal(Number(info.pendingMessages), 0)

  // A restarted enclave replays the chain from InitRuntime: same identity, registered, nothing to resend.
  w.crash()
  const again = await feedWorker(feeder, w.endpoint, { logger, blocksPerCall: 50 })
  info = await client.getInfo()
  assert.equal(again.blocknum, again.paraHeadernum)
  assert.equal(info.registered, true)
  assert.equal(Number(info.pendingMessages), 0)
})

/** What a lifecycle does with the egress: every message from the on-chain next sequence on, in one forceBatch. */
async function relayEgress(endpoint: string): Promise<number> {
  const client = new PruntimeClient(endpoint)
  const eg = await client.prpc<{ encodedMessages: Uint8Array }>('GetEgressMessages', 'google.protobuf.Empty', 'pruntime_rpc.GetEgressMessagesResponse')
  const { bridgeRegistry } = await import('../../src/common/bridge-types.js')
  const calls = []
  for (const group of decodeEgressMessages(eg.encodedMessages)) {
    const sender = u8aToHex(group.origin.subarray(1))
    const next = Number(((await api.query.phalaMq!.offchainIngress!({ Worker: sender })).toJSON() as number | null) ?? 0)
    for (const m of group.messages) {
      if (Number(m.sequence) < next) continue
      const signed = bridgeRegistry().createType('SignedMessage', {
        message: { sender: { Worker: sender }, destination: u8aToHex(m.destination), payload: u8aToHex(m.payload) }, sequence: m.sequence, signature: u8aToHex(m.signature),
      })
      calls.push(api.tx.phalaMq!.syncOffchainMessage!(signed.toHex()))
    }
  }
  if (calls.length) await submit(api.tx.utility!.forceBatch!(calls) as never)
  return calls.length
}

test('a computing worker answers heartbeat challenges; with its egress not relayed it becomes unresponsive on chain, and recovers', async () => {
  const w = pr.workers[0]!
  const pubkey = '0x' + (await new PruntimeClient(w.endpoint).getInfo()).publicKey
  assert.ok((await submit(api.tx.phalaStakePoolv2!.addWorker!(0, pubkey))).includes('phalaStakePoolv2.PoolWorkerAdded'))
  assert.ok((await submit(api.tx.phalaStakePoolv2!.startComputing!(0, pubkey, 5_000n * 10n ** 12n))).includes('phalaComputation.WorkerStarted'))
  const session = (await api.query.phalaComputation!.workerBindings!(pubkey)).toString()
  const state = async (): Promise<string> => ((await api.query.phalaComputation!.sessions!(session)).toJSON() as { state: string }).state
  const seen = new Set<string>()
  const scan = async (from: number): Promise<number> => {
    const best = (await api.rpc.chain.getHeader()).number.toNumber()
    for (let n = from; n <= best; n++) {
      for (const e of (await (await api.at(await api.rpc.chain.getBlockHash(n))).query.system.events()) as unknown as { event: { section: string; method: string } }[]) seen.add(`${e.event.section}.${e.event.method}`)
    }
    return best + 1
  }
  let from = await scan(1)

  // Relayed: the heartbeats reach the chain, the worker stays responsive over many challenges (each
  // submit() here makes blocks until inclusion, so a relay round lands ~10 para blocks after the last).
  let relayed = 0
  for (let i = 0; i < 6; i++) {
    await dn.makeBlocks(4)
    await feedWorker(feeder, w.endpoint, { logger })
    relayed += await relayEgress(w.endpoint)
  }
  assert.ok(relayed >= 3, `heartbeats relayed: ${relayed}`)
  from = await scan(from)
  assert.ok(!seen.has('phalaComputation.WorkerEnterUnresponsive'), [...seen].join())
  assert.equal(await state(), 'WorkerIdle')

  // The egress stops reaching the chain (the worker is still fed): unresponsive within a few challenges.
  for (let i = 0; i < 20 && (await state()) === 'WorkerIdle'; i++) {
    await dn.makeBlocks(4)
    await feedWorker(feeder, w.endpoint, { logger })
  }
  assert.equal(await state(), 'WorkerUnresponsive')
  from = await scan(from)
  assert.ok(seen.has('phalaComputation.WorkerEnterUnresponsive'))

  // Relayed again: back to WorkerIdle.
  await dn.makeBlocks(4)
  await feedWorker(feeder, w.endpoint, { logger })
  assert.ok(await relayEgress(w.endpoint) > 0)
  assert.equal(await state(), 'WorkerIdle')
  await scan(from)
  assert.ok(seen.has('phalaComputation.WorkerExitUnresponsive'))
})
