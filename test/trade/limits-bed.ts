/**
 * The trader on the devnet for the limit tests (limits.test.ts): pool 0 run by //Alice, batches cut
 * only by the chain's limits, and readers of the chain's limits and of the operator's extrinsics.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { blake2AsU8a, sr25519PairFromSeed, sr25519Sign } from '@polkadot/util-crypto'
import { createChainConnection, type ChainConnection } from '../../src/common/chain.js'
import { createTradeProducer, type TradeProducer } from '../../src/common/trade-queue.js'
import type { Devnet } from '../../src/devnet/index.js'
import type { ExtrinsicLimits } from '../../src/trade/batch-cut.js'
import { createPoolDirectory, createTrader, loadLifecycleKey, walkiePoolSource, type Trader } from '../../src/trade/index.js'
import type { Walkie } from '../../src/walkie/index.js'
import { connectApi, keyring, startFakeLifecycle, startRedis, startTradeDevnet, testLogger, traderWalkie, type FakeLifecycle, type TestRedis } from './helpers.js'

export interface LimitsBed {
  devnet: Devnet
  api: ApiPromise
  trader: Trader
  producer: TradeProducer
  limits: ExtrinsicLimits
  stop(): Promise<void>
}

const k = keyring()
export const alice = k.addFromUri('//Alice')

export async function startLimitsBed(): Promise<LimitsBed> {
  const keyDir = mkdtempSync(join(tmpdir(), 'prb-trade-keys-'))
  const redis: TestRedis = await startRedis()
  const devnet = await startTradeDevnet()
  const api = await connectApi(devnet.paraUrl)
  const c = api.consts.system as unknown as {
    blockLength: { max: { normal: { toNumber(): number } } }
    blockWeights: { perClass: { normal: { maxExtrinsic: { unwrap(): { refTime: { toBigInt(): bigint }; proofSize: { toBigInt(): bigint } } } } } }
  }
  const me = c.blockWeights.perClass.normal.maxExtrinsic.unwrap()
  const limits = { maxBytes: c.blockLength.max.normal.toNumber(), maxRefTime: me.refTime.toBigInt(), maxProofSize: me.proofSize.toBigInt() }
  const chainIdentity = devnet.para.chain.byNumber(1)!.hash
  const lifecycle: FakeLifecycle = await startFakeLifecycle(keyDir, chainIdentity, [{ pid: 0, operator: alice }])
  const walkie: Walkie = traderWalkie(chainIdentity, lifecycle.address)
  await walkie.start()
  const conn: ChainConnection = createChainConnection({ url: devnet.paraUrl, name: 'para', reconnect: { minMs: 50, maxMs: 500 } }, { logger: testLogger() })
  conn.start()
  const pools = createPoolDirectory({}, { source: walkiePoolSource(walkie), lifecycleKey: () => loadLifecycleKey(keyDir), logger: testLogger() })
  // No cap by count: only the chain's limits cut these batches.
  const trader = createTrader({ redisUrl: redis.url, batchSize: 10_000, batchMs: 1500, jobConcurrency: 5000, progressLogMs: 0 }, { logger: testLogger(), chain: conn, pools })
  await trader.start()
  const producer = createTradeProducer({ redisUrl: redis.url, reconcileMs: 1000 }, { logger: testLogger() })
  return {
    devnet, api, trader, producer, limits,
    async stop() {
      await producer.close()
      await trader.stop()
      await conn.stop()
      await walkie.stop()
      await lifecycle.stop()
      await api.disconnect()
      await devnet.stop()
      await redis.stop()
      rmSync(keyDir, { recursive: true, force: true })
    },
  }
}

/** A sender of MQ messages (a worker key from a seed). */
export function sender(name: string): { publicKey: Uint8Array; sign(m: Uint8Array): Uint8Array } {
  const kp = sr25519PairFromSeed(blake2AsU8a(`limits-${name}`, 256))
  return { publicKey: kp.publicKey, sign: (m: Uint8Array) => sr25519Sign(m, kp) }
}

/** The operator's landed extrinsics from `from` on: encoded length, the calls of its forceBatch, and weight as the chain reports it when `weigh`. */
export async function operatorExtrinsics(api: ApiPromise, signer: string, from: number, weigh: boolean): Promise<Array<{ hash: string; bytes: number; refTime: bigint; proofSize: bigint; calls: string[] }>> {
  const best = (await api.rpc.chain.getHeader()).number.toNumber()
  const out: Array<{ hash: string; bytes: number; refTime: bigint; proofSize: bigint; calls: string[] }> = []
  for (let n = from; n <= best; n += 32) {
    const blocks = await Promise.all(Array.from({ length: Math.min(32, best - n + 1) }, async (_, i) => api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(n + i))))
    for (const block of blocks) {
      for (const xt of block.block.extrinsics) {
        if (!xt.isSigned || xt.signer.toString() !== signer) continue
        let refTime = 0n
        let proofSize = 0n
        if (weigh) {
          const info = await api.call.transactionPaymentApi.queryInfo(xt, xt.encodedLength) as unknown as { weight: { refTime: { toBigInt(): bigint }; proofSize: { toBigInt(): bigint } } }
          refTime = info.weight.refTime.toBigInt()
          proofSize = info.weight.proofSize.toBigInt()
        }
        // The calls inside its forceBatch (under proxy.proxy for a proxied pool).
        let call = xt.method
        if (call.section === 'proxy' && call.method === 'proxy') call = call.args[2] as typeof call
        const calls = call.section === 'utility' && call.method === 'forceBatch' ? (call.args[0] as unknown as Array<typeof call>).map((c) => c.toHex()) : []
        out.push({ hash: xt.hash.toHex(), bytes: xt.encodedLength, refTime, proofSize, calls })
      }
    }
  }
  return out
}

