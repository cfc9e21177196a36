/**
 * Rate-limited log lines for events a stranger can trigger at will (bad frames, refused or evicted
 * connections): the first of a kind is written at once, then at most one per interval, carrying the
 * count of those not written since, so a flood cannot fill the disk and none goes uncounted.
 */
import type { Logger } from '../common/logger.js'

export type LimitedLevel = 'info' | 'warn'

export interface LogLimiter {
  /** Write `msg` unless a line of this `kind` was written less than the interval ago; then only count it. */
  log(kind: string, level: LimitedLevel, fields: Record<string, unknown>, msg: string): void
}

export function createLogLimiter(logger: Logger, intervalMs: number, now: () => number = Date.now): LogLimiter {
  const kinds = new Map<string, { at: number; suppressed: number }>()
  return {
    log(kind, level, fields, msg) {
      const t = now()
      const k = kinds.get(kind)
      if (k && t - k.at < intervalMs) {
        k.suppressed++
        return
      }
      const suppressed = k?.suppressed ?? 0
      kinds.set(kind, { at: t, suppressed: 0 })
      logger[level](suppressed > 0 ? { ...fields, suppressed, suppressedSinceMs: t - k!.at } : fields, msg)
    },
  }
}
