/**
 * PhalaStakePoolv2 (index 93) over PhalaBasePool.Pools (index 96): create, add/remove worker,
 * start/stop/restart computing, reclaim, set_cap, with the checks of chain.md §2.5 in order.
 * A pool's free stake is the W-PHA (Assets, id WPHA_ASSET_ID) held by its pool account.
 */
import { u8aEq } from '@polkadot/util'
import { DispatchErr, moduleErr } from '../core.js'
import { ensureSigned, type Dispatcher, type Handler } from '../dispatch.js'
import { lockAccount, ownerRewardAccount, poolAccount, poolSubAccount } from '../accounts.js'
import { WPHA_ASSET_ID } from '../items.js'
import { MAX_POOL_WORKERS } from '../phala-pallets-meta.js'
import { bind, reclaim, startComputing, stopComputing, unbind } from './computation.js'

const SP = 'PhalaStakePoolv2'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Pool = any

function wphaBalance(d: Dispatcher, who: Uint8Array): bigint {
  const a = d.it.assetAccount.get(d.env.state, who)
  return a ? a.balance.toBigInt() : 0n
}

function moveWpha(d: Dispatcher, from: Uint8Array, to: Uint8Array, amount: bigint): void {
  const have = wphaBalance(d, from)
  if (have < amount) throw new DispatchErr({ Token: 'FundsUnavailable' }, 'Token.FundsUnavailable')
  d.it.assetAccount.put(d.env.state, from, { balance: have - amount, status: 'Liquid', reason: 'Sufficient', extra: null })
  d.it.assetAccount.put(d.env.state, to, { balance: wphaBalance(d, to) + amount, status: 'Liquid', reason: 'Sufficient', extra: null })
  d.env.deposit('Assets', 'Transferred', { assetId: WPHA_ASSET_ID, from, to, amount })
}

/** ensure_stake_pool(pid): PhalaBasePool errors. Returns the StakePool as JSON for rewriting. */
function ensureStakePool(d: Dispatcher, pid: bigint): Pool {
  const p = d.it.pools.get(d.env.state, pid)
  if (!p) throw moduleErr('PhalaBasePool', 'PoolDoesNotExist')
  if (!p.isStakePool) throw moduleErr('PhalaBasePool', 'PoolTypeNotMatch')
  return p.asStakePool
}

function ensureOwner(pool: Pool, who: Uint8Array): void {
  if (!u8aEq(pool.basepool.owner.toU8a(), who)) throw moduleErr(SP, 'UnauthorizedPoolOwner')
}

function savePool(d: Dispatcher, pid: bigint, pool: Record<string, unknown>): void {
  d.it.pools.put(d.env.state, pid, { StakePool: pool })
}

const keys = (v: Pool): Uint8Array[] => v.map((x: Pool) => x.toU8a())
const hasKey = (list: Uint8Array[], k: Uint8Array): boolean => list.some((x) => u8aEq(x, k))

function doStart(d: Dispatcher, who: Uint8Array, pid: bigint, worker: Uint8Array, stake: bigint): void {
  const pool = ensureStakePool(d, pid)
  ensureOwner(pool, who)
  const poolAcc = pool.basepool.poolAccountId.toU8a()
  if (wphaBalance(d, poolAcc) < stake) throw moduleErr(SP, 'InsufficientFreeStake')
  if (!hasKey(keys(pool.workers), worker)) throw moduleErr(SP, 'WorkerDoesNotExist')
  const session = poolSubAccount(pid, worker)
  startComputing(d, session, stake)
  moveWpha(d, poolAcc, pool.lockAccount.toU8a(), stake)
  d.env.deposit(SP, 'WorkingStarted', { pid, worker, amount: stake })
}

function doStop(d: Dispatcher, who: Uint8Array, pid: bigint, worker: Uint8Array): void {
  const pool = ensureStakePool(d, pid)
  ensureOwner(pool, who)
  if (!hasKey(keys(pool.workers), worker)) throw moduleErr(SP, 'WorkerDoesNotExist')
  const cd = keys(pool.cdWorkers)
  if (hasKey(cd, worker)) throw moduleErr(SP, 'WorkerAlreadyStopped')
  stopComputing(d, poolSubAccount(pid, worker))
  savePool(d, pid, { ...pool.toJSON(), cdWorkers: [...cd, worker] })
}

function doReclaim(d: Dispatcher, pid: bigint, worker: Uint8Array, checkCoolDown: boolean): { orig: bigint; slashed: bigint } {
  const pool = ensureStakePool(d, pid)
  const r = reclaim(d, poolSubAccount(pid, worker), checkCoolDown)
  moveWpha(d, pool.lockAccount.toU8a(), pool.basepool.poolAccountId.toU8a(), r.orig - r.slashed)
  savePool(d, pid, { ...pool.toJSON(), cdWorkers: keys(pool.cdWorkers).filter((k) => !u8aEq(k, worker)) })
  d.env.deposit(SP, 'WorkerReclaimed', { pid, worker })
  return r
}

