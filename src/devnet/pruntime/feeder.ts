/**
 * The feeder: builds pRuntime's inputs straight from the chains over JSON-RPC (the @polkadot/api
 * WsProvider), the way prb's data provider does (upstream-data-provider.md §2-§4):
 *   - InitRuntime: GenesisBlockInfo (relay header at the para's start, :grandpa_authorities, set id,
 *     their read proof) and the para genesis state (state_getPairs at para block 0);
 *   - sync_combined_headers: relay headers up to the next justified finalized block, the para
 *     headers up to the head recorded in paras.heads there, and its read proof;
 *   - dispatch_block: para headers with the raw `pha_getStorageChangesAt` bytes.
 * `feedWorker` then drives one pRuntime from InitRuntime to the chain head. The lifecycle can reuse
 * the payload builders; the data provider builds the same bytes from its store.
 */
import { WsProvider } from '@polkadot/api'
import { hexToU8a, u8aToHex, stringToU8a, u8aConcat } from '@polkadot/util'
import { blake2AsU8a, xxhashAsU8a } from '@polkadot/util-crypto'
import type { Logger } from '../../common/logger.js'
import {
  bridgeRegistry,
  encodeBlockHeaderWithChanges,
  encodeDispatchBlockReq,
  encodeGenesisInfo,
  encodeStorageState,
  encodeSyncCombinedHeadersReq,
  type AuthoritySetChangeInput,
} from '../../common/bridge-types.js'
import { type Authority, GRANDPA_AUTHORITIES_KEY, GRANDPA_ENGINE_ID, ScaleReader, decodeGrandpaAuthoritiesValue, readAuthorityList } from '../../common/grandpa.js'
import { GRANDPA_AUTHORITIES_STORAGE_KEY, GRANDPA_CURRENT_SET_ID_KEY, PARACHAIN_ID_KEY, parasHeadsKey } from './storage-keys.js'
import { PruntimeClient } from './client.js'

export interface RpcSender {
  send<T = unknown>(method: string, params: unknown[]): Promise<T>
}

interface HeaderJson {
  parentHash: string
  number: string | number
  stateRoot: string
  extrinsicsRoot: string
  digest: { logs: string[] }
}

interface RelayBlockInfo {
  number: number
  hash: string
  encoded: Uint8Array
  justification: Uint8Array | null
}

const VALIDATION_DATA_KEY = u8aToHex(u8aConcat(xxhashAsU8a(stringToU8a('ParachainSystem'), 128), xxhashAsU8a(stringToU8a('ValidationData'), 128)))

function headerBytes(json: HeaderJson, expectedHash: string, what: string): Uint8Array {
  const bytes = bridgeRegistry().createType('Header', json).toU8a()
  const hash = u8aToHex(blake2AsU8a(bytes, 256))
  // A header that does not re-encode to its hash would be refused by pRuntime; catch it here.
  if (hash !== expectedHash.toLowerCase()) throw new Error(`${what}: header re-encodes to ${hash}, not its hash ${expectedHash}`)
  return bytes
}

export class Feeder {
  readonly #relay: RpcSender
  readonly #para: RpcSender
  readonly #relayCache = new Map<number, RelayBlockInfo>()
  #paraId: number | undefined

  constructor(relay: RpcSender, para: RpcSender) {
    this.#relay = relay
    this.#para = para
  }

  /** Connect to both chains' WebSocket endpoints. */
  static async connect(relayUrl: string, paraUrl: string): Promise<Feeder & { disconnect(): Promise<void> }> {
    const relay = new WsProvider(relayUrl, 1000)
    const para = new WsProvider(paraUrl, 1000)
    await Promise.all([relay.isReady, para.isReady])
    const f = new Feeder(relay, para) as Feeder & { disconnect(): Promise<void> }
    f.disconnect = async () => {
      await Promise.all([relay.disconnect(), para.disconnect()])
    }
    return f
  }

  async paraId(): Promise<number> {
    if (this.#paraId === undefined) {
      const h0 = await this.#para.send<string>('chain_getBlockHash', [0])
      const v = await this.#para.send<string | null>('state_getStorage', [PARACHAIN_ID_KEY, h0])
      this.#paraId = v ? new ScaleReader(v).u32() : 100
    }
    return this.#paraId
  }

  /** The relay block the worker starts from: validationData.relayParentNumber at para #1, minus 1 (prb v2). */
  async relayStart(): Promise<number> {
    const h1 = await this.#para.send<string | null>('chain_getBlockHash', [1])
    if (!h1) return 0
    const v = await this.#para.send<string | null>('state_getStorage', [VALIDATION_DATA_KEY, h1])
    if (!v) return 0
    const r = new ScaleReader(v)
    r.bytes() // parent_head
    return Math.max(0, r.u32() - 1)
  }

