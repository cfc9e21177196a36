/** pallet_utility (index 3): batch / batch_all / force_batch with Substrate's events (chain.md §2.5). */
import type { Call } from '@polkadot/types/interfaces'
import { BadOrigin, moduleErrRaw } from '../core.js'
import { KHALA_INDICES } from '../phala-pallets-meta.js'
import { toDispatchError, type Handler } from '../dispatch.js'

/** batched_calls_limit from the shipped Utility constant (0x2aaa = 10922). */
export const BATCHED_CALLS_LIMIT = 10922

function calls(a: Record<string, unknown>): Call[] {
  const list = a.calls as unknown as Call[]
  if (list.length > BATCHED_CALLS_LIMIT) throw moduleErrRaw(KHALA_INDICES.Utility, 0, 'Utility.TooManyCalls')
  return [...list]
}

export const utilityHandlers: Record<string, Handler> = {
  'utility.batch': (d, origin, a) => {
    if (origin.kind === 'none') throw BadOrigin()
    const list = calls(a)
    for (let i = 0; i < list.length; i++) {
      try {
        d.dispatch(origin, list[i])
      } catch (e) {
        d.env.deposit('Utility', 'BatchInterrupted', { index: i, error: toDispatchError(e).error })
        return
      }
      d.env.deposit('Utility', 'ItemCompleted')
    }
    d.env.deposit('Utility', 'BatchCompleted')
  },
  'utility.batchAll': (d, origin, a) => {
    if (origin.kind === 'none') throw BadOrigin()
    // The handler already runs in a storage layer: an error here drops every item's effects.
    for (const c of calls(a)) {
      d.dispatch(origin, c)
      d.env.deposit('Utility', 'ItemCompleted')
    }
    d.env.deposit('Utility', 'BatchCompleted')
  },
  'utility.forceBatch': (d, origin, a) => {
    if (origin.kind === 'none') throw BadOrigin()
    let failed = false
    for (const c of calls(a)) {
      try {
        d.dispatch(origin, c)
        d.env.deposit('Utility', 'ItemCompleted')
      } catch (e) {
        failed = true
        d.env.deposit('Utility', 'ItemFailed', { error: toDispatchError(e).error })
      }
    }
    d.env.deposit('Utility', failed ? 'BatchCompletedWithErrors' : 'BatchCompleted')
  },
}
