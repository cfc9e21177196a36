/**
 * Shared runtime core: options, the decorated registry and codec, dev accounts, dispatch errors and
 * the execution environment (state overlay + event log with transactional layers) every pallet uses.
 */
import { Keyring } from '@polkadot/keyring'
import { cryptoIsReady } from '@polkadot/util-crypto'
import { u8aToHex, compactToU8a, u8aConcat } from '@polkadot/util'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { Logger } from '../../common/logger.js'
import { buildMetadata, type BuiltMetadata, SS58_PREFIX } from './metadata.js'
import { Codec, Overlay } from './storage.js'
import { ERRORS, KHALA_INDICES, palletIndices, type PalletIndices } from './phala-pallets-meta.js'
import { identityOf, type ChainIdentity, type ChainName } from '../identity.js'

export const DOLLARS = 1_000_000_000_000n
export const DEV_NAMES = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'] as const

export interface ParaRuntimeOptions {
  /** Which runtime: Phala (default; pallet indices, spec name, para id 2035) or Khala (para id 2004). */
  chain?: ChainName
  /** ParachainInfo.ParachainId (default: the chain's, 2035 or 2004). */
  paraId?: number
  /** Stake pools created at genesis, owned by //Alice, pids 0..pools-1 (default 2). */
  pools?: number
  /** Free stake (W-PHA in the pool account) of each genesis pool, in plancks (default 100_000 PHA). */
  poolFreeStake?: bigint
  /** Free balance of each of //Alice..//Ferdie, in plancks (default 10_000_000 PHA). */
  endowment?: bigint
  /** Extra accounts (hex AccountId32) funded with `endowment` at genesis. */
  extraEndowed?: string[]
  /** Seed mixed into genesis-only data (the devnet `:code` marker); default 'prb-devnet'. */
  seed?: string
  /** Unix ms of the genesis; Timestamp.Now at block 0 (default 0, as a real genesis). */
  genesisTimeMs?: number
  /** Relay chain genesis hash for RelaychainGenesisBlockHashAllowList; when absent the check is off. */
  relayGenesisHash?: string
  /** Extra PRuntimeAllowList entries (hex); DEVNET_MRENCLAVE is always allowed. */
  pruntimeAllowList?: string[]
  /** PhalaRegistry.BenchmarkDuration (blocks) sent in WorkerEvent::BenchStart (default 50). */
  benchmarkDuration?: number
  /**
   * Heartbeats: every this many blocks the chain challenges every computing worker (SystemEvent::
   * HeartbeatChallenge through the message queue, default 5; 0 = no challenges); a worker with more
   * than `heartbeatWindow` unanswered challenges becomes unresponsive.
   */
  heartbeatEvery?: number
  /** TokenomicParameters.heartbeat_window at genesis (default 10, as on Khala). */
  heartbeatWindow?: number
  /** PhalaComputation.CoolDownPeriod at genesis in seconds (default 7 days). */
  coolDownPeriodSecs?: number
  /** Chain name served by system_chain (default: the real chain's, 'Phala' or 'Khala'). */
  chainName?: string
  /** Where runtime bugs (a call handler throwing something that is not a DispatchError) are logged. */
  logger?: Logger
}

export interface ResolvedOptions {
  paraId: number; pools: number; poolFreeStake: bigint; endowment: bigint; extraEndowed: string[]; seed: string
  genesisTimeMs: number; relayGenesisHash?: string; pruntimeAllowList: string[]; benchmarkDuration: number; chainName: string
  identity: ChainIdentity; heartbeatEvery: number; heartbeatWindow: number; coolDownPeriodSecs: number
  logger?: Logger
}

