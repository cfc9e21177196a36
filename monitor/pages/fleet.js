// /fleet: every lifecycle's workers and every data provider at a glance: counts by state, the
// workers in error or stuck first with their reasons, each data provider's progress and ETA.
import { call, esc, errorHtml, poll, setHtml } from '../lib.js'
import { analyse, countsHtml, lagHtml, referenceDp, statesPlotHtml, troubleHtml } from './fleet-model.js'
import { progressHtml, recordDp } from './dp.js'

export function mount(root, { peers, signal }) {
  root.innerHTML = '<h2>Fleet</h2><div id="fl-dp"></div><div id="fl-lm"></div>'
  const dps = new Map()
  const lms = new Map()
  const render = () => {
    setHtml(root.querySelector('#fl-dp'), peers.latest.dataProviders.map((p) => {
      const d = dps.get(p.peerId)
      if (!d) return ''
      if (d.error) return `<section><h3>Data provider ${esc(p.hostname)}</h3>${errorHtml(d.error, 'GetDataProviderInfo')}</section>`
      const i = d.info
      return `<section><h3><a href="/dp/status/${esc(p.peerId)}">Data provider ${esc(p.hostname)}</a> <span class="badge ${i.status === 'S_IDLE' ? 'ok' : 'busy'}">${i.status === 'S_IDLE' ? 'synced' : 'syncing'}</span></h3>
${progressHtml('Relay chain', i.parentStartHeader ?? 0, i.parentFetchedHeight, i.parentProcessedHeight, i.parentTarget, d.h.relayFetched.rate(), d.h.relayFetched.span())}
${progressHtml('Parachain', 0, i.paraFetchedHeight, i.paraProcessedHeight, i.paraTarget, d.h.paraFetched.rate(), d.h.paraFetched.span())}</section>`
    }).join('') || '<p class="muted">No data provider met yet.</p>')
    const dp = referenceDp([...dps.values()].map((d) => d.info).filter(Boolean))
    setHtml(root.querySelector('#fl-lm'), peers.latest.lifecycleManagers.map((p) => {
      const l = lms.get(p.peerId)
      if (!l) return ''
      const head = `<h3><a href="/lifecycle/status/${esc(p.peerId)}">Lifecycle ${esc(p.hostname)}</a></h3>`
      if (l.error) return `<section>${head}${errorHtml(l.error, 'GetWorkerStatus')}</section>`
      return `<section>${head}${countsHtml(l.a)}${lagHtml(l.a, dp, peers.latest.dataProviders.length > 0)}<div class="cols"><div>${troubleHtml(l.a, 10, `/lifecycle/status/${p.peerId}`)}</div><div>${statesPlotHtml(l.a)}</div></div></section>`
    }).join('') || '<p class="muted">No lifecycle manager met yet.</p>')
  }
  poll(async () => {
    await Promise.all(peers.latest.dataProviders.map(async (p) => {
      try {
        const info = await call(p.peerId, 'GetDataProviderInfo')
        dps.set(p.peerId, { info, h: recordDp(p.peerId, info) })
      } catch (error) {
        dps.set(p.peerId, { error })
      }
    }))
    const dp = referenceDp([...dps.values()].map((d) => d.info).filter(Boolean))
    await Promise.all(peers.latest.lifecycleManagers.map(async (p) => {
      try {
        const data = await call(p.peerId, 'GetWorkerStatus', { ids: [] })
        lms.set(p.peerId, { a: analyse(p.peerId, data.workerStates || [], dp) })
      } catch (error) {
        lms.set(p.peerId, { error })
      }
    }))
    if (!signal.aborted) render()
  }, 2000, signal)
}
