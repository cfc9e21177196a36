// /lifecycle/workers/:peerId: the lifecycle's workers (upstream's columns) with Add / Edit / Delete.
import { call, esc, fmtPha } from '../lib.js'
import { mountCrud } from './crud.js'

const yes = (b) => (b ? 'yes' : 'no')
const ONE_PHA = 10n ** 12n

export function mount(root, ctx) {
  let pools = []
  const loadPools = async () => {
    try {
      pools = (await call(ctx.peerId, 'ListPool')).pools || []
    } catch {
      // the form then takes any PID; the lifecycle checks it
    }
  }
  loadPools()
  const spec = {
    title: 'Workers', noun: 'worker', listMethod: 'ListWorker', listKey: 'workers', createMethod: 'CreateWorker', createKey: 'workers', updateMethod: 'UpdateWorker', itemKey: 'worker',
    columns: [
      ['Name', (w) => `<b>${esc(w.name)}</b>`],
      ['PID', (w) => esc(w.pid)],
      ['pRuntime Endpoint', (w) => `<code>${esc(w.endpoint)}</code>`],
      ['Stake(BN)', (w) => `<span title="${esc(w.stake)} plancks">${fmtPha(w.stake)}</span>`],
      ['ID', (w) => `<code>${esc(w.uuid)}</code>`],
      ['Sync Only', (w) => yes(w.syncOnly)],
      ['Enabled', (w) => yes(w.enabled)],
    ],
    fields: [
      { name: 'pid', label: 'Pool (PID)', type: 'select', required: true, options: () => pools.map((p) => ({ value: p.pid, label: `${p.pid} · ${p.name}` })) },
      { name: 'name', label: 'Name', required: true },
      { name: 'endpoint', label: 'pRuntime Endpoint', required: true, placeholder: 'http://10.0.0.5:8000' },
      { name: 'stake', label: 'Stake (plancks)', required: true, placeholder: '4000000000000000', help: '1 PHA = 1000000000000 plancks; at least 1 PHA' },
      { name: 'enabled', label: 'Enabled', type: 'checkbox' },
      { name: 'syncOnly', label: 'Sync Only(Override Pool)', type: 'checkbox' },
    ],
    defaults: () => ({ pid: pools.length === 1 ? pools[0].pid : '', name: '', endpoint: '', stake: '', enabled: true, syncOnly: false }),
    toForm: (w) => ({ pid: w.pid, name: w.name, endpoint: w.endpoint, stake: w.stake, enabled: Boolean(w.enabled), syncOnly: Boolean(w.syncOnly) }),
    validate(v, { items, editing }) {
      const e = {}
      if (!/^\d+$/.test(v.pid)) e.pid = 'choose the worker\'s pool'
      else if (pools.length && !pools.some((p) => String(p.pid) === v.pid)) e.pid = `no pool with PID ${v.pid} in this lifecycle`
      if (!v.name) e.name = 'a name is required'
      else if (items.some((w) => w.uuid !== editing?.uuid && w.name === v.name)) e.name = `this lifecycle already has a worker named ${v.name}`
      let url = null
      try {
        url = new URL(v.endpoint)
      } catch {
        // reported below
      }
      if (!url || !['http:', 'https:'].includes(url.protocol)) e.endpoint = 'the pRuntime\'s HTTP URL, e.g. http://10.0.0.5:8000'
      if (!/^\d+$/.test(v.stake)) e.stake = 'stake in plancks: digits only (1 PHA = 1000000000000)'
      else if (BigInt(v.stake) < ONE_PHA) e.stake = `at least 1 PHA (1000000000000 plancks); this is ${fmtPha(v.stake)}`
      return e
    },
    toMessage: (v) => ({ pid: v.pid, name: v.name, endpoint: v.endpoint, stake: v.stake, enabled: v.enabled, syncOnly: v.syncOnly }),
  }
  // The pool list may change while the page is open.
  ctx.signal.addEventListener('abort', () => clearInterval(timer))
  const timer = setInterval(loadPools, 10_000)
  mountCrud(root, ctx, spec)
}
