/**
 * A small reference of upstream-data-provider.md §6, written straight from its text and NOT from
 * the builder's code: the window walk with upstream's para pointer (exact-equality match, at most
 * one para block per relay block), dry ranges closed at justified blocks, a window closed at the
 * first set-id increase, window para start by §6.2 step 3. It is valid for "normal" chains (para
 * head steps by 0 or 1, set changes justified, every window with at least two para blocks): there
 * upstream and prb must agree. It then derives every key and value prb writes (keys.ts), with the
 * SCALE payloads of §4.2 concatenated here by hand.
 */
import { compactToU8a, u8aConcat } from '@polkadot/util'
import { header, paraRecord, parentRecord, type ChainSpec, type RelaySpec } from './chain-fixture.js'

export interface RefRange {
  start: number
  stop: number
  para: number[]
  setIdChanged: boolean
  latestSetId: number
  windowId: number
}

export interface RefWindow {
  id: number
  start: number
  stop: number // -1 while unfinished
  paraStart: number
  paraStop: number
  para: number[]
  firstSetId: number
  finished: boolean
}

export function referenceWalk(c: ChainSpec): { ranges: RefRange[]; windows: RefWindow[] } {
  const byNum = new Map(c.relay.map((b) => [b.number, b]))
  const ranges: RefRange[] = []
  const windows: RefWindow[] = []
  let prev = byNum.get(c.genesisParent)!
  let wStart = c.genesisParent + 1
  let wParaStart = c.genesisPara + 1
  for (let id = 0; ; id++) {
    let pointer = wParaStart
    const windowPara: number[] = []
    let rangeStart = wStart
    let rangePara: number[] = []
    let firstSetId = -1
    let ended = false
    for (let r = wStart; ; r++) {
      const b: RelaySpec | undefined = byNum.get(r)
      if (!b) break
      let matched = false
      if (pointer === b.paraNumber) {
        rangePara.push(pointer)
        windowPara.push(pointer)
        matched = true
        pointer++
      }
      if (b.justified) {
        ranges.push({ start: rangeStart, stop: r, para: rangePara, setIdChanged: b.setId > prev.setId, latestSetId: b.setId, windowId: id })
        rangeStart = r + 1
        rangePara = []
      }
      if (firstSetId === -1) firstSetId = b.setId
      if (b.setId > prev.setId) {
        // paraStop: the window start if the pointer never moved, else the last matched number
        const paraStop = pointer === wParaStart ? wParaStart : matched ? pointer - 1 : pointer - 1
        windows.push({ id, start: wStart, stop: r, paraStart: wParaStart, paraStop, para: windowPara, firstSetId, finished: true })
        wParaStart = wParaStart === paraStop ? paraStop : paraStop + 1
        wStart = r + 1
        prev = b
        ended = true
        break
      }
      prev = b
    }
    if (!ended) {
      const committedInWindow = ranges.some((x) => x.windowId === id)
      // prb writes Window.set_id with the window's first range commit (upstream: after its first block).
      windows.push({ id, start: wStart, stop: -1, paraStart: wParaStart, paraStop: -1, para: windowPara, firstSetId: committedInWindow ? firstSetId : -1, finished: false })
      return { ranges, windows }
    }
  }
}

const NONE = Uint8Array.of(0)
const vec = (items: Uint8Array[]) => u8aConcat(compactToU8a(items.length), ...items)

export interface ExpectedDb {
  /** key → exact bytes */
  bytes: Map<string, Uint8Array>
  /** key → decoded protobuf object (compared as objects) */
  records: Map<string, { type: string; value: Record<string, unknown> }>
  ranges: RefRange[]
  windows: RefWindow[]
}

