import { PrbError } from '../common/errors.js'

/** Roles as in upstream's `enum WalkieRoles` (message.proto). */
export const WalkieRoles = {
  WR_CLIENT: 0,
  WR_DATA_PROVIDER_INT: 1,
  WR_DATA_PROVIDER_EXT: 2,
  WR_LIFECYCLE_MANAGER: 3,
  WR_TRADER: 4,
} as const
export type WalkieRoleName = keyof typeof WalkieRoles
export type WalkieRole = WalkieRoleName | (typeof WalkieRoles)[WalkieRoleName]

export function roleName(role: WalkieRole | number | string): WalkieRoleName {
  if (typeof role === 'string' && role in WalkieRoles) return role as WalkieRoleName
  const found = (Object.keys(WalkieRoles) as WalkieRoleName[]).find((k) => WalkieRoles[k] === role)
  if (!found) throw new WalkieError('UNKNOWN', `unknown Walkie role ${JSON.stringify(role)}; expected one of ${Object.keys(WalkieRoles).join(', ')}`, 'ERR_WALKIE_ROLE')
  return found
}

export function roleNumber(role: WalkieRole | number | string): number {
  return WalkieRoles[roleName(role)]
}

/** Upstream's `prb.error.ResponseErrorType`. */
export const ResponseErrorType = {
  UNKNOWN: 0,
  SERVER: 1,
  NOT_FOUND: 2,
  DUPLICATED: 3,
  UNAUTHORIZED: 4,
} as const
export type ResponseErrorTypeName = keyof typeof ResponseErrorType

export function errorTypeName(t: number | string | undefined | null): ResponseErrorTypeName {
  if (typeof t === 'string' && t in ResponseErrorType) return t as ResponseErrorTypeName
  const found = (Object.keys(ResponseErrorType) as ResponseErrorTypeName[]).find((k) => ResponseErrorType[k] === t)
  return found ?? 'UNKNOWN'
}

/**
 * Upstream's PrbError: a ResponseErrorType plus a message. A handler throws it to answer with that
 * type; a client gets it back for a remote error (`remote = true`) or a local failure (timeout,
 * unreachable peer, bad frame: `remote = false`, with a specific `code`).
 */
export class WalkieError extends PrbError {
  override name = 'WalkieError'
  readonly type: ResponseErrorTypeName
  readonly remote: boolean
  constructor(type: ResponseErrorTypeName, message: string, code?: string, options?: { cause?: unknown; remote?: boolean }) {
    super(code ?? `ERR_WALKIE_${type}`, message, options)
    this.type = type
    this.remote = options?.remote ?? false
  }

  /** As upstream names it: `PrbError(NOT_FOUND)`. */
  get errorName(): string {
    return `PrbError(${this.type})`
  }

  override toString(): string {
    return `${this.errorName}: ${this.message}`
  }
}

/** Key file names upstream uses under PHALA_PEER_ID_PREFIX. */
export type WalkieKeyName = 'DATA_PROVIDER' | 'LIFECYCLE' | 'TRADE'

/** What a peer told us in Hello, plus what we observed. */
export interface WalkiePeer {
  peerId: string
  role: WalkieRoleName
  hostname: string
  chainIdentity: string
  bridgeIdentity: string
  /** Chain and bridge identity match ours (or the node accepts any identity). */
  compatible: boolean
  /** Remote multiaddrs of the open connections (empty when disconnected). */
  addresses: string[]
  /** The remote IP of the first open connection, as upstream used for the blob server. */
  host?: string
  connected: boolean
  firstSeen: number
  lastSeen: number
  /** Last ping round trip, ms. */
  rttMs?: number
}

export type WalkiePeerEvent =
  | { type: 'up'; peer: WalkiePeer }
  | { type: 'update'; peer: WalkiePeer }
  | { type: 'down'; peer: WalkiePeer; reason: string }
