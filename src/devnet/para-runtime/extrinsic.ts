/**
 * Extrinsic v4 decoding and the checks of Khala's signed extensions (chain.md §8), in Substrate's
 * order: additional-signed data (era birth hash, metadata hash), signature, then each extension's
 * validity (non-zero sender, nonce, MQ sequence, fee payment).
 */
import { blake2AsU8a, sr25519Verify, ed25519Verify } from '@polkadot/util-crypto'
import { isReady as wasmReady, sr25519Verify as wasmSr25519Verify } from '@polkadot/wasm-crypto'
import { compactFromU8a, compactToU8a, u8aConcat, u8aToHex, hexToU8a, bnToU8a, stringToU8a, isHex } from '@polkadot/util'
import type { Call } from '@polkadot/types/interfaces'
import type { Core } from './core.js'
import { SPEC_VERSION, EXISTENTIAL_DEPOSIT } from './metadata.js'
import { BLOCK_HASH_COUNT, type Items } from './items.js'
import { feeFor } from './fees.js'
import type { RpcErrorShape, StateView } from '../runtime-api.js'

export interface Era { period: number; phase: number }

export interface SignedPart {
  signer: Uint8Array
  sigType: number
  signature: Uint8Array
  era: Era | null
  eraBytes: Uint8Array
  nonce: number
  tip: bigint
  mode: number
}

export interface ParsedXt {
  /** The extrinsic bytes including the compact length prefix. */
  bytes: Uint8Array
  hash: string
  signed?: SignedPart
  callBytes: Uint8Array
  call: Call
}

export type InvalidReason = 'Stale' | 'Future' | 'BadProof' | 'Payment' | 'AncientBirthBlock' | 'ExhaustsResources' | 'Call' | 'BadSigner'
const INVALID_TEXT: Record<InvalidReason, string> = {
  Stale: 'Transaction is outdated',
  Future: 'Transaction will be valid in the future',
  BadProof: 'Transaction has a bad signature',
  Payment: 'Inability to pay some fees (e.g. account balance too low)',
  AncientBirthBlock: 'Transaction has an ancient birth block',
  ExhaustsResources: 'Transaction would exhaust the block limits',
  Call: 'Transaction call is not expected',
  BadSigner: 'Invalid signing address',
}

export class TxError extends Error {
  constructor(readonly rpc: RpcErrorShape, readonly reason: string) {
    super(`${rpc.code}: ${rpc.message}${rpc.data ? `: ${rpc.data}` : ''}`)
  }
}
export const invalid = (r: InvalidReason): TxError => new TxError({ code: 1010, message: 'Invalid Transaction', data: INVALID_TEXT[r] }, r)
export const unknown = (r: 'CannotLookup' | 'NoUnsignedValidator'): TxError => new TxError({ code: 1011, message: 'Unknown Transaction Validity', data: r }, r)
export const badFormat = (why: string): TxError => new TxError({ code: 1001, message: `Extrinsic has invalid format: ${why}` }, 'BadFormat')

export function decodeEra(b: Uint8Array, at: number): { era: Era | null; len: number } {
  if (b[at] === 0) return { era: null, len: 1 }
  if (at + 2 > b.length) throw badFormat('Era: not enough data')
  const encoded = b[at] + (b[at + 1] << 8)
  const period = 2 << (encoded % (1 << 4))
  const quantizeFactor = Math.max(period >> 12, 1)
  const phase = (encoded >> 4) * quantizeFactor
  if (period < 4 || phase >= period) throw badFormat('Invalid period and phase')
  return { era: { period, phase }, len: 2 }
}

export function eraBirth(era: Era, current: number): number {
  return Math.floor((Math.max(current, era.phase) - era.phase) / era.period) * era.period + era.phase
}

