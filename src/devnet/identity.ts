/**
 * The two chain identities the devnet can be (chain.md §1): Phala under a Polkadot-like relay, or
 * Khala under a Kusama-like relay. Names, para id, pallet indices, versions and the relay's token
 * agree within each, so a client that picks its types by `system_chain` or by spec name sees one
 * consistent chain.
 */
export type ChainName = 'phala' | 'khala'

export const CHAIN_NAMES: readonly ChainName[] = ['phala', 'khala']

/** Pallet indices that differ between the two runtimes (chain.md §1.2); the rest are shared. */
export interface PhalaIndices {
  PhalaStakePoolv2: number
  PhalaBasePool: number
  Assets: number
}

export interface ChainIdentity {
  chain: ChainName
  para: {
    /** system_chain */
    name: string
    specName: string
    transactionVersion: number
    paraId: number
    indices: PhalaIndices
    /** PhalaComputation's CheckWorkerRegisterTime: only workers registered after the gatekeeper launched may bind (Phala). */
    checkWorkerRegisterTime: boolean
  }
  relay: {
    name: string
    ss58Format: number
    tokenSymbol: string
    tokenDecimals: number
  }
}

export const IDENTITIES: Record<ChainName, ChainIdentity> = {
  phala: {
    chain: 'phala',
    para: { name: 'Phala', specName: 'phala', transactionVersion: 5, paraId: 2035, indices: { PhalaStakePoolv2: 89, PhalaBasePool: 92, Assets: 42 }, checkWorkerRegisterTime: true },
    relay: { name: 'Polkadot', ss58Format: 0, tokenSymbol: 'DOT', tokenDecimals: 10 },
  },
  khala: {
    chain: 'khala',
    para: { name: 'Khala', specName: 'khala', transactionVersion: 6, paraId: 2004, indices: { PhalaStakePoolv2: 93, PhalaBasePool: 96, Assets: 89 }, checkWorkerRegisterTime: false },
    relay: { name: 'Kusama', ss58Format: 2, tokenSymbol: 'KSM', tokenDecimals: 12 },
  },
}

export const DEFAULT_CHAIN: ChainName = 'phala'

export function identityOf(chain: ChainName | undefined): ChainIdentity {
  const id = IDENTITIES[chain ?? DEFAULT_CHAIN]
  if (!id) throw new Error(`devnet chain ${JSON.stringify(chain)} is unknown; use phala or khala (PHALA_DEVNET_CHAIN)`)
  return id
}

/** Shown by system_name / system_version on both chains: a client can tell it is talking to a devnet. */
export const DEVNET_NODE_SUFFIX = 'prb-devnet'
