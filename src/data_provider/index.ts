/** Public entry of the data provider's storage, builder and blob server parts. */
export { keys, rangeSuffix, MARKER } from './keys.js'
export {
  createStore, DataProviderStore, WriteBatch, StoreError,
  encodeParentBlock, decodeParentBlock, encodeParaBlock, decodeParaBlock, encodeGenesis, decodeGenesis,
  encodeWindow, decodeWindow, encodeRangeMeta, decodeRangeMeta, encodeParaRangeKey,
  type StoreOptions, type ParentBlockRecord, type ParaBlockRecord, type GenesisRecord, type WindowRecord,
  type RangeMetaRecord, type ParaRangeKeyRecord,
} from './store.js'
export { createBlobBuilder, type BlobBuilder, type BlobBuilderOptions, type BlobBuilderDeps, type BlobBuilderProgress } from './builder.js'
export type { RangeCommit, BuilderCursor } from './range-builder.js'
export { createBlobServer, DEFAULT_BLOB_SERVER_PORT, DEFAULT_MAX_REQUEST_FRAME_BYTES, type BlobServer, type BlobServerOptions, type BlobServerDeps, type BlobServerStats } from './blob-server.js'
export { createBlobClient, BlobClientError, type BlobClient, type BlobClientOptions } from './blob-client.js'
export { syncCombinedHeadersReq, blockHeadersWithChanges, compact } from './scale.js'
