/**
 * The lifecycle with an external trader (USE_BUILT_IN_TRADER=false): the trade daemon
 * (PHALA_MODULE=trade, as its entry wires it: chain, Walkie to ask the lifecycle for its pools,
 * Bull consumer) runs separately on the same Redis, and 2 workers go from an empty store to
 * S_ACTIVE through it, each computing on chain with its stake, each call once.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Keyring } from '@polkadot/keyring'
import type { RunningModule } from '../../src/common/module.js'
import { loadConfig } from '../../src/config/index.js'
import { startTradeDaemon } from '../../src/trade/index.js'
import { PHA, describeWorkers, landedCalls, onChain, report, startBed, waitFor, type Bed } from './helpers.js'

let bed: Bed
let trader: RunningModule | undefined
const alice = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice')
const stake = 5_000n * PHA

before(async () => {
  bed = await startBed({ pruntimes: 2, pools: 1, blockMs: 1500, builtInTrader: false })
  const { config } = loadConfig('trade', {
    PHALA_MODULE: 'trade', PHALA_CHAIN_ENDPOINT: bed.dn.paraUrl, PHALA_Q_REDIS_ENDPOINT: bed.redis.url,
    PHALA_PEER_ID_PREFIX: join(bed.dir, 'keys'),
    PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0', PHALA_WALKIE_BOOT_NODES: bed.lm.walkie()!.multiaddrs()[0]!,
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true', PHALA_QUEUE_BOARD_PORT: '0', PHALA_TRADE_BATCH_MS: '300',
  })
  trader = await startTradeDaemon(config, { logger: bed.logger })
})

after(async () => {
  await trader?.stop()
  await bed?.stop()
})

test('with an external trader on the same Redis, 2 workers reach S_ACTIVE', async () => {
  assert.equal(bed.lm.walkie() !== undefined, true)
  await bed.lm.repo.createPools([{ pid: 0, name: 'pool-0', owner: { mnemonic: '//Alice' } }])
  const ws = await bed.lm.repo.createWorkers(bed.pr.workers.map((w, i) => ({ pid: 0, name: `worker-${i}`, endpoint: w.endpoint, stake: stake.toString() })))
  const uuids = ws.map((w) => w.worker.uuid)
  await waitFor(() => uuids.every((u) => report(bed, u)?.status === 'S_ACTIVE'), 240_000, () => describeWorkers(bed, uuids))
  for (const w of bed.pr.workers) {
    const s = await onChain(bed.api, 0, w.publicKey())
    assert.equal(s.state, 'WorkerIdle')
    assert.equal(s.stake, stake)
  }
  const calls = await landedCalls(bed.api, [alice.address])
  for (const want of ['phalaRegistry.registerWorker', 'phalaStakePoolv2.addWorker', 'phalaStakePoolv2.startComputing']) {
    assert.equal(calls.filter((c) => c.call === want).length, 2, `${want} once per worker`)
  }
})
