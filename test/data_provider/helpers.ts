import { Writable } from 'node:stream'
import { createLogger, type Logger } from '../../src/common/logger.js'
import { createStore, type DataProviderStore } from '../../src/data_provider/store.js'
import { genesisRecord, paraRecord, parentRecord, type ChainSpec } from './chain-fixture.js'

export function quietLogger(lines?: string[]): Logger {
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines?.push(String(chunk))
      cb()
    },
  })
  return createLogger({ level: lines ? 'debug' : 'fatal', stream })
}

export { tempDir } from '../helpers/fs.js'

export async function openStore(path: string): Promise<DataProviderStore> {
  const s = createStore({ path })
  await s.open()
  return s
}

/** Store the genesis and every relay/para block of the chain, as the fetcher would. */
export async function storeChain(store: DataProviderStore, c: ChainSpec): Promise<void> {
  await store.putGenesis(genesisRecord(c))
  for (const b of c.relay) await store.putParentBlock(parentRecord(b))
  for (let p = 0; p <= c.paraTop; p++) await store.putParaBlock(paraRecord(p))
}

export async function dump(store: DataProviderStore): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>()
  for await (const [k, v] of store.entries()) m.set(k, v)
  return m
}

export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)
    }),
  ])
}
