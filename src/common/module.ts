import type { Logger, SecretGuard } from './logger.js'

/** A started daemon: the entry calls stop() once on SIGINT/SIGTERM; stop() must be idempotent. */
export interface RunningModule {
  stop(): Promise<void>
}

export interface ModuleContext<C> {
  config: C
  logger: Logger
  guard: SecretGuard
}

export type ModuleStart<C> = (ctx: ModuleContext<C>) => Promise<RunningModule>