  async #relayBlock(n: number): Promise<RelayBlockInfo | undefined> {
    const cached = this.#relayCache.get(n)
    if (cached) return cached
    const hash = await this.#relay.send<string | null>('chain_getBlockHash', [n])
    if (!hash) return undefined
    const b = await this.#relay.send<{ block: { header: HeaderJson }; justifications: Array<[number[] | string, number[] | string]> | null } | null>('chain_getBlock', [hash])
    if (!b) return undefined
    let justification: Uint8Array | null = null
    for (const [engine, data] of b.justifications ?? []) {
      const id = typeof engine === 'string' ? engine : u8aToHex(new Uint8Array(engine))
      if (id === GRANDPA_ENGINE_ID) justification = typeof data === 'string' ? hexToU8a(data) : new Uint8Array(data)
    }
    const info = { number: n, hash, encoded: headerBytes(b.block.header, hash, `relay block ${n}`), justification }
    // Only final blocks are cached (their justification no longer changes).
    this.#relayCache.set(n, info)
    return info
  }

  /** The authority list at a relay block: Grandpa.Authorities (pallet-grandpa v5), else `:grandpa_authorities`. */
  async #authorities(hash: string): Promise<Authority[]> {
    const v5 = await this.#relay.send<string | null>('state_getStorage', [GRANDPA_AUTHORITIES_STORAGE_KEY, hash])
    if (v5) return readAuthorityList(new ScaleReader(v5))
    const legacy = await this.#relay.send<string | null>('state_getStorage', [GRANDPA_AUTHORITIES_KEY, hash])
    if (!legacy) throw new Error(`relay block ${hash} has no GRANDPA authorities (neither Grandpa.Authorities nor :grandpa_authorities)`)
    return decodeGrandpaAuthoritiesValue(legacy)
  }

  async genesis(): Promise<{ relayNumber: number; encodedGenesisInfo: Uint8Array; encodedGenesisState: Uint8Array }> {
    const start = await this.relayStart()
    const hash = await this.#relay.send<string>('chain_getBlockHash', [start])
    const header = await this.#relay.send<HeaderJson>('chain_getHeader', [hash])
    const authorities = await this.#authorities(hash)
    const setIdValue = await this.#relay.send<string | null>('state_getStorage', [GRANDPA_CURRENT_SET_ID_KEY, hash])
    const proof = await this.#relay.send<{ proof: string[] }>('state_getReadProof', [[GRANDPA_AUTHORITIES_STORAGE_KEY, GRANDPA_AUTHORITIES_KEY, GRANDPA_CURRENT_SET_ID_KEY], hash])
    const encodedGenesisInfo = encodeGenesisInfo({
      header: headerBytes(header, hash, `relay block ${start}`),
      authoritySet: { authoritySet: authorities.map((a) => [a.publicKey, a.weight]), setId: setIdValue ? new ScaleReader(setIdValue).u64() : 0n },
      proof: proof.proof,
    })
    const p0 = await this.#para.send<string>('chain_getBlockHash', [0])
    const pairs = await this.#para.send<Array<[string, string]>>('state_getPairs', ['0x', p0])
    return { relayNumber: start, encodedGenesisInfo, encodedGenesisState: encodeStorageState(pairs) }
  }

  /**
   * The next SyncCombinedHeadersReq for a worker whose next relay / para header numbers are given:
   * relay headers up to the first justified finalized block at or after `headernum`, or null.
   */
  async headers(headernum: number, paraHeadernum: number): Promise<{ body: Uint8Array; relayTo: number; paraTo: number } | null> {
    const finalizedHash = await this.#relay.send<string>('chain_getFinalizedHead', [])
    const fin = await this.#relay.send<HeaderJson>('chain_getHeader', [finalizedHash])
    const finalized = Number(fin.number)
    const relay: RelayBlockInfo[] = []
    let justified: RelayBlockInfo | undefined
    for (let n = headernum; n <= finalized; n++) {
      const b = await this.#relayBlock(n)
      if (!b) break
      relay.push(b)
      if (b.justification) {
        justified = b
        break
      }
    }
    if (!justified) return null
    const paraId = await this.paraId()
    const headsKey = parasHeadsKey(paraId)
    const head = await this.#relay.send<string | null>('state_getStorage', [headsKey, justified.hash])
    const paraHeaders: Uint8Array[] = []
    let paraTo = paraHeadernum - 1
    let proof: string[] = []
    if (head) {
      const r = new ScaleReader(head)
      const headBytes = r.bytes()
      const headNumber = new ScaleReader(headBytes.subarray(32)).compact()
      for (let n = paraHeadernum; n <= headNumber; n++) {
        const h = await this.#para.send<string>('chain_getBlockHash', [n])
        paraHeaders.push(headerBytes(await this.#para.send<HeaderJson>('chain_getHeader', [h]), h, `para block ${n}`))
      }
      if (paraHeaders.length > 0) {
        paraTo = headNumber
        proof = (await this.#relay.send<{ proof: string[] }>('state_getReadProof', [[headsKey], justified.hash])).proof
      }
    }
    const body = encodeSyncCombinedHeadersReq({
      relaychainHeaders: relay.map((b, i) => ({ header: b.encoded, justification: i === relay.length - 1 ? b.justification : null })),
      authoritySetChange: await this.#setChange(justified),
      parachainHeaders: paraHeaders,
      proof,
    })
    return { body, relayTo: justified.number, paraTo }
  }

  /** An AuthoritySetChange when the set id rose at this block (as the data provider attaches it). */
  async #setChange(b: RelayBlockInfo): Promise<AuthoritySetChangeInput | null> {
    if (b.number === 0) return null
    const prevHash = await this.#relay.send<string>('chain_getBlockHash', [b.number - 1])
    const [now, before] = await Promise.all([
      this.#relay.send<string | null>('state_getStorage', [GRANDPA_CURRENT_SET_ID_KEY, b.hash]),
      this.#relay.send<string | null>('state_getStorage', [GRANDPA_CURRENT_SET_ID_KEY, prevHash]),
    ])
    const id = now ? new ScaleReader(now).u64() : 0n
    if (id <= (before ? new ScaleReader(before).u64() : 0n)) return null
    const auth = await this.#authorities(b.hash)
    const proof = await this.#relay.send<{ proof: string[] }>('state_getReadProof', [[GRANDPA_AUTHORITIES_STORAGE_KEY, GRANDPA_AUTHORITIES_KEY, GRANDPA_CURRENT_SET_ID_KEY], b.hash])
    return {
      authoritySet: { authoritySet: auth.map((a) => [a.publicKey, a.weight]), setId: id },
      authorityProof: proof.proof,
    }
  }

  /** A dispatch_block body for para blocks [from, to] (to = last synced para header). */
  async blocks(from: number, to: number): Promise<Uint8Array> {
    const out: Uint8Array[] = []
    for (let n = from; n <= to; n++) {
      const h = await this.#para.send<string>('chain_getBlockHash', [n])
      const header = headerBytes(await this.#para.send<HeaderJson>('chain_getHeader', [h]), h, `para block ${n}`)
      const changes = await this.#para.send<string>('pha_getStorageChangesAt', [h])
      out.push(encodeBlockHeaderWithChanges(header, changes))
    }
    return encodeDispatchBlockReq(out)
  }
}

export interface FeedOptions {
  logger: Logger
  /** SCALE AccountId32 of the operator for InitRuntime. */
  operator?: Uint8Array
  /** Para blocks per dispatch_block call (default 20). */
  blocksPerCall?: number
  signal?: AbortSignal
}

/**
 * Bring one worker from (if needed) InitRuntime to the current finalized, justified head. Returns
 * its heights afterwards. Stops early when nothing more is available.
 */
export async function feedWorker(feeder: Feeder, endpoint: string, opts: FeedOptions): Promise<{ headernum: number; paraHeadernum: number; blocknum: number }> {
  const client = new PruntimeClient(endpoint)
  let info = await client.getInfo()
  if (!info.initialized) {
    const g = await feeder.genesis()
    await client.prpc('InitRuntime', 'pruntime_rpc.InitRuntimeRequest', 'pruntime_rpc.InitRuntimeResponse', {
      skipRa: false,
      encodedGenesisInfo: g.encodedGenesisInfo,
      encodedGenesisState: g.encodedGenesisState,
      isParachain: true,
      ...(opts.operator ? { encodedOperator: opts.operator } : {}),
    })
    opts.logger.info({ endpoint, relayStart: g.relayNumber }, 'feeder: worker initialized')
    info = await client.getInfo()
  }
  const per = opts.blocksPerCall ?? 20
  for (;;) {
    opts.signal?.throwIfAborted()
    let progressed = false
    if (info.blocknum < info.paraHeadernum) {
      const to = Math.min(info.paraHeadernum - 1, info.blocknum + per - 1)
      await client.binApi('dispatch_block', await feeder.blocks(info.blocknum, to))
      progressed = true
    } else {
      const h = await feeder.headers(info.headernum, info.paraHeadernum)
      if (h) {
        await client.binApi('sync_combined_headers', h.body)
        progressed = true
      }
    }
    info = await client.getInfo()
    if (!progressed) return { headernum: info.headernum, paraHeadernum: info.paraHeadernum, blocknum: info.blocknum }
  }
}
