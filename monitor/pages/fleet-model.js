// What the fleet views compute from GetWorkerStatus and the data providers' Info: counts by state,
// each worker's lag behind the data provider, workers in error or stuck (with their reasons) first.
import { esc, fmtInt, stackPlot, remembered } from '../lib.js'

export const STATES = ['S_IDLE', 'S_STARTING', 'S_SYNCHING', 'S_SYNCHED', 'S_PRE_ACTIVE', 'S_ACTIVE', 'S_KICKED', 'S_ERROR']
export const STATE_COLORS = {
  S_IDLE: '#c8c8c8', S_STARTING: '#9ec5fe', S_SYNCHING: '#3a7bd5', S_SYNCHED: '#6fb3b8', S_PRE_ACTIVE: '#a3cfbb',
  S_ACTIVE: '#1b9e5a', S_KICKED: '#e0a800', S_ERROR: '#d63939', stuck: '#8a4baf',
}
/** A worker whose heights have not moved for this long while behind the data provider is stuck. */
export const STUCK_MS = 60_000
const LAG_OK = 3

/** Per-lifecycle memory of when each worker's heights last moved, and the state counts over time. */
export function fleetMemory(peerId) {
  return remembered(`fleet:${peerId}`, () => ({ moved: new Map(), samples: [] }))
}

const sessionCache = new Map()
export function sessionInfo(json) {
  if (!json) return {}
  let v = sessionCache.get(json)
  if (v === undefined) {
    try {
      v = JSON.parse(json)
    } catch {
      v = {}
    }
    if (sessionCache.size > 5000) sessionCache.clear()
    sessionCache.set(json, v)
  }
  return v
}

/** The reference heights: the most advanced data provider's. */
export function referenceDp(infos) {
  let best = null
  for (const i of infos) if (i && (!best || (i.paraProcessedHeight ?? -1) > (best.paraProcessedHeight ?? -1))) best = i
  return best
}

/**
 * Rows for the tables and the summary: each WorkerState merged with its worker and session info,
 * its lag (para blocks behind the data provider), and `trouble` = {kind: error | kicked | stuck, reason}.
 */
export function analyse(peerId, workerStates, dp, now = Date.now()) {
  const mem = fleetMemory(peerId)
  const rows = workerStates.map((s) => {
    const w = s.worker || {}
    const uuid = w.uuid || ''
    const key = `${s.parentHeaderSynchedTo}/${s.paraHeaderSynchedTo}/${s.paraBlockDispatchedTo}/${s.status}`
    const m = mem.moved.get(uuid)
    if (!m || m.key !== key) mem.moved.set(uuid, { key, at: now })
    const since = mem.moved.get(uuid).at
    const dispatched = s.paraBlockDispatchedTo ?? -1
    const lag = dp && dp.paraProcessedHeight >= 0 ? Math.max(0, dp.paraProcessedHeight - dispatched) : null
    const status = s.status || 'S_IDLE'
    let trouble = null
    if (status === 'S_ERROR') trouble = { kind: 'error', reason: s.lastMessage || 'in error without a message' }
    else if (status === 'S_KICKED') trouble = { kind: 'kicked', reason: s.lastMessage || 'kicked' }
    else if (now - since >= STUCK_MS && (lag === null ? ['S_STARTING', 'S_SYNCHING'].includes(status) : lag > LAG_OK)) {
      trouble = { kind: 'stuck', reason: `no progress for ${Math.round((now - since) / 1000)} s${lag !== null ? `, ${lag} blocks behind` : ''}; last message: ${s.lastMessage || '(none)'}` }
    }
    return { ...s, status, worker: w, uuid, name: w.name || uuid, pid: w.pid, session: sessionInfo(s.sessionInfoJson), lag, trouble }
  })
  const counts = Object.fromEntries(STATES.map((k) => [k, 0]))
  let stuck = 0
  for (const r of rows) {
    counts[r.status] = (counts[r.status] || 0) + 1
    if (r.trouble?.kind === 'stuck') stuck++
  }
  const sample = { t: now, counts: { ...counts } }
  const last = mem.samples[mem.samples.length - 1]
  if (!last || now - last.t >= 2000) {
    mem.samples.push(sample)
    if (mem.samples.length > 900) mem.samples.shift()
  }
  const lags = rows.map((r) => r.lag).filter((l) => l !== null).sort((a, b) => a - b)
  return {
    rows, counts, stuck, samples: mem.samples,
    lag: lags.length ? { max: lags[lags.length - 1], median: lags[Math.floor(lags.length / 2)], behind: lags.filter((l) => l > LAG_OK).length } : null,
  }
}

const TROUBLE_ORDER = { error: 0, stuck: 1, kicked: 2 }
/** One collator for every comparison: localeCompare with options builds one per call (~100 ms a sort of 500). */
export const byName = new Intl.Collator('en', { numeric: true }).compare
/** Trouble first (errors, stuck, kicked), then by name. */
export function troubleFirst(a, b) {
  const ta = a.trouble ? TROUBLE_ORDER[a.trouble.kind] : 9
  const tb = b.trouble ? TROUBLE_ORDER[b.trouble.kind] : 9
  return ta - tb || byName(String(a.name), String(b.name))
}

export function countsHtml(a, { filterable = false } = {}) {
  const chip = (k, n, label) => `<button type="button" class="chip${n ? '' : ' zero'}" data-state="${esc(k)}" style="--c:${STATE_COLORS[k]}"${filterable ? '' : ' disabled'}>${esc(label)} <b>${fmtInt(n)}</b></button>`
  const total = a.rows.length
  return `<div class="chips">${chip('', total, 'all').replace('style="--c:undefined"', '')}${STATES.map((k) => chip(k, a.counts[k] || 0, k.replace(/^S_/, ''))).join('')}${chip('stuck', a.stuck, 'stuck')}</div>`
}

export function lagHtml(a, dp, dpsKnown = false) {
  if (!dp) return `<p class="muted">${dpsKnown ? 'Waiting for the data provider\'s heights to compute each worker\'s lag…' : 'No data provider known: worker lag is unknown.'}</p>`
  if (!a.lag) return ''
  return `<p>Lag behind the data provider (para ${fmtInt(dp.paraProcessedHeight)}): median <b>${fmtInt(a.lag.median)}</b>, max <b>${fmtInt(a.lag.max)}</b> blocks; <b>${fmtInt(a.lag.behind)}</b> worker(s) more than ${LAG_OK} blocks behind.</p>`
}

export function troubleHtml(a, limit = 25, moreHref = '') {
  const bad = a.rows.filter((r) => r.trouble).sort(troubleFirst)
  if (!bad.length) return '<p class="ok-text">No worker in error or stuck.</p>'
  const li = (r) => `<li class="trouble-${esc(r.trouble.kind)}"><b>${esc(r.name)}</b> <span class="badge s-${esc(r.status)}">${esc(r.trouble.kind === 'stuck' ? 'stuck' : r.status)}</span> ${esc(r.trouble.reason)}</li>`
  return `<h3>Needs attention (${bad.length})</h3><ul class="trouble">${bad.slice(0, limit).map(li).join('')}</ul>${bad.length > limit ? `<p class="muted">and ${bad.length - limit} more (${moreHref ? `<a href="${esc(moreHref)}">first in the workers table</a>` : 'first in the table below'})</p>` : ''}`
}

export function statesPlotHtml(a) {
  return stackPlot(a.samples, STATES.slice().reverse().map((k) => ({ key: k, color: STATE_COLORS[k] })), { title: 'Workers by state over time' })
}
