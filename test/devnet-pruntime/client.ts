/** Small HTTP helpers for the pRuntime tests: bin_api and prpc the way the lifecycle calls them. */
import { getCodec } from '../../src/common/codec.js'

export interface BinReply {
  status: 'ok' | 'error'
  payload: string
  signature: string | null
}

export async function binApi(endpoint: string, action: string, body: Uint8Array): Promise<BinReply & { parsed: Record<string, unknown> }> {
  const res = await fetch(`${endpoint}/bin_api/${action}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
  if (res.status !== 200) throw new Error(`bin_api ${action}: HTTP ${res.status}`)
  const j = (await res.json()) as BinReply
  return { ...j, parsed: JSON.parse(j.payload) as Record<string, unknown> }
}

export async function prpc<T = Record<string, unknown>>(
  endpoint: string,
  method: string,
  req: string,
  res: string,
  value: object = {},
): Promise<{ status: number; body: T; error?: string }> {
  const codec = getCodec()
  const r = await fetch(`${endpoint}/prpc/PhactoryAPI.${method}`, {
    method: 'POST',
    body: codec.encode(req, value),
    headers: { 'content-type': 'application/octet-stream' },
  })
  const bytes = new Uint8Array(await r.arrayBuffer())
  if (r.status !== 200) return { status: r.status, body: {} as T, error: codec.decode<{ message: string }>('prpc.PrpcError', bytes).message }
  return { status: 200, body: codec.decode<T>(res, bytes) }
}

export interface InfoLike {
  initialized: boolean
  registered: boolean
  headernum: number
  paraHeadernum: number
  blocknum: number
  publicKey?: string
  pendingMessages: number
  [k: string]: unknown
}

export async function getInfo(endpoint: string): Promise<InfoLike> {
  const r = await prpc<InfoLike>(endpoint, 'GetInfo', 'google.protobuf.Empty', 'pruntime_rpc.PhactoryInfo')
  if (r.status !== 200) throw new Error(`GetInfo: ${r.status} ${r.error}`)
  return r.body
}

/** A logger that keeps quiet (tests assert on behaviour, not on log lines). */
export { quietLogger } from '../helpers/log.js'
