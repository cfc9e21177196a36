/**
 * frame_executive for the devnet: pool validation, block building (initialize, inherents
 * timestamp.set + parachainSystem.setValidationData, signed extrinsics, finalize) and the runtime
 * queries (nonce, fee info, MQ sequence).
 */
import { compactToU8a, u8aConcat, u8aToHex, hexToU8a, bnToU8a, stringToU8a, isHex } from '@polkadot/util'
import { decodeAddress, encodeAddress, blake2AsU8a as blake2 } from '@polkadot/util-crypto'
import type { Call } from '@polkadot/types/interfaces'
import type { BlockContext, BuiltBlock, ChainContext, ExtrinsicResult, FeeDetails, StateView, TxValidity } from '../runtime-api.js'
import { Env, encodeEvents, type Core } from './core.js'
import { makeItems, BLOCK_HASH_COUNT } from './items.js'
import { Overlay } from './storage.js'
import { SS58_PREFIX, MILLISECS_PER_BLOCK } from './metadata.js'
import { checkSigned, parseExtrinsic, TxError, type ParsedXt } from './extrinsic.js'
import { createDispatcher, toDispatchError } from './dispatch.js'
import { callWeight, feeFor, FEE_MODEL, reportedWeight, weightToFee } from './fees.js'
import { incNonce, withdrawFee } from './pallets/balances.js'
import { heartbeatOnFinalize } from './pallets/computation.js'

export const MAX_POV_SIZE = 5 * 1024 * 1024

/** DigestItem::PreRuntime(*b"aura", slot: u64) */
export function auraPreDigest(slot: number): Uint8Array {
  return u8aConcat(new Uint8Array([6]), stringToU8a('aura'), compactToU8a(8), bnToU8a(slot, { bitLength: 64, isLe: true }))
}

function unsignedExtrinsic(call: Call): Uint8Array {
  const body = u8aConcat(new Uint8Array([4]), call.toU8a())
  return u8aConcat(compactToU8a(body.length), body)
}

