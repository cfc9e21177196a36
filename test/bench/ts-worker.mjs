// Runs a TypeScript module (workerData.module, a file URL) in a worker thread: tsx's `--import`
// hooks do not reach worker threads on Node 20, its API does.
import { workerData } from 'node:worker_threads'
import { tsImport } from 'tsx/esm/api'

await tsImport(workerData.module, import.meta.url)
