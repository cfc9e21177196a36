/**
 * Genesis storage of the devnet parachain: frame_system's own entries, funded dev accounts, the para
 * id, Aura authority, fee multiplier, the registry allow lists, tokenomic parameters and stake pools
 * owned by //Alice with free stake (W-PHA in the pool account).
 */
import { u8aToHex, stringToU8a, hexToU8a, u8aConcat, compactToU8a } from '@polkadot/util'
import { DEVNET_MRENCLAVE } from '../attestation.js'
import { DEV_NAMES, type Core } from './core.js'
import { makeItems } from './items.js'
import { MapState, Overlay, valueKey } from './storage.js'
import { SPEC_VERSION } from './metadata.js'
import { defaultTokenomicParameters, lockAccount, ownerRewardAccount, poolAccount } from './accounts.js'

/** frame_system writes hash69 ([69u8; 32]) as BlockHash[0] and ParentHash at genesis. */
export const HASH69 = '0x' + '45'.repeat(32)
export const IS_NEW_LOGIC = 1n << 127n
export const FEE_MULTIPLIER_ONE = 10n ** 18n
export const COOL_DOWN_PERIOD_SECS = 7 * 24 * 3600

export function accountInfo(free: bigint, nonce = 0, providers = 1): Record<string, unknown> {
  return { nonce, consumers: 0, providers, sufficients: 0, data: { free, reserved: 0, frozen: 0, flags: IS_NEW_LOGIC } }
}

export function buildGenesis(core: Core): Map<string, string> {
  const { opts } = core
  const it = makeItems(core)
  const base = new MapState()
  const s = new Overlay(base)

  // Well-known keys: a marker in place of the wasm (nothing executes it) and the extrinsic index.
  s.set(u8aToHex(stringToU8a(':code')), u8aToHex(stringToU8a(`prb devnet ${opts.identity.para.specName} runtime ${SPEC_VERSION} ${opts.seed}`)))
  s.set(u8aToHex(stringToU8a(':extrinsic_index')), '0x00000000')

  let issuance = 0n
  const endow = (who: Uint8Array, amount: bigint): void => {
    it.account.put(s, who, accountInfo(amount))
    issuance += amount
  }
  for (const n of DEV_NAMES) endow(core.dev[n].publicKey, opts.endowment)
  for (const hex of opts.extraEndowed) endow(hexToU8a(hex), opts.endowment)
  it.totalIssuance.put(s, issuance)

  it.blockHash.put(s, 0, HASH69)
  it.parentHash.put(s, HASH69)
  it.upgradedToU32RefCount.put(s, true)
  it.upgradedToTripleRefCount.put(s, true)
  // LastRuntimeUpgradeInfo { spec_version: Compact<u32>, spec_name: String }
  const specName = opts.identity.para.specName
  s.set(valueKey('System', 'LastRuntimeUpgrade'), u8aConcat(compactToU8a(SPEC_VERSION), compactToU8a(specName.length), stringToU8a(specName)))

  it.parachainId.put(s, opts.paraId)
  it.auraAuthorities.put(s, [core.dev.Alice.publicKey])
  it.nextFeeMultiplier.put(s, FEE_MULTIPLIER_ONE)
  if (opts.genesisTimeMs > 0) it.timestampNow.put(s, opts.genesisTimeMs)

  it.pruntimeAllowList.put(s, [u8aToHex(DEVNET_MRENCLAVE), ...opts.pruntimeAllowList])
  if (opts.relayGenesisHash) it.relayGenesisAllowList.put(s, [opts.relayGenesisHash])
  it.benchmarkDuration.put(s, opts.benchmarkDuration)
  it.tokenomicParameters.put(s, { ...defaultTokenomicParameters(), heartbeatWindow: opts.heartbeatWindow })
  it.coolDownPeriod.put(s, opts.coolDownPeriodSecs)

  const alice = core.dev.Alice.publicKey
  for (let pid = 0; pid < opts.pools; pid++) {
    const pool = poolAccount(pid)
    it.pools.put(s, pid, {
      StakePool: {
        basepool: {
          pid, owner: alice, totalShares: opts.poolFreeStake, totalValue: opts.poolFreeStake,
          withdrawQueue: [], valueSubscribers: [], cid: pid, poolAccountId: pool,
        },
        payoutCommission: null, cap: null, workers: [], cdWorkers: [],
        lockAccount: lockAccount(pid), ownerRewardAccount: ownerRewardAccount(pid),
      },
    })
    it.assetAccount.put(s, pool, { balance: opts.poolFreeStake, status: 'Liquid', reason: 'Sufficient', extra: null })
  }
  it.poolCount.put(s, opts.pools)

  const out = new Map<string, string>()
  for (const [k, v] of s.changes()) if (v !== null) out.set(k, v)
  return out
}
