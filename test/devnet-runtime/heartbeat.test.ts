/**
 * Heartbeats on chain, on both identities: every `heartbeatEvery` blocks the runtime challenges the
 * computing workers through the message queue; a worker whose heartbeats stop reaching the chain
 * for more than `heartbeatWindow` challenges becomes unresponsive (WorkerEnterUnresponsive) and
 * recovers (WorkerExitUnresponsive) once a heartbeat arrives again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { bnToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { makeDevnetIasReport } from '../../src/devnet/attestation.js'
import { poolSubAccount } from '../../src/devnet/para-runtime/index.js'
import { mapKey } from '../../src/devnet/para-runtime/storage.js'
import { MiniChain, runtime } from './helpers.js'

const PHA = 10n ** 12n
const RELAY_GENESIS = '0x' + '77'.repeat(32)
const EVERY = 2
const WINDOW = 3

for (const chain of ['phala', 'khala'] as const) {
  test(`${chain}: challenges through the message queue; unresponsive after the window, back on a heartbeat`, async () => {
    const c = new MiniChain(await runtime({ chain, genesisTimeMs: Date.UTC(2025, 0, 1), relayGenesisHash: RELAY_GENESIS, heartbeatEvery: EVERY, heartbeatWindow: WINDOW }), Date.UTC(2025, 0, 1))
    const worker: KeyringPair = new Keyring({ type: 'sr25519' }).addFromUri('//worker-hb')
    let seq = 0
    const message = (topic: string, payload: Uint8Array): Record<string, unknown> => {
      const m = { sender: { Worker: worker.publicKey }, destination: u8aToHex(stringToU8a(topic)), payload: u8aToHex(payload) }
      const encoded = c.registry.createType('PhalaMqMessage', m).toU8a()
      const s = seq++
      return { message: m, sequence: s, signature: u8aToHex(worker.sign(u8aConcat(encoded, bnToU8a(s, { bitLength: 64, isLe: true })))) }
    }
    const sync = (m: Record<string, unknown>): string => c.sign(c.alice, c.call('utility', 'forceBatch', [[c.call('phalaMq', 'syncOffchainMessage', [m])]]))
    const heartbeat = (challengeBlock: number): string => sync(message('phala/mining/report', c.registry.createType('PhalaTypesMessagingWorkingReportEvent', {
      Heartbeat: { sessionId: 0, challengeBlock, challengeTime: Math.floor(c.timeOf(challengeBlock) / 1000), iterations: 1000 },
    }).toU8a()))
    const events = (): string[] => c.events().map((e) => `${e.section}.${e.method}`)
    const session = poolSubAccount(0, worker.publicKey)
    const state = (): string => (c.registry.createType('PhalaPalletsComputeComputationPalletSessionInfo', c.state.get(mapKey('PhalaComputation', 'Sessions', ['Twox64Concat', session]))) as unknown as { state: { type: string } }).state.type
    const challenged = (): boolean => {
      const raw = c.state.get(mapKey('PhalaMq', 'OutboundMessages'))
      if (!raw) return false
      const out = c.registry.createType('Vec<PhalaMqMessage>', raw) as unknown as { payload: Uint8Array }[]
      return out.some((m) => (c.registry.createType('PhalaTypesMessagingSystemEvent', m.payload) as unknown as { isHeartbeatChallenge: boolean }).isHeartbeatChallenge)
    }

    // Register, benchmark, add to pool 0, start computing.
    const info = c.registry.createType('PhalaTypesWorkerRegistrationInfo', {
      version: 2, machineId: 'm', pubkey: worker.publicKey, ecdhPubkey: worker.publicKey, genesisBlockHash: RELAY_GENESIS, features: [4, 1], operator: u8aToHex(c.alice.publicKey),
    }).toU8a()
    const report = makeDevnetIasReport(info, c.timeOf(c.number + 1) - 60_000)
    c.block([c.sign(c.alice, c.call('phalaRegistry', 'registerWorker', [info, { SgxIas: { raReport: u8aToHex(report.raReport), signature: u8aToHex(report.signature), rawSigningCert: u8aToHex(report.rawSigningCert) } }]))])
    const now = Math.floor(c.timeOf(c.number + 1) / 1000)
    c.block([sync(message('^phala/registry/event', c.registry.createType('PhalaTypesMessagingRegistryEvent', { BenchReport: { startTime: now - 60, iterations: 10_000 } }).toU8a()))])
    c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'addWorker', [0, worker.publicKey]))])
    assert.ok(!challenged(), 'no challenge while nobody computes')
    c.block([c.sign(c.alice, c.call('phalaStakePoolv2', 'startComputing', [0, worker.publicKey, 5_000n * PHA]))])
    assert.equal(state(), 'WorkerIdle')
    const started = c.number

    // Challenges every EVERY blocks; answered ones keep the worker responsive.
    let lastChallenge = 0
    let lastAnswered = 0
    for (let i = 0; i < 8; i++) {
      lastAnswered = lastChallenge
      c.block(lastChallenge ? [heartbeat(lastChallenge)] : [])
      if (challenged()) lastChallenge = c.number
      assert.equal(c.number % EVERY === 0, challenged(), `block ${c.number}: a challenge every ${EVERY} blocks`)
      assert.equal(state(), 'WorkerIdle', `answered: still responsive at ${c.number}`)
    }
    assert.ok(lastChallenge > started)

    // Heartbeats stop reaching the chain: unresponsive once more than WINDOW challenges are unanswered.
    const silentFrom = c.number
    let entered = 0
    for (let i = 0; i < (WINDOW + 2) * EVERY && !entered; i++) {
      c.block([])
      if (events().includes('phalaComputation.WorkerEnterUnresponsive')) entered = c.number
    }
    assert.ok(entered > 0, 'WorkerEnterUnresponsive')
    const unanswered = Math.floor(entered / EVERY) - Math.floor(lastAnswered / EVERY)
    assert.equal(unanswered, WINDOW + 1, `entered at ${entered} after ${unanswered} unanswered challenges (silent from ${silentFrom})`)
    assert.equal(state(), 'WorkerUnresponsive')
    c.block([])
    assert.ok(!events().includes('phalaComputation.WorkerEnterUnresponsive'), 'entered once')

    // A heartbeat arrives again: back to WorkerIdle.
    let latest = 0
    for (let n = c.number; n > 0 && !latest; n--) if (n % EVERY === 0) latest = n
    c.block([heartbeat(latest)])
    assert.ok(events().includes('phalaComputation.WorkerExitUnresponsive'), events().join())
    assert.equal(state(), 'WorkerIdle')
  })
}
