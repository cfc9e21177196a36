/** The simulated relay chain (built on the chain engine) and its GRANDPA RPC methods. */
export { RelayChain, parasHeadsKey, blockHashKey, paraLifecyclesKey, RELAY_KEYS } from './relay.js'
export { addRelayMethods } from './relay-api.js'
export { addGrandpaMethods } from './grandpa-rpc.js'
