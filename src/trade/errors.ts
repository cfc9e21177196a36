/** The trader's errors and the classification of the node's answers to a submission (chain.md §8). */
import { PrbError } from '../common/errors.js'

export class TradeError extends PrbError {
  override name = 'TradeError'
}

/**
 * What a submission error means for the batch:
 * - `stale`: 1010 outdated / future nonce: our view of the nonce is wrong; re-read it and sign again (once);
 * - `occupied`: 1014 priority too low: an earlier extrinsic with this nonce is still in the pool; wait for it;
 * - `banned`: 1012 temporarily banned: back off, then find out on chain what became of it;
 * - `known`: 1013 already imported: this very extrinsic is in the pool; follow it;
 * - `fatal`: the extrinsic can never be valid as it is (bad proof, fees, format): fail its jobs;
 * - `transport`: no answer (socket dropped, deadline): it may or may not have reached the node.
 */
export type SubmitErrorKind = 'stale' | 'occupied' | 'banned' | 'known' | 'fatal' | 'transport'

export function rpcCodeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; message?: unknown }
  if (typeof e?.code === 'number') return e.code
  const m = /^(?:[\w.]+: )?(-?\d{3,5}):/.exec(String(e?.message ?? ''))
  return m ? Number(m[1]) : undefined
}

export function classifySubmitError(err: unknown): SubmitErrorKind {
  const code = rpcCodeOf(err)
  const text = String((err as Error)?.message ?? err)
  switch (code) {
    case 1010:
      if (/outdated|future|stale/i.test(text)) return 'stale'
      return 'fatal'
    case 1014: return 'occupied'
    case 1012: return 'banned'
    case 1013: return 'known'
    case 1001: case 1002: case 1011: case 1019: return 'fatal'
    case 1016: case 1021: return 'occupied'
    default: return 'transport'
  }
}
