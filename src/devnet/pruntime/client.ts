/**
 * A minimal pRuntime HTTP client: prpc (protobuf) and bin_api (SCALE in, JSON out), decoding
 * prpc.PrpcError on non-200 answers. Used by the feeder, the tests and the benchmark.
 */
import { Agent, request } from 'node:http'
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

/** Keep-alive connections, as prb v2's axios agent with WORKER_KEEPALIVE_ENABLED. */
const agent = new Agent({ keepAlive: true, maxSockets: 4, timeout: 5000 })

export class PruntimeClient {
  constructor(
    readonly endpoint: string,
    private readonly timeoutMs = 150_000,
  ) {}

  #post(path: string, body: Uint8Array): Promise<{ status: number; body: Uint8Array }> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.endpoint}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) }))
        res.on('error', reject)
      })
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`pRuntime ${this.endpoint}${path}: no answer in ${this.timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  async prpc<T = Record<string, unknown>>(method: string, reqType: string, resType: string, value: object = {}): Promise<T> {
    const codec = getCodec()
    const res = await this.#post(`/prpc/PhactoryAPI.${method}`, codec.encode(reqType, value))
    const bytes = res.body
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
    const res = await this.#post(`/bin_api/${action}`, body)
    const text = Buffer.from(res.body).toString('utf8')
    if (res.status !== 200) throw new PruntimeCallError(action, res.status, text)
    const j = JSON.parse(text) as { status: string; payload: string }
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
