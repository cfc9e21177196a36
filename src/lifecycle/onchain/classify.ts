/**
 * What a failed chain step means for the worker (beyond upstream, which sent every failure to a
 * terminal S_ERROR): the chain's own error name (e.g. `phalaStakePoolv2.WorkerNotRegistered`), and
 * whether time can fix it (retry with backoff) or only the operator can (S_ERROR saying what to do).
 */

export interface Classified {
  /** `section.Name` of the chain error, when the failure came from the chain. */
  name?: string
  /** true: retrying later can succeed; false: only an operator action can help. */
  retry: boolean
  /** The text for lastMessage. */
  text: string
}

/** Errors only the operator can fix, with what to do about each. */
const OPERATOR_ONLY: Record<string, string> = {
  UnauthorizedPoolOwner: 'the pool\'s operator is not the pool owner on chain: set the owner\'s key as the pool operator (UpdatePool), or set realPhalaSs58 to the owner and make the operator its proxy',
  UnauthorizedOperator: 'the worker is registered with another operator than the one signing: check the pool\'s operator and realPhalaSs58, then RefreshRaAndRestartWorker',
  InsufficientStake: 'the stake is below the minimum for this worker\'s score: raise the worker\'s stake (UpdateWorker)',
  TooMuchStake: 'the stake is above the maximum for this worker: lower the worker\'s stake (UpdateWorker)',
  InsufficientFreeStake: 'the pool has not enough free stake: contribute to the pool or lower the worker\'s stake',
  StakeExceedsCapacity: 'the stake exceeds the pool\'s capacity: raise the pool cap or lower the stake',
  CannotRestartWithLessStake: 'a computing worker can only be restarted with a higher stake: raise the worker\'s stake',
  BenchmarkTooLow: 'the worker\'s benchmark score is below the chain\'s minimum: use a faster machine',
  WorkerInAnotherPool: 'the worker is in another pool on chain: remove it from that pool first',
  PoolDoesNotExist: 'no pool has this pid on chain: correct the pool\'s pid (UpdatePool)',
  PoolTypeNotMatch: 'this pid is not a stake pool on chain: correct the pool\'s pid (UpdatePool)',
  WorkersExceedLimit: 'the pool has the most workers the chain allows: use another pool',
  GenesisBlockHashRejected: 'the chain does not accept the worker\'s relay genesis: check the worker\'s chain',
  PRuntimeRejected: 'the chain does not allow this pRuntime version: upgrade the pRuntime',
  NoneAttestationDisabled: 'the chain requires an attestation: run the pRuntime with SGX (not PHALA_DEV_SKIP_RA)',
  WithdrawQueueNotEmpty: 'the pool has pending withdrawals; restart computing once they are served',
}

/** The chain error name in a trader failure text ("phalaStakePoolv2.X: docs (call 1 of 2)"). */
export function chainErrorName(text: string): string | undefined {
  const m = /\b([a-z][A-Za-z0-9]*)\.([A-Z][A-Za-z0-9_]*)\b/.exec(text)
  return m ? `${m[1]}.${m[2]}` : undefined
}

/** Trader refusals that name a pool set-up problem (its text already says what to do). */
const POOL_SETUP = /has no operator key in the lifecycle|is deleted in the lifecycle|ERR_TRADE_OPERATOR|does not decrypt/

export function classifyFailure(what: string, err: unknown): Classified {
  const msg = err instanceof Error ? err.message : String(err)
  if (POOL_SETUP.test(msg)) return { retry: false, text: `${what} was refused by the trader: ${msg}; then RestartWorker.` }
  const name = chainErrorName(msg)
  const short = name?.split('.')[1]
  if (short && OPERATOR_ONLY[short]) {
    return { name, retry: false, text: `${what} failed on chain: ${name}; ${OPERATOR_ONLY[short]}, then RestartWorker.` }
  }
  return { ...(name ? { name } : {}), retry: true, text: `${what} failed: ${name ? `${name} (${msg})` : msg}; retrying.` }
}
