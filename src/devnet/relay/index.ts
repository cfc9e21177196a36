/** The simulated relay chain (built on the chain engine) and its GRANDPA RPC methods. */
export { RelayChain, parasHeadsKey } from './relay.js'
export { addGrandpaMethods } from './grandpa-rpc.js'
