export { createWalkie, DEFAULT_LISTEN_ADDRESSES } from './node.js'
export type { Walkie, WalkieInit, WalkieDeps, WalkieIdentityInit, WalkieConnection, CallOptions } from './node.js'
export { loadOrCreateIdentity, ephemeralIdentity, keyFilePath, IdentityError } from './identity.js'
export type { WalkieIdentity } from './identity.js'
export { PeerRegistry } from './registry.js'
export { RPC_PROTOCOL, DEFAULT_MAX_MESSAGE_BYTES } from './rpc.js'
export type { RpcHandler, RpcContext, WalkieMethod, WalkieMessage } from './rpc.js'
export { swarmKeyFromSecret } from './psk.js'
export {
  WalkieRoles, roleName, roleNumber, ResponseErrorType, errorTypeName, WalkieError,
} from './types.js'
export type {
  WalkieRole, WalkieRoleName, WalkieKeyName, WalkiePeer, WalkiePeerEvent, ResponseErrorTypeName,
} from './types.js'
export type * from './messages.js'
