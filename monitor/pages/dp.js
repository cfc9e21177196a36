// /dp/status/:peerId: a data provider's Info (upstream's key/value table) with what an operator
// wants at a glance: progress of both chains, blocks per second, ETA, and heights over time.
import { call, esc, fmtInt, fmtDuration, errorHtml, poll, Series, linePlot, remembered, setHtml } from '../lib.js'

const KEYS = ['status', 'paraId', 'parentStartHeader', 'parentTarget', 'parentFetchedHeight', 'parentProcessedHeight', 'parentCommittedHeight',
  'paraTarget', 'paraFetchedHeight', 'paraProcessedHeight', 'paraCommittedHeight', 'blobServerPort']

export function dpHistory(peerId) {
  return remembered(`dp:${peerId}`, () => ({
    relayFetched: new Series(), relayProcessed: new Series(), relayTarget: new Series(),
    paraFetched: new Series(), paraProcessed: new Series(), paraTarget: new Series(),
  }))
}

export function recordDp(peerId, info) {
  const h = dpHistory(peerId)
  const t = Date.now()
  h.relayFetched.push(t, info.parentFetchedHeight ?? -1)
  h.relayProcessed.push(t, info.parentProcessedHeight ?? -1)
  h.relayTarget.push(t, info.parentTarget ?? -1)
  h.paraFetched.push(t, info.paraFetchedHeight ?? -1)
  h.paraProcessed.push(t, info.paraProcessedHeight ?? -1)
  h.paraTarget.push(t, info.paraTarget ?? -1)
  return h
}

/** One chain's progress line: heights, percentage from the start, blocks/s and ETA. */
export function progressHtml(label, start, fetched, processed, target, rate, measuredMs = 60_000) {
  const left = Math.max(0, target - processed)
  const span = Math.max(1, target - start)
  const pct = Math.max(0, Math.min(100, ((processed - start) / span) * 100))
  const measuring = measuredMs < 5000
  const eta = left < 3 ? 'caught up' : measuring ? 'ETA: measuring…' : rate > 0 ? `ETA ${fmtDuration(left / rate)}` : 'ETA unknown (no progress in the last 15 s)'
  const speed = measuring ? 'measuring blocks/s…' : `${rate.toFixed(1)} blocks/s`
  return `<div class="progress"><div class="label"><b>${esc(label)}</b> ${fmtInt(processed)} / ${fmtInt(target)}
<span class="muted">(fetched ${fmtInt(fetched)}; ${fmtInt(left)} behind; ${speed}; ${esc(eta)})</span></div>
<div class="bar"><i style="width:${pct.toFixed(1)}%"></i></div></div>`
}

export function mount(root, { peerId, peers, signal }) {
  root.innerHTML = `<h2>Data provider <span id="dp-host"></span> <code>${esc(peerId)}</code></h2><div id="dp-error"></div><div id="dp-progress"></div>
<div class="cols"><table class="kv" id="dp-table"></table><div id="dp-plots"></div></div>`
  const el = (id) => root.querySelector(id)
  poll(async () => {
    let info
    try {
      info = await call(peerId, 'GetDataProviderInfo')
      setHtml(el('#dp-error'), '')
    } catch (e) {
      if (signal.aborted) return
      setHtml(el('#dp-error'), errorHtml(e, 'GetDataProviderInfo'))
      return
    }
    if (signal.aborted) return
    const h = recordDp(peerId, info)
    el('#dp-host').textContent = peers.byId(peerId)?.hostname ?? ''
    setHtml(el('#dp-progress'), progressHtml('Relay chain', info.parentStartHeader ?? 0, info.parentFetchedHeight, info.parentProcessedHeight, info.parentTarget, h.relayFetched.rate(), h.relayFetched.span())
      + progressHtml('Parachain', 0, info.paraFetchedHeight, info.paraProcessedHeight, info.paraTarget, h.paraFetched.rate(), h.paraFetched.span()))
    setHtml(el('#dp-table'), KEYS.map((k) => `<tr><th>${esc(k)}</th><td>${k === 'status' ? esc(info[k]) : fmtInt(info[k])}</td></tr>`).join(''))
    setHtml(el('#dp-plots'), linePlot([
      { label: 'relay target', color: '#bbb', series: h.relayTarget },
      { label: 'relay fetched', color: '#3a7bd5', series: h.relayFetched },
      { label: 'relay processed', color: '#1b9e5a', series: h.relayProcessed },
    ], { title: 'Relay chain heights' }) + linePlot([
      { label: 'para target', color: '#bbb', series: h.paraTarget },
      { label: 'para fetched', color: '#3a7bd5', series: h.paraFetched },
      { label: 'para processed', color: '#1b9e5a', series: h.paraProcessed },
    ], { title: 'Parachain heights' }))
  }, 1000, signal)
}
