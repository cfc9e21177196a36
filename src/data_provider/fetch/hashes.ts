/**
 * Block hashes by number, batched: the numbers asked for in one turn of the event loop go to the
 * node as ONE `chain_getBlockHash([n1, n2, ...])` call (Substrate takes a list), so a block costs
 * one round trip for its hash only when alone. Only finalized numbers are asked, whose hash is final.
 */
import type { CallOpts } from '../../common/chain.js'
import { FetchError } from './scale-util.js'

export interface RpcClient {
  readonly name: string
  rpc<T = unknown>(method: string, params?: unknown[], opts?: CallOpts): Promise<T>
  /** A chain connection's 'connected' / 'disconnected' events, when it has them (retries wake on 'connected'). */
  readonly events?: { on(e: 'connected', fn: () => void): unknown; once(e: 'connected', fn: () => void): unknown; off(e: 'connected', fn: () => void): unknown }
}

interface Waiter {
  n: number
  resolve: (h: string) => void
  reject: (e: unknown) => void
}

export class HashLoader {
  #queue: Waiter[] = []
  #scheduled = false
  #listOk = true

  constructor(
    private readonly chain: RpcClient,
    private readonly maxBatch = 256,
  ) {}

  get(n: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ n, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#scheduled = false
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.maxBatch)
      void this.#load(batch)
    }
  }

  async #load(batch: Waiter[]): Promise<void> {
    try {
      let hashes: Array<string | null>
      if (this.#listOk && batch.length > 1) {
        const r = await this.chain.rpc<unknown>('chain_getBlockHash', [batch.map((w) => w.n)])
        if (Array.isArray(r) && r.length === batch.length) hashes = r as Array<string | null>
        else {
          // A node that does not take lists: one call per number from now on.
          this.#listOk = false
          hashes = await Promise.all(batch.map((w) => this.chain.rpc<string | null>('chain_getBlockHash', [w.n])))
        }
      } else {
        hashes = await Promise.all(batch.map((w) => this.chain.rpc<string | null>('chain_getBlockHash', [w.n])))
      }
      batch.forEach((w, i) => {
        const h = hashes[i]
        if (typeof h === 'string') w.resolve(h)
        else w.reject(new FetchError('ERR_NO_BLOCK', `${this.chain.name} block ${w.n} is unknown to the node (chain_getBlockHash returned null)`))
      })
    } catch (e) {
      for (const w of batch) w.reject(e)
    }
  }
}
