/**
 * One simulated pRuntime (the "phactory" state machine): InitRuntime, header sync, block dispatch
 * against its own copy of the para state, runtime info with a devnet IAS attestation, and egress.
 * Transport-free: the HTTP server (server.ts) maps prpc and bin_api onto these methods.
 *
 * Every mutating call validates on copies and commits only on success; the one exception is the
 * combined header sync, which keeps relay progress when its para part fails (chain.md §6.3).
 */
import { blake2AsU8a } from '@polkadot/util-crypto'
import { hexToU8a, u8aToHex, u8aToString, u8aConcat, compactToU8a, u8aEq } from '@polkadot/util'
import { cpus } from 'node:os'
import type { Logger } from '../../common/logger.js'
import { stateRoot, verifyProof, type TrieVersion } from '../../common/trie.js'
import { ParaState, applyChanges, changesDigest, stateFromEncoded } from './para-state.js'
import { GRANDPA_AUTHORITIES_KEY, decodeGrandpaAuthoritiesValue, readAuthorityList, ScaleReader, type Authority } from '../../common/grandpa.js'
import {
  decodeGenesisInfo,
  encodeBridge,
  type DecodedBlock,
} from '../../common/bridge-types.js'
import { makeDevnetIasReport } from '../attestation.js'
import { PRuntimeError } from './errors.js'
import { decodeStoragePairs } from '../../common/sync-request.js'
import { identityFromSeed, type WorkerIdentity } from './identity.js'
import { decodeRelayHeader, syncParaHeaders, syncRelayHeaders, sameAuthorities, type RelayHeaderIn, type RelayState, type ParaHeaderState } from './light-client.js'
import { GRANDPA_AUTHORITIES_STORAGE_KEY, GRANDPA_CURRENT_SET_ID_KEY, PARACHAIN_ID_KEY, TIMESTAMP_NOW_KEY, offchainIngressKey, registryWorkersKey, sessionsKey, workerBindingsKey } from './storage-keys.js'
import { type Challenge, challengesIn, isHit, OUTBOUND_MESSAGES_KEY } from './heartbeat.js'
import { EgressQueue, MINING_REPORT_TOPIC, REGISTRY_EVENT_TOPIC, benchReportPayload, heartbeatPayload } from './egress.js'

export const PRUNTIME_VERSION = '2.2.0'
export const PRUNTIME_GIT_REVISION = 'prb-devnet-simulated'
/** WorkerRegistrationInfo.version: pRuntime's compat version (major << 16 | minor << 8 | patch). */
const COMPAT_VERSION = (2 << 16) | (2 << 8) | 0
const MAX_CONSENSUS_VERSION = 1
/** An attestation is cached this long (pRuntime: 1 h). */
const RA_CACHE_MS = 3600 * 1000

export interface PhactoryOptions {
  identity: WorkerIdentity
  logger: Logger
  /** Trie layout of the para chain's state (the devnet chain's state version). */
  paraStateVersion?: TrieVersion
  /** Local benchmark score: the BenchReport's iterations give the chain this score. */
  benchScore?: number
  /**
   * Send a WorkingReportEvent::Heartbeat when a dispatched block number is a multiple of this, while
   * the worker is computing (its session WorkerIdle or WorkerUnresponsive). The devnet chain issues no
   * heartbeat challenges, so this stands in for answering them; 0 (default) sends none.
   */
  heartbeatEveryBlocks?: number
  /** 1 = WorkerRegistrationInfo (what prb v2 registers); 2 = V2. V2 is also chosen when InitRuntime carries attestation_provider. */
  registrationInfoVersion?: 1 | 2
  /** Clock for attestations (tests pin it). */
  now?: () => number
  /** Offer LoadChainState (fast sync; GetInfo's can_load_chain_state). Default true. */
  canLoadChainState?: boolean
}

export interface InitRuntimeRequest {
  skipRa?: boolean
  encodedGenesisInfo?: Uint8Array
  debugSetKey?: Uint8Array | null
  encodedGenesisState?: Uint8Array
  encodedOperator?: Uint8Array | null
  isParachain?: boolean
  attestationProvider?: Uint8Array | null
}