export const stakePoolHandlers: Record<string, Handler> = {
  'phalaStakePoolv2.create': (d, origin) => {
    const owner = ensureSigned(origin)
    const pid: bigint = d.it.poolCount.get(d.env.state)?.toBigInt() ?? 0n
    d.it.poolCount.put(d.env.state, pid + 1n)
    const pool = poolAccount(pid)
    savePool(d, pid, {
      basepool: { pid, owner, totalShares: 0, totalValue: 0, withdrawQueue: [], valueSubscribers: [], cid: Number(pid), poolAccountId: pool },
      payoutCommission: null, cap: null, workers: [], cdWorkers: [], lockAccount: lockAccount(pid), ownerRewardAccount: ownerRewardAccount(pid),
    })
    d.env.deposit(SP, 'PoolCreated', { owner, pid, cid: Number(pid), poolAccountId: pool })
  },
  'phalaStakePoolv2.addWorker': (d, origin, a) => {
    const who = ensureSigned(origin)
    const pid: bigint = a.pid.toBigInt()
    const pubkey: Uint8Array = a.pubkey.toU8a()
    const w = d.it.workers.get(d.env.state, pubkey)
    if (!w) throw moduleErr(SP, 'WorkerNotRegistered')
    if (w.operator.isNone || !u8aEq(w.operator.unwrap().toU8a(), who)) throw moduleErr(SP, 'UnauthorizedOperator')
    if (w.initialScore.isNone) throw moduleErr(SP, 'BenchmarkMissing')
    const pool = ensureStakePool(d, pid)
    ensureOwner(pool, who)
    const workers = keys(pool.workers)
    if (hasKey(workers, pubkey)) throw moduleErr(SP, 'WorkerExists')
    if (workers.length >= MAX_POOL_WORKERS) throw moduleErr(SP, 'WorkersExceedLimit')
    const session = poolSubAccount(pid, pubkey)
    try {
      d.env.transactional(() => bind(d, session, pubkey))
    } catch {
      throw moduleErr(SP, 'FailedToBindSessionAndWorker')
    }
    d.it.subAccountPreimages.put(d.env.state, session, [pid, pubkey])
    savePool(d, pid, { ...pool.toJSON(), workers: [...workers, pubkey] })
    d.it.workerAssignments.put(d.env.state, pubkey, pid)
    d.env.deposit(SP, 'PoolWorkerAdded', { pid, worker: pubkey, session })
  },
  'phalaStakePoolv2.removeWorker': (d, origin, a) => {
    const who = ensureSigned(origin)
    const pid: bigint = a.pid.toBigInt()
    const worker: Uint8Array = a.worker.toU8a()
    const pool = ensureStakePool(d, pid)
    ensureOwner(pool, who)
    const assigned = d.it.workerAssignments.get(d.env.state, worker)
    if (!assigned) throw moduleErr(SP, 'WorkerDoesNotExist')
    if (assigned.toBigInt() !== pid) throw moduleErr(SP, 'WorkerInAnotherPool')
    const session = poolSubAccount(pid, worker)
    const s = d.it.sessions.get(d.env.state, session)
    if (!s) throw moduleErr(SP, 'SessionDoesNotExist')
    if (s.state.type !== 'Ready') throw moduleErr(SP, 'WorkerIsNotReady')
    unbind(d, session, worker)
    savePool(d, pid, { ...pool.toJSON(), workers: keys(pool.workers).filter((k) => !u8aEq(k, worker)) })
    d.it.workerAssignments.del(d.env.state, worker)
    d.env.deposit(SP, 'PoolWorkerRemoved', { pid, worker })
  },
  'phalaStakePoolv2.setCap': (d, origin, a) => {
    const who = ensureSigned(origin)
    const pid: bigint = a.pid.toBigInt()
    const pool = ensureStakePool(d, pid)
    ensureOwner(pool, who)
    const cap: bigint = a.cap.toBigInt()
    if (cap < pool.basepool.totalValue.toBigInt()) throw moduleErr(SP, 'InadequateCapacity')
    savePool(d, pid, { ...pool.toJSON(), cap })
    d.env.deposit(SP, 'PoolCapacitySet', { pid, cap })
  },
  'phalaStakePoolv2.startComputing': (d, origin, a) => doStart(d, ensureSigned(origin), a.pid.toBigInt(), a.worker.toU8a(), a.stake.toBigInt()),
  'phalaStakePoolv2.stopComputing': (d, origin, a) => doStop(d, ensureSigned(origin), a.pid.toBigInt(), a.worker.toU8a()),
  'phalaStakePoolv2.reclaimPoolWorker': (d, origin, a) => {
    ensureSigned(origin)
    doReclaim(d, a.pid.toBigInt(), a.worker.toU8a(), true)
  },
  'phalaStakePoolv2.restartComputing': (d, origin, a) => {
    const who = ensureSigned(origin)
    const pid: bigint = a.pid.toBigInt()
    const worker: Uint8Array = a.worker.toU8a()
    const stake: bigint = a.stake.toBigInt()
    const pool = ensureStakePool(d, pid)
    ensureOwner(pool, who)
    if (pool.basepool.withdrawQueue.length > 0) throw moduleErr(SP, 'WithdrawQueueNotEmpty')
    doStop(d, who, pid, worker)
    const { orig, slashed } = doReclaim(d, pid, worker, false)
    if (stake <= orig - slashed) throw moduleErr(SP, 'CannotRestartWithLessStake')
    doStart(d, who, pid, worker, stake)
  },
}
