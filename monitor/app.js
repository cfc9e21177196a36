// The monitor's page: one document that routes itself on upstream's paths, keeps /ptp/discover
// polled for every page (as upstream: titles prefixed with the peer's hostname) and mounts one
// page module at a time. Links inside the page change the view without reloading, so the plots'
// history survives moving between pages.
import { discover, esc, errorHtml } from './lib.js'

const ROUTES = [
  [/^\/discover\/?$/, () => import('./pages/discover.js'), 'Discover'],
  [/^\/fleet\/?$/, () => import('./pages/fleet.js'), 'Fleet'],
  [/^\/dp\/status\/([^/]+)\/?$/, () => import('./pages/dp.js'), 'Data provider'],
  [/^\/lifecycle\/status\/([^/]+)\/?$/, () => import('./pages/status.js'), 'Workers status'],
  [/^\/lifecycle\/pools\/([^/]+)\/?$/, () => import('./pages/pools.js'), 'Pools'],
  [/^\/lifecycle\/workers\/([^/]+)\/?$/, () => import('./pages/workers.js'), 'Workers'],
]

/** The latest /ptp/discover answer, shared by every page. */
export const peers = {
  latest: { dataProviders: [], lifecycleManagers: [] },
  error: null,
  listeners: new Set(),
  byId(id) {
    return [...this.latest.dataProviders, ...this.latest.lifecycleManagers].find((p) => p.peerId === id)
  },
}

async function refreshPeers() {
  try {
    peers.latest = await discover()
    peers.error = null
  } catch (e) {
    peers.error = e
  }
  for (const fn of peers.listeners) fn(peers.latest)
  renderTop()
}

let current = { abort: new AbortController(), title: 'prb monitor', peerId: null }

function renderTop() {
  const top = document.getElementById('top')
  const p = current.peerId ? peers.byId(current.peerId) : null
  const lm = current.peerId && peers.latest.lifecycleManagers.some((x) => x.peerId === current.peerId)
  const links = [['/discover', 'Discover'], ['/fleet', 'Fleet']]
  if (lm) {
    links.push([`/lifecycle/status/${current.peerId}`, 'Status'], [`/lifecycle/pools/${current.peerId}`, 'Pools'], [`/lifecycle/workers/${current.peerId}`, 'Workers'])
  }
  const here = location.pathname.replace(/\/$/, '')
  top.innerHTML = `<nav><b class="brand">prb monitor</b>${links.map(([href, label]) => `<a href="${esc(href)}"${href === here ? ' class="active"' : ''}>${esc(label)}</a>`).join('')}
<span class="peers">${peers.latest.dataProviders.length} data provider(s), ${peers.latest.lifecycleManagers.length} lifecycle(s)${p ? ` · on <b>${esc(p.hostname)}</b>` : ''}</span></nav>
${peers.error ? errorHtml(peers.error, 'Discovering peers') : ''}`
  document.title = p ? `[${p.hostname}] ${current.title}` : current.title
}

async function route() {
  current.abort.abort()
  const path = location.pathname
  if (path === '/' || path === '') {
    history.replaceState(null, '', '/discover')
    return route()
  }
  const main = document.getElementById('main')
  const found = ROUTES.find(([re]) => re.test(path))
  const abort = new AbortController()
  if (!found) {
    current = { abort, title: 'Not found', peerId: null }
    main.innerHTML = `<div class="error">No page at ${esc(path)}. <a href="/discover">Discover</a> lists the peers.</div>`
    renderTop()
    return
  }
  const [re, load, title] = found
  const peerId = decodeURIComponent(re.exec(path)[1] || '') || null
  current = { abort, title, peerId }
  renderTop()
  main.innerHTML = '<div class="muted">loading…</div>'
  const mod = await load()
  if (abort.signal.aborted) return
  main.innerHTML = ''
  mod.mount(main, { peerId, peers, signal: abort.signal })
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href]')
  if (!a || a.target || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return
  const url = new URL(a.href, location.href)
  if (url.origin !== location.origin || url.pathname.startsWith('/ptp/') || url.pathname.startsWith('/assets/')) return
  ev.preventDefault()
  history.pushState(null, '', url.pathname + url.search)
  route()
})
window.addEventListener('popstate', route)

async function peersLoop() {
  for (;;) {
    await refreshPeers()
    await new Promise((r) => setTimeout(r, document.hidden ? 6000 : 1500))
  }
}
peersLoop()
route()