export function parseExtrinsic(core: Core, hex: string): ParsedXt {
  if (!isHex(hex)) throw badFormat('not hex')
  const bytes = hexToU8a(hex)
  let off: number, len: bigint | number
  try {
    const [o, l] = compactFromU8a(bytes)
    off = o
    len = l.toNumber()
  } catch {
    throw badFormat('Could not decode compact length')
  }
  if (off + len !== bytes.length) throw badFormat(`length prefix ${len} does not match ${bytes.length - off} bytes`)
  const version = bytes[off++]
  if ((version & 0x7f) !== 4) throw badFormat(`Invalid transaction version ${version & 0x7f}`)
  let signed: SignedPart | undefined
  if (version & 0x80) {
    // MultiAddress::Id (0) or Address32 (3); the devnet has no account indices, so others cannot be looked up.
    if (bytes[off] !== 0 && bytes[off] !== 3) throw unknown('CannotLookup')
    const signer = bytes.slice(off + 1, off + 33)
    off += 33
    const sigType = bytes[off++]
    const sigLen = sigType === 2 ? 65 : 64
    if (sigType > 2) throw badFormat('invalid MultiSignature variant')
    const signature = bytes.slice(off, off + sigLen)
    off += sigLen
    const { era, len: eraLen } = decodeEra(bytes, off)
    const eraBytes = bytes.slice(off, off + eraLen)
    off += eraLen
    const [nLen, nonce] = compactFromU8a(bytes.subarray(off))
    off += nLen
    const [tLen, tip] = compactFromU8a(bytes.subarray(off))
    off += tLen
    const mode = bytes[off++]
    if (mode > 1) throw badFormat('invalid CheckMetadataHash mode')
    if (off > bytes.length || signer.length !== 32) throw badFormat('truncated signature part')
    signed = { signer, sigType, signature, era, eraBytes, nonce: nonce.toNumber(), tip: BigInt(tip.toString()), mode }
  }
  const callBytes = bytes.slice(off)
  let call: Call
  try {
    call = core.meta.registry.createType('Call', callBytes)
  } catch (e) {
    throw badFormat(`Could not decode call: ${(e as Error).message.split('\n')[0]}`)
  }
  if (call.encodedLength !== callBytes.length) throw badFormat('trailing bytes after the call')
  return { bytes, hash: u8aToHex(blake2AsU8a(bytes, 256)), signed, callBytes, call }
}

export interface CheckContext {
  genesisHash: string
  blockHash(n: number): string | undefined
  /** Number of the block the transaction would go into. */
  current: number
}

export interface Validity { provides: string[]; requires: string[]; priority: number; fee: bigint; nonce: number; mqSeq?: { sender: unknown; seq: bigint } }

const tagNonce = (who: Uint8Array, nonce: number): string => u8aToHex(u8aConcat(who, bnToU8a(nonce, { bitLength: 32, isLe: true })))

/** SCALE(("PhalaMqOffchainMessages", sender, seq)): the CheckMqSequence pool tag. */
export function mqTag(core: Core, sender: unknown, seq: bigint): string {
  const label = stringToU8a('PhalaMqOffchainMessages')
  return u8aToHex(u8aConcat(compactToU8a(label.length), label, core.codec.encode(core.meta.ids.messageOrigin, sender), bnToU8a(seq, { bitLength: 64, isLe: true })))
}

/** The top-level MQ message CheckMqSequence inspects (nested calls are not inspected, as on Khala). */
export function topLevelMq(call: Call): { sender: unknown; seq: bigint } | undefined {
  if (call.section !== 'phalaMq' || call.method !== 'syncOffchainMessage') return undefined
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const sm = call.args[0] as any
  return { sender: sm.message.sender.toU8a(), seq: sm.sequence.toBigInt() }
}

/**
 * All signed-extension checks. `strict` is the block-inclusion (pre_dispatch) form: the nonce and
 * the MQ sequence must be exactly the expected ones. Returns the pool validity; throws TxError.
 */
