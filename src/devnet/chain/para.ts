/**
 * The parachain: blocks built by the ParaRuntime on a relay parent, its tx pool, finality that
 * follows the relay (a para block is final once the relay block holding its head is final), and
 * the para-only RPC methods (author_*, system_accountNextIndex, payment_queryInfo, pha_*).
 */
import { compactToU8a, hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util'
import type { BlockContext, ChainContext, ParaRuntime, StateView } from '../runtime-api.js'
import { u64Le } from '../../common/grandpa.js'
import { type BlockRecord, ChainStore } from './chain.js'
import { type ChainInfo, hexParam } from './methods.js'
import { TxPool } from './pool.js'
import { DEVNET_NODE_SUFFIX } from '../identity.js'
import { encodeFeeDetails, encodeValidity, u128Le } from './runtime-codec.js'
import { RpcError } from './rpc-error.js'
import type { MethodTable } from './rpc-server.js'

export class ParaChain {
  readonly chain = new ChainStore('para')
  readonly runtime: ParaRuntime
  readonly pool: TxPool
  readonly info: ChainInfo
  /** Relay block number that included each para block's head (index = para number). */
  readonly #includedAt: number[] = []
  /** The transactions (not inherents) of the best block, for a fork that retracts it. */
  #userTxs: string[] = []
  #forks = 0

  private constructor(runtime: ParaRuntime) {
    this.runtime = runtime
    this.pool = new TxPool({ runtime, best: () => ({ state: this.stateAt(this.chain.best.number), ctx: this.context() }) })
    this.info = {
      chain: this.chain,
      metadataHex: runtime.metadataHex,
      ...(runtime.metadataV15Hex ? { metadataV15Hex: runtime.metadataV15Hex } : {}),
      runtimeVersion: runtime.runtimeVersion,
      systemChain: runtime.chainName,
      systemName: `Phala Collator (${DEVNET_NODE_SUFFIX})`,
      systemVersion: `0.1.0-${DEVNET_NODE_SUFFIX}`,
      properties: runtime.properties,
      stateCall: (method, data, block) => this.#stateCall(method, data, block),
    }
  }

  static async create(runtime: ParaRuntime, genesisTimeMs: number): Promise<ParaChain> {
    const p = new ParaChain(runtime)
    await p.chain.append({ extrinsics: [], changes: runtime.genesisStorage(), digest: [], timestampMs: genesisTimeMs })
    p.#includedAt[0] = 0
    p.chain.finalize(0)
    return p
  }

  stateAt(n: number): StateView {
    return this.chain.state.view(n)
  }

  context(): ChainContext {
    return {
      genesisHash: this.chain.genesisHash,
      blockHash: (n) => this.chain.byNumber(n)?.hash,
      bestNumber: this.chain.best.number,
    }
  }

  /** Build the next para block on `relayParent` with the pool's ready transactions. */
  async produce(relayParent: BlockContext['relayParent'], timestampMs: number, fork?: { mark: number }): Promise<BlockRecord> {
    const parent = this.chain.best
    const ctx: BlockContext = { ...this.context(), number: parent.number + 1, parentHash: parent.hash, timestampMs, relayParent }
    const built = this.runtime.buildBlock(this.stateAt(parent.number), ctx, this.pool.readyForBlock())
    // A sibling carries a DigestItem::Other naming the fork, so it differs from the block it replaces.
    const digest = fork ? [...built.digest, u8aToHex(u8aConcat(new Uint8Array([0]), compactToU8a(12), stringToU8a('prb-fork'), u64Le(fork.mark).subarray(0, 4)))] : built.digest
    const rec = await this.chain.append({ extrinsics: built.extrinsics, changes: built.changes, digest, timestampMs })
    this.pool.onBlock(rec.number, rec.hash, built.included, built.dropped)
    this.#userTxs = built.included.map((r) => rec.extrinsics[r.index]!)
    return rec
  }

  /**
   * A fork: the best (not yet final) block is replaced by a sibling built on the same relay parent;
   * its transactions go back to the pool (watchers see `retracted`) and from there into the sibling,
   * i.e. they move to another block of the same height.
   */
  async reorgBest(relayParent: BlockContext['relayParent'], timestampMs: number): Promise<BlockRecord> {
    const txs = this.#userTxs
    const old = this.chain.retractBest()
    this.pool.onRetracted(old.number, old.hash, txs)
    this.#forks++
    return this.produce(relayParent, timestampMs, { mark: this.#forks })
  }

  /** The relay block `relayNumber` holds the head of para block `paraNumber`. */
  included(paraNumber: number, relayNumber: number): void {
    this.#includedAt[paraNumber] = relayNumber
  }

  /** The relay finalized `relayNumber`: finalize every para block whose head it (or an earlier block) holds. */
  onRelayFinalized(relayNumber: number): void {
    let n = this.chain.finalizedNumber
    while (n + 1 < this.#includedAt.length && this.#includedAt[n + 1]! <= relayNumber) n++
    if (n > this.chain.finalizedNumber) {
      this.chain.finalize(n)
      this.pool.onFinalized(n, (k) => this.chain.byNumber(k)!.hash)
    }
  }

  #stateCall(method: string, data: string, block: BlockRecord): string | undefined {
    if (method === 'TransactionPaymentApi_query_info') {
      // (uxt: Extrinsic, len: u32): the extrinsic is self-describing, drop the trailing u32.
      const xt = '0x' + data.slice(2, -8)
      const qi = this.runtime.queryInfo(this.stateAt(block.number), xt)
      return u8aToHex(u8aConcat(compactToU8a(qi.weight.refTime), compactToU8a(qi.weight.proofSize),
        new Uint8Array([qi.class === 'Operational' ? 1 : qi.class === 'Mandatory' ? 2 : 0]), u128Le(BigInt(qi.partialFee))))
    }
    if (method === 'AccountNonceApi_account_nonce') {
      return u8aToHex(new Uint8Array(new Uint32Array([this.runtime.accountNonce(this.stateAt(block.number), data)]).buffer))
    }
    if (method === 'TransactionPaymentApi_query_fee_details' && this.runtime.queryFeeDetails) {
      return encodeFeeDetails(this.runtime.queryFeeDetails(this.stateAt(block.number), '0x' + data.slice(2, -8)))
    }
    if (method === 'TaggedTransactionQueue_validate_transaction') {
      // (source: TransactionSource, tx: Extrinsic, block_hash: H256): validated on that block's state.
      const xt = '0x' + data.slice(4, -64)
      const ctx = { ...this.context(), bestNumber: block.number }
      return encodeValidity(this.runtime.validateTransaction(this.stateAt(block.number), ctx, xt))
    }
    return undefined
  }

  addMethods(table: MethodTable): void {
    const c = table.calls
    c.set('author_submitExtrinsic', (p) => this.pool.submit(hexParam(p, 0, 'extrinsic')).hash)
    // Substrate lists the ready queue only (a future transaction is not pending yet).
    c.set('author_pendingExtrinsics', () => this.pool.pending().filter((t) => t.status === 'ready').map((t) => t.hex))
    const nextIndex = (p: unknown[]): number => {
      if (typeof p[0] !== 'string') throw RpcError.invalidParams('account address expected')
      let onChain: number
      try {
        onChain = this.runtime.accountNonce(this.stateAt(this.chain.best.number), p[0])
      } catch (e) {
        throw RpcError.invalidParams(`invalid account ${JSON.stringify(p[0])}: ${String((e as Error)?.message ?? e)}`)
      }
      return this.pool.nextIndex(p[0], onChain)
    }
    c.set('system_accountNextIndex', nextIndex)
    c.set('account_nextIndex', nextIndex)
    c.set('payment_queryInfo', (p) => {
      const xt = hexParam(p, 0, 'extrinsic')
      const b = this.chain.at(p[1])
      let qi: ReturnType<ParaRuntime['queryInfo']>
      try {
        qi = this.runtime.queryInfo(this.stateAt(b.number), xt)
      } catch (e) {
        // pallet-transaction-payment RPC: Error::DecodeError.
        throw new RpcError(1, 'Unable to query dispatch info.', String((e as Error)?.message ?? e))
      }
      // RuntimeDispatchInfo as the node serialises it: Weight's fields are snake_case.
      return { weight: { ref_time: qi.weight.refTime, proof_size: qi.weight.proofSize }, class: qi.class.toLowerCase(), partialFee: qi.partialFee }
    })
    c.set('payment_queryFeeDetails', (p) => {
      const xt = hexParam(p, 0, 'extrinsic')
      const b = this.chain.at(p[1])
      if (!this.runtime.queryFeeDetails) throw new RpcError(-32601, 'Method not found')
      let fd: ReturnType<NonNullable<ParaRuntime['queryFeeDetails']>>
      try {
        fd = this.runtime.queryFeeDetails(this.stateAt(b.number), xt)
      } catch (e) {
        throw new RpcError(1, 'Unable to query fee details.', String((e as Error)?.message ?? e))
      }
      // FeeDetails<NumberOrHex>: balances as hex; the tip is not serialised.
      const hex = (v: string): string => '0x' + BigInt(v).toString(16)
      return { inclusionFee: fd.inclusionFee ? { baseFee: hex(fd.inclusionFee.baseFee), lenFee: hex(fd.inclusionFee.lenFee), adjustedWeightFee: hex(fd.inclusionFee.adjustedWeightFee) } : null }
    })
    table.subs.set('author_submitAndWatchExtrinsic', {
      notification: 'author_extrinsicUpdate',
      unsubscribe: ['author_unwatchExtrinsic'],
      subscribe: (p, sink) => this.pool.watch(this.pool.submit(hexParam(p, 0, 'extrinsic')), sink),
    })

    // Phala node extensions (chain.md §4.1); errors use the node's code 10000.
    c.set('pha_getStorageChangesAt', (p) => {
      const b = this.#block(p[0])
      return u8aToHex(encodeStorageChanges(b.number === 0 ? this.chain.state.entries(0) : b.changes))
    })
    c.set('pha_getStorageChanges', (p) => {
      const from = this.#block(p[0])
      const to = this.#block(p[1])
      if (to.number < from.number) throw new RpcError(10000, `Cannot resolve a block range ['${p[0]}' ... '${p[1]}].`)
      if (to.number - from.number > 10000) throw new RpcError(10000, 'Resource limited, Too large number of blocks.')
      const out: object[] = []
      for (let n = from.number; n <= to.number; n++) {
        const changes = n === 0 ? this.chain.state.entries(0) : this.chain.byNumber(n)!.changes
        out.push({ mainStorageChanges: changes, childStorageChanges: [] })
      }
      return out
    })
    c.set('pha_getMqNextSequence', (p) => {
      if (typeof p[0] !== 'string' || !/^(0x)?([0-9a-fA-F]{2})+$/.test(p[0])) throw new RpcError(10000, 'invalid sender')
      const sender = p[0].startsWith('0x') ? p[0].toLowerCase() : '0x' + p[0].toLowerCase()
      let seq = this.runtime.mqNextSequence(this.stateAt(this.chain.best.number), sender)
      while (this.pool.readyProvides(mqTag(sender, seq))) seq++
      return seq
    })
  }

  #block(hash: unknown): BlockRecord {
    if (typeof hash !== 'string') throw new RpcError(10000, `Error occurred while processing the block ${String(hash)}: header not found.`)
    const b = this.chain.byHash(hash)
    if (!b) throw new RpcError(10000, `Error occurred while processing the block ${hash}: header not found.`)
    return b
  }
}


/** Pool tag of an MQ message: SCALE(("PhalaMqOffchainMessages", sender, seq)). */
export function mqTag(senderHex: string, seq: number): string {
  const label = stringToU8a('PhalaMqOffchainMessages')
  return u8aToHex(u8aConcat(compactToU8a(label.length), label, hexToU8a(senderHex), u64Le(seq)))
}

/** SCALE StorageChanges { main: Vec<(Vec<u8>, Option<Vec<u8>>)>, child: Vec<...> (empty) }. */
export function encodeStorageChanges(changes: readonly (readonly [string, string | null])[]): Uint8Array {
  const parts: Uint8Array[] = [compactToU8a(changes.length)]
  for (const [k, v] of changes) {
    const kb = hexToU8a(k)
    parts.push(compactToU8a(kb.length), kb)
    if (v === null) parts.push(new Uint8Array([0]))
    else {
      const vb = hexToU8a(v)
      parts.push(new Uint8Array([1]), compactToU8a(vb.length), vb)
    }
  }
  parts.push(compactToU8a(0))
  return u8aConcat(...parts)
}
