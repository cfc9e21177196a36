/**
 * A minimal pRuntime HTTP client: prpc (protobuf) and bin_api (SCALE in, JSON out), decoding
 * prpc.PrpcError on non-200 answers. Used by the feeder, the tests and the benchmark.
 */
import { getCodec } from '../../common/codec.js'
import { PrbError } from '../../common/errors.js'

export class PruntimeCallError extends PrbError {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly pruntimeMessage: string,
  ) {
    super('ERR_PRUNTIME_CALL', `pRuntime ${method} failed (HTTP ${status}): ${pruntimeMessage}`)
  }
}

export interface PhactoryInfoPlain {
  initialized: boolean
  registered: boolean
  genesisBlockHash?: string
  publicKey?: string
  headernum: number
  paraHeadernum: number
  blocknum: number
  stateRoot: string
  devMode: boolean
  pendingMessages: number
  [k: string]: unknown
}

export class PruntimeClient {
  constructor(
    readonly endpoint: string,
    private readonly timeoutMs = 150_000,
  ) {}

  async prpc<T = Record<string, unknown>>(method: string, reqType: string, resType: string, value: object = {}): Promise<T> {
    const codec = getCodec()
    const res = await fetch(`${this.endpoint}/prpc/PhactoryAPI.${method}`, {
      method: 'POST',
      body: codec.encode(reqType, value),
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(this.timeoutMs),
    })
    const bytes = new Uint8Array(await res.arrayBuffer())
    if (res.status !== 200) {
      let msg = `HTTP ${res.status}`
      try {
        msg = codec.decode<{ message: string }>('prpc.PrpcError', bytes).message
      } catch {
        msg = Buffer.from(bytes).toString('utf8') || msg
      }
      throw new PruntimeCallError(method, res.status, msg)
    }
    return codec.decode<T>(resType, bytes)
  }

  getInfo(): Promise<PhactoryInfoPlain> {
    return this.prpc('GetInfo', 'google.protobuf.Empty', 'pruntime_rpc.PhactoryInfo')
  }

  /** POST /bin_api/<action>; returns the parsed payload or throws with pRuntime's message. */
  async binApi<T = Record<string, unknown>>(action: string, body: Uint8Array): Promise<T> {
    const res = await fetch(`${this.endpoint}/bin_api/${action}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(this.timeoutMs),
    })
    if (res.status !== 200) throw new PruntimeCallError(action, res.status, await res.text())
    const j = (await res.json()) as { status: string; payload: string }
    let payload: unknown = j.payload
    try {
      payload = JSON.parse(j.payload)
    } catch {
      // "Entity too large" is plain text
    }
    if (j.status !== 'ok') {
      const msg = typeof payload === 'object' && payload && 'message' in payload ? String((payload as { message: unknown }).message) : String(payload)
      throw new PruntimeCallError(action, 200, msg)
    }
    return payload as T
  }
}
