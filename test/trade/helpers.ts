/**
 * The trader's test bed: a Redis per test, the devnet, a stand-in lifecycle on Walkie that answers
 * ListPool with operators encrypted by its LIFECYCLE key, workers made by the test (registration
 * payloads with a devnet IAS report, signed MQ messages) and readers of what landed on chain.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { join } from 'node:path'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SignedBlock } from '@polkadot/types/interfaces'
import { blake2AsU8a, cryptoWaitReady, sr25519PairFromSeed, sr25519Sign } from '@polkadot/util-crypto'
import { bnToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import { isReady as wasmReady, sr25519Sign as wasmSr25519Sign } from '@polkadot/wasm-crypto'
import { createLogger, type Logger } from '../../src/common/logger.js'
import { encryptOperator, pairToKeystoreJson } from '../../src/common/operator-key.js'
import { startDevnet, type Devnet, type DevnetOptions } from '../../src/devnet/index.js'
import { USER_EXTENSIONS } from '../../src/devnet/para-runtime/index.js'
import { makeDevnetIasReport } from '../../src/devnet/attestation.js'
import { createWalkie, loadOrCreateIdentity, type Walkie } from '../../src/walkie/index.js'
import { accepts, freePort } from '../helpers/net.js'
import { quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'

export { waitFor }
export const PHA = 10n ** 12n

/** TRADE_TEST_LOG=debug|info writes the components' logs to stderr (debugging a run). */
export function testLogger(): Logger {
  const level = process.env.TRADE_TEST_LOG as 'debug' | 'info' | 'warn' | undefined
  return level ? createLogger({ level, stream: process.stderr }) : quietLogger()
}

export interface TestRedis {
  port: number
  url: string
  stop(): Promise<void>
  /** Kill it and start a fresh (empty) one on the same port, as a restarted non-persistent Redis. */
  restart(): Promise<void>
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort()
  let proc: ChildProcess | undefined
  const up = async (): Promise<void> => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    await waitFor(() => accepts(port), 10_000, `redis-server on ${port}`)
  }
  const down = async (): Promise<void> => {
    const p = proc
    if (!p || p.exitCode !== null) return
    const gone = new Promise((r) => p.once('exit', r))
    p.kill('SIGKILL')
    await gone
  }
  await up()
  return { port, url: `redis://127.0.0.1:${port}/`, stop: down, restart: async () => { await down(); await up() } }
}

/** The devnet for trader tests: a para block every 200 ms, final one relay block later, no pRuntimes. */
export function startTradeDevnet(o: Partial<DevnetOptions> = {}): Promise<Devnet> {
  return startDevnet({ host: '127.0.0.1', paraPort: 0, relayPort: 0, controlPort: 0, blockMs: 100, history: 6, justificationPeriod: 16, sessionBlocks: 400, pools: 4, pruntimes: 0, ...o }, testLogger())
}

export async function connectApi(url: string): Promise<ApiPromise> {
  return ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true, throwOnConnect: true, signedExtensions: USER_EXTENSIONS })
}

export const keyring = (): Keyring => new Keyring({ type: 'sr25519', ss58Format: 30 })

/** Send one extrinsic as `signer` and wait until it is finalized; throws on a dispatch error. */
export async function sendFinal(api: ApiPromise, tx: ReturnType<ApiPromise['tx']['proxy']['addProxy']>, signer: KeyringPair): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('setup extrinsic not finalized within 60 s')), 60_000)
    tx.signAndSend(signer, (r) => {
      if (r.dispatchError) {
        clearTimeout(timer)
        reject(new Error(`setup extrinsic failed: ${r.dispatchError.toString()}`))
      } else if (r.status.isFinalized) {
        clearTimeout(timer)
        resolve()
      } else if (r.isError) {
        clearTimeout(timer)
        reject(new Error(`setup extrinsic ${r.status.type}`))
      }
    }).catch((e: unknown) => {
      clearTimeout(timer)
      reject(e as Error)
    })
  })
}

export interface TestPool {
  pid: number
  operator: KeyringPair
  /** Proxied: the real account (the pool owner, //Alice). */
  real?: KeyringPair
}

export interface FakeLifecycle {
  walkie: Walkie
  address: string
  keyDir: string
  pools: TestPool[]
  listCalls: number
  stop(): Promise<void>
}

/**
 * A stand-in for the lifecycle: its LIFECYCLE key in `keyDir`, a Walkie peer of role
 * WR_LIFECYCLE_MANAGER answering ListPool with each pool's operator as upstream's EncPb hex.
 */
