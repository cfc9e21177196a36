/**
 * Job ids per intent: a registration's id is its pool and runtime info, so a restarted lifecycle
 * (whose RA report is fresh) re-attaches to the registration still queued instead of adding a
 * second one; and the prb actions for leaving a pool are checked like upstream's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tradeJobId } from '../../src/common/trade-queue.js'
import { checkJob } from '../../src/trade/actions.js'

const info = '0x' + '01'.repeat(40)

test('a registration\'s job id ignores the RA report and follows the pool and runtime info', () => {
  const a = tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '1', runtimeInfo: info, attestation: '0x00aa' } })
  const b = tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '1', runtimeInfo: info, attestation: '0x00bb' } })
  assert.equal(a, b)
  assert.notEqual(a, tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '2', runtimeInfo: info, attestation: '0x00aa' } }))
  assert.notEqual(a, tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '1', runtimeInfo: '0x' + '02'.repeat(40), attestation: '0x00aa' } }))
  // The registry entry the registration replaces: the same after a restart, new after one landed.
  const before = tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '1', runtimeInfo: info, attestation: '0x00aa' } }, 'registry:none')
  assert.equal(before, tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '1', runtimeInfo: info, attestation: '0x00cc' } }, 'registry:none'))
  assert.notEqual(before, tradeJobId({ action: 'REGISTER_WORKER', payload: { pid: '1', runtimeInfo: info, attestation: '0x00aa' } }, 'registry:1704067300'))
})

test('RECLAIM_POOL_WORKER and REMOVE_WORKER take {pid, publicKey}', () => {
  const publicKey = '0x' + '11'.repeat(32)
  assert.doesNotThrow(() => checkJob({ action: 'REMOVE_WORKER', payload: { pid: '0', publicKey } }))
  assert.doesNotThrow(() => checkJob({ action: 'RECLAIM_POOL_WORKER', payload: { pid: '0', publicKey } }))
  assert.throws(() => checkJob({ action: 'REMOVE_WORKER', payload: { pid: '0', publicKey: '0x11' } }), /payload\.publicKey/)
  assert.notEqual(tradeJobId({ action: 'REMOVE_WORKER', payload: { pid: '0', publicKey } }), tradeJobId({ action: 'RECLAIM_POOL_WORKER', payload: { pid: '0', publicKey } }))
})
