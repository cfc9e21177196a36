// A list of records (pools or workers) with Add / Edit / Delete: the table polls the list method,
// the form checks every field before sending, and an error from the lifecycle is shown next to the
// field it names (`pools[0].name: …`, `items[0].worker.stake: …`, or the field's name in the text).
import { call, esc, errorHtml, poll, setHtml } from '../lib.js'
import { byName } from './fleet-model.js'

function fieldHtml(f, value, editing) {
  const id = `f-${f.name}`
  const req = f.required || (f.requiredOnAdd && !editing)
  const help = (editing && f.editHelp) || f.help
  let input
  if (f.type === 'checkbox') input = `<input type="checkbox" id="${id}" name="${f.name}"${value ? ' checked' : ''}>`
  else if (f.type === 'select') input = `<select id="${id}" name="${f.name}"><option value="">choose…</option>${f.options().map((o) => `<option value="${esc(o.value)}"${String(o.value) === String(value ?? '') ? ' selected' : ''}>${esc(o.label)}</option>`).join('')}</select>`
  else input = `<input type="${f.type || 'text'}" id="${id}" name="${f.name}" value="${esc(value ?? '')}" autocomplete="off"${f.placeholder ? ` placeholder="${esc(f.placeholder)}"` : ''}>`
  return `<div class="field" data-field="${f.name}"><label for="${id}">${esc(f.label)}${req ? ' <span class="req">*</span>' : ''}</label>${input}
${help ? `<small class="help">${esc(help)}</small>` : ''}<div class="field-error" id="err-${f.name}" role="alert"></div></div>`
}

function readForm(form, fields) {
  const out = {}
  for (const f of fields) {
    const el = form.elements[f.name]
    out[f.name] = f.type === 'checkbox' ? el.checked : el.value.trim()
  }
  return out
}

/** The field an error text is about: a path like `pools[0].owner.mnemonic`, else a field name in it. */
export function fieldOfError(message, fields) {
  const names = fields.map((f) => f.name)
  const aliases = Object.fromEntries(fields.flatMap((f) => (f.aliases || []).map((a) => [a, f.name])))
  const path = /(?:pools|workers|items)\[\d+\]\.(?:pool\.|worker\.)?([A-Za-z.]+)/.exec(message)
  if (path) {
    const parts = path[1].split('.')
    for (let i = parts.length - 1; i >= 0; i--) {
      if (names.includes(parts[i])) return parts[i]
      if (aliases[parts[i]]) return aliases[parts[i]]
    }
  }
  for (const n of [...names, ...Object.keys(aliases)]) {
    if (new RegExp(`\\b${n}\\b`).test(message)) return aliases[n] || n
  }
  return null
}