export async function startFakeLifecycle(keyDir: string, chainIdentity: string, pools: TestPool[]): Promise<FakeLifecycle> {
  const identity = await loadOrCreateIdentity(join(keyDir, 'LIFECYCLE'))
  const walkie = createWalkie({
    role: 'WR_LIFECYCLE_MANAGER', chainIdentity, bridgeIdentity: 'default', identity: { preloaded: identity },
    listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, rpcTimeoutMs: 10_000,
  }, { logger: testLogger() })
  const self: FakeLifecycle = {
    walkie, address: '', keyDir, pools, listCalls: 0, stop: () => walkie.stop(),
  }
  walkie.handle('ListPool', () => {
    self.listCalls++
    return {
      pools: self.pools.map((p) => ({
        uuid: `pool-${p.pid}`, pid: p.pid, name: `pool ${p.pid}`, enabled: true, deleted: false, syncOnly: false,
        realPhalaSs58: p.real?.address ?? '',
        owner: { polkadotJson: u8aToHex(encryptOperator(pairToKeystoreJson(p.operator), identity.rsa!.publicKey)), ss58Phala: p.operator.address },
      })),
    }
  })
  await walkie.start()
  self.address = walkie.multiaddrs()[0]!
  return self
}

/** A trader-side Walkie node booting from the fake lifecycle. */
export function traderWalkie(chainIdentity: string, bootNode: string): Walkie {
  return createWalkie({
    role: 'WR_TRADER', chainIdentity, bridgeIdentity: 'default', identity: { ephemeral: true },
    listenAddresses: ['/ip4/127.0.0.1/tcp/0'], bootNodes: [bootNode], disableMdns: true, bootRetryMinMs: 100, bootRetryMaxMs: 500, rpcTimeoutMs: 10_000,
  }, { logger: testLogger() })
}

export interface TestWorker { pair: KeyringPair; ecdh: Uint8Array; seq: number }

export function newWorker(name: string): TestWorker {
  const k = new Keyring({ type: 'sr25519' })
  return { pair: k.addFromUri(`//trade-worker-${name}`), ecdh: k.addFromUri(`//trade-ecdh-${name}`).publicKey, seq: 0 }
}

/** REGISTER_WORKER's payload pieces: the runtime info (operator = the pool owner) and its devnet IAS attestation, as hex. */
export async function registrationPayload(api: ApiPromise, devnet: Devnet, w: TestWorker, operator: KeyringPair): Promise<{ runtimeInfo: string; attestation: string }> {
  const info = api.createType('PhalaTypesWorkerRegistrationInfo', {
    version: 2, machineId: 'machine', pubkey: w.pair.publicKey, ecdhPubkey: w.ecdh, genesisBlockHash: devnet.relay.chain.genesisHash,
    features: [4, 1], operator: u8aToHex(operator.publicKey),
  }).toU8a()
  const now = Number((await api.query.timestamp.now()).toString())
  const r = makeDevnetIasReport(info, now - 60_000)
  const attestation = api.createType('PhalaPalletsUtilsAttestationLegacyAttestation', { SgxIas: { raReport: u8aToHex(r.raReport), signature: u8aToHex(r.signature), rawSigningCert: u8aToHex(r.rawSigningCert) } })
  return { runtimeInfo: u8aToHex(info), attestation: attestation.toHex() }
}

/** A worker's signed MQ message (hex SCALE SignedMessage) on `topic`. */
export function signedMessage(api: ApiPromise, pair: Pick<KeyringPair, 'publicKey' | 'sign'>, topic: string, payload: Uint8Array, seq: number): string {
  const message = { sender: { Worker: pair.publicKey }, destination: u8aToHex(stringToU8a(topic)), payload: u8aToHex(payload) }
  const encoded = api.createType('PhalaMqMessage', message).toU8a()
  const signature = pair.sign(u8aConcat(encoded, bnToU8a(seq, { bitLength: 64, isLe: true })))
  return api.createType('PhalaMqSignedMessage', { message, sequence: seq, signature: u8aToHex(signature) }).toHex()
}

/** The worker's BenchReport (sets its initial score when synced). */
export async function benchReport(api: ApiPromise, w: TestWorker): Promise<string> {
  const now = Math.floor(Number((await api.query.timestamp.now()).toString()) / 1000)
  const payload = api.createType('PhalaTypesMessagingRegistryEvent', { BenchReport: { startTime: now - 60, iterations: 10_000 } }).toU8a()
  return signedMessage(api, w.pair, '^phala/registry/event', payload, w.seq++)
}

/** A message from a fresh sender (seq 0) on a topic nobody on chain listens to: it lands and does nothing. */
export function noiseMessage(api: ApiPromise, i: number, salt = 'noise'): string {
  const kp = sr25519PairFromSeed(blake2AsU8a(`${salt}-${i}`, 256))
  // The wasm signer when loaded: the pure-JS one made preparing the bench's 10,000 messages take a minute.
  const pair = { publicKey: kp.publicKey, sign: (m: Uint8Array) => (wasmReady() ? wasmSr25519Sign(kp.publicKey, kp.secretKey, m) : sr25519Sign(m, kp)) }
  return signedMessage(api, pair as never, 'prb/trade-test', stringToU8a(`job ${i}`), 0)
}


