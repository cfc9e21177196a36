// /lifecycle/status/:peerId: every worker's state (upstream's columns), paged 50/100/300/500,
// multi-select Restart / Restart and Re-register / Kick; above it the fleet at a glance.
import { call, esc, fmtInt, errorHtml, poll, setHtml } from '../lib.js'
import { analyse, countsHtml, lagHtml, referenceDp, statesPlotHtml, troubleFirst, troubleHtml } from './fleet-model.js'

const MIB = 1024 * 1024
const mem = (n) => (typeof n === 'number' ? `${(n / MIB).toFixed(1)}` : '')
const short = (s, n = 12) => (s && s.length > n ? `<span title="${esc(s)}">${esc(s.slice(0, n))}…</span>` : esc(s ?? ''))

const COLUMNS = [
  ['Name', (r) => `<b>${esc(r.name)}</b>`],
  ['PID', (r) => esc(r.pid)],
  ['Status', (r) => `<span class="badge s-${esc(r.status)}">${esc(r.status)}</span>${r.trouble?.kind === 'stuck' ? ' <span class="badge s-stuck">stuck</span>' : ''}`],
  ['On-chain State', (r) => esc(r.session.state ?? '')],
  ['Last Message', (r) => `<span class="msg">${esc(r.lastMessage)}</span>`],
  ['Block Height', (r) => fmtInt(r.paraBlockDispatchedTo)],
  ['Header Height', (r) => fmtInt(r.paraHeaderSynchedTo)],
  ['Parent Header Height', (r) => fmtInt(r.parentHeaderSynchedTo)],
  ['Lag', (r) => (r.lag === null ? '' : `<span class="${r.lag > 3 ? 'behind' : ''}">${fmtInt(r.lag)}</span>`)],
  ['Public Key', (r) => short(r.publicKey)],
  ['V', (r) => esc(r.session.v ?? '')],
  ['Ve', (r) => esc(r.session.ve ?? '')],
  ['pInstant', (r) => esc(r.session.raw?.benchmark?.pInstant ?? '')],
  ['pInit', (r) => esc(r.session.raw?.benchmark?.pInit ?? '')],
  ['Minted', (r) => esc(r.session.stats?.totalReward ?? '')],
  ['Runtime Version', (r) => esc(r.session.runtimeInfo?.version ?? '')],
  ['Runtime Git Revision', (r) => short(r.session.runtimeInfo?.gitRevision, 8)],
  ['Memory (MiB)', (r) => { const m = r.session.runtimeInfo?.memoryUsage; return m ? `${mem(m.rustPeakUsed)} / ${mem(m.rustUsed)} / ${mem(m.totalPeakUsed)}` : '' }],
  ['Session Account', (r) => short(r.workerAccountId)],
  ['ID', (r) => `<code>${esc(r.uuid)}</code>`],
]

const ACTIONS = [
  ['RestartWorker', 'Restart', false],
  ['RefreshRaAndRestartWorker', 'Restart and Re-register', true],
  ['KickWorker', 'Kick', true],
]

