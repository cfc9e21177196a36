// /lifecycle/pools/:peerId: the lifecycle's pools (upstream's columns) with Add / Edit / Delete.
import { esc } from '../lib.js'
import { mountCrud } from './crud.js'

const SS58 = /^[1-9A-HJ-NP-Za-km-z]{46,50}$/
const yes = (b) => (b ? 'yes' : 'no')

export const poolSpec = {
  title: 'Pools', noun: 'pool', listMethod: 'ListPool', listKey: 'pools', createMethod: 'CreatePool', createKey: 'pools', updateMethod: 'UpdatePool', itemKey: 'pool',
  columns: [
    ['Name', (p) => `<b>${esc(p.name)}</b>`],
    ['PID', (p) => esc(p.pid)],
    ['Operator', (p) => `<code>${esc(p.owner?.ss58Phala ?? '')}</code>`],
    ['Proxied Owner Account', (p) => `<code>${esc(p.realPhalaSs58 ?? '')}</code>`],
    ['ID', (p) => `<code>${esc(p.uuid)}</code>`],
    ['Sync Only', (p) => yes(p.syncOnly)],
    ['Enabled', (p) => yes(p.enabled)],
  ],
  fields: [
    { name: 'pid', label: 'PID', type: 'text', required: true, placeholder: 'e.g. 1903', help: 'the stake pool\'s id on chain' },
    { name: 'name', label: 'Name', required: true },
    { name: 'mnemonic', label: 'Operator mnemonic', type: 'password', requiredOnAdd: true, aliases: ['owner'], help: 'the pool operator\'s secret phrase; sent once, stored encrypted by the lifecycle', editHelp: 'leave empty to keep the current operator' },
    { name: 'realPhalaSs58', label: 'Proxied Owner Account', placeholder: 'optional ss58 address', help: 'the pool owner when the operator is a proxy of it' },
    { name: 'enabled', label: 'Enabled', type: 'checkbox' },
    { name: 'syncOnly', label: 'Sync Only', type: 'checkbox' },
  ],
  defaults: () => ({ pid: '', name: '', mnemonic: '', realPhalaSs58: '', enabled: true, syncOnly: false }),
  toForm: (p) => ({ pid: p.pid, name: p.name, mnemonic: '', realPhalaSs58: p.realPhalaSs58 || '', enabled: Boolean(p.enabled), syncOnly: Boolean(p.syncOnly) }),
  validate(v, { items, editing }) {
    const e = {}
    if (!/^\d+$/.test(v.pid)) e.pid = 'PID is a whole number (0 or more)'
    else if (items.some((p) => p.uuid !== editing?.uuid && String(p.pid) === String(BigInt(v.pid)))) e.pid = `this lifecycle already has a pool with PID ${v.pid}`
    if (!v.name) e.name = 'a name is required'
    else if (items.some((p) => p.uuid !== editing?.uuid && p.name === v.name)) e.name = `this lifecycle already has a pool named ${v.name}`
    const words = v.mnemonic.split(/\s+/).filter(Boolean)
    if (!editing && !v.mnemonic) e.mnemonic = 'the operator mnemonic is required to add a pool'
    else if (v.mnemonic && !v.mnemonic.startsWith('//') && !v.mnemonic.startsWith('0x') && ![12, 15, 18, 21, 24].includes(words.length)) e.mnemonic = `a mnemonic has 12, 15, 18, 21 or 24 words (this one has ${words.length})`
    if (v.realPhalaSs58 && !SS58.test(v.realPhalaSs58)) e.realPhalaSs58 = 'not an ss58 address (46 to 50 base58 characters)'
    return e
  },
  toMessage(v, isEdit) {
    const m = { pid: v.pid, name: v.name, realPhalaSs58: v.realPhalaSs58, enabled: v.enabled, syncOnly: v.syncOnly }
    if (v.mnemonic || !isEdit) m.owner = { mnemonic: v.mnemonic }
    return m
  },
}

export function mount(root, ctx) {
  mountCrud(root, ctx, poolSpec)
}
