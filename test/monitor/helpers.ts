import { createWalkie, type Walkie } from '../../src/walkie/index.js'
import { startMonitor, type MonitorOptions, type RunningMonitor } from '../../src/monitor/index.js'
import type { Logger } from '../../src/common/logger.js'
import { quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'

/**
 * Walkie timings for tests: fast boot retries; a silent peer is gone only after 30 s, so a busy
 * machine never makes a live peer look gone (the eviction test sets short ones).
 */
export const FAST_WALKIE = { listenAddresses: [] as string[], disableMdns: true, livenessIntervalMs: 1000, staleAfterMs: 30_000, bootRetryMinMs: 100, bootRetryMaxMs: 500 }

/** A monitor on 127.0.0.1 (port 0) whose Walkie node dials `bootNodes`. */
export function startTestMonitor(bootNodes: string[], o: Partial<MonitorOptions> = {}, logger: Logger = quietLogger()): Promise<RunningMonitor> {
  return startMonitor({
    port: 0, host: '127.0.0.1', proxyTimeoutMs: 10_000,
    ...o,
    walkie: { ...FAST_WALKIE, bootNodes, ...o.walkie },
  }, { logger })
}

/** Wait until the monitor lists `peerId` in /ptp/discover. */
export async function waitForPeer(m: RunningMonitor, peerId: string, ms = 20_000): Promise<void> {
  await waitFor(() => m.walkie.peers({ includeIncompatible: true }).some((p) => p.peerId === peerId), ms, `the monitor meets ${peerId}`)
}

/** A fake data provider: answers GetDataProviderInfo with fixed heights. */
export async function startFakeDataProvider(info: Record<string, unknown>): Promise<{ walkie: Walkie; address: string; peerId: string }> {
  const walkie = createWalkie({
    role: 'WR_DATA_PROVIDER_INT', chainIdentity: '0xfeed', bridgeIdentity: 'default', identity: { ephemeral: true },
    listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, hostname: 'fake-dp',
  }, { logger: quietLogger() })
  walkie.handle('GetDataProviderInfo', () => info as never)
  await walkie.start()
  return { walkie, address: walkie.multiaddrs()[0]!, peerId: walkie.peerId }
}
