/** Errors that reach a user: a stable code, a message that says what was wrong and what to do. */
export class PrbError extends Error {
  override name = 'PrbError'
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A bad configuration value: start-up stops with status 2. */
export class ConfigError extends PrbError {
  override name = 'ConfigError'
  constructor(message: string) {
    super('ERR_CONFIG', message)
  }
}

export class TimeoutError extends PrbError {
  override name = 'TimeoutError'
  constructor(message: string) {
    super('ERR_TIMEOUT', message)
  }
}