export function mountCrud(root, { peerId, peers, signal }, spec) {
  const selected = new Set()
  let items = []
  let editing = null // null: no form; {}: add; record: edit
  root.innerHTML = `<h2>${esc(spec.title)} <span class="muted" id="c-host"></span></h2>
<div id="c-error"></div>
<div class="toolbar"><button type="button" data-do="add">Add</button><button type="button" data-do="edit" disabled>Edit</button><button type="button" data-do="delete" disabled>Delete</button>
<span id="c-selected" class="muted">0 selected</span></div>
<div id="c-result"></div>
<div id="c-form"></div>
<div class="table-wrap"><table class="grid" id="c-table"><thead><tr><th></th>${spec.columns.map(([h]) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody></tbody></table></div>`
  const $ = (s) => root.querySelector(s)

  const renderTable = () => {
    setHtml($('#c-table tbody'), items.map((r) => `<tr data-uuid="${esc(r.uuid)}"><td><input type="checkbox" data-uuid="${esc(r.uuid)}" aria-label="select ${esc(r.name)}"${selected.has(r.uuid) ? ' checked' : ''}></td>${spec.columns.map(([, f]) => `<td>${f(r)}</td>`).join('')}</tr>`).join('')
      || `<tr><td colspan="${spec.columns.length + 1}" class="muted">none yet: Add one, or import with the JSON proxy (see the README)</td></tr>`)
    $('#c-selected').textContent = `${selected.size} selected`
    $('[data-do=edit]').disabled = selected.size !== 1
    $('[data-do=delete]').disabled = selected.size === 0
  }

  const refresh = async () => {
    try {
      const data = await call(peerId, spec.listMethod)
      if (signal.aborted) return
      items = (data[spec.listKey] || []).slice().sort((a, b) => byName(String(a.name), String(b.name)))
      const ids = new Set(items.map((r) => r.uuid))
      for (const id of selected) if (!ids.has(id)) selected.delete(id)
      setHtml($('#c-error'), '')
      const p = peers.byId(peerId)
      $('#c-host').textContent = p ? `on ${p.hostname}` : ''
      renderTable()
    } catch (e) {
      if (!signal.aborted) setHtml($('#c-error'), errorHtml(e, spec.listMethod))
    }
  }

  const openForm = (record) => {
    editing = record
    const isEdit = record !== null && record.uuid !== undefined
    const values = isEdit ? spec.toForm(record) : spec.defaults()
    $('#c-form').innerHTML = `<form class="card" novalidate><h3>${isEdit ? `Edit ${esc(record.name)}` : `Add ${esc(spec.noun)}`}</h3>
<div class="form-error" role="alert"></div>${spec.fields.map((f) => fieldHtml(f, values[f.name], isEdit)).join('')}
<div class="form-actions"><button type="submit" class="primary">${isEdit ? 'Save' : 'Add'}</button> <button type="button" data-do="cancel">Cancel</button></div></form>`
    $('#c-form form').elements[spec.fields[0].name].focus()
  }

  const showErrors = (form, errors, general) => {
    for (const f of spec.fields) {
      const msg = errors[f.name] || ''
      form.querySelector(`#err-${f.name}`).textContent = msg
      form.querySelector(`[data-field=${f.name}]`).classList.toggle('invalid', Boolean(msg))
    }
    form.querySelector('.form-error').innerHTML = general || ''
    const first = spec.fields.find((f) => errors[f.name])
    if (first) form.elements[first.name].focus()
  }

  root.addEventListener('change', (ev) => {
    const t = ev.target
    if (!t.matches('input[type=checkbox][data-uuid]')) return
    if (t.checked) selected.add(t.dataset.uuid)
    else selected.delete(t.dataset.uuid)
    renderTable()
  })
  root.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-do]')
    if (!b) return
    const what = b.dataset.do
    if (what === 'add') openForm(null)
    else if (what === 'cancel') {
      editing = null
      $('#c-form').innerHTML = ''
    } else if (what === 'edit') {
      const r = items.find((x) => selected.has(x.uuid))
      if (r) openForm(r)
    } else if (what === 'delete') {
      const gone = items.filter((x) => selected.has(x.uuid))
      if (!gone.length || !confirm(`Delete ${gone.length} ${spec.noun}(s): ${gone.map((x) => x.name).join(', ')}?`)) return
      try {
        await call(peerId, spec.updateMethod, { items: gone.map((x) => ({ id: { uuid: x.uuid }, [spec.itemKey]: { deleted: true } })) })
        setHtml($('#c-result'), `<div class="success" role="status">Deleted ${gone.length} ${esc(spec.noun)}(s). Restart the lifecycle manager if it does not apply edits by itself.</div>`)
        selected.clear()
      } catch (e) {
        setHtml($('#c-result'), errorHtml(e, `Deleting ${spec.noun}s`))
      }
      await refresh()
    }
  })
  root.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const form = ev.target
    const isEdit = editing !== null && editing.uuid !== undefined
    const values = readForm(form, spec.fields)
    const errors = spec.validate(values, { items, editing: isEdit ? editing : null })
    if (Object.keys(errors).length) return showErrors(form, errors, '<b>Check the marked fields.</b>')
    showErrors(form, {}, '')
    const record = spec.toMessage(values, isEdit)
    const body = isEdit
      ? { items: [{ id: { uuid: editing.uuid }, [spec.itemKey]: record }] }
      : { [spec.createKey]: [record] }
    const submit = form.querySelector('button[type=submit]')
    submit.disabled = true
    try {
      await call(peerId, isEdit ? spec.updateMethod : spec.createMethod, body)
      editing = null
      $('#c-form').innerHTML = ''
      setHtml($('#c-result'), `<div class="success" role="status">${isEdit ? 'Saved' : 'Added'} ${esc(spec.noun)} ${esc(values.name)}. <span class="when">${new Date().toLocaleTimeString()}</span></div>`)
      await refresh()
    } catch (e) {
      submit.disabled = false
      const field = fieldOfError(e.message, spec.fields)
      if (field) showErrors(form, { [field]: `${e.type ? `${e.type}: ` : ''}${e.message}` }, `<b>The lifecycle refused the ${esc(spec.noun)}; see the marked field.</b>`)
      else showErrors(form, {}, errorHtml(e, isEdit ? `Saving the ${spec.noun}` : `Adding the ${spec.noun}`))
    }
  })

  poll(refresh, 3000, signal)
}