export function resolveOptions(o: ParaRuntimeOptions = {}): ResolvedOptions {
  const identity = identityOf(o.chain)
  const r: ResolvedOptions = {
    identity,
    paraId: o.paraId ?? identity.para.paraId,
    pools: o.pools ?? 2,
    poolFreeStake: o.poolFreeStake ?? 100_000n * DOLLARS,
    endowment: o.endowment ?? 10_000_000n * DOLLARS,
    extraEndowed: o.extraEndowed ?? [],
    seed: o.seed ?? 'prb-devnet',
    genesisTimeMs: o.genesisTimeMs ?? 0,
    relayGenesisHash: o.relayGenesisHash?.toLowerCase(),
    pruntimeAllowList: (o.pruntimeAllowList ?? []).map((x) => x.toLowerCase()),
    benchmarkDuration: o.benchmarkDuration ?? 50,
    chainName: o.chainName ?? identity.para.name,
    heartbeatEvery: o.heartbeatEvery ?? 5,
    heartbeatWindow: o.heartbeatWindow ?? 10,
    coolDownPeriodSecs: o.coolDownPeriodSecs ?? 7 * 24 * 3600, // genesis.ts COOL_DOWN_PERIOD_SECS, as on chain
    logger: o.logger,
  }
  if (!Number.isInteger(r.paraId) || r.paraId < 0 || r.paraId > 0xffffffff) throw new Error(`paraId ${r.paraId} is not a u32; give a para id such as 2035`)
  if (!Number.isInteger(r.pools) || r.pools < 0 || r.pools > 1000) throw new Error(`devnet pools: ${r.pools} is out of range; give an integer from 0 to 1000 (PHALA_DEVNET_POOLS)`)
  return r
}

export interface Core {
  opts: ResolvedOptions
  /** construct_runtime indices of this chain (Phala's or Khala's). */
  indices: PalletIndices
  meta: BuiltMetadata
  codec: Codec
  dev: Record<(typeof DEV_NAMES)[number], KeyringPair>
}

export function createCore(options: ParaRuntimeOptions | undefined): Core {
  if (!cryptoIsReady()) throw new Error('sr25519 is not initialised: await cryptoWaitReady() from @polkadot/util-crypto before createParaRuntime (or use createParaRuntimeAsync)')
  const opts = resolveOptions(options)
  const indices = palletIndices(opts.identity)
  const meta = buildMetadata({ paraId: opts.paraId, identity: opts.identity, indices })
  const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX })
  const dev = Object.fromEntries(DEV_NAMES.map((n) => [n, keyring.addFromUri(`//${n}`)])) as Core['dev']
  return { opts, indices, meta, codec: new Codec(meta.registry), dev }
}

/** A dispatch failure, encoded as sp_runtime::DispatchError. */
export class DispatchErr extends Error {
  /**
   * @param pallet for a module error raised by name: the pallet whose index the dispatcher fills in
   *   for the running chain (the Phala pallets sit at other indices on Phala and Khala).
   */
  constructor(readonly error: Record<string, unknown>, readonly label: string, readonly pallet?: string) {
    super(label)
  }

  /** This error with the module index of `pallet` on the chain of `indices`. */
  resolve(indices: PalletIndices): DispatchErr {
    const m = this.error.Module as { index: number; error: string } | undefined
    const index = this.pallet ? (indices as Record<string, number>)[this.pallet] : undefined
    if (!m || index === undefined || m.index === index) return this
    return new DispatchErr({ Module: { index, error: m.error } }, this.label, this.pallet)
  }
}

type ErrPallet = keyof typeof ERRORS
export function moduleErr<P extends ErrPallet>(pallet: P, name: (typeof ERRORS)[P][number]): DispatchErr {
  const idx = (ERRORS[pallet] as readonly string[]).indexOf(name)
  if (idx < 0) throw new Error(`unknown error ${pallet}.${name}`)
  return moduleErrRaw(KHALA_INDICES[pallet], idx, `${pallet}.${name}`, pallet)
}

/** Errors of the standard pallets by index (System, Balances, Utility, Proxy). */
export function moduleErrRaw(palletIndex: number, errorIndex: number, label: string, pallet?: string): DispatchErr {
  const error = new Uint8Array(4)
  error[0] = errorIndex
  return new DispatchErr({ Module: { index: palletIndex, error: u8aToHex(error) } }, label, pallet)
}

