/**
 * Checks of every value an operator sends, before anything is written (upstream checked nothing:
 * §4.4). A problem names the item (its index and name) and the field; a request with any problem
 * is refused whole.
 */
import { decodeAddress } from '@polkadot/util-crypto'
import { PrbError } from '../common/errors.js'

/** 1 PHA in plancks: upstream's minimum stake (BN_1PHA). */
export const MIN_STAKE = 10n ** 12n
const U64_MAX = 2n ** 64n - 1n
const U128_MAX = 2n ** 128n - 1n
const NAME_MAX = 255
/** Problems listed in one error message; the rest are counted. */
const LISTED = 20

export type ProblemKind = 'invalid' | 'not_found' | 'duplicated' | 'refused'

export interface Problem {
  /** e.g. `workers[3].stake` */
  path: string
  /** The item's name, when it has one. */
  label?: string
  message: string
  kind: ProblemKind
}

export class RequestError extends PrbError {
  override name = 'LifecycleRequestError'
  readonly problems: Problem[]
  constructor(readonly method: string, problems: Problem[], suffix = 'nothing was written') {
    const listed = problems.slice(0, LISTED).map((p) => `${withLabel(p)}: ${p.message}`)
    const more = problems.length > LISTED ? `; … and ${problems.length - LISTED} more` : ''
    super('ERR_LIFECYCLE_REQUEST', `${method} refused, ${suffix}: ${listed.join('; ')}${more}`)
    this.problems = problems
  }

  /** Upstream's ResponseErrorType for this error: the one kind all problems share, else SERVER. */
  get responseType(): 'NOT_FOUND' | 'DUPLICATED' | 'SERVER' {
    const kinds = new Set(this.problems.map((p) => p.kind))
    if (kinds.size === 1 && kinds.has('not_found')) return 'NOT_FOUND'
    if (kinds.size === 1 && kinds.has('duplicated')) return 'DUPLICATED'
    return 'SERVER'
  }
}

/** `workers[3].stake` with label w3 → `workers[3] ("w3").stake`: the item, then the field. */
function withLabel(p: Problem): string {
  if (p.label === undefined) return p.path
  const m = /^([^.]*\])(.*)$/.exec(p.path)
  return m ? `${m[1]} (${JSON.stringify(p.label)})${m[2]}` : `${p.path} (${JSON.stringify(p.label)})`
}

/** Collects problems while a request is checked. */
export class Problems {
  readonly list: Problem[] = []
  add(path: string, label: string | undefined, message: string, kind: ProblemKind = 'invalid'): void {
    this.list.push({ path, ...(label !== undefined && label !== '' ? { label } : {}), message, kind })
  }

  throwIfAny(method: string): void {
    if (this.list.length > 0) throw new RequestError(method, this.list)
  }
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? v : String(v)
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s)
}

export function checkName(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return 'is empty; give a name (unique among them)'
  if (v !== v.trim()) return `${show(v)} has leading or trailing spaces; remove them`
  if (v.length > NAME_MAX) return `is ${v.length} characters long; at most ${NAME_MAX}`
  return undefined
}

/** uint64 as the decoder gives it (a decimal string), or a number from JSON. */
export function normalizeU64(v: unknown): string | undefined {
  const s = typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : typeof v === 'string' ? v.trim() : ''
  if (!/^\d+$/.test(s)) return undefined
  const n = BigInt(s)
  return n <= U64_MAX ? n.toString() : undefined
}

export function checkSs58(v: string): string | undefined {
  try {
    const pk = decodeAddress(v)
    if (pk.length !== 32) return `${show(v)} is not an account address (32-byte ss58); give the pool owner's address, or "" when the operator owns the pool`
    return undefined
  } catch {
    return `${show(v)} is not a valid ss58 address (bad characters or checksum); give the pool owner's address, or "" when the operator owns the pool`
  }
}

export function checkEndpoint(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return 'is empty; give the pRuntime URL, e.g. "http://10.0.0.5:8000"'
  let url: URL
  try {
    url = new URL(v)
  } catch {
    return `${show(v)} is not a URL; give the pRuntime URL, e.g. "http://10.0.0.5:8000"`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${show(v)} uses ${url.protocol.replace(/:$/, '')}; pRuntime speaks http or https, e.g. "http://10.0.0.5:8000"`
  if (!url.hostname) return `${show(v)} has no host; e.g. "http://10.0.0.5:8000"`
  if (url.username || url.password) return 'carries a user name or password; pRuntime takes none (the value is not shown)'
  return undefined
}

export function checkStake(v: unknown): string | undefined {
  const s = typeof v === 'string' ? v : ''
  if (!/^\d+$/.test(s)) return `${show(v ?? '')} is not an integer number of plancks; give the stake in plancks as a decimal string, e.g. "4000000000000000" for 4000 PHA (1 PHA = 10^12 plancks)`
  const n = BigInt(s)
  if (n < MIN_STAKE) return `${show(s)} plancks is below 1 PHA (1000000000000 plancks), the least a worker can stake; e.g. "4000000000000000" for 4000 PHA`
  if (n > U128_MAX) return `${show(s)} does not fit a u128 balance`
  return undefined
}
