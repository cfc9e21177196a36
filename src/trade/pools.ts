/**
 * The pools the trader signs for, from the lifecycle (upstream read the lifecycle's SQLite; prb's
 * lifecycle store is held by one process, so the trader asks it over Walkie: `ListPool`, role
 * WR_LIFECYCLE_MANAGER). Operators arrive as upstream's EncPb hex in `owner.polkadotJson` and are
 * decrypted with the LIFECYCLE identity key (upstream A.7). Cached; an unknown pid refreshes the list.
 */
import { access } from 'node:fs/promises'
import type { KeyObject } from 'node:crypto'
import type { KeyringPair } from '@polkadot/keyring/types'
import { decodeAddress } from '@polkadot/util-crypto'
import { hexToU8a, isHex } from '@polkadot/util'
import { decryptOperatorPair } from '../common/operator-key.js'
import type { Logger } from '../common/logger.js'
import { keyFilePath, loadOrCreateIdentity, type Walkie } from '../walkie/index.js'
import { TradeError } from './errors.js'

/** A pool as `ListPool` answers it (prb.db.Pool, decoded). */
export interface PoolRecord {
  pid: number | string
  name?: string
  owner?: { polkadotJson?: string } | null
  realPhalaSs58?: string
  enabled?: boolean
  deleted?: boolean
}

/** Where pools come from: the lifecycle over Walkie, or the lifecycle itself when the trader is built in. */
export interface PoolSource {
  listPools(): Promise<PoolRecord[]>
}

export interface TradePool {
  pid: string
  name: string
  /** The operator's signing pair. */
  operator: KeyringPair
  /** Proxied pools: the real account (pool owner) the operator acts for. */
  real?: string
}

export interface PoolDirectory {
  /** The pool of `pid`; refreshes the list once when it is not known (throws TradeError). */
  get(pid: string): Promise<TradePool>
  /** Drop the cache (the next get() asks the lifecycle). */
  invalidate(): void
}

/** The LIFECYCLE RSA key; a missing file is an error, never a new key (upstream made one silently). */
export async function loadLifecycleKey(peerIdPrefix: string): Promise<KeyObject> {
  const file = keyFilePath(peerIdPrefix, 'LIFECYCLE')
  try {
    await access(file)
  } catch {
    throw new TradeError('ERR_TRADE_NO_LIFECYCLE_KEY', `the lifecycle identity key ${file} does not exist; the trader decrypts pool operators with the lifecycle's key: mount the lifecycle's key directory and set PHALA_PEER_ID_PREFIX to it`)
  }
  const id = await loadOrCreateIdentity(file)
  if (!id.rsa) throw new TradeError('ERR_TRADE_NO_LIFECYCLE_KEY', `the lifecycle identity key ${file} is not an RSA key; operators are encrypted with the lifecycle's RSA key: use the lifecycle's own key file`)
  return id.rsa.privateKey
}

/** ListPool through Walkie, from any live lifecycle peer. */
export function walkiePoolSource(walkie: Walkie, opts: { timeoutMs?: number; peerWaitMs?: number } = {}): PoolSource {
  return {
    async listPools() {
      // A trader (re)started before it has met the lifecycle, or while the lifecycle restarts, waits
      // for it instead of failing the jobs it holds (a failed job is sent again by the lifecycle in
      // another batch, so a call the killed trader had already submitted landed twice).
      await walkie.waitForPeer('WR_LIFECYCLE_MANAGER', { timeoutMs: opts.peerWaitMs ?? 60_000 })
      const { response } = await walkie.callRole('WR_LIFECYCLE_MANAGER', 'ListPool', {}, { timeoutMs: opts.timeoutMs ?? 15_000 })
      return ((response as { pools?: PoolRecord[] }).pools ?? [])
    },
  }
}

export function createPoolDirectory(o: { minRefreshMs?: number }, deps: { source: PoolSource; lifecycleKey: () => Promise<KeyObject>; logger: Logger }): PoolDirectory {
  const cache = new Map<string, TradePool | TradeError>()
  let loading: Promise<void> | undefined
  let loadedAt = 0
  const minRefreshMs = o.minRefreshMs ?? 2000

  const decrypt = async (p: PoolRecord, key: KeyObject): Promise<TradePool | TradeError> => {
    const pid = String(p.pid)
    if (p.deleted) return new TradeError('ERR_TRADE_POOL_DELETED', `pool ${pid} is deleted in the lifecycle; its jobs cannot be signed`)
    // The lifecycle sends the EncPb as hex without 0x (as upstream stored it); accept both.
    const raw = p.owner?.polkadotJson ?? ''
    const hex = raw === '' || raw.startsWith('0x') ? raw : `0x${raw}`
    if (!isHex(hex) || hex.length < 4) return new TradeError('ERR_TRADE_NO_OPERATOR', `pool ${pid} has no operator key in the lifecycle; set its owner (UpdatePool) there`)
    try {
      const operator = await decryptOperatorPair(hexToU8a(hex), key)
      const real = p.realPhalaSs58?.trim() || undefined
      if (real) decodeAddress(real)
      return { pid, name: p.name ?? pid, operator, ...(real ? { real } : {}) }
    } catch (e) {
      return new TradeError('ERR_TRADE_OPERATOR', `pool ${pid}: ${(e as Error).message}`, { cause: e })
    }
  }

  const load = (): Promise<void> => {
    loading ??= (async () => {
      try {
        const key = await deps.lifecycleKey()
        const pools = await deps.source.listPools()
        cache.clear()
        for (const p of pools) cache.set(String(p.pid), await decrypt(p, key))
        loadedAt = Date.now()
        deps.logger.info({ pools: [...cache.keys()] }, `pool list loaded: ${cache.size} pool(s)`)
      } finally {
        loading = undefined
      }
    })()
    return loading
  }

  return {
    async get(pid) {
      let hit = cache.get(pid)
      if (!hit || hit instanceof TradeError) {
        // At most one ListPool per minRefreshMs, however many jobs name an unknown pool.
        const wait = loadedAt + minRefreshMs - Date.now()
        if (!loading && loadedAt > 0 && wait > 0) await new Promise((r) => setTimeout(r, wait))
        await load()
        hit = cache.get(pid)
      }
      if (!hit) throw new TradeError('ERR_TRADE_UNKNOWN_POOL', `pool ${pid} is not known to the lifecycle (ListPool); create it there (CreatePool) before its jobs are sent`)
      if (hit instanceof TradeError) throw hit
      return hit
    },
    invalidate() {
      cache.clear()
      loadedAt = 0
    },
  }
}
