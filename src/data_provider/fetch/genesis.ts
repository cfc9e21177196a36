/**
 * Start-up facts (upstream-data-provider.md §2): the para id, the chain identity (para block #1's
 * hash) and the genesis record `genesis:<paraId>:pb`, computed once and kept.
 *
 *   paraId        ParachainInfo.ParachainId at the latest para block (u32; 100 when unset, the pallet default)
 *   parentNumber  ParachainSystem.ValidationData(at para #1).relayParentNumber − 1
 *   bridge info   GenesisInfo { relay header at parentNumber, { authorities (Grandpa.Authorities, else
 *                 :grandpa_authorities), CurrentSetId }, read proof of all three keys }
 *   state         Vec<(key, value)> of state_getPairs("0x", para block 0)
 */
import type { Logger } from '../../common/logger.js'
import { u8aToHex } from '@polkadot/util'
import { blake2AsU8a } from '@polkadot/util-crypto'
import { readAuthorityList, readHeader, ScaleReader } from '../../common/grandpa.js'
import { encodeGenesisInfo, encodeStorageState } from '../../common/bridge-types.js'
import type { DataProviderStore, GenesisRecord } from '../store.js'
import type { RpcClient } from './hashes.js'
import { readAuthorities } from './relay.js'
import { FetchError, headerBytes, relayParentNumber, STORAGE_KEYS, u64FromStorage, type HeaderJson } from './scale-util.js'

export async function readParaId(para: RpcClient, signal?: AbortSignal): Promise<number> {
  const v = await para.rpc<string | null>('state_getStorage', [STORAGE_KEYS.parachainId], { signal })
  return v ? new ScaleReader(v).u32() : 100
}

/** Para block #1's hash, lowercase 0x hex: the Walkie chain identity. Throws until block 1 exists. */
export async function readChainIdentity(para: RpcClient, signal?: AbortSignal): Promise<string> {
  const h = await para.rpc<string | null>('chain_getBlockHash', [1], { signal })
  if (!h) throw new FetchError('ERR_NO_PARA_BLOCK_1', 'the parachain has no block #1 yet; its hash is the chain identity, waiting for it')
  return h.toLowerCase()
}

export async function computeGenesis(relay: RpcClient, para: RpcClient, paraId: number, log: Logger, signal?: AbortSignal): Promise<GenesisRecord> {
  const h1 = await readChainIdentity(para, signal)
  const vd = await para.rpc<string | null>('state_getStorage', [STORAGE_KEYS.validationData, h1], { signal })
  const rpn = relayParentNumber(vd)
  // Upstream fell back to 0 − 1 = −1 here; a genesis without a relay block cannot be right.
  if (rpn === undefined || rpn < 1) throw new FetchError('ERR_GENESIS', `para block #1 (${h1}) has no ParachainSystem.ValidationData; cannot tell which relay block the parachain starts at`)
  const parentNumber = rpn - 1
  const parentHash = await relay.rpc<string | null>('chain_getBlockHash', [parentNumber], { signal })
  if (!parentHash) throw new FetchError('ERR_GENESIS', `relay block ${parentNumber} is unknown to the relay node`)
  const [headerJson, auth, setIdValue, p0] = await Promise.all([
    relay.rpc<HeaderJson>('chain_getHeader', [parentHash], { signal }),
    readAuthorities(relay, parentHash, `relay block ${parentNumber}`, signal).catch((e: unknown) => {
      throw new FetchError('ERR_GENESIS', String((e as Error)?.message ?? e))
    }),
    relay.rpc<string | null>('state_getStorage', [STORAGE_KEYS.grandpaSetId, parentHash], { signal }),
    para.rpc<string>('chain_getBlockHash', [0], { signal }),
  ])
  const authorities = readAuthorityList(new ScaleReader(auth.list))
  const bridgeGenesisInfo = encodeGenesisInfo({
    header: headerBytes(headerJson, parentHash, `relay block ${parentNumber}`),
    authoritySet: { authoritySet: authorities.map((a) => [a.publicKey, a.weight]), setId: u64FromStorage(setIdValue) },
    proof: auth.proof,
  })
  log.info({ paraId, parentNumber }, 'computing the genesis: reading the para genesis state (state_getPairs)')
  const pairs = await para.rpc<Array<[string, string]>>('state_getPairs', ['0x', p0], { signal, timeoutMs: 600_000 })
  const genesisState = encodeStorageState(pairs)
  return { paraId, paraNumber: 0, parentNumber, bridgeGenesisInfo, genesisState }
}

/** A stored genesis whose relay block is not the relay chain's: the DB belongs to another chain. */
export class WrongChainError extends FetchError {
  override name = 'WrongChainError'
}

/** The stored genesis must name the relay chain's block at its parent number (upstream never checked). */
export async function checkGenesisChain(g: GenesisRecord, relay: RpcClient, dbPath: string, signal?: AbortSignal): Promise<void> {
  const r = new ScaleReader(g.bridgeGenesisInfo)
  readHeader(r)
  const storedHash = u8aToHex(blake2AsU8a(g.bridgeGenesisInfo.subarray(0, r.pos), 256))
  const chainHash = await relay.rpc<string | null>('chain_getBlockHash', [g.parentNumber], { signal })
  if (chainHash && chainHash.toLowerCase() !== storedHash) {
    throw new WrongChainError('ERR_WRONG_CHAIN', `the DB at ${dbPath} was built for another chain: its genesis relay block ${g.parentNumber} is ${storedHash}, the relay node has ${chainHash}; point PHALA_LOCAL_DB_PATH to an empty directory (or to this chain's DB) and restart`)
  }
}

/** The stored genesis, or compute and store it (record + marker in one batch). */
export async function loadOrCreateGenesis(store: DataProviderStore, relay: RpcClient, para: RpcClient, paraId: number, log: Logger, signal?: AbortSignal): Promise<{ genesis: GenesisRecord; created: boolean }> {
  const saved = await store.getGenesis(paraId)
  if (saved) {
    await checkGenesisChain(saved, relay, store.path, signal)
    log.info({ paraId, parentNumber: saved.parentNumber }, 'genesis found in the DB')
    return { genesis: saved, created: false }
  }
  const genesis = await computeGenesis(relay, para, paraId, log, signal)
  await store.putGenesis(genesis)
  log.info({ paraId, parentNumber: genesis.parentNumber, stateBytes: genesis.genesisState.length }, 'genesis computed and stored')
  return { genesis, created: true }
}
