import { multiaddr } from '@multiformats/multiaddr'

/** The raw environment, as given to the loader (only src/config reads process.env). */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * One environment variable: its upstream name and default, what it means, how it is parsed.
 * `parse` throws an Error whose message says what is expected; the loader adds the name and value.
 */
export interface VarSpec<T> {
  readonly name: string
  readonly description: string
  /** What a valid value looks like, for errors and the README. */
  readonly expected: string
  /** The default, or a function of the environment (e.g. upstream's NODE_ENV-dependent ones). */
  readonly default: T | ((env: Env) => T)
  /** The default as the README shows it. */
  readonly defaultText: string
  readonly parse: (raw: string) => T
  /** Never printed or logged. */
  readonly secret?: boolean
  /** Declared by upstream but without effect: accepted (and validated) for compatibility. */
  readonly unused?: boolean
}

export class VarError extends Error {}

function def<T>(spec: VarSpec<T>): VarSpec<T> {
  return spec
}

interface Common {
  name: string
  description: string
  secret?: boolean
  unused?: boolean
}

export function str(c: Common & { default: string; defaultText?: string; expected?: string; nonEmpty?: boolean }): VarSpec<string> {
  return def({
    ...c,
    expected: c.expected ?? (c.nonEmpty ? 'a non-empty string' : 'a string'),
    defaultText: c.defaultText ?? (c.default === '' ? '(empty)' : c.default),
    parse: (raw) => {
      const v = raw.trim()
      if (c.nonEmpty && v === '') throw new VarError('expected a non-empty string')
      return v
    },
  })
}

export function optionalStr(c: Common & { expected?: string; minLength?: number }): VarSpec<string | undefined> {
  return def({
    ...c,
    default: undefined,
    defaultText: '(unset)',
    expected: c.expected ?? 'a string',
    parse: (raw) => {
      const v = raw.trim()
      if (v === '') return undefined
      if (c.minLength !== undefined && v.length < c.minLength) throw new VarError(`expected at least ${c.minLength} characters`)
      return v
    },
  })
}

/** HTTP basic-auth credentials as a `user:password` variable gives them. */
export interface BasicAuthCredentials {
  user: string
  password: string
}

const BASIC_AUTH_EXPECTED = 'user:password (a user name without a colon, a colon, a password of at least 8 characters)'

/**
 * `user:password` for HTTP basic auth, off when unset; secret (never printed). One kind for every
 * such variable (the monitor's, the queue board's), so they accept and reject the same values.
 */
export function basicAuth(c: Omit<Common, 'secret'>): VarSpec<BasicAuthCredentials | undefined> {
  return def({
    ...c,
    secret: true,
    default: undefined,
    defaultText: '(unset)',
    expected: BASIC_AUTH_EXPECTED,
    parse: (raw) => {
      const v = raw.trim()
      if (v === '') return undefined
      const at = v.indexOf(':')
      if (at <= 0) throw new VarError(`expected ${BASIC_AUTH_EXPECTED}; set ${c.name}=user:password or leave it unset for no authentication`)
      const password = v.slice(at + 1)
      if (password.length < 8) throw new VarError(`expected a password of at least 8 characters after the colon; set ${c.name}=user:password with a longer password`)
      return { user: v.slice(0, at), password }
    },
  })
}

export function int(c: Common & { default: number | ((env: Env) => number); defaultText?: string; min: number; max: number; unit?: string }): VarSpec<number> {
  const unit = c.unit ? ` (${c.unit})` : ''
  return def({
    ...c,
    expected: `an integer from ${c.min} to ${c.max}${unit}`,
    defaultText: c.defaultText ?? String(c.default),
    parse: (raw) => {
      const v = raw.trim()
      if (!/^-?\d+$/.test(v)) throw new VarError(`expected an integer from ${c.min} to ${c.max}${unit}`)
      const n = Number(v)
      if (!Number.isSafeInteger(n) || n < c.min || n > c.max) throw new VarError(`expected an integer from ${c.min} to ${c.max}${unit}`)
      return n
    },
  })
}