export interface LandedCall { blockNumber: number; extrinsic: number; signer: string; nonce: number; proxied: boolean; call: string; argsHex: string }

/** Every call inside the forceBatches signed by `signers` from block 1 to the best one (what executed, once per landing). */
export async function landedCalls(api: ApiPromise, signers: string[]): Promise<LandedCall[]> {
  await cryptoWaitReady()
  const best = (await api.rpc.chain.getHeader()).number.toNumber()
  const out: LandedCall[] = []
  const want = new Set(signers)
  // In parallel chunks: the latency test's node answers 500 ms late.
  const blocks: Array<{ n: number; block: SignedBlock }> = []
  for (let from = 1; from <= best; from += 64) {
    const ns = Array.from({ length: Math.min(64, best - from + 1) }, (_, i) => from + i)
    blocks.push(...await Promise.all(ns.map(async (n) => ({ n, block: await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(n)) }))))
  }
  for (const { n, block } of blocks) {
    block.block.extrinsics.forEach((xt, i) => {
      if (!xt.isSigned || !want.has(xt.signer.toString())) return
      let call = xt.method
      let proxied = false
      if (call.section === 'proxy' && call.method === 'proxy') {
        proxied = true
        call = call.args[2] as typeof call
      }
      if (call.section !== 'utility' || call.method !== 'forceBatch') return
      for (const c of call.args[0] as unknown as Array<typeof call>) {
        out.push({ blockNumber: n, extrinsic: i, signer: xt.signer.toString(), nonce: xt.nonce.toNumber(), proxied, call: `${c.section}.${c.method}`, argsHex: c.toHex() })
      }
    })
  }
  return out
}

/** Wait until the chain finalized everything that is in its pool. */
export async function poolEmpty(devnet: Devnet): Promise<void> {
  await waitFor(() => devnet.para.pool.size === 0, 60_000, () => `devnet pool still holds ${devnet.para.pool.size}`)
}

/** The nonce rule, from the journal's submission log: one content per (operator, nonce). */
export async function nonceContents(redisUrl: string): Promise<Map<string, Set<string>>> {
  const r = new Redis(redisUrl)
  const sent = (await r.lrange('prb:trade:sent', 0, -1)).map((s) => JSON.parse(s) as { a: string; n: number; c: string })
  r.disconnect()
  const m = new Map<string, Set<string>>()
  for (const e of sent) {
    const key = `${e.a}#${e.n}`
    m.set(key, (m.get(key) ?? new Set()).add(e.c))
  }
  return m
}

/** Every message of `messages` executed exactly once, in forceBatches of Alice or Bob. */
export async function assertOnceOnChain(api: ApiPromise, signers: string[], messages: string[]): Promise<void> {
  const landed = await landedCalls(api, signers)
  const counts = new Map<string, number>()
  for (const c of landed) counts.set(c.argsHex, (counts.get(c.argsHex) ?? 0) + 1)
  const want = messages.map((m) => api.tx.phalaMq.syncOffchainMessage(api.createType('PhalaMqSignedMessage', m)).method.toHex())
  const twice = want.filter((w) => (counts.get(w) ?? 0) > 1)
  const missing = want.filter((w) => !counts.get(w))
  assert.equal(twice.length, 0, `${twice.length} call(s) executed twice`)
  assert.equal(missing.length, 0, `${missing.length} call(s) never executed`)
}


export interface DevnetProcess {
  paraUrl: string
  controlUrl: string
  stop(): Promise<void>
}

/**
 * The devnet as an operator runs it (`PHALA_MODULE=devnet`), in its own process on ports it picks:
 * a benchmark then measures the trader, not a devnet sharing its event loop.
 */
export async function startDevnetProcess(env: Record<string, string>): Promise<DevnetProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', 'src/index.ts'], {
    env: { ...process.env, PHALA_MODULE: 'devnet', PHALA_DEVNET_HOST: '127.0.0.1', PHALA_DEVNET_PARA_PORT: '0', PHALA_DEVNET_RELAY_PORT: '0', PHALA_DEVNET_CONTROL_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ready = await new Promise<{ para: string; control: string }>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error('the devnet process did not log "devnet ready" within 120 s')), 120_000)
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        try {
          const r = JSON.parse(line) as { msg?: string; para?: string; control?: string }
          if (r.msg?.startsWith('devnet ready') && r.para && r.control) {
            clearTimeout(timer)
            resolve({ para: r.para, control: r.control })
          }
        } catch {
          // not a log line
        }
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the devnet process exited (${code}) before it was ready`))
    })
  })
  proc.stdout!.resume()
  return {
    paraUrl: ready.para,
    controlUrl: ready.control,
    stop: async () => {
      if (proc.exitCode !== null) return
      const gone = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      await gone
    },
  }
}
