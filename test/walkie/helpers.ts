import { Writable } from 'node:stream'
import { createLogger, type Logger } from '../../src/common/logger.js'
import { createWalkie, type Walkie, type WalkieInit } from '../../src/walkie/index.js'

/** A logger whose JSON lines are kept for assertions (and printed when WALKIE_TEST_LOG is set). */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'info'): { logger: Logger; lines: () => Record<string, any>[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk))
      cb()
    },
  })
  return { logger: createLogger({ level, stream }), lines: () => lines.flatMap((l) => l.split('\n').filter(Boolean).map((x) => JSON.parse(x))) }
}

export const FAST = {
  listenAddresses: ['/ip4/127.0.0.1/tcp/0'],
  disableMdns: true,
  livenessIntervalMs: 200,
  staleAfterMs: 1500,
  bootRetryMinMs: 100,
  bootRetryMaxMs: 500,
  rpcTimeoutMs: 5000,
} satisfies Partial<WalkieInit>

export interface TestNode {
  walkie: Walkie
  lines: () => Record<string, any>[]
}

/** A started node on loopback, mDNS off; `t.after` stops it. */
export async function startNode(stops: Array<() => Promise<void>>, init: Partial<WalkieInit> & Pick<WalkieInit, 'role'>): Promise<TestNode> {
  const { logger, lines } = memoryLogger()
  const walkie = createWalkie({
    chainIdentity: '0xc1',
    bridgeIdentity: 'default',
    identity: { ephemeral: true },
    ...FAST,
    ...init,
  }, { logger })
  await walkie.start()
  stops.push(() => walkie.stop())
  return { walkie, lines }
}

/** Poll `cond` until it holds or `ms` pass; the failure names what was awaited. */
export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
