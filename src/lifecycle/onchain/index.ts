/** The lifecycle's chain steps (#14): the on-chain view, the egress relay, the reconciling engine. */
export { createChainEngine, expectedOperator, type ChainEngine, type ChainStepsDeps, type ChainStepsOptions } from './engine.js'
export { createOnChainView, sessionSs58, type OnChainView, type SessionState, type WorkerChainState } from './chain-view.js'
export { EgressRelay, type EgressDeps, type EgressPass } from './egress.js'
export { chainErrorName, classifyFailure, type Classified } from './classify.js'