export function checkSigned(core: Core, it: Items, state: StateView, ctx: CheckContext, xt: ParsedXt, strict: boolean): Validity {
  const s = xt.signed
  if (!s) throw unknown('NoUnsignedValidator')
  // Additional signed: CheckMortality's birth hash, CheckMetadataHash's hash.
  let birthHash = ctx.genesisHash
  if (s.era) {
    const birth = eraBirth(s.era, ctx.current)
    const h = birth < ctx.current && birth + BLOCK_HASH_COUNT >= ctx.current ? ctx.blockHash(birth) : undefined
    if (!h) throw invalid('AncientBirthBlock')
    birthHash = h
  }
  // Built without a metadata hash: mode Enabled cannot be checked (frame_metadata_hash_extension).
  if (s.mode === 1) throw unknown('CannotLookup')
  const u32 = (n: number): Uint8Array => bnToU8a(n, { bitLength: 32, isLe: true })
  const payload = u8aConcat(
    xt.callBytes, s.eraBytes, compactToU8a(s.nonce), compactToU8a(s.tip), new Uint8Array([s.mode]),
    u32(SPEC_VERSION), u32(core.opts.identity.para.transactionVersion), hexToU8a(ctx.genesisHash), hexToU8a(birthHash), new Uint8Array([0]),
  )
  const msg = payload.length > 256 ? blake2AsU8a(payload, 256) : payload
  if (!verifySig(s.sigType, msg, s.signature, s.signer)) throw invalid('BadProof')

  if (s.signer.every((b) => b === 0)) throw invalid('BadSigner')

  const acc = it.account.get(state, s.signer)
  const onChainNonce = acc ? acc.nonce.toNumber() : 0
  if (s.nonce < onChainNonce) throw invalid('Stale')
  if (strict && s.nonce > onChainNonce) throw invalid('Future')
  const provides = [tagNonce(s.signer, s.nonce)]
  const requires = s.nonce > onChainNonce ? [tagNonce(s.signer, s.nonce - 1)] : []

  if (xt.bytes.length > 5 * 1024 * 1024) throw invalid('ExhaustsResources')

  const mq = topLevelMq(xt.call)
  if (mq) {
    const ingress = it.offchainIngress.get(state, mq.sender)
    const expected: bigint = ingress ? ingress.toBigInt() : 0n
    if (mq.seq < expected) throw invalid('Stale')
    if (strict && mq.seq > expected) throw invalid('Future')
    provides.push(mqTag(core, mq.sender, mq.seq))
    if (mq.seq > expected) requires.push(mqTag(core, mq.sender, mq.seq - 1n))
  }

  const fee = feeFor(xt.bytes.length, xt.call) + s.tip
  const free: bigint = acc ? acc.data.free.toBigInt() : 0n
  const frozen: bigint = acc ? acc.data.frozen.toBigInt() : 0n
  // CurrencyAdapter::withdraw_fee with KeepAlive: the payer must stay above the existential deposit.
  if (!acc || free < fee + EXISTENTIAL_DEPOSIT || free - fee < frozen) throw invalid('Payment')
  const priority = Number(s.tip > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : s.tip)
  return { provides, requires, priority, fee, nonce: s.nonce, mqSeq: mq }
}

/**
 * Signature check that treats malformed keys/signatures (the verifiers throw on them) as invalid.
 * sr25519 through the wasm verifier once loaded (cryptoWaitReady): a node verifies natively, and
 * @polkadot/util-crypto's own sr25519Verify is pure JS and ~10x slower (4.5 ms against 0.4 ms a
 * signature), which made every MQ message of a trader's batch the devnet's largest cost.
 */
export function verifySig(sigType: number, msg: Uint8Array, sig: Uint8Array, pubkey: Uint8Array): boolean {
  try {
    if (sigType === 1) return wasmReady() ? wasmSr25519Verify(sig, msg, pubkey) : sr25519Verify(msg, sig, pubkey)
    if (sigType === 0) return ed25519Verify(msg, sig, pubkey)
    return false
  } catch {
    return false
  }
}
