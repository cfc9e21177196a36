/** The devnet's variables: the chain picks the para id (PHALA_DEVNET_PARA_ID overrides), and every new setting reaches the options. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/index.js'
import { devnetOptions } from '../../src/modules.js'

test('PHALA_DEVNET_CHAIN picks the identity and its para id; PHALA_DEVNET_PARA_ID overrides; the new settings map to the options', () => {
  const def = devnetOptions(loadConfig('devnet', {}).config)
  assert.deepEqual([def.chain, def.paraId, def.grandpaV5At, def.finalityLag, def.reorgEvery, def.heartbeatEvery, def.heartbeatWindow], ['phala', 2035, 1000, 2, 0, 5, 10])
  assert.ok(def.grandpaV5At! < def.history && def.grandpaV5At! > 0, 'the default history crosses the GRANDPA storage move')
  const khala = devnetOptions(loadConfig('devnet', { PHALA_DEVNET_CHAIN: 'khala' }).config)
  assert.deepEqual([khala.chain, khala.paraId], ['khala', 2004])
  const over = devnetOptions(loadConfig('devnet', { PHALA_DEVNET_CHAIN: 'khala', PHALA_DEVNET_PARA_ID: '3000', PHALA_DEVNET_REORG_EVERY: '7', PHALA_DEVNET_FINALITY_LAG: '0' }).config)
  assert.deepEqual([over.paraId, over.reorgEvery, over.finalityLag], [3000, 7, 0])
  assert.throws(() => loadConfig('devnet', { PHALA_DEVNET_CHAIN: 'kusama' }), /PHALA_DEVNET_CHAIN="kusama" is invalid: expected one of phala, khala/)
})