export interface InitRuntimeResponse {
  encodedRuntimeInfo: Uint8Array
  encodedGenesisBlockHash: Uint8Array
  encodedPublicKey: Uint8Array
  encodedEcdhPublicKey: Uint8Array
  attestation?: {
    version: number
    provider: string
    payload: { report: string; signature: Uint8Array; signingCert: Uint8Array }
    timestamp: number
    encodedReport: Uint8Array
  }
}

interface Runtime {
  isParachain: boolean
  genesisHash: string
  operator: Uint8Array | null
  infoVersion: 1 | 2
  /** None attestation: dev mode (debug_set_key) or provider Root/None. */
  skipRa: boolean
  relay: RelayState
  para: ParaHeaderState
  /** State roots of synced para headers (solo: relay headers) by number, not yet dispatched. */
  stateRoots: Map<number, string>
  nextBlockNumber: number
  /** The para state, hex keys -> hex values. */
  storage: ParaState
  childStorage: Map<string, Map<string, string>>
  stateRootHex: string
  /** The state was checked against a synced header (after the first dispatch). */
  validated: boolean
  waitingForParaHeaders: boolean
  registered: boolean
  benchReported: boolean
  egress: EgressQueue
  raCache?: { at: number; response: InitRuntimeResponse['attestation'] }
  lastBlockTimeMs: number
}

export class Phactory {
  readonly #opts: PhactoryOptions
  #identity: WorkerIdentity
  #rt: Runtime | undefined
  #lock: Promise<unknown> = Promise.resolve()
  #peakBytes = 0
  /** pRuntime's can_load_chain_state: true from start until the first header sync or a loaded state. */
  #canLoadChainState = true

  constructor(opts: PhactoryOptions) {
    this.#opts = opts
    this.#identity = opts.identity
  }

  get identity(): WorkerIdentity {
    return this.#identity
  }

  get initialized(): boolean {
    return this.#rt !== undefined
  }

