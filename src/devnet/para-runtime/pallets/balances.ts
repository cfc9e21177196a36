/** pallet_balances (index 40) over System.Account: transfers, fee withdrawal, reserves. */
import { u8aEq } from '@polkadot/util'
import { DispatchErr, moduleErrRaw, type Env } from '../core.js'
import type { Items } from '../items.js'
import { EXISTENTIAL_DEPOSIT } from '../metadata.js'
import { KHALA_INDICES } from '../phala-pallets-meta.js'
import { IS_NEW_LOGIC } from '../genesis.js'

export interface AccountData { nonce: number; consumers: number; providers: number; sufficients: number; free: bigint; reserved: bigint; frozen: bigint }

const tokenErr = (e: 'FundsUnavailable' | 'BelowMinimum' | 'NotExpendable'): DispatchErr => new DispatchErr({ Token: e }, `Token.${e}`)
export const balancesErr = (name: 'InsufficientBalance' | 'Expendability', idx: number): DispatchErr => moduleErrRaw(KHALA_INDICES.Balances, idx, `Balances.${name}`)

export function readAccount(env: Env, it: Items, who: Uint8Array): AccountData | undefined {
  const a = it.account.get(env.state, who)
  if (!a) return undefined
  return {
    nonce: a.nonce.toNumber(), consumers: a.consumers.toNumber(), providers: a.providers.toNumber(), sufficients: a.sufficients.toNumber(),
    free: a.data.free.toBigInt(), reserved: a.data.reserved.toBigInt(), frozen: a.data.frozen.toBigInt(),
  }
}

export function writeAccount(env: Env, it: Items, who: Uint8Array, a: AccountData): void {
  it.account.put(env.state, who, {
    nonce: a.nonce, consumers: a.consumers, providers: a.providers, sufficients: a.sufficients,
    data: { free: a.free, reserved: a.reserved, frozen: a.frozen, flags: IS_NEW_LOGIC },
  })
}

function adjustIssuance(env: Env, it: Items, delta: bigint): void {
  const cur = it.totalIssuance.get(env.state)
  it.totalIssuance.put(env.state, (cur ? cur.toBigInt() : 0n) + delta)
}

/** ChargeTransactionPayment's withdrawal (KeepAlive), burned: Balances.Withdraw. */
export function withdrawFee(env: Env, it: Items, who: Uint8Array, fee: bigint): void {
  const a = readAccount(env, it, who)
  if (!a || a.free < fee + EXISTENTIAL_DEPOSIT) throw new Error('fee withdrawal after a passed payment check')
  a.free -= fee
  writeAccount(env, it, who, a)
  adjustIssuance(env, it, -fee)
  env.deposit('Balances', 'Withdraw', { who, amount: fee })
}

export function incNonce(env: Env, it: Items, who: Uint8Array): void {
  const a = readAccount(env, it, who)
  if (!a) throw new Error('nonce of a missing account')
  a.nonce += 1
  writeAccount(env, it, who, a)
}

/** fungible::Mutate::transfer with Preservation::Preserve (keepAlive) or Expendable. */
export function transfer(env: Env, it: Items, from: Uint8Array, to: Uint8Array, value: bigint, keepAlive: boolean): void {
  const src = readAccount(env, it, from)
  if (!src || src.free - src.frozen < value) throw tokenErr('FundsUnavailable')
  const remaining = src.free - value
  const reaps = remaining < EXISTENTIAL_DEPOSIT
  if (reaps && keepAlive) throw tokenErr('NotExpendable')
  if (reaps && (src.consumers > 0 || src.reserved > 0)) throw tokenErr('NotExpendable')
  if (u8aEq(from, to) || value === 0n) {
    env.deposit('Balances', 'Transfer', { from, to, amount: value })
    return
  }
  const dst = readAccount(env, it, to)
  if (!dst && value < EXISTENTIAL_DEPOSIT) throw tokenErr('BelowMinimum')
  src.free = remaining
  if (reaps) {
    it.account.del(env.state, from)
    env.deposit('System', 'KilledAccount', { account: from })
    if (remaining > 0n) {
      adjustIssuance(env, it, -remaining)
      env.deposit('Balances', 'DustLost', { account: from, amount: remaining })
    }
  } else {
    writeAccount(env, it, from, src)
  }
  if (dst) {
    dst.free += value
    writeAccount(env, it, to, dst)
  } else {
    writeAccount(env, it, to, { nonce: 0, consumers: 0, providers: 1, sufficients: 0, free: value, reserved: 0n, frozen: 0n })
    env.deposit('System', 'NewAccount', { account: to })
    env.deposit('Balances', 'Endowed', { account: to, freeBalance: value })
  }
  env.deposit('Balances', 'Transfer', { from, to, amount: value })
}

export function reserve(env: Env, it: Items, who: Uint8Array, amount: bigint): void {
  if (amount === 0n) return
  const a = readAccount(env, it, who)
  if (!a || a.free - amount < EXISTENTIAL_DEPOSIT) throw balancesErr('InsufficientBalance', 2)
  a.free -= amount
  a.reserved += amount
  writeAccount(env, it, who, a)
  env.deposit('Balances', 'Reserved', { who, amount })
}

/** MultiAddress -> AccountId (only Id and Address32 resolve; the devnet has no indices). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function lookup(addr: any): Uint8Array {
  if (addr.type === 'Id' || addr.type === 'Address32') return addr.value.toU8a()
  throw new DispatchErr({ CannotLookup: null }, 'CannotLookup')
}
