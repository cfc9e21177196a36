/**
 * The contract between the devnet's chain engine (blocks, state, trie, GRANDPA, JSON-RPC:
 * `src/devnet/chain/`) and the simulated Phala parachain runtime (metadata, genesis,
 * extrinsics, pallets: `src/devnet/para-runtime/`). All hex strings are lower-case `0x…`.
 */

/** Read access to the state of one block. */
export interface StateView {
  get(key: string): string | undefined
  /** Keys starting with `prefix`, sorted ascending. */
  keysWithPrefix(prefix: string): string[]
}

/** What the engine tells the runtime about the chain around a transaction or a block. */
export interface ChainContext {
  genesisHash: string
  /** Hash of a block of the best chain by number, for mortal-era checks; undefined when unknown. */
  blockHash(number: number): string | undefined
  /** Number of the block whose state is given. */
  bestNumber: number
}

export interface BlockContext extends ChainContext {
  /** Number of the block being built. */
  number: number
  parentHash: string
  timestampMs: number
  /** The relay block this para block is built on (parachainSystem.validationData). */
  relayParent: { number: number; hash: string; storageRoot: string }
  /** SCALE hex of the parent para header (PersistedValidationData.parent_head); '0x' when not given. */
  parentHeader?: string
}

export interface RpcErrorShape {
  code: number
  message: string
  data?: string
}

/** Pool validity of a transaction, as Substrate's tx pool sees it. */
export type TxValidity =
  | {
      ok: true
      hash: string
      /** Tags this tx provides and requires (nonce ordering), as in Substrate's pool. */
      provides: string[]
      requires: string[]
      priority: number
      /** Signer ss58/hex and nonce, for logs and `system_accountNextIndex`. */
      signer: string
      nonce: number
    }
  | { ok: false; error: RpcErrorShape }

export interface ExtrinsicResult {
  /** Index in the block, inherents included. */
  index: number
  hash: string
  success: boolean
}

export interface BuiltBlock {
  /** Encoded extrinsics in block order (inherents first). */
  extrinsics: string[]
  /** Storage writes of the block: value hex, or null to delete. */
  changes: Map<string, string | null>
  /** Results of the transactions the runtime included (subset of those offered, in order). */
  included: ExtrinsicResult[]
  /** Offered transactions the runtime dropped as invalid at inclusion time (stale nonce etc.). */
  dropped: { hash: string; error: RpcErrorShape }[]
  /** Digest items to put into the header, SCALE hex each (e.g. an Aura pre-runtime digest). */
  digest: string[]
}

/** FeeDetails { inclusion_fee: Option<InclusionFee { base_fee, len_fee, adjusted_weight_fee }>, tip }. */
export interface FeeDetails {
  inclusionFee: { baseFee: string; lenFee: string; adjustedWeightFee: string } | null
  tip: string
}

export interface ParaRuntime {
  /** SCALE metadata (magic + V14/V15) served by state_getMetadata and Metadata_metadata. */
  readonly metadataHex: string
  /** The V15 form, served only by Metadata_metadata_at_version(15) (absent: the runtime has none). */
  readonly metadataV15Hex?: string
  /** The object served by state_getRuntimeVersion. */
  readonly runtimeVersion: Record<string, unknown>
  /** The objects served by system_chain / system_name / system_version / system_properties. */
  readonly chainName: string
  readonly properties: Record<string, unknown>
  /** Full genesis storage (block 0 state). */
  genesisStorage(): Map<string, string>
  /** Pool check (signature, nonce, fees, CheckMqSequence); does not change state. */
  validateTransaction(state: StateView, ctx: ChainContext, extrinsicHex: string): TxValidity
  /** Build the next block on `state`: inherents, then the offered transactions in order. */
  buildBlock(state: StateView, ctx: BlockContext, offered: string[]): BuiltBlock
  /** system_accountNextIndex without the pool: the on-chain nonce of `address` (ss58 or hex). */
  accountNonce(state: StateView, address: string): number
  /** payment_queryInfo. */
  queryInfo(state: StateView, extrinsicHex: string): { weight: { refTime: number; proofSize: number }; class: string; partialFee: string }
  /** payment_queryFeeDetails: the fee split as pallet-transaction-payment reports it (plancks, decimal strings); absent = not served. */
  queryFeeDetails?(state: StateView, extrinsicHex: string): FeeDetails
  /** pha_getMqNextSequence for a SCALE-hex MessageOrigin. */
  mqNextSequence(state: StateView, senderHex: string): number
}
