/** Test helpers: a raw JSON-RPC WebSocket client and waiting on a condition with a deadline. */
import { WebSocket } from 'ws'
import { createLogger } from '../../src/common/logger.js'
import { type Devnet, type DevnetOptions, startDevnet } from '../../src/devnet/devnet.js'
import { createTestRuntime } from './test-runtime.js'

export const quietLogger = createLogger({ level: 'fatal' })

/**
 * A devnet on port 0 with the test runtime and no timer-driven blocks (tests make them); finality
 * one block behind (the tests count on it; the default lag of 2 has its own test).
 */
export function startTestDevnet(o: Partial<DevnetOptions> = {}): Promise<Devnet> {
  return startDevnet({
    paraPort: 0, relayPort: 0, history: 60, justificationPeriod: 16, sessionBlocks: 40, blockMs: 3_600_000, finalityLag: 1,
    createRuntime: () => createTestRuntime(), ...o,
  }, quietLogger)
}

export interface RpcReply {
  id?: unknown
  result?: unknown
  error?: { code: number; message: string; data?: string }
  method?: string
  params?: { subscription: string; result: unknown }
}

export class RawClient {
  readonly ws: WebSocket
  #id = 1
  readonly #pending = new Map<unknown, (r: RpcReply) => void>()
  readonly notifications: RpcReply[] = []
  readonly other: RpcReply[] = []
  #waiters: (() => void)[] = []
  closed = false

  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('message', (d) => {
      const msg = JSON.parse(String(d)) as RpcReply | RpcReply[]
      for (const m of Array.isArray(msg) ? msg : [msg]) {
        if (m.method) this.notifications.push(m)
        else if (this.#pending.has(m.id)) {
          this.#pending.get(m.id)!(m)
          this.#pending.delete(m.id)
        } else this.other.push(m)
      }
      for (const w of this.#waiters.splice(0)) w()
    })
    ws.on('close', () => {
      this.closed = true
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  static connect(url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.once('open', () => resolve(new RawClient(ws)))
      ws.once('error', reject)
    })
  }

  call(method: string, params: unknown[] = []): Promise<RpcReply> {
    const id = this.#id++
    return new Promise((resolve) => {
      this.#pending.set(id, resolve)
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data)
  }

  /** Wait until `pred` holds (checked on each message), or fail after `ms`. */
  async until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms
    while (!pred()) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, left)
        this.#waiters.push(() => {
          clearTimeout(t)
          r()
        })
      })
    }
  }

  notificationsFor(sub: unknown): unknown[] {
    return this.notifications.filter((n) => n.params?.subscription === sub).map((n) => n.params!.result)
  }

  close(): void {
    this.ws.terminate()
  }
}

export { waitFor } from '../helpers/wait.js'