/** An integer that may be left unset (a feature that is off until given, e.g. a metrics port). */
export function optionalInt(c: Common & { min: number; max: number; unit?: string; unsetText?: string }): VarSpec<number | undefined> {
  const n = int({ ...c, default: 0 })
  return def({ ...c, default: undefined, defaultText: c.unsetText ?? '(unset)', expected: n.expected, parse: n.parse })
}

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])

/** Upstream reads a flag as true only for "true"; we accept the usual spellings and reject nonsense. */
export function flag(c: Common & { default?: boolean }): VarSpec<boolean> {
  const d = c.default ?? false
  return def({
    ...c,
    default: d,
    defaultText: String(d),
    expected: 'true or false (also 1/0, yes/no, on/off)',
    parse: (raw) => {
      const v = raw.trim().toLowerCase()
      if (TRUE.has(v)) return true
      if (FALSE.has(v)) return false
      throw new VarError('expected true or false (also 1/0, yes/no, on/off)')
    },
  })
}

export function url(c: Common & { default: string; protocols: string[] }): VarSpec<string>
export function url(c: Common & { default?: undefined; protocols: string[] }): VarSpec<string | undefined>
export function url(c: Common & { default?: string; protocols: string[] }): VarSpec<string | undefined> {
  const expected = `a URL with scheme ${c.protocols.map((p) => p.replace(/:$/, '')).join(' or ')} (e.g. ${c.protocols[0]}//127.0.0.1:${c.protocols[0]!.startsWith('redis') ? 6379 : 9944})`
  return def({
    ...c,
    default: c.default,
    defaultText: c.default ?? '(unset)',
    expected,
    parse: (raw) => {
      const v = raw.trim()
      if (v === '') return c.default
      let u: URL
      try {
        u = new URL(v)
      } catch {
        throw new VarError(`expected ${expected}`)
      }
      if (!c.protocols.includes(u.protocol) || u.hostname === '') throw new VarError(`expected ${expected}`)
      return v
    },
  })
}

function parseMultiaddrs(raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const item of items) {
    try {
      multiaddr(item)
    } catch (e) {
      throw new VarError(`"${item}" is not a multiaddr (${(e as Error).message}); expected comma-separated multiaddrs like /ip4/0.0.0.0/tcp/28888`)
    }
  }
  return items
}

export function multiaddrs(c: Common & { default: string[]; defaultText?: string }): VarSpec<string[]> {
  return def({
    ...c,
    expected: 'comma-separated multiaddrs, e.g. /ip4/0.0.0.0/tcp/28888,/ip6/::/tcp/28889',
    defaultText: c.defaultText ?? (c.default.length ? c.default.join(',') : '(empty)'),
    parse: parseMultiaddrs,
  })
}

/** A multiaddr list whose default is another variable's value (upstream's boot-node fallback). */
export function multiaddrsDefaultingTo(c: Common & { fallback: VarSpec<string[]> }): VarSpec<string[]> {
  return def({
    ...c,
    expected: 'comma-separated multiaddrs, e.g. /ip4/10.0.0.2/tcp/28888/p2p/Qm…',
    default: (env) => {
      const raw = env[c.fallback.name]
      return raw !== undefined && raw.trim() !== '' ? parseMultiaddrs(raw) : (c.fallback.default as string[])
    },
    defaultText: `the value of ${c.fallback.name}`,
    parse: parseMultiaddrs,
  })
}

export function oneOf<T extends string>(c: Common & { default: T; values: readonly T[] }): VarSpec<T> {
  return def({
    ...c,
    expected: `one of ${c.values.join(', ')}`,
    defaultText: c.default,
    parse: (raw) => {
      const v = raw.trim()
      if (!(c.values as readonly string[]).includes(v)) throw new VarError(`expected one of ${c.values.join(', ')}`)
      return v as T
    },
  })
}

export type Schema = Readonly<Record<string, VarSpec<unknown>>>
export type ConfigOf<S extends Schema> = { readonly [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never }
