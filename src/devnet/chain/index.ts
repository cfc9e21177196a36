/** The chain engine: block store, JSON-RPC server and the standard chain methods, the para chain. */
export { ChainStore } from './chain.js'
export type { BlockRecord } from './chain.js'
export { addChainMethods } from './methods.js'
export type { ChainInfo } from './methods.js'
export { ParaChain, mqTag } from './para.js'
export { createRpcServer } from './rpc-server.js'
export type { MethodTable, RpcServer } from './rpc-server.js'
export { RpcError } from './rpc-error.js'
