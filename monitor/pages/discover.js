// /discover: the data providers and lifecycle managers this monitor has met (upstream's lists,
// with each peer's JSON), plus each data provider's sync state at a glance.
import { call, esc, fmtInt, errorHtml, poll, setHtml } from '../lib.js'

export function mount(root, { peers, signal }) {
  const dpInfo = new Map()
  const render = () => {
    const { dataProviders, lifecycleManagers } = peers.latest
    const ident = (p) => `<span class="muted">chain ${esc(p.chainIdentity.slice(0, 18))} · bridge ${esc(p.bridgeIdentity)} · ${esc(p.remoteAddr)}</span>`
    const dp = (p) => {
      const i = dpInfo.get(p.peerId)
      const state = i?.error ? errorHtml(i.error, 'GetDataProviderInfo')
        : i?.data ? `<span class="badge ${i.data.status === 'S_IDLE' ? 'ok' : 'busy'}">${i.data.status === 'S_IDLE' ? 'synced' : 'syncing'}</span>
           relay ${fmtInt(i.data.parentProcessedHeight)} / ${fmtInt(i.data.parentTarget)} · para ${fmtInt(i.data.paraProcessedHeight)} / ${fmtInt(i.data.paraTarget)}` : '<span class="muted">…</span>'
      return `<li class="peer" data-peer="${esc(p.peerId)}"><div><b>${esc(p.hostname)}</b> <code>${esc(p.peerId)}</code></div><div>${ident(p)}</div>
<div>${state}</div><div class="actions"><a href="/dp/status/${esc(p.peerId)}">Status</a></div>
<details><summary>JSON</summary><pre>${esc(JSON.stringify(p, null, 2))}</pre></details></li>`
    }
    const lm = (p) => `<li class="peer" data-peer="${esc(p.peerId)}"><div><b>${esc(p.hostname)}</b> <code>${esc(p.peerId)}</code></div><div>${ident(p)}</div>
<div class="actions"><a href="/lifecycle/status/${esc(p.peerId)}">Status</a> <a href="/lifecycle/pools/${esc(p.peerId)}">Manage Pools</a> <a href="/lifecycle/workers/${esc(p.peerId)}">Manage Workers</a></div>
<details><summary>JSON</summary><pre>${esc(JSON.stringify(p, null, 2))}</pre></details></li>`
    setHtml(root, `<section><h2>Data Providers(${dataProviders.length})</h2>
${dataProviders.length ? `<ul class="peers">${dataProviders.map(dp).join('')}</ul>` : '<p class="muted">None met yet. Point PTP_BOOT_NODES at a data provider\'s Walkie address (/ip4/&lt;ip&gt;/tcp/&lt;port&gt;/p2p/&lt;peer id&gt;) or keep mDNS on within its network.</p>'}</section>
<section><h2>Lifecycle Managers(${lifecycleManagers.length})</h2>
${lifecycleManagers.length ? `<ul class="peers">${lifecycleManagers.map(lm).join('')}</ul>` : '<p class="muted">None met yet.</p>'}</section>`)
  }
  peers.listeners.add(render)
  signal.addEventListener('abort', () => peers.listeners.delete(render))
  render()
  poll(async () => {
    await Promise.all(peers.latest.dataProviders.map(async (p) => {
      try {
        dpInfo.set(p.peerId, { data: await call(p.peerId, 'GetDataProviderInfo') })
      } catch (error) {
        dpInfo.set(p.peerId, { error })
      }
    }))
    if (!signal.aborted) render()
  }, 3000, signal)
}
