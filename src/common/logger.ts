import bunyan from 'bunyan'
import { Writable } from 'node:stream'

export type Logger = bunyan
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

const REDACTED = '[REDACTED]'
// Field names whose values are secrets wherever they appear in a log record.
const SECRET_FIELD = /^(mnemonic|seed|suri|secret|password|passphrase|psk|privkey|privatekey|private_key|secretkey|secret_key|operator_?key|identitykey|identity_key)$/i

/**
 * Secrets known at run time (operator mnemonics, keys from the environment). The logger's
 * output stream replaces every occurrence of a registered secret, so a secret that slips into a
 * message or an error text still never reaches a log line.
 */
export class SecretGuard {
  readonly #secrets = new Set<string>()

  add(secret: string | undefined | null): void {
    if (!secret) return
    const s = secret.trim()
    // Very short strings would redact innocent text and are no real secret.
    if (s.length >= 8) this.#secrets.add(s)
    if (secret.length >= 8) this.#secrets.add(secret)
  }

  redact(text: string): string {
    let out = text
    for (const s of this.#secrets) {
      if (out.includes(s)) out = out.split(s).join(REDACTED)
      // A secret may appear JSON-escaped inside a serialised line.
      const escaped = JSON.stringify(s).slice(1, -1)
      if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(REDACTED)
    }
    return out
  }

  get size(): number {
    return this.#secrets.size
  }
}

/** Replace values of secret-named fields, at any depth, before bunyan serialises the record. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value
  if (value instanceof Error || Buffer.isBuffer(value) || value instanceof Uint8Array) return value
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_FIELD.test(k) ? REDACTED : redactFields(v, depth + 1)
  }
  return out
}

/** Errors with their cause chain and any code, so `{ err }` never logs as `{}`. */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err
  const base = bunyan.stdSerializers.err(err) as Record<string, unknown>
  const out: Record<string, unknown> = { ...base }
  const code = (err as { code?: unknown }).code
  if (code !== undefined) out.code = code
  if (err.cause !== undefined && depth < 5) out.cause = serializeError(err.cause, depth + 1)
  return out
}

export interface LoggerOptions {
  level: LogLevel
  /** Where JSON lines go; stdout by default. Tests pass a collecting stream. */
  stream?: NodeJS.WritableStream
  guard?: SecretGuard
  fields?: Record<string, unknown>
}

/** The one logger factory: bunyan logger `prb`, JSON lines, secrets kept out of every line. */
export function createLogger(opts: LoggerOptions): Logger {
  const guard = opts.guard ?? new SecretGuard()
  const target = opts.stream ?? process.stdout
  const guarded = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const line = guard.redact(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))
      target.write(line)
      cb()
    },
  })
  const fieldSerializers: Record<string, bunyan.Serializer> = {}
  for (const name of ['mnemonic', 'seed', 'suri', 'secret', 'password', 'psk', 'privateKey', 'identityKey']) {
    fieldSerializers[name] = () => REDACTED
  }
  return bunyan.createLogger({
    name: 'prb',
    level: opts.level,
    streams: [{ level: opts.level, stream: guarded }],
    serializers: {
      ...bunyan.stdSerializers,
      ...fieldSerializers,
      err: (e: unknown) => serializeError(e),
      error: (e: unknown) => serializeError(e),
      cause: (e: unknown) => serializeError(e),
      req: (r: unknown) => redactFields(r),
      params: (p: unknown) => redactFields(p),
      config: (c: unknown) => redactFields(c),
    },
    ...(opts.fields ?? {}),
  })
}

/** A child logger for one component of a module: `{ module, component }` on every line. */
export function componentLogger(parent: Logger, component: string, fields: Record<string, unknown> = {}): Logger {
  return parent.child({ component, ...fields })
}
