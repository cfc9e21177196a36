/**
 * PhalaRegistry (index 86): register_worker (legacy IAS) and register_worker_v2 against the devnet
 * attestation service, and the worker's BenchReport that sets initial_score.
 *
 * Check order (devnet reading of chain.md §2.3): signed origin; attestation (cert, signature,
 * report, quote status, age, body: attestation.ts order), then PRuntimeAllowList (PRuntimeRejected),
 * then the report data commitment (InvalidRuntimeInfoHash); v2: ParachainIdMismatch; then the relay
 * genesis allow list (GenesisBlockHashRejected) when the devnet was given a relay genesis hash.
 */
import { blake2AsU8a } from '@polkadot/util-crypto'
import { u8aEq, u8aToHex } from '@polkadot/util'
import { verifyDevnetIasReport } from '../../attestation.js'
import { moduleErr, type Env } from '../core.js'
import { ensureSigned, type Dispatcher, type Handler } from '../dispatch.js'
import { benchScore } from '../accounts.js'

export const REGISTRY_EVENT_TOPIC = '^phala/registry/event'
export const SYSTEM_EVENT_TOPIC = 'phala/system/event'
/** MessageOrigin::Pallet(pallet name), the sender of the pallet's chain -> worker messages. */
export const palletOrigin = (name: string): { Pallet: string } => ({ Pallet: u8aToHex(new TextEncoder().encode(name)) })

/** SystemEvent::WorkerEvent(WorkerEventWithKey{pubkey, event}) on phala/system/event. */
export function pushWorkerEvent(d: Dispatcher, from: string, pubkey: Uint8Array, event: Record<string, unknown> | string): void {
  const payload = d.core.codec.encode(d.core.meta.ids.systemEvent, { WorkerEvent: { pubkey, event } })
  d.env.pushMessage(palletOrigin(from), SYSTEM_EVENT_TOPIC, payload)
}

interface Attested { confidenceLevel: number }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function validateIas(d: Dispatcher, ias: any, runtimeInfoHash: Uint8Array): Attested {
  const r = verifyDevnetIasReport({ raReport: ias.raReport.toU8a(true), signature: ias.signature.toU8a(true), rawSigningCert: ias.rawSigningCert.toU8a(true) }, d.env.nowMs)
  if (!r.ok) throw moduleErr('PhalaRegistry', r.error)
  const allow: string[] = (d.it.pruntimeAllowList.get(d.env.state)?.toJSON() as string[] | undefined) ?? []
  if (!allow.map((x) => x.toLowerCase()).includes(u8aToHex(r.mrenclave))) throw moduleErr('PhalaRegistry', 'PRuntimeRejected')
  if (!u8aEq(r.reportData.subarray(0, 32), runtimeInfoHash)) throw moduleErr('PhalaRegistry', 'InvalidRuntimeInfoHash')
  return { confidenceLevel: 1 } // quote status OK
}

