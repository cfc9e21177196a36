import type { Logger, SecretGuard } from './logger.js'

/** A started daemon: the entry calls stop() once on SIGINT/SIGTERM; stop() must be idempotent. */
export interface RunningModule {
  stop(): Promise<void>
}

export interface ModuleContext<C> {
  config: C
  logger: Logger
  guard: SecretGuard
  /**
   * Aborted by the first SIGINT/SIGTERM, also while start() runs: a start may give up early on it
   * (and reject); one that ignores it is stopped as soon as it resolves.
   */
  signal?: AbortSignal
}

export type ModuleStart<C> = (ctx: ModuleContext<C>) => Promise<RunningModule>
