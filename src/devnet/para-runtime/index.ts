/**
 * The simulated Khala parachain runtime behind `src/devnet/runtime-api.ts`: metadata, genesis,
 * transaction validity, block building (inherents + calls) and the runtime queries the node serves.
 */
import { cryptoWaitReady } from '@polkadot/util-crypto'
import type { ParaRuntime } from '../runtime-api.js'
import { createCore, type ParaRuntimeOptions } from './core.js'
import { buildGenesis } from './genesis.js'
import { runtimeVersion, SS58_PREFIX, USER_EXTENSIONS } from './metadata.js'
import { createExecutive } from './executive.js'

export type { ParaRuntimeOptions } from './core.js'
export { USER_EXTENSIONS, SPEC_VERSION, TRANSACTION_VERSION, SS58_PREFIX } from './metadata.js'
export { poolSubAccount, poolAccount, lockAccount, benchScore, minimumStake } from './accounts.js'
export { WPHA_ASSET_ID } from './items.js'
export { feeFor, FEE_MODEL } from './fees.js'

export interface DevnetParaRuntime extends ParaRuntime {
  /** The registry decorated with this metadata (tests, tools); do not mutate. */
  readonly registry: import('@polkadot/types').TypeRegistry
}

/** Needs sr25519 ready: `await cryptoWaitReady()` first, or use createParaRuntimeAsync. */
export function createParaRuntime(options?: ParaRuntimeOptions): DevnetParaRuntime {
  const core = createCore(options)
  const exec = createExecutive(core)
  const version = runtimeVersion(core.opts.identity)
  return {
    metadataHex: core.meta.v14Hex,
    metadataV15Hex: core.meta.hex,
    runtimeVersion: { ...version },
    chainName: core.opts.chainName,
    properties: { ss58Format: SS58_PREFIX, tokenDecimals: 12, tokenSymbol: 'PHA' },
    queryFeeDetails: exec.queryFeeDetails,
    registry: core.meta.registry,
    genesisStorage: () => buildGenesis(core),
    validateTransaction: exec.validateTransaction,
    buildBlock: exec.buildBlock,
    accountNonce: exec.accountNonce,
    queryInfo: exec.queryInfo,
    mqNextSequence: exec.mqNextSequence,
  }
}

export async function createParaRuntimeAsync(options?: ParaRuntimeOptions): Promise<DevnetParaRuntime> {
  await cryptoWaitReady()
  return createParaRuntime(options)
}

/** Client-side extension config for unmodified @polkadot/api against this runtime. */
export const apiOptions = { signedExtensions: USER_EXTENSIONS }