/** Everything the builder must write for this chain (besides the input blocks and its cursor). */
export function expectedDb(c: ChainSpec, paraBatchSize: number): ExpectedDb {
  const { ranges, windows } = referenceWalk(c)
  const bytes = new Map<string, Uint8Array>()
  const records = new Map<string, { type: string; value: Record<string, unknown> }>()
  const utf8 = (s: string) => new TextEncoder().encode(s)
  const rec = (n: number) => parentRecord(c.relay.find((b) => b.number === n)!)

  for (const w of windows) {
    let blobKey = ''
    if (w.finished) {
      const hasPara = w.para.length > 0
      const suffix = `${w.start}:${w.stop}:${hasPara ? w.paraStart : -1}:${hasPara ? w.paraStop : -1}`
      blobKey = `blobRange:${suffix}:SyncHeaderReq`
      const last = rec(w.stop)
      const relay: Uint8Array[] = []
      for (let n = w.start; n < w.stop; n++) relay.push(u8aConcat(header(1, n), NONE))
      relay.push(last.syncHeaderData)
      bytes.set(blobKey, u8aConcat(vec(relay), last.authoritySetChange, vec(w.para.map((p) => header(50, p))), hasPara ? last.paraProof : compactToU8a(0)))
      bytes.set(`blobRangeCommitted:${suffix}`, Uint8Array.of(1))
    }
    records.set(`window:${w.id}:pb`, {
      type: 'prb.db.Window',
      value: { parentStartBlock: w.start, parentStopBlock: w.stop, paraStartBlock: w.paraStart, paraStopBlock: w.paraStop, windowId: w.id, setId: w.firstSetId, isFinished: w.finished },
    })
    for (const r of ranges.filter((x) => x.windowId === w.id)) {
      const paraStart = r.para.length ? r.para[0]! : -1
      const paraStop = r.para.length ? r.para[r.para.length - 1]! : -1
      const suffix = `${r.start}:${r.stop}:${paraStart}:${paraStop}`
      const last = rec(r.stop)
      const relay: Uint8Array[] = []
      for (let n = r.start; n <= r.stop; n++) relay.push(rec(n).syncHeaderData)
      bytes.set(`drySyncHeader:${suffix}`, u8aConcat(vec(relay), r.setIdChanged ? last.authoritySetChange : NONE, vec(r.para.map((p) => header(50, p))), r.para.length ? last.paraProof : compactToU8a(0)))
      bytes.set(`rangeWritten:${suffix}`, Uint8Array.of(1))
      const parentRange: number[] = []
      for (let n = r.start; n <= r.stop; n++) parentRange.push(n)
      const dry = { parentStartBlock: r.start, parentStopBlock: r.stop, paraStartBlock: paraStart, paraStopBlock: paraStop, parentRange, paraRange: r.para, drySyncHeaderReqKey: `drySyncHeader:${suffix}`, latestSetId: r.latestSetId, blobParentStopBlock: 0, blobParaStopBlock: 0, blobSyncHeaderReqKey: '' }
      const full = w.finished ? { ...dry, blobParentStopBlock: w.stop, blobParaStopBlock: w.paraStop, blobSyncHeaderReqKey: blobKey } : dry
      records.set(`rangeByParentBlock:${r.start}:pb`, { type: 'prb.db.RangeMeta', value: full })
      records.set(`rangeByParaBlock:${r.start}:pb`, { type: 'prb.db.RangeMeta', value: dry })
      for (let n = r.start; n <= r.stop; n++) bytes.set(`rangeCoverByParentBlock:${n}`, utf8(`rangeByParentBlock:${r.start}:pb`))
      for (const p of r.para) bytes.set(`rangeCoverByParaBlock:${p}`, utf8(`rangeByParentBlock:${r.start}:pb`))
    }
  }
  const finished = windows.filter((w) => w.finished)
  if (finished.length) bytes.set('LAST_COMMITTED_PARENT_BLOCK', utf8(String(finished[finished.length - 1]!.stop)))

  for (let p = c.genesisPara + 1; p <= c.paraTop; p++) {
    bytes.set(`dryParaBlock:${p}`, u8aConcat(compactToU8a(1), paraRecord(p).dispatchBlockData))
    bytes.set(`rangeParaBlock:key:${p}`, utf8(`{"firstBlockNumber":${p},"lastBlockNumber":${p}}`))
  }
  if (c.paraTop > c.genesisPara) bytes.set('LAST_COMMITTED_PARA_BLOCK', utf8(String(c.paraTop)))
  if (paraBatchSize > 0) {
    let lastBatch = -1
    for (let first = c.genesisPara + 1; first + paraBatchSize - 1 <= c.paraTop; first += paraBatchSize) {
      const last = first + paraBatchSize - 1
      const data: Uint8Array[] = []
      for (let p = first; p <= last; p++) data.push(paraRecord(p).dispatchBlockData)
      bytes.set(`rangeParaBlock:buffer:${first}`, vec(data))
      bytes.set(`rangeParaBlock:key:${first}`, utf8(`{"bufferKey":"rangeParaBlock:buffer:${first}","firstBlockNumber":${first},"lastBlockNumber":${last}}`))
      lastBatch = last
    }
    if (lastBatch >= 0) bytes.set('LAST_COMMITTED_PARA_BLOCK_BATCH', utf8(String(lastBatch)))
  }
  return { bytes, records, ranges, windows }
}
