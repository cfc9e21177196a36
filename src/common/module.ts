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

/**
 * What a daemon started, stopped in reverse order: each cleanup runs once, and one that fails is
 * logged (`stopping <what> failed`) without keeping the others from running.
 */
export interface CleanupStack {
  push(what: string, fn: () => Promise<unknown>): void
  /**
   * `make()` a component and start it; a failed start stops what was made and rethrows, a good one
   * pushes its stop. Safe inside a retry: each attempt leaves nothing behind.
   */
  start<T extends { start(): Promise<unknown>; stop(): Promise<unknown> }>(what: string, make: () => T): Promise<T>
  /** Runs the cleanups pushed so far, last first, and forgets them. */
  run(): Promise<void>
  /**
   * A daemon's stop(), idempotent: aborts `abort` (start-up steps give up), waits for the boot to
   * settle, runs the cleanups and logs `<name> stopped`. Every call returns the same promise.
   */
  stopper(o: { name: string; abort: AbortController; booted: () => Promise<unknown> | undefined }): () => Promise<void>
}

export function cleanupStack(log: Pick<Logger, 'warn' | 'info'>): CleanupStack {
  const cleanups: Array<[string, () => Promise<unknown>]> = []
  const stack: CleanupStack = {
    push: (what, fn) => void cleanups.push([what, fn]),
    async start(what, make) {
      const c = make()
      try {
        await c.start()
      } catch (err) {
        await c.stop().catch(() => undefined)
        throw err
      }
      cleanups.push([what, () => c.stop()])
      return c
    },
    async run() {
      for (const [what, fn] of cleanups.splice(0).reverse()) {
        try {
          await fn()
        } catch (err) {
          log.warn({ err, what }, `stopping ${what} failed`)
        }
      }
    },
    stopper({ name, abort, booted }) {
      let stopping: Promise<void> | undefined
      return () => {
        stopping ??= (async () => {
          abort.abort()
          await booted()?.catch(() => undefined)
          await stack.run()
          log.info(`${name} stopped`)
        })()
        return stopping
      }
    },
  }
  return stack
}
