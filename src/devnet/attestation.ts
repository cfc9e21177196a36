/**
 * The devnet's stand-in for Intel's attestation service. A devnet pRuntime signs an IAS-shaped
 * report with a well-known devnet key; the devnet chain's phalaRegistry accepts exactly these.
 * Layout follows a real IAS v4 report: a JSON text whose `isvEnclaveQuoteBody` is a base64 SGX
 * quote body (432 bytes) with MRENCLAVE at 112..144 and the report data at 368..432, the first
 * 32 bytes of which are blake2_256(encoded runtime info).
 */
import { ed25519PairFromSeed, ed25519Sign, ed25519Verify, blake2AsU8a } from '@polkadot/util-crypto'
import { u8aToHex, stringToU8a, u8aToString, u8aEq } from '@polkadot/util'

const IAS_KEY = ed25519PairFromSeed(blake2AsU8a(stringToU8a('prb devnet attestation service'), 256))
const CERT_PREFIX = stringToU8a('PRB-DEVNET-IAS:')

/** The measurement of the devnet pRuntime build; the devnet chain's PRuntimeAllowList holds it. */
export const DEVNET_MRENCLAVE: Uint8Array = blake2AsU8a(stringToU8a('prb devnet pruntime 2.0.0'), 256)
/** Reports older than this (by the chain's timestamp) are OutdatedIASReport. */
export const IAS_REPORT_MAX_AGE_MS = 2 * 3600 * 1000

export const QUOTE_BODY_LEN = 432
const MRENCLAVE_AT = 112
const REPORT_DATA_AT = 368

export interface DevnetIasReport {
  /** UTF-8 JSON report text (Attestation::SgxIas.ra_report). */
  raReport: Uint8Array
  signature: Uint8Array
  rawSigningCert: Uint8Array
}

/** IAS writes timestamps as UTC without a zone suffix, microsecond precision. */
function iasTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000')
}

export function makeDevnetIasReport(encodedRuntimeInfo: Uint8Array, timestampMs: number, mrenclave: Uint8Array = DEVNET_MRENCLAVE): DevnetIasReport {
  const body = new Uint8Array(QUOTE_BODY_LEN)
  body.set(mrenclave.subarray(0, 32), MRENCLAVE_AT)
  body.set(blake2AsU8a(encodedRuntimeInfo, 256), REPORT_DATA_AT)
  const report = {
    id: u8aToHex(blake2AsU8a(body, 128)).slice(2),
    timestamp: iasTimestamp(timestampMs),
    version: 4,
    isvEnclaveQuoteStatus: 'OK',
    isvEnclaveQuoteBody: Buffer.from(body).toString('base64'),
  }
  const raReport = stringToU8a(JSON.stringify(report))
  const signature = ed25519Sign(raReport, IAS_KEY)
  const rawSigningCert = new Uint8Array([...CERT_PREFIX, ...IAS_KEY.publicKey])
  return { raReport, signature, rawSigningCert }
}

export type IasVerifyResult =
  | { ok: true; reportData: Uint8Array; mrenclave: Uint8Array; timestampMs: number }
  | { ok: false; error: 'InvalidIASSigningCert' | 'InvalidSignature' | 'InvalidReport' | 'InvalidQuoteStatus' | 'OutdatedIASReport' | 'UnknownQuoteBodyFormat' }

/** The chain-side check, with the errors phalaRegistry raises for a bad IAS attestation. */
export function verifyDevnetIasReport(r: DevnetIasReport, chainNowMs: number): IasVerifyResult {
  const cert = r.rawSigningCert
  if (cert.length !== CERT_PREFIX.length + 32 || !u8aEq(cert.subarray(0, CERT_PREFIX.length), CERT_PREFIX) || !u8aEq(cert.subarray(CERT_PREFIX.length), IAS_KEY.publicKey)) {
    return { ok: false, error: 'InvalidIASSigningCert' }
  }
  if (r.signature.length !== 64 || !ed25519Verify(r.raReport, r.signature, IAS_KEY.publicKey)) return { ok: false, error: 'InvalidSignature' }
  let parsed: { timestamp?: unknown; isvEnclaveQuoteStatus?: unknown; isvEnclaveQuoteBody?: unknown }
  try {
    parsed = JSON.parse(u8aToString(r.raReport))
  } catch {
    return { ok: false, error: 'InvalidReport' }
  }
  if (parsed.isvEnclaveQuoteStatus !== 'OK') return { ok: false, error: 'InvalidQuoteStatus' }
  if (typeof parsed.timestamp !== 'string' || typeof parsed.isvEnclaveQuoteBody !== 'string') return { ok: false, error: 'InvalidReport' }
  const timestampMs = Date.parse(parsed.timestamp.slice(0, 23) + 'Z')
  if (!Number.isFinite(timestampMs)) return { ok: false, error: 'InvalidReport' }
  if (chainNowMs - timestampMs > IAS_REPORT_MAX_AGE_MS) return { ok: false, error: 'OutdatedIASReport' }
  const body = new Uint8Array(Buffer.from(parsed.isvEnclaveQuoteBody, 'base64'))
  if (body.length !== QUOTE_BODY_LEN) return { ok: false, error: 'UnknownQuoteBodyFormat' }
  return {
    ok: true,
    reportData: body.slice(REPORT_DATA_AT, REPORT_DATA_AT + 64),
    mrenclave: body.slice(MRENCLAVE_AT, MRENCLAVE_AT + 32),
    timestampMs,
  }
}