export function createExecutive(core: Core) {
  const it = makeItems(core)
  const registry = core.meta.registry

  function validateTransaction(state: StateView, ctx: ChainContext, extrinsicHex: string): TxValidity {
    try {
      const xt = parseExtrinsic(core, extrinsicHex)
      const v = checkSigned(core, it, state, { genesisHash: ctx.genesisHash, blockHash: ctx.blockHash, current: ctx.bestNumber + 1 }, xt, false)
      return { ok: true, hash: xt.hash, provides: v.provides, requires: v.requires, priority: v.priority, signer: encodeAddress(xt.signed!.signer, SS58_PREFIX), nonce: v.nonce }
    } catch (e) {
      if (e instanceof TxError) return { ok: false, error: e.rpc }
      throw e
    }
  }

  function applySigned(env: Env, xt: ParsedXt, fee: bigint, index: number): boolean {
    const who = xt.signed!.signer
    env.phase = { ApplyExtrinsic: index }
    incNonce(env, it, who)
    const d = createDispatcher(core, env, it)
    // A call the devnet does not implement fails as Pays::No: the whole fee is refunded, so none is taken.
    const pays = d.supports(xt.call)
    if (!pays) fee = 0n
    else withdrawFee(env, it, who, fee)
    let error: Record<string, unknown> | undefined
    try {
      d.dispatch({ kind: 'signed', who }, xt.call)
    } catch (e) {
      error = toDispatchError(e).resolve(core.indices).error
    }
    env.deposit('TransactionPayment', 'TransactionFeePaid', { who, actualFee: fee, tip: pays ? xt.signed!.tip : 0 })
    const dispatchInfo = { weight: reportedWeight(xt.call), class: 'Normal', paysFee: pays ? 'Yes' : 'No' }
    if (error) env.deposit('System', 'ExtrinsicFailed', { dispatchError: error, dispatchInfo })
    else env.deposit('System', 'ExtrinsicSuccess', { dispatchInfo })
    return !error
  }

  function applyInherent(env: Env, call: Call, index: number): void {
    env.phase = { ApplyExtrinsic: index }
    createDispatcher(core, env, it, {
      'parachainSystem.setValidationData': (dd, origin, a) => {
        if (origin.kind !== 'none') throw new Error('setValidationData needs the None origin')
        const vd = a.data.validationData
        it.validationData.put(dd.env.state, vd)
        it.lastRelayChainBlockNumber.put(dd.env.state, vd.relayParentNumber.toNumber())
      },
    }).dispatch({ kind: 'none' }, call)
    const weight = callWeight(call)
    env.deposit('System', 'ExtrinsicSuccess', { dispatchInfo: { weight: { refTime: weight.refTime, proofSize: weight.proofSize }, class: 'Mandatory', paysFee: 'Yes' } })
  }

  function buildBlock(state: StateView, ctx: BlockContext, offered: string[]): BuiltBlock {
    const overlay = new Overlay(state)
    const env = new Env(core, overlay, ctx.number, ctx.timestampMs)
    // initialize
    const slot = Math.floor(ctx.timestampMs / MILLISECS_PER_BLOCK)
    const preDigest = auraPreDigest(slot)
    it.number.put(overlay, ctx.number)
    it.parentHash.put(overlay, ctx.parentHash)
    it.blockHash.put(overlay, ctx.number - 1, ctx.parentHash)
    overlay.set(it.digest.key, u8aConcat(compactToU8a(1), preDigest))
    it.auraCurrentSlot.put(overlay, slot)
    it.outboundMessages.del(overlay)
    it.validationData.del(overlay)

    const extrinsics: string[] = []
    const ts = registry.createType('Call', { callIndex: [core.indices.Timestamp, 0], args: { now: ctx.timestampMs } })
    const parentHead = ctx.parentHeader ?? '0x'
    const pvd = registry.createType('Call', {
      callIndex: [core.indices.ParachainSystem, 0],
      args: {
        data: {
          validationData: { parentHead, relayParentNumber: ctx.relayParent.number, relayParentStorageRoot: ctx.relayParent.storageRoot, maxPovSize: MAX_POV_SIZE },
          relayChainState: { trieNodes: [] }, downwardMessages: [], horizontalMessages: [],
        },
      },
    })
    for (const call of [ts, pvd]) {
      applyInherent(env, call, extrinsics.length)
      extrinsics.push(u8aToHex(unsignedExtrinsic(call)))
    }

    const included: ExtrinsicResult[] = []
    const dropped: BuiltBlock['dropped'] = []
    for (const hex of offered) {
      let xt: ParsedXt
      let fee: bigint
      try {
        xt = parseExtrinsic(core, hex)
        fee = checkSigned(core, it, overlay, { genesisHash: ctx.genesisHash, blockHash: ctx.blockHash, current: ctx.number }, xt, true).fee
      } catch (e) {
        if (!(e instanceof TxError)) throw e
        // A future nonce / MQ sequence is not invalid: it stays in the pool for a later block.
        if (e.reason !== 'Future') dropped.push({ hash: hashOf(hex), error: e.rpc })
        continue
      }
      const index = extrinsics.length
      const success = applySigned(env, xt, fee, index)
      extrinsics.push(u8aToHex(xt.bytes))
      included.push({ index, hash: xt.hash, success })
    }

    // finalize
    env.phase = { Finalization: null }
    heartbeatOnFinalize(createDispatcher(core, env, it), ctx.parentHash)
    if (env.outbound.length) it.outboundMessages.put(overlay, env.outbound)
    overlay.set(it.events.key, encodeEvents(core, env.events))
    it.eventCount.put(overlay, env.events.length)
    const toRemove = ctx.number - BLOCK_HASH_COUNT - 1
    if (toRemove > 0) it.blockHash.del(overlay, toRemove)
    return { extrinsics, changes: overlay.changes(), included, dropped, digest: [u8aToHex(preDigest)] }
  }

  function accountNonce(state: StateView, address: string): number {
    const who = isHex(address) ? hexToU8a(address) : decodeAddress(address)
    const a = it.account.get(state, who)
    return a ? a.nonce.toNumber() : 0
  }

  function queryInfo(_state: StateView, extrinsicHex: string): { weight: { refTime: number; proofSize: number }; class: string; partialFee: string } {
    const xt = parseExtrinsic(core, extrinsicHex)
    const w = callWeight(xt.call)
    return { weight: w, class: 'normal', partialFee: xt.signed ? feeFor(xt.bytes.length, xt.call).toString() : '0' }
  }

  function queryFeeDetails(_state: StateView, extrinsicHex: string): FeeDetails {
    const xt = parseExtrinsic(core, extrinsicHex)
    // pallet-transaction-payment: an unsigned extrinsic has no inclusion fee.
    if (!xt.signed) return { inclusionFee: null, tip: '0' }
    return {
      inclusionFee: {
        baseFee: weightToFee(FEE_MODEL.baseExtrinsicWeight).toString(),
        lenFee: (FEE_MODEL.byteFee * BigInt(xt.bytes.length)).toString(),
        adjustedWeightFee: weightToFee(callWeight(xt.call)).toString(),
      },
      tip: xt.signed.tip.toString(),
    }
  }

  function mqNextSequence(state: StateView, senderHex: string): number {
    const hex = senderHex.startsWith('0x') ? senderHex : `0x${senderHex}`
    const origin = core.codec.decode(core.meta.ids.messageOrigin, hex)
    const v = it.offchainIngress.get(state, origin.toU8a())
    return v ? Number(v.toBigInt()) : 0
  }

  return { validateTransaction, buildBlock, accountNonce, queryInfo, queryFeeDetails, mqNextSequence }
}

function hashOf(hex: string): string {
  try {
    return u8aToHex(blake2(hexToU8a(hex)))
  } catch {
    return '0x'
  }
}
