/** Loggers for tests: one that keeps its JSON lines for assertions, one that writes nowhere. */
import { Writable } from 'node:stream'
import { createLogger, type Logger, type LogLevel, type SecretGuard } from '../../src/common/logger.js'

export interface MemoryLogger {
  logger: Logger
  /** Every record written so far, parsed. */
  lines: () => Array<Record<string, any>>
  /** Everything written so far, as written (for "this text appears nowhere" checks). */
  text: () => string
}

/** A logger whose JSON lines are kept; `guard` as the entry passes it, none by default. */
export function memoryLogger(level: LogLevel = 'info', guard?: SecretGuard): MemoryLogger {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk))
      cb()
    },
  })
  return {
    logger: createLogger({ level, stream, ...(guard ? { guard } : {}) }),
    lines: () => chunks.flatMap((c) => c.split('\n').filter(Boolean).map((l) => JSON.parse(l))),
    text: () => chunks.join(''),
  }
}

/** A logger that writes nowhere (level fatal). */
export function quietLogger(): Logger {
  return createLogger({ level: 'fatal', stream: new Writable({ write: (_c, _e, cb) => cb() }) })
}