function checkRelayGenesis(d: Dispatcher, genesisHash: string): void {
  if (!d.core.opts.relayGenesisHash) return // VerifyRelaychainGenesisBlockHash off in this devnet
  const list: string[] = (d.it.relayGenesisAllowList.get(d.env.state)?.toJSON() as string[] | undefined) ?? []
  if (!list.includes(genesisHash.toLowerCase())) throw moduleErr('PhalaRegistry', 'GenesisBlockHashRejected')
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function upsertWorker(d: Dispatcher, info: any, att: Attested): void {
  const pubkey: Uint8Array = info.pubkey.toU8a()
  const env: Env = d.env
  const existing = d.it.workers.get(env.state, pubkey)
  const operator = info.operator.isSome ? info.operator.unwrap().toHex() : null
  const common = {
    runtimeVersion: info.version.toNumber(), lastUpdated: env.nowSecs, operator, attestationProvider: 'Ias',
    confidenceLevel: att.confidenceLevel, features: info.features.toJSON(),
  }
  const eventData = { pubkey, attestationProvider: 'Ias', confidenceLevel: att.confidenceLevel }
  if (existing) {
    d.it.workers.put(env.state, pubkey, { ...existing.toJSON(), ...common })
    pushWorkerEvent(d, 'PhalaRegistry', pubkey, { Registered: { pubkey, ecdhPubkey: existing.ecdhPubkey.toU8a() } })
    env.deposit('PhalaRegistry', 'WorkerUpdated', eventData)
  } else {
    const ecdhPubkey = info.ecdhPubkey.toU8a()
    d.it.workers.put(env.state, pubkey, { pubkey, ecdhPubkey, initialScore: null, ...common })
    pushWorkerEvent(d, 'PhalaRegistry', pubkey, { Registered: { pubkey, ecdhPubkey } })
    env.deposit('PhalaRegistry', 'WorkerAdded', eventData)
    d.it.workerAddedAt.put(env.state, pubkey, env.blockNumber)
  }
  const duration = d.it.benchmarkDuration.get(env.state)
  pushWorkerEvent(d, 'PhalaRegistry', pubkey, { BenchStart: { duration: duration ? duration.toNumber() : 0 } })
}

export const registryHandlers: Record<string, Handler> = {
  'phalaRegistry.registerWorker': (d, origin, a) => {
    ensureSigned(origin)
    const info = a.pruntimeInfo
    const hash = blake2AsU8a(info.toU8a(), 256)
    const att = validateIas(d, a.attestation.asSgxIas, hash)
    checkRelayGenesis(d, info.genesisBlockHash.toHex())
    upsertWorker(d, info, att)
  },
  'phalaRegistry.registerWorkerV2': (d, origin, a) => {
    ensureSigned(origin)
    const info = a.pruntimeInfo
    const hash = blake2AsU8a(info.toU8a(), 256)
    if (a.attestation.isNone) throw moduleErr('PhalaRegistry', 'NoneAttestationDisabled')
    const report = a.attestation.unwrap()
    if (!report.isSgxIas) throw moduleErr('PhalaRegistry', 'InvalidDCAPQuote') // the devnet has no DCAP verifier
    const att = validateIas(d, report.asSgxIas, hash)
    const paraId = d.it.parachainId.get(d.env.state)
    if (!paraId || info.paraId.toNumber() !== paraId.toNumber()) throw moduleErr('PhalaRegistry', 'ParachainIdMismatch')
    checkRelayGenesis(d, info.genesisBlockHash.toHex())
    upsertWorker(d, info, att)
  },
}

/** RegistryEvent from a worker on ^phala/registry/event: BenchReport sets initial_score. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function onRegistryMessage(d: Dispatcher, message: any): void {
  if (!message.sender.isWorker) throw moduleErr('PhalaRegistry', 'InvalidSender')
  const pubkey: Uint8Array = message.sender.asWorker.toU8a()
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let ev: any
  try {
    ev = d.core.codec.decode(d.core.meta.ids.registryEvent, message.payload.toU8a(true))
  } catch {
    throw moduleErr('PhalaRegistry', 'InvalidInput')
  }
  if (!ev.isBenchReport) return // MasterPubkey is a gatekeeper's business; the devnet has none
  const w = d.it.workers.get(d.env.state, pubkey)
  if (!w) throw moduleErr('PhalaRegistry', 'WorkerNotFound')
  const score = benchScore(ev.asBenchReport.startTime.toBigInt(), ev.asBenchReport.iterations.toBigInt(), BigInt(d.env.nowSecs))
  if (score === undefined) throw moduleErr('PhalaRegistry', 'InvalidBenchReport')
  d.it.workers.put(d.env.state, pubkey, { ...w.toJSON(), initialScore: score })
  d.env.deposit('PhalaRegistry', 'InitialScoreSet', { pubkey, initScore: score })
}