export function mount(root, { peerId, peers, signal }) {
  const selected = new Set()
  let analysis = null
  let filter = ''
  let stateFilter = ''
  let pageSize = 50
  let page = 0
  let dpInfos = new Map()

  root.innerHTML = `<h2>Workers status <span class="muted" id="st-host"></span></h2>
<div id="st-error"></div>
<section class="fleet"><div id="st-counts"></div><div id="st-lag"></div><div class="cols"><div id="st-trouble"></div><div id="st-plot"></div></div></section>
<div class="toolbar">${ACTIONS.map(([m, label]) => `<button type="button" data-action="${m}" disabled>${esc(label)}</button>`).join('')}
<button type="button" data-select="all">Select All</button><button type="button" data-select="none">Deselect All</button>
<span id="st-selected" class="muted">0 selected</span>
<input type="search" id="st-filter" placeholder="filter: name, id, status, message" size="30">
<label>per page <select id="st-size">${[50, 100, 300, 500].map((n) => `<option${n === pageSize ? ' selected' : ''}>${n}</option>`).join('')}</select></label>
<span id="st-pager"></span></div>
<div id="st-result"></div>
<div class="table-wrap"><table class="grid" id="st-table"><thead><tr><th></th>${COLUMNS.map(([h]) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody></tbody></table></div>`
  const $ = (s) => root.querySelector(s)
  const tbody = $('#st-table tbody')

  // The order (trouble first, then by name) is sorted again only when a row's name, trouble or
  // presence changed; a poll where only heights moved reuses it.
  let order = { key: '', uuids: [] }
  const visible = () => {
    if (!analysis) return []
    const f = filter.toLowerCase()
    const rows = analysis.rows
      .filter((r) => !stateFilter || (stateFilter === 'stuck' ? r.trouble?.kind === 'stuck' : r.status === stateFilter))
      .filter((r) => !f || `${r.name} ${r.uuid} ${r.status} ${r.lastMessage}`.toLowerCase().includes(f))
    const key = rows.map((r) => `${r.uuid}\u0000${r.name}\u0000${r.trouble?.kind ?? ''}`).join('\u0001')
    if (key !== order.key) order = { key, uuids: rows.slice().sort(troubleFirst).map((r) => r.uuid) }
    const byUuid = new Map(rows.map((r) => [r.uuid, r]))
    return order.uuids.map((u) => byUuid.get(u))
  }

  const renderTable = () => {
    const rows = visible()
    const pages = Math.max(1, Math.ceil(rows.length / pageSize))
    page = Math.min(page, pages - 1)
    const shown = rows.slice(page * pageSize, (page + 1) * pageSize)
    renderRows(shown)
    setHtml($('#st-pager'), `<button type="button" data-page="-1"${page ? '' : ' disabled'}>‹</button> page ${page + 1} of ${pages} (${fmtInt(rows.length)} workers) <button type="button" data-page="1"${page < pages - 1 ? '' : ' disabled'}>›</button>`)
    $('#st-selected').textContent = `${selected.size} selected`
    for (const b of root.querySelectorAll('[data-action]')) b.disabled = selected.size === 0
  }

  // Only the page's rows are in the DOM; a poll that keeps the same rows in the same order
  // rewrites only the cells whose text changed (a syncing fleet changes a few columns per row).
  let shownKey = ''
  let shownCells = []
  const cellsOf = (r) => [`<input type="checkbox" data-uuid="${esc(r.uuid)}" aria-label="select ${esc(r.name)}"${selected.has(r.uuid) ? ' checked' : ''}>`, ...COLUMNS.map(([, f]) => f(r))]
  const rowClass = (r) => (r.trouble ? `row-${r.trouble.kind}` : '')
  const renderRows = (shown) => {
    const key = shown.map((r) => r.uuid).join(',')
    const cells = shown.map(cellsOf)
    if (key !== shownKey) {
      tbody.innerHTML = shown.map((r, i) => `<tr data-uuid="${esc(r.uuid)}" class="${esc(rowClass(r))}">${cells[i].map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')
    } else {
      const trs = tbody.rows
      for (let i = 0; i < shown.length; i++) {
        const tr = trs[i]
        const cls = rowClass(shown[i])
        if (tr.className !== cls) tr.className = cls
        const before = shownCells[i]
        for (let j = 0; j < cells[i].length; j++) {
          const c = cells[i][j]
          if (c === before[j]) continue
          // plain text (heights, counts) skips the HTML parser
          if (/[<&]/.test(c)) tr.cells[j].innerHTML = c
          else tr.cells[j].textContent = c
        }
      }
    }
    shownKey = key
    shownCells = cells
  }

  const renderFleet = () => {
    const dp = referenceDp([...dpInfos.values()])
    setHtml($('#st-counts'), countsHtml(analysis, { filterable: true }).replace(`data-state="${stateFilter}"`, `data-state="${stateFilter}" aria-pressed="true"`))
    setHtml($('#st-lag'), lagHtml(analysis, dp, peers.latest.dataProviders.length > 0))
    setHtml($('#st-trouble'), troubleHtml(analysis))
    setHtml($('#st-plot'), statesPlotHtml(analysis))
  }

  root.addEventListener('change', (ev) => {
    const t = ev.target
    if (t.matches('input[type=checkbox][data-uuid]')) {
      if (t.checked) selected.add(t.dataset.uuid)
      else selected.delete(t.dataset.uuid)
      renderTable()
    } else if (t.id === 'st-size') {
      pageSize = Number(t.value)
      page = 0
      renderTable()
    }
  })
  root.addEventListener('input', (ev) => {
    if (ev.target.id === 'st-filter') {
      filter = ev.target.value
      page = 0
      renderTable()
    }
  })
  root.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button')
    if (!b) return
    if (b.dataset.page) {
      page += Number(b.dataset.page)
      renderTable()
    } else if (b.dataset.select) {
      if (b.dataset.select === 'all') for (const r of visible()) selected.add(r.uuid)
      else selected.clear()
      renderTable()
    } else if (b.dataset.state !== undefined) {
      stateFilter = stateFilter === b.dataset.state ? '' : b.dataset.state
      page = 0
      renderFleet()
      renderTable()
    } else if (b.dataset.action) {
      const label = b.textContent
      const ids = [...selected]
      const [, , confirmFirst] = ACTIONS.find(([m]) => m === b.dataset.action)
      if (confirmFirst && !confirm(`${label}: ${ids.length} worker(s)?`)) return
      b.disabled = true
      setHtml($('#st-result'), `<div class="info">${esc(label)}: sending for ${ids.length} worker(s)…</div>`)
      try {
        const res = await call(peerId, b.dataset.action, { ids })
        setHtml($('#st-result'), `<div class="success" role="status">${esc(label)}: done for ${(res.workerStates || []).length} worker(s). <span class="when">${new Date().toLocaleTimeString()}</span></div>`)
        selected.clear()
      } catch (e) {
        setHtml($('#st-result'), errorHtml(e, label))
      }
      renderTable()
    }
  })

  poll(async () => {
    try {
      const data = await call(peerId, 'GetWorkerStatus', { ids: [] })
      if (signal.aborted) return
      const t0 = performance.now()
      analysis = analyse(peerId, data.workerStates || [], referenceDp([...dpInfos.values()]))
      const t1 = performance.now()
      setHtml($('#st-error'), '')
      const p = peers.byId(peerId)
      $('#st-host').textContent = p ? `on ${p.hostname}` : ''
      renderFleet()
      const t2 = performance.now()
      renderTable()
      // its parts, for the benchmark: analysis, the fleet summary, the table
      performance.measure('prb:workers-analyse', { start: t0, end: t1 })
      performance.measure('prb:workers-fleet', { start: t1, end: t2 })
      performance.measure('prb:workers-table', { start: t2 })
      // the main-thread time of one update (the benchmark reads it)
      performance.measure('prb:workers-update', { start: t0 })
      // the page-load figure the browser test reads (navigation start → first table)
      if (!performance.getEntriesByName('prb:workers-rendered').length) performance.mark('prb:workers-rendered')
    } catch (e) {
      if (!signal.aborted) setHtml($('#st-error'), errorHtml(e, 'GetWorkerStatus'))
    }
  }, 1500, signal)
  poll(async () => {
    const next = new Map()
    await Promise.all(peers.latest.dataProviders.map(async (p) => {
      try {
        next.set(p.peerId, await call(p.peerId, 'GetDataProviderInfo'))
      } catch {
        // the data provider's own page shows its errors
      }
    }))
    dpInfos = next
  }, 3000, signal)
}
