/**
 * The data provider's Walkie surface (upstream-data-provider.md §8.3). `Hello` is Walkie's own.
 *   GetDataProviderInfo  every `Info` field, computed on each call. `status` tells the truth from the
 *                        start: S_SYHCHING (upstream's spelling) until both chains' targets are known
 *                        and processed to within 3 blocks, then S_IDLE (upstream answered S_IDLE at
 *                        start-up with every height at −1, weakness 18).
 *   GetBlobByKey         any stored key: { key, empty: true } when missing, else { key, empty: false, data }.
 */
import type { DataProviderInfo, Walkie } from '../walkie/index.js'
import type { DataProviderStore } from './store.js'

/** Upstream's MIN_SYNCHED_DISTANCE. */
export const MIN_SYNCHED_DISTANCE = 3

/** Every `Info` field but `status`, which `dataProviderInfo` derives from them. */
export type InfoHeights = Omit<DataProviderInfo, 'status'>

export function dataProviderInfo(h: InfoHeights): DataProviderInfo {
  const known = h.parentTarget >= 0 && h.paraTarget >= 0
  const idle = known && h.paraTarget - h.paraProcessedHeight < MIN_SYNCHED_DISTANCE && h.parentTarget - h.parentProcessedHeight < MIN_SYNCHED_DISTANCE
  return { status: idle ? 'S_IDLE' : 'S_SYHCHING', ...h }
}

export interface DataProviderServiceDeps {
  walkie: Walkie
  store: DataProviderStore
  heights: () => InfoHeights
}

export function registerDataProviderService(deps: DataProviderServiceDeps): void {
  deps.walkie.handle('GetDataProviderInfo', () => dataProviderInfo(deps.heights()))
  deps.walkie.handle('GetBlobByKey', async (req) => {
    const key = req.key
    const v = await deps.store.get(key)
    if (v === undefined || v.length === 0) return { key, empty: true }
    return { key, empty: false, data: v }
  })
}
