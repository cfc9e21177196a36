import { memoryLogger } from '../helpers/log.js'
import { createWalkie, type Walkie, type WalkieInit } from '../../src/walkie/index.js'

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
