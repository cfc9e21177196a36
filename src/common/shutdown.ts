import type { Logger } from './logger.js'
import type { RunningModule } from './module.js'

export const SHUTDOWN_TIMEOUT_MS = 10_000

/** What stops a daemon: the two signals, and the end of the IPC channel of a supervisor that died. */
export type StopEvent = 'SIGINT' | 'SIGTERM' | 'disconnect'

export interface ShutdownDeps {
  logger: Logger
  exit: (code: number) => void
  /** Where signals come from; `process` in production, an EventEmitter in tests. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>
  /** Default SIGINT and SIGTERM; the entry adds `disconnect` when a supervisor started it over IPC. */
  events?: StopEvent[]
  /** Called once, at the first signal (the entry aborts a start-up in progress with it). */
  onStop?: (event: StopEvent) => void
  timeoutMs?: number
}

/**
 * Installed before start-up begins, so a signal at any moment stops cleanly: the first one stops
 * the module once it has started (at once if it has), and exits 0; exit 1 when stopping fails or
 * takes longer than the timeout (counted from when stop() begins). A second signal exits at once.
 * A start-up that fails is not this function's to report: `starting` rejecting exits nothing here.
 */
export function installShutdown(starting: RunningModule | Promise<RunningModule>, deps: ShutdownDeps): () => void {
  let stopping = false
  let started = false
  const running = Promise.resolve(starting)
  running.then(() => (started = true), () => undefined)
  const onEvent = (event: StopEvent) => {
    if (stopping) {
      deps.logger.warn({ signal: event }, 'Second signal: exiting now without waiting for a clean stop.')
      deps.exit(1)
      return
    }
    stopping = true
    const timeoutMs = deps.timeoutMs ?? SHUTDOWN_TIMEOUT_MS
    if (started) deps.logger.info({ signal: event, timeoutMs }, 'Shutting down; send the signal again to exit at once.')
    else deps.logger.info({ signal: event, timeoutMs }, 'Shutting down during start-up: stopping what has started; send the signal again to exit at once.')
    deps.onStop?.(event)
    running.then(
      (r) => {
        const timer = setTimeout(() => {
          deps.logger.error({ timeoutMs }, 'Clean stop took too long; exiting.')
          deps.exit(1)
        }, timeoutMs)
        r.stop().then(
          () => {
            clearTimeout(timer)
            deps.logger.info('Stopped cleanly.')
            deps.exit(0)
          },
          (err: unknown) => {
            clearTimeout(timer)
            deps.logger.error({ err }, 'Stop failed.')
            deps.exit(1)
          },
        )
      },
      () => undefined,
    )
  }
  const events = deps.events ?? ['SIGINT', 'SIGTERM']
  const handlers = events.map((e) => [e, () => onEvent(e)] as const)
  for (const [e, h] of handlers) deps.signals.on(e as NodeJS.Signals, h)
  return () => {
    for (const [e, h] of handlers) deps.signals.off(e as NodeJS.Signals, h)
  }
}