export const BadOrigin = (): DispatchErr => new DispatchErr({ BadOrigin: null }, 'BadOrigin')
export const SYSTEM_CALL_FILTERED = (): DispatchErr => moduleErrRaw(KHALA_INDICES.System, 5, 'System.CallFiltered')
/**
 * A call the devnet does not implement: frame_system's error list gets one devnet-only variant
 * after the real six (metadata.ts), so `system.NotSupportedByDevnet: <docs>` reads as what it is.
 */
export const SYSTEM_NOT_SUPPORTED_INDEX = 6
export const NOT_SUPPORTED = (call: string): DispatchErr => moduleErrRaw(KHALA_INDICES.System, SYSTEM_NOT_SUPPORTED_INDEX, `System.NotSupportedByDevnet(${call})`)

export type Origin = { kind: 'signed'; who: Uint8Array } | { kind: 'none' } | { kind: 'root' }

export type Phase = { ApplyExtrinsic: number } | { Finalization: null } | { Initialization: null }

export interface EventItem { phase: Phase; event: Record<string, Record<string, unknown>> }

/** Everything one block's execution touches. */
export class Env {
  readonly events: EventItem[] = []
  phase: Phase = { Initialization: null }
  private marks: number[] = []
  /** Chain -> worker messages pushed this block (PhalaMq.OutboundMessages). */
  /** Hex for the Bytes fields: @polkadot/types reads a Uint8Array as already length-prefixed. */
  readonly outbound: { sender: unknown; destination: string; payload: string }[] = []
  private outboundMarks: number[] = []

  constructor(readonly core: Core, readonly state: Overlay, readonly blockNumber: number, readonly nowMs: number) {}

  deposit(pallet: string, method: string, data: Record<string, unknown> | unknown[] | null = null): void {
    this.events.push({ phase: this.phase, event: { [pallet]: { [method]: data } } })
  }

  pushMessage(sender: unknown, destination: string, payload: Uint8Array): void {
    this.outbound.push({ sender, destination: u8aToHex(new TextEncoder().encode(destination)), payload: u8aToHex(payload) })
  }

  /** Substrate's storage layer: writes, events and messages of `fn` are dropped when it throws. */
  transactional<T>(fn: () => T): T {
    this.state.begin()
    this.marks.push(this.events.length)
    this.outboundMarks.push(this.outbound.length)
    try {
      const r = fn()
      this.state.commit()
      this.marks.pop()
      this.outboundMarks.pop()
      return r
    } catch (e) {
      this.state.rollback()
      this.events.length = this.marks.pop()!
      this.outbound.length = this.outboundMarks.pop()!
      throw e
    }
  }

  get nowSecs(): number {
    return Math.floor(this.nowMs / 1000)
  }
}

/** SCALE Vec<EventRecord>: RuntimeEvent is [pallet index] ++ the pallet's Event enum (GenericEvent cannot be built from JSON). */
export function encodeEvents(core: Core, events: EventItem[]): Uint8Array {
  const pallets = new Map(core.meta.metadata.asLatest.pallets.filter((p) => p.events.isSome).map((p) => [p.name.toString(), { index: p.index.toNumber(), type: p.events.unwrap().type.toNumber() }]))
  const phaseType = core.meta.registry.createLookupType(core.meta.ids.phase)
  const parts: Uint8Array[] = [compactToU8a(events.length)]
  for (const e of events) {
    const [pallet, body] = Object.entries(e.event)[0]
    const p = pallets.get(pallet)
    if (!p) throw new Error(`event of pallet ${pallet} without events in metadata`)
    parts.push(core.meta.registry.createTypeUnsafe(phaseType, [e.phase]).toU8a(), new Uint8Array([p.index]), core.codec.encode(p.type, body), new Uint8Array([0]))
  }
  return u8aConcat(...parts)
}
