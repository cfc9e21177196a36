/** Failure classification of the chain steps: the chain's error name kept, operator-only vs retried. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chainErrorName, classifyFailure } from '../../src/lifecycle/onchain/index.js'

test('the chain error name is taken from the trader\'s reason', () => {
  assert.equal(chainErrorName('phalaStakePoolv2.WorkerNotRegistered: The worker is not registered (call 1 of 2)'), 'phalaStakePoolv2.WorkerNotRegistered')
  assert.equal(chainErrorName('ECONNREFUSED 127.0.0.1:6379'), undefined)
})

test('what only the operator can fix stops with what to do; the rest is retried', () => {
  const owner = classifyFailure('Adding worker on chain', new Error('phalaStakePoolv2.UnauthorizedPoolOwner: The owner of the pool is not the signer'))
  assert.equal(owner.retry, false)
  assert.equal(owner.name, 'phalaStakePoolv2.UnauthorizedPoolOwner')
  assert.match(owner.text, /UnauthorizedPoolOwner/)
  assert.match(owner.text, /UpdatePool/)
  const stake = classifyFailure('Starting computing on chain', new Error('phalaComputation.InsufficientStake: stake too low'))
  assert.equal(stake.retry, false)
  assert.match(stake.text, /raise the worker's stake/)
  const notYet = classifyFailure('Adding worker on chain', new Error('phalaStakePoolv2.WorkerNotRegistered: not registered'))
  assert.equal(notYet.retry, true)
  assert.match(notYet.text, /phalaStakePoolv2\.WorkerNotRegistered/)
  const setup = classifyFailure('Registering worker', new Error('pool 3 has no operator key in the lifecycle; set its owner (UpdatePool) there'))
  assert.equal(setup.retry, false)
  assert.equal(classifyFailure('x', new Error('socket hang up')).retry, true)
})
