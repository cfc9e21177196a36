/** The trader's pure parts: submission error classes, job ids per intent, Redis URLs, job checks. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redisOptionsFromUrl, tradeJobId } from '../../src/common/trade-queue.js'
import { checkJob } from '../../src/trade/actions.js'
import { classifySubmitError } from '../../src/trade/errors.js'

test('submission errors are classified by the node\'s code (chain.md §8)', () => {
  const e = (code: number, msg: string) => Object.assign(new Error(`${code}: ${msg}`), { code })
  assert.equal(classifySubmitError(e(1010, 'Invalid Transaction: Transaction is outdated')), 'stale')
  assert.equal(classifySubmitError(e(1010, 'Invalid Transaction: Transaction will be valid in the future')), 'stale')
  assert.equal(classifySubmitError(e(1010, 'Invalid Transaction: Inability to pay some fees (e.g. account balance too low)')), 'fatal')
  assert.equal(classifySubmitError(e(1010, 'Invalid Transaction: Transaction has a bad signature')), 'fatal')
  assert.equal(classifySubmitError(e(1014, 'Priority is too low: (0 vs 0)')), 'occupied')
  assert.equal(classifySubmitError(e(1012, 'Transaction is temporarily banned')), 'banned')
  assert.equal(classifySubmitError(e(1013, 'Transaction Already Imported')), 'known')
  // polkadot.js sometimes gives only the text.
  assert.equal(classifySubmitError(new Error('1014: Priority is too low: (1 vs 1)')), 'occupied')
  assert.equal(classifySubmitError(new Error('disconnected from ws://127.0.0.1:9944: 1006:: Abnormal Closure')), 'transport')
  assert.equal(classifySubmitError(new Error('para author_submitAndWatchExtrinsic got no answer within 30000 ms')), 'transport')
})

test('one job id per intent: key order does not matter, any payload change does', () => {
  const a = tradeJobId({ action: 'ADD_WORKER', payload: { pid: '3', publicKey: '0x' + '11'.repeat(32) } })
  const b = tradeJobId({ action: 'ADD_WORKER', payload: { publicKey: '0x' + '11'.repeat(32), pid: '3' } as never })
  const c = tradeJobId({ action: 'ADD_WORKER', payload: { pid: '3', publicKey: '0x' + '12'.repeat(32) } })
  const d = tradeJobId({ action: 'STOP_COMPUTING', payload: { pid: '3', publicKey: '0x' + '11'.repeat(32) } })
  assert.equal(a, b)
  assert.notEqual(a, c)
  assert.notEqual(a, d)
  assert.match(a, /^ADD_WORKER-3-[0-9a-f]{32}$/)
})

test('Redis URLs: upstream\'s default with an empty path is database 0 (Bull made it SELECT NaN)', () => {
  assert.deepEqual(redisOptionsFromUrl('redis://127.0.0.1:6379/'), { host: '127.0.0.1', port: 6379, db: 0 })
  assert.deepEqual(redisOptionsFromUrl('redis://redis-q'), { host: 'redis-q', port: 6379, db: 0 })
  assert.deepEqual(redisOptionsFromUrl('rediss://u:p%40ss@h:7000/3'), { host: 'h', port: 7000, db: 3, username: 'u', password: 'p@ss', tls: {} })
  assert.throws(() => redisOptionsFromUrl('redis://h:1/x'), /names database "x"/)
})

test('bad jobs are refused with the field named', () => {
  assert.throws(() => checkJob({ action: 'MINE', payload: { pid: '1' } }), /unknown action "MINE"/)
  assert.throws(() => checkJob({ action: 'ADD_WORKER', payload: { pid: 'x', publicKey: '0x' + '00'.repeat(32) } }), /payload\.pid "x" is not a decimal u64/)
  assert.throws(() => checkJob({ action: 'START_COMPUTING', payload: { pid: '1', publicKey: '0x' + '00'.repeat(32), stake: '1.5' } }), /payload\.stake must be a decimal amount/)
  assert.throws(() => checkJob({ action: 'BATCH_SYNC_MQ_MESSAGE', payload: { pid: '1', messages: [] } }), /payload\.messages must be a non-empty array/)
  assert.equal(checkJob({ action: 'STOP_COMPUTING', payload: { pid: 2, publicKey: '0x' + 'ab'.repeat(32) } }).action, 'STOP_COMPUTING')
})