  /** Serialise calls as pRuntime's global lock does. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#lock.then(fn, fn)
    this.#lock = run.catch(() => undefined)
    return run
  }

  #runtime(): Runtime {
    if (!this.#rt) throw new PRuntimeError('Runtime not initialized')
    return this.#rt
  }

  // ---- InitRuntime ------------------------------------------------------------------------------

  async initRuntime(req: InitRuntimeRequest): Promise<InitRuntimeResponse> {
    if (this.#rt) throw new PRuntimeError('Runtime already initialized')
    if (req.debugSetKey && req.debugSetKey.length > 0 && req.attestationProvider && req.attestationProvider.length > 0) {
      throw new PRuntimeError('RA is disallowed when debug_set_key is enabled')
    }
    let genesis: ReturnType<typeof decodeGenesisInfo>
    let storage: ParaState
    try {
      genesis = decodeGenesisInfo(req.encodedGenesisInfo ?? new Uint8Array())
    } catch (e) {
      throw new PRuntimeError(`Bridge initialize failed: cannot decode GenesisBlockInfo: ${(e as Error).message}`)
    }
    try {
      storage = stateFromEncoded(req.encodedGenesisState ?? new Uint8Array(), decodeStoragePairs)
    } catch (e) {
      throw new PRuntimeError(`Bridge initialize failed: cannot decode the genesis state: ${(e as Error).message}`)
    }
    const headerBytes = genesis.header.toU8a()
    const relayRoot = genesis.header.stateRoot.toHex()
    const authorities: Authority[] = genesis.authoritySet.list.map((a) => ({ publicKey: u8aToHex(a.id), weight: a.weight }))
    this.#checkGenesisAuthorities(relayRoot, genesis.proof, authorities, genesis.authoritySet.id)

    const isParachain = req.isParachain ?? false
    if (!isParachain) {
      // Solo mode only: the genesis storage must be the relay genesis header's state.
      const root = await this.#rootOf(storage)
      if (root !== relayRoot.toLowerCase()) throw new PRuntimeError('state root mismatch')
    }
    if (this.#rt) throw new PRuntimeError('Runtime already initialized')
    let identity = this.#identity
    if (req.debugSetKey && req.debugSetKey.length > 0) identity = identityFromSeed(req.debugSetKey, true)
    const paraId = paraIdOf(storage)
    const number = genesis.header.number.toNumber()
    const rt: Runtime = {
      isParachain,
      genesisHash: u8aToHex(blake2AsU8a(headerBytes, 256)),
      operator: req.encodedOperator && req.encodedOperator.length === 32 ? req.encodedOperator : null,
      infoVersion: this.#opts.registrationInfoVersion ?? (req.attestationProvider && req.attestationProvider.length > 0 ? 2 : 1),
      skipRa: identity.devMode || isNoneProvider(req.attestationProvider),
      relay: {
        authorities,
        setId: genesis.authoritySet.id,
        lastHash: u8aToHex(blake2AsU8a(headerBytes, 256)),
        lastNumber: number,
        nextHeaderNumber: number + 1,
        lastRelayStateRoot: null,
      },
      para: { paraId, nextParaHeaderNumber: 0 },
      stateRoots: new Map(),
      nextBlockNumber: 1,
      storage,
      childStorage: new Map(),
      stateRootHex: '',
      validated: false,
      waitingForParaHeaders: false,
      registered: false,
      benchReported: false,
      egress: new EgressQueue(identity.identity),
      lastBlockTimeMs: 0,
    }
    this.#identity = identity
    this.#rt = rt
    this.#opts.logger.info({ genesisHash: rt.genesisHash, relayNumber: number, paraId, setId: String(rt.relay.setId), devMode: identity.devMode }, 'runtime initialized')
    return this.#runtimeInfoResponse(rt, undefined)
  }

  /** The genesis authority set must be what the relay state holds (chain.md §5.2). */
  #checkGenesisAuthorities(root: string, proof: Uint8Array[], authorities: Authority[], setId: bigint): void {
    const fail = (why: string): never => {
      throw new PRuntimeError(`Bridge initialize failed: ${why}`)
    }
    let onChain: Authority[] | undefined
    const read = (key: string): string | null | undefined => {
      try {
        return verifyProof(root, proof, [key]).get(key)
      } catch {
        return undefined // the proof does not reach this key
      }
    }
    const modern = read(GRANDPA_AUTHORITIES_STORAGE_KEY)
    if (modern) {
      try {
        const r = new ScaleReader(modern)
        onChain = readAuthorityList(r)
      } catch {
        fail('Faield to read Grandpa::Authorities')
      }
    } else {
      const legacy = read(GRANDPA_AUTHORITIES_KEY)
      if (!legacy) fail('Missing grandpa authorities')
      try {
        onChain = decodeGrandpaAuthoritiesValue(legacy!)
      } catch {
        fail('Faield to read Grandpa::Authorities')
      }
    }
    if (!sameAuthorities(onChain!, authorities)) fail('validator set mismatch')
    // pRuntime HEAD does not check the set id; prb's devnet does when the proof carries it, since
    // a wrong id would make every later justification fail with a confusing error.
    const idHex = read(GRANDPA_CURRENT_SET_ID_KEY)
    if (idHex) {
      const id = new ScaleReader(idHex).u64()
      if (id !== setId) fail(`set id mismatch: proof says ${id}, given ${setId}`)
    }
  }

  // ---- runtime info -----------------------------------------------------------------------------

  getRuntimeInfo(forceRefreshRa: boolean, encodedOperator: Uint8Array | null | undefined): InitRuntimeResponse {
    const rt = this.#runtime()
    if (encodedOperator && encodedOperator.length === 32 && !(rt.operator && u8aEq(rt.operator, encodedOperator))) {
      rt.operator = encodedOperator
      rt.raCache = undefined
    }
    if (forceRefreshRa) rt.raCache = undefined
    if (rt.skipRa) return this.#runtimeInfoResponse(rt, undefined)
    const now = (this.#opts.now ?? Date.now)()
    if (!rt.raCache || now - rt.raCache.at > RA_CACHE_MS) {
      if (!rt.validated) throw new PRuntimeError('Chain state not validated yet; dispatch at least one block before asking for an attestation')
      const info = this.#encodedRuntimeInfo(rt)
      const r = makeDevnetIasReport(info, now)
      rt.raCache = {
        at: now,
        response: {
          version: 1,
          provider: '"ias"',
          payload: { report: u8aToString(r.raReport), signature: r.signature, signingCert: r.rawSigningCert },
          timestamp: Math.floor(now / 1000),
          encodedReport: encodeBridge('AttestationReport', { SgxIas: { raReport: r.raReport, signature: r.signature, rawSigningCert: r.rawSigningCert } }),
        },
      }
    }
    return this.#runtimeInfoResponse(rt, rt.raCache.response)
  }

  #encodedRuntimeInfo(rt: Runtime): Uint8Array {
    const id = this.#identity
    const base = {
      version: COMPAT_VERSION,
      machineId: blake2AsU8a(id.identity.publicKey, 128),
      pubkey: id.identity.publicKey,
      ecdhPubkey: id.ecdh.publicKey,
      genesisBlockHash: rt.genesisHash,
      features: [Math.max(1, cpus().length), 4],
      operator: rt.operator,
    }
    if (rt.infoVersion === 2) return encodeBridge('WorkerRegistrationInfoV2', { ...base, paraId: rt.para.paraId, maxConsensusVersion: MAX_CONSENSUS_VERSION })
    return encodeBridge('WorkerRegistrationInfo', base)
  }

  #runtimeInfoResponse(rt: Runtime, attestation: InitRuntimeResponse['attestation']): InitRuntimeResponse {
    return {
      encodedRuntimeInfo: this.#encodedRuntimeInfo(rt),
      encodedGenesisBlockHash: hexToU8a(rt.genesisHash),
      encodedPublicKey: this.#identity.identity.publicKey,
      encodedEcdhPublicKey: this.#identity.ecdh.publicKey,
      ...(attestation ? { attestation } : {}),
    }
  }

  // ---- header sync ------------------------------------------------------------------------------

  syncHeader(headers: RelayHeaderIn[]): number {
    const rt = this.#runtime()
    this.#canLoadChainState = false
    const { next, syncedTo, accepted } = syncRelayHeaders(rt.relay, headers)
    rt.relay = next
    if (accepted.length > 0) {
      rt.waitingForParaHeaders = rt.isParachain
      if (!rt.isParachain) {
        for (const encoded of accepted) {
          const h = decodeRelayHeader(encoded)
          rt.stateRoots.set(h.number, h.stateRoot.toLowerCase())
        }
      }
    }
    return syncedTo
  }

  syncParaHeader(headers: Uint8Array[], proof: Uint8Array[]): number {
    const rt = this.#runtime()
    if (!rt.isParachain) throw new PRuntimeError('ChainModeMismatch')
    const r = syncParaHeaders(rt.relay, rt.para, headers, proof)
    rt.relay = r.relay
    rt.para = r.para
    for (const [n, root] of r.stateRoots) rt.stateRoots.set(n, root)
    if (r.stateRoots.length > 0) rt.waitingForParaHeaders = false
    return r.syncedTo
  }

  /** Relay part, then para part; relay progress stays when the para part fails (as pRuntime). */
  syncCombinedHeaders(relay: RelayHeaderIn[], para: Uint8Array[], proof: Uint8Array[]): { relaychainSyncedTo: number; parachainSyncedTo: number } {
    const rt = this.#runtime()
    const relaychainSyncedTo = this.syncHeader(relay)
    const parachainSyncedTo = para.length === 0 ? rt.para.nextParaHeaderNumber - 1 : this.syncParaHeader(para, proof)
    return { relaychainSyncedTo, parachainSyncedTo }
  }

  // ---- fast sync --------------------------------------------------------------------------------

  /**
   * LoadChainState (phactory's load_chain_state): the full para state at `blockNumber` instead of
   * replaying blocks 1..blockNumber. As pRuntime, it is possible only before the first header sync
   * (a sync_header or sync_combined_headers call, even a rejected one, ends it) and it is not checked
   * here: the synchronizer is set to expect para header `blockNumber` next and block
   * `blockNumber + 1`, and the first dispatch checks the state against that header's state root
   * (StateRootMismatch, like the genesis state). Checks and texts in pRuntime's order; nothing
   * changes on refusal.
   */
  loadChainState(blockNumber: number, encodedState: Uint8Array): void {
    let storage: ParaState
    try {
      storage = stateFromEncoded(encodedState, decodeStoragePairs)
    } catch (e) {
      throw new PRuntimeError(`Can not load chain state: cannot decode the state: ${(e as Error).message}`)
    }
    if (this.#opts.canLoadChainState === false || !this.#canLoadChainState) throw new PRuntimeError('Can not load chain state')
    if (blockNumber === 0) throw new PRuntimeError('Can not load chain state from block 0')
    const rt = this.#rt
    if (!rt) throw new PRuntimeError('Runtime is uninitialized')
    // Solo mode: pRuntime's solo synchronizer refuses once it holds any header, which InitRuntime gives it.
    if (!rt.isParachain) throw new PRuntimeError('Failed to set synchronizer state')
    const paraId = paraIdOf(storage)
    if (paraId !== rt.para.paraId) throw new PRuntimeError(`Loading different parachain state, loading=${paraId}, init=${rt.para.paraId}`)
    if (storage.has(registryWorkersKey(this.#identity.identity.publicKey))) throw new PRuntimeError(`Failed to load state: the worker is already registered at block ${blockNumber}`)
    if (rt.nextBlockNumber > 1 || rt.para.nextParaHeaderNumber > 1) throw new PRuntimeError('Failed to set synchronizer state')
    rt.storage = storage
    rt.childStorage = new Map()
    rt.stateRootHex = ''
    rt.validated = false
    rt.nextBlockNumber = blockNumber + 1
    rt.para = { ...rt.para, nextParaHeaderNumber: blockNumber }
    rt.stateRoots.clear()
    this.#canLoadChainState = false
    this.#opts.logger.info({ blockNumber, keys: storage.size }, 'chain state loaded (fast sync)')
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  /** The state root of a para state: the shared trie for V0 (the devnet chain's layout), the wasm trie otherwise. */
  #rootOf(state: ParaState): Promise<string> | string {
    const version = this.#opts.paraStateVersion ?? 0
    return version === 0 ? state.root() : stateRoot(state.entries(), version)
  }

  async dispatchBlocks(input: DecodedBlock[]): Promise<number> {
    const rt = this.#runtime()
    const version = this.#opts.paraStateVersion ?? 0
    const blocks = input.filter((b) => b.header.number.toNumber() >= rt.nextBlockNumber)
    if (blocks.length === 0) return rt.nextBlockNumber - 1
    let storage = rt.storage
    let child: Map<string, Map<string, string>> | undefined
    let expectedNext = rt.nextBlockNumber
    let root = rt.stateRootHex
    const challenges: Challenge[] = []
    for (const block of blocks) {
      const n = block.header.number.toNumber()
      if (n !== expectedNext) throw new PRuntimeError('BlockNumberMismatch')
      const expected = rt.stateRoots.get(n)
      if (expected === undefined) throw new PRuntimeError('NoStateRoot')
      if (!root) {
        // First dispatch: the genesis state (or a loaded one) must be the state of the para header
        // before this block.
        const base = rt.nextBlockNumber - 1
        root = await this.#rootOf(rt.storage)
        const genesisExpected = rt.stateRoots.get(base)
        if (genesisExpected === undefined) throw new PRuntimeError('NoStateRoot')
        if (root !== genesisExpected) throw new PRuntimeError(`StateRootMismatch block=${base} expected=${genesisExpected} actual=${root}`)
      }
      storage = version === 0 ? applyChanges(storage, block.changes.main, blockDigest(block)) : storage.apply(block.changes.main)
      for (const [k, v] of block.changes.main) {
        // A storage value key is 32 bytes (two twox128 hashes): compare hex only for those.
        if (v !== null && k.length === 32 && OUTBOUND_MESSAGES_KEY_BYTES.equals(k)) challenges.push(...challengesIn(n, u8aToHex(v)))
      }
      if (block.changes.child.length > 0) child ??= new Map([...rt.childStorage].map(([k, v]) => [k, new Map(v)]))
      for (const [ck, changes] of block.changes.child) {
        if (!child) break
        const name = u8aToHex(ck)
        const m = child.get(name) ?? new Map<string, string>()
        for (const [k, v] of changes) {
          if (v === null) m.delete(u8aToHex(k))
          else m.set(u8aToHex(k), u8aToHex(v))
        }
        if (m.size === 0) child.delete(name)
        else child.set(name, m)
      }
      const actual = await this.#rootOf(storage)
      if (actual !== expected) throw new PRuntimeError(`StateRootMismatch block=${n} expected=${expected} actual=${actual}`)
      root = actual
      expectedNext = n + 1
    }
    // Commit.
    for (let n = rt.nextBlockNumber - 1; n < expectedNext; n++) rt.stateRoots.delete(n)
    rt.storage = storage
    if (child) rt.childStorage = child
    rt.stateRootHex = root
    rt.nextBlockNumber = expectedNext
    rt.validated = true
    this.#afterBlocks(rt, blocks[0]!.header.number.toNumber(), challenges)
    return expectedNext - 1
  }

  /** What the worker learns from its new state: registration, purges, messages to send. */
  #afterBlocks(rt: Runtime, firstBlock: number, challenges: Challenge[] = []): void {
    const pubkey = this.#identity.identity.publicKey
    const nowHex = rt.storage.get(TIMESTAMP_NOW_KEY)
    if (nowHex) rt.lastBlockTimeMs = Number(new ScaleReader(nowHex).u64())
    const ingressHex = rt.storage.get(offchainIngressKey(rt.egress.origin))
    const onChainNext = ingressHex ? new ScaleReader(ingressHex).u64() : 0n
    rt.egress.purge(onChainNext)
    // A worker replaying the chain after a restart finds its earlier messages already taken:
    // it does not benchmark again (pRuntime reacts to BenchStart once).
    if (onChainNext > 0n) rt.benchReported = true
    const registered = rt.storage.has(registryWorkersKey(pubkey))
    if (registered && !rt.registered) this.#opts.logger.info({ pubkey: u8aToHex(pubkey) }, 'worker sees its registration on chain')
    rt.registered = registered
    this.#heartbeat(rt, firstBlock)
    this.#answerChallenges(rt, challenges)
    if (registered && !rt.benchReported) {
      // The chain scores iterations * 6 / (its now - start_time). Report a benchmark that started
      // 600 s before this block, so the blocks until the report lands lower the score by a few %.
      const score = BigInt(this.#opts.benchScore ?? 2000)
      const start = BigInt(Math.floor(rt.lastBlockTimeMs / 1000)) - 600n
      rt.egress.push(REGISTRY_EVENT_TOPIC, benchReportPayload(start > 0n ? start : 0n, score * 100n))
      rt.benchReported = true
    }
  }

  /** At most one heartbeat per call: for the last multiple of the interval among the new blocks. */
  #heartbeat(rt: Runtime, firstBlock: number): void {
    const every = this.#opts.heartbeatEveryBlocks ?? 0
    if (every <= 0) return
    const last = rt.nextBlockNumber - 1
    const challengeBlock = last - (last % every)
    if (challengeBlock < firstBlock || challengeBlock === 0) return
    const session = rt.storage.get(workerBindingsKey(this.#identity.identity.publicKey))
    if (!session) return
    const info = rt.storage.get(sessionsKey(hexToU8a(session)))
    const state = info ? hexToU8a(info)[0] : undefined
    if (state !== 1 && state !== 3) return // WorkerIdle, WorkerUnresponsive
    rt.egress.push(
      MINING_REPORT_TOPIC,
      heartbeatPayload({ sessionId: 0, challengeBlock, challengeTime: BigInt(Math.floor(rt.lastBlockTimeMs / 1000)), iterations: BigInt(this.#opts.benchScore ?? 2000) * 100n }),
    )
  }

  /** Heartbeats for the challenges among the dispatched blocks that hit this worker while it computes. */
  #answerChallenges(rt: Runtime, challenges: Challenge[]): void {
    if (challenges.length === 0) return
    const pubkey = this.#identity.identity.publicKey
    const session = rt.storage.get(workerBindingsKey(pubkey))
    if (!session) return
    const info = rt.storage.get(sessionsKey(hexToU8a(session)))
    const state = info ? hexToU8a(info)[0] : undefined
    if (state !== 1 && state !== 3) return // WorkerIdle, WorkerUnresponsive
    for (const c of challenges) {
      if (!isHit(c, pubkey)) continue
      rt.egress.push(
        MINING_REPORT_TOPIC,
        heartbeatPayload({ sessionId: 0, challengeBlock: c.block, challengeTime: BigInt(Math.floor(rt.lastBlockTimeMs / 1000)), iterations: BigInt(this.#opts.benchScore ?? 2000) * 100n }),
      )
    }
  }

  egressMessages(): Uint8Array {
    return this.#runtime().egress.encode()
  }

  // ---- info -------------------------------------------------------------------------------------

  info(): Record<string, unknown> {
    const rt = this.#rt
    const pub = u8aToHex(this.#identity.identity.publicKey).slice(2)
    const ecdh = u8aToHex(this.#identity.ecdh.publicKey).slice(2)
    const mem = processMemory()
    const used = this.approxBytes()
    this.#peakBytes = Math.max(this.#peakBytes, used)
    return {
      initialized: !!rt,
      registered: rt?.registered ?? false,
      genesisBlockHash: rt ? rt.genesisHash.slice(2) : undefined,
      publicKey: rt ? pub : undefined,
      ecdhPublicKey: rt ? ecdh : undefined,
      headernum: rt?.relay.nextHeaderNumber ?? 0,
      paraHeadernum: rt?.para.nextParaHeaderNumber ?? 0,
      blocknum: rt?.nextBlockNumber ?? 0,
      stateRoot: rt?.stateRootHex ? rt.stateRootHex.slice(2) : '',
      devMode: this.#identity.devMode,
      pendingMessages: rt?.egress.pending ?? 0,
      score: this.#opts.benchScore ?? 2000,
      gatekeeper: { role: 'None', masterPublicKey: '' },
      version: PRUNTIME_VERSION,
      gitRevision: PRUNTIME_GIT_REVISION,
      memoryUsage: { rustUsed: used, rustPeakUsed: this.#peakBytes, totalPeakUsed: mem.rss, free: 0, rustSpike: 0 },
      waitingForParaheaders: rt?.waitingForParaHeaders ?? false,
      system: rt
        ? {
            registered: rt.registered,
            publicKey: pub,
            ecdhPublicKey: ecdh,
            gatekeeper: { role: 'None', masterPublicKey: '' },
            numberOfClusters: 0,
            numberOfContracts: 0,
            consensusVersion: 0,
            maxSupportedConsensusVersion: MAX_CONSENSUS_VERSION,
          }
        : undefined,
      // As pRuntime: true until the first header sync or a loaded state (also before InitRuntime).
      canLoadChainState: this.#opts.canLoadChainState !== false && this.#canLoadChainState,
      currentBlockTime: rt?.lastBlockTimeMs ?? 0,
      supportedAttestationMethods: ['epid'],
    }
  }

  /** Rough bytes held by this worker's state (the "rust_used" it reports). */
  approxBytes(): number {
    const rt = this.#rt
    if (!rt) return 0
    return rt.storage.bytes + 64 * rt.storage.size
  }

  /** Synced heights, for tests and logs. */
  heights(): { headernum: number; paraHeadernum: number; blocknum: number; setId: bigint } | undefined {
    const rt = this.#rt
    return rt && { headernum: rt.relay.nextHeaderNumber, paraHeadernum: rt.para.nextParaHeaderNumber, blocknum: rt.nextBlockNumber, setId: rt.relay.setId }
  }

  /** Read one key of the worker's para state (hex), for tests. */
  storageValue(key: string): string | undefined {
    return this.#rt?.storage.get(key.toLowerCase())
  }
}

/** ParachainInfo.ParachainId of a para state (the devnet's default 100 when absent, as InitRuntime). */
function paraIdOf(storage: ParaState): number {
  const hex = storage.get(PARACHAIN_ID_KEY)
  return hex ? new DataView(hexToU8a(hex).buffer).getUint32(0, true) : 100
}

function isNoneProvider(p: Uint8Array | null | undefined): boolean {
  // SCALE Option<AttestationProvider>: 00 = None. Absent field = default provider (IAS).
  return !!p && p.length === 1 && p[0] === 0
}

/** SCALE(Vec<u8>) of bytes, for HeadData comparisons and proofs. */
export function vecU8(b: Uint8Array): Uint8Array {
  return u8aConcat(compactToU8a(b.length), b)
}

const OUTBOUND_MESSAGES_KEY_BYTES = Buffer.from(OUTBOUND_MESSAGES_KEY.slice(2), 'hex')

/** The digest of a decoded block's main changes, once per decoded block (shared by every worker it is dispatched to). */
const digests = new WeakMap<DecodedBlock, string>()
function blockDigest(b: DecodedBlock): string {
  let d = digests.get(b)
  if (d === undefined) {
    d = changesDigest(b.changes.main)
    digests.set(b, d)
  }
  return d
}

/** The process's memory figures, read at most once a second (hundreds of workers answer GetInfo; each read costs a /proc scan). */
let memory: { at: number; rss: number } = { at: 0, rss: 0 }
function processMemory(): { rss: number } {
  const now = Date.now()
  if (now - memory.at > 1000) memory = { at: now, rss: process.memoryUsage.rss() }
  return memory
}
