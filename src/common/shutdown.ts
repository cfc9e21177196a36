import type { Logger } from './logger.js'
import type { RunningModule } from './module.js'

export const SHUTDOWN_TIMEOUT_MS = 10_000

export interface ShutdownDeps {
  logger: Logger
  exit: (code: number) => void
  /** Where signals come from; `process` in production, an EventEmitter in tests. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>
  timeoutMs?: number
}

/**
 * SIGINT/SIGTERM: stop the module once (servers, databases, connections) and exit 0; exit 1 when
 * stopping fails or takes longer than the timeout. A second signal exits at once.
 */
export function installShutdown(running: RunningModule, deps: ShutdownDeps): () => void {
  let stopping = false
  const onSignal = (signal: string) => {
    if (stopping) {
      deps.logger.warn({ signal }, 'Second signal: exiting now without waiting for a clean stop.')
      deps.exit(1)
      return
    }
    stopping = true
    const timeoutMs = deps.timeoutMs ?? SHUTDOWN_TIMEOUT_MS
    deps.logger.info({ signal, timeoutMs }, 'Shutting down; send the signal again to exit at once.')
    const timer = setTimeout(() => {
      deps.logger.error({ timeoutMs }, 'Clean stop took too long; exiting.')
      deps.exit(1)
    }, timeoutMs)
    running.stop().then(
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
  }
  const onInt = () => onSignal('SIGINT')
  const onTerm = () => onSignal('SIGTERM')
  deps.signals.on('SIGINT', onInt)
  deps.signals.on('SIGTERM', onTerm)
  return () => {
    deps.signals.off('SIGINT', onInt)
    deps.signals.off('SIGTERM', onTerm)
  }
}
