/**
 * The trade tests' bed: Redis of its own, a devnet, a fake lifecycle serving the pools over Walkie,
 * the trader on its own chain connection, and (optionally) a producer; `stop()` undoes it all.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import { createChainConnection, type ChainConnection } from '../../src/common/chain.js'
import { createTradeProducer, type TradeProducer } from '../../src/common/trade-queue.js'
import type { Devnet, DevnetOptions } from '../../src/devnet/index.js'
import { createPoolDirectory, createTrader, loadLifecycleKey, walkiePoolSource, type Trader, type TraderOptions } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { connectApi, keyring, startFakeLifecycle, startRedis, startTradeDevnet, testLogger, traderWalkie, waitFor, type FakeLifecycle, type TestRedis } from './helpers.js'

export interface TraderBedOptions {
  devnet?: Partial<DevnetOptions>
  /** Called once the devnet runs, before anything talks to it (e.g. to follow its retractions). */
  onDevnet?: (devnet: Devnet) => void
  /** Pool 1, run by //Bob as //Alice's proxy, beside //Alice's pool 0. */
  proxiedPool?: boolean
  /** The trader's options beyond its Redis URL (progress log off unless set). */
  trader: Omit<TraderOptions, 'redisUrl'>
  /** The trader's chain connection as the test wants it (e.g. refusing some extrinsics). */
  wrapChain?: (conn: ChainConnection) => ChainConnection
  reconnect?: { minMs: number; maxMs: number }
  /** A producer on the bed's Redis. */
  producer?: boolean
  /** An ApiPromise for the test (default true). */
  api?: boolean
}

export interface TraderBed {
  redis: TestRedis
  devnet: Devnet
  api: ApiPromise
  lifecycle: FakeLifecycle
  walkie: Walkie
  conn: ChainConnection
  trader: Trader
  producer: TradeProducer
  keyDir: string
  alice: KeyringPair
  bob: KeyringPair
  stop(): Promise<void>
}

export async function startTraderBed(o: TraderBedOptions): Promise<TraderBed> {
  const k = keyring()
  const alice = k.addFromUri('//Alice')
  const bob = k.addFromUri('//Bob')
  const b: Partial<TraderBed> & { alice: KeyringPair; bob: KeyringPair } = { alice, bob, keyDir: mkdtempSync(join(tmpdir(), 'prb-trade-keys-')) }
  const stop = async (): Promise<void> => {
    b.devnet?.resume()
    await b.producer?.close()
    await b.trader?.stop()
    await b.conn?.stop()
    await b.walkie?.stop()
    await b.lifecycle?.stop()
    await b.api?.disconnect()
    await b.devnet?.stop()
    await b.redis?.stop()
    rmSync(b.keyDir!, { recursive: true, force: true })
  }
  try {
    b.redis = await startRedis()
    const devnet = b.devnet = await startTradeDevnet(o.devnet)
    o.onDevnet?.(devnet)
    if (o.proxiedPool) {
      // Through the devnet's pool, not an RPC round trip: quick whatever RPC latency the test set.
      const api = await connectApi(devnet.paraUrl)
      try {
        const xt = await api.tx.proxy.addProxy(bob.address, 'Any', 0).signAsync(alice)
        devnet.para.pool.submit(xt.toHex())
      } finally {
        await api.disconnect()
      }
      await waitFor(() => devnet.para.pool.size === 0, 60_000, 'addProxy included')
      const included = devnet.para.chain.best.number
      await waitFor(() => devnet.para.chain.finalizedNumber >= included, 60_000, 'addProxy final')
    }
    if (o.api !== false) b.api = await connectApi(devnet.paraUrl)
    const chainIdentity = devnet.para.chain.byNumber(1)!.hash
    b.lifecycle = await startFakeLifecycle(b.keyDir!, chainIdentity, [{ pid: 0, operator: alice }, ...(o.proxiedPool ? [{ pid: 1, operator: bob, real: alice }] : [])])
    b.walkie = traderWalkie(chainIdentity, b.lifecycle.address)
    await b.walkie.start()
    b.conn = createChainConnection({ url: devnet.paraUrl, name: 'para', reconnect: o.reconnect ?? { minMs: 50, maxMs: 500 } }, { logger: testLogger() })
    b.conn.start()
    const keyDir = b.keyDir!
    const pools = createPoolDirectory({}, { source: walkiePoolSource(b.walkie), lifecycleKey: () => loadLifecycleKey(keyDir), logger: testLogger() })
    b.trader = createTrader({ progressLogMs: 0, ...o.trader, redisUrl: b.redis.url }, { logger: testLogger(), chain: o.wrapChain ? o.wrapChain(b.conn) : b.conn, pools })
    await b.trader.start()
    if (o.producer) b.producer = createTradeProducer({ redisUrl: b.redis.url, reconcileMs: 500 }, { logger: testLogger() })
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
  return { ...(b as TraderBed), stop }
}
