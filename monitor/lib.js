// Shared helpers of the monitor's page: calls to the monitor's JSON routes, HTML escaping,
// formatting, polling, and the small SVG plots. Plain ES modules, no build step.

const ERROR_TYPES = ['UNKNOWN', 'SERVER', 'NOT_FOUND', 'DUPLICATED', 'UNAUTHORIZED']

/** An error from the monitor or from the peer behind it, with what the page shows. */
export class ApiError extends Error {
  constructor(message, { status = 0, type = '', code = '' } = {}) {
    super(message)
    this.status = status
    this.type = type
    this.code = code
  }
}

async function readJson(res, what) {
  const text = await res.text()
  try {
    return text === '' ? {} : JSON.parse(text)
  } catch {
    throw new ApiError(`${what}: the monitor answered HTTP ${res.status} without JSON`, { status: res.status })
  }
}

/** POST a Walkie call through the monitor; resolves with `data`, throws ApiError with the peer's words. */
export async function call(peerId, method, body = {}) {
  let res
  try {
    res = await fetch(`/ptp/proxy/${encodeURIComponent(peerId)}/${method}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    })
  } catch (e) {
    throw new ApiError(`${method}: the monitor did not answer (${e.message}); is it running?`)
  }
  const json = await readJson(res, method)
  if (res.status === 401) throw new ApiError('the monitor asks for a user name and password; reload the page to log in', { status: 401 })
  if (json.hasError || res.status >= 400) {
    const e = json.error || {}
    if (typeof e.type === 'number') {
      const type = ERROR_TYPES[e.type] || 'UNKNOWN'
      throw new ApiError(e.message || `${type} error without a message`, { status: res.status, type })
    }
    throw new ApiError(e.message || `${method} failed with HTTP ${res.status}`, { status: res.status, code: e.code || '' })
  }
  return json.data || {}
}

export async function discover() {
  let res
  try {
    res = await fetch('/ptp/discover')
  } catch (e) {
    throw new ApiError(`the monitor did not answer (${e.message}); is it running?`)
  }
  const json = await readJson(res, 'discover')
  if (res.status !== 200) throw new ApiError(json.error?.message || `discover failed with HTTP ${res.status}`, { status: res.status })
  return json
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
/** Escape for HTML text and attribute values. */
export function esc(v) {
  return v === undefined || v === null ? '' : String(v).replace(/[&<>"']/g, (c) => ESC[c])
}

export function fmtInt(n) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : esc(n ?? '')
}

export function fmtDuration(s) {
  if (!Number.isFinite(s) || s < 0) return 'unknown'
  if (s < 90) return `${Math.round(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`
  return `${(s / 86400).toFixed(1)} d`
}

/** 4000000000000000 plancks → "4,000 PHA" (12 decimals). */
export function fmtPha(plancks) {
  if (!/^\d+$/.test(String(plancks ?? ''))) return esc(plancks ?? '')
  const s = String(plancks).padStart(13, '0')
  const whole = s.slice(0, -12).replace(/^0+(?=\d)/, '')
  const frac = s.slice(-12).replace(/0+$/, '')
  // 4 decimals are plenty for stakes; a dust amount keeps its digits so it never reads as 0
  const shown = whole === '0' ? frac : frac.slice(0, 4)
  return `${Number(whole).toLocaleString('en-US')}${shown ? '.' + shown : ''} PHA`
}

/** The error box of a section: readable, in place, with the time it happened. */
export function errorHtml(err, what) {
  const kind = err.type ? ` (${err.type})` : err.status ? ` (HTTP ${err.status})` : ''
  return `<div class="error" role="alert"><b>${esc(what)} failed${esc(kind)}:</b> ${esc(err.message)} <span class="when">${new Date().toLocaleTimeString()}</span></div>`
}

/**
 * Run `fn` now and then `everyMs` after each run ends (never two at once); stops when `signal`
 * aborts. A hidden tab polls at a quarter of the rate.
 */
export function poll(fn, everyMs, signal) {
  const loop = async () => {
    while (!signal.aborted) {
      try {
        await fn()
      } catch {
        // fn shows its own errors
      }
      const wait = document.hidden ? everyMs * 4 : everyMs
      await new Promise((r) => {
        const t = setTimeout(r, wait)
        signal.addEventListener('abort', () => { clearTimeout(t); r() }, { once: true })
      })
    }
  }
  loop()
}

/** A bounded series of [time ms, value] points for plots. */
export class Series {
  constructor(max = 600) {
    this.max = max
    this.points = []
  }
  push(t, v) {
    this.points.push([t, v])
    if (this.points.length > this.max) this.points.shift()
  }
  /** Milliseconds between the first and the last point. */
  span() {
    const p = this.points
    return p.length < 2 ? 0 : p[p.length - 1][0] - p[0][0]
  }
  /** Change per second over the last `windowMs`. */
  rate(windowMs = 15000) {
    const p = this.points
    if (p.length < 2) return 0
    const last = p[p.length - 1]
    let first = p[0]
    for (let i = p.length - 2; i >= 0; i--) {
      first = p[i]
      if (last[0] - p[i][0] >= windowMs) break
    }
    const dt = (last[0] - first[0]) / 1000
    return dt > 0 ? (last[1] - first[1]) / dt : 0
  }
}

/**
 * An inline SVG line plot of several series: `lines` = [{label, color, series}]; y from the data's
 * range, x the last minutes; a legend with the latest values.
 */
export function linePlot(lines, { width = 560, height = 140, title = '' } = {}) {
  const pts = lines.flatMap((l) => l.series.points)
  if (!lines.some((l) => l.series.span() > 0)) return `<figure class="plot"><figcaption>${esc(title)}</figcaption><div class="muted">collecting data…</div></figure>`
  const t0 = Math.min(...pts.map((p) => p[0]))
  const t1 = Math.max(...pts.map((p) => p[0]))
  let y0 = Math.min(...pts.map((p) => p[1]))
  let y1 = Math.max(...pts.map((p) => p[1]))
  if (y1 === y0) { y1 += 1; y0 -= 1 }
  const pad = 4
  const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (width - 2 * pad)
  const y = (v) => height - pad - ((v - y0) / (y1 - y0)) * (height - 2 * pad)
  const paths = lines.map((l) => {
    const d = l.series.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('')
    return `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.6"/>`
  }).join('')
  const legend = lines.map((l) => {
    const last = l.series.points[l.series.points.length - 1]
    return `<span><i style="background:${l.color}"></i>${esc(l.label)} ${last ? fmtInt(last[1]) : ''}</span>`
  }).join('')
  return `<figure class="plot"><figcaption>${esc(title)} <span class="muted">(last ${fmtDuration((t1 - t0) / 1000)}; ${fmtInt(Math.round(y0))}–${fmtInt(Math.round(y1))})</span></figcaption>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${paths}</svg><div class="legend">${legend}</div></figure>`
}

/** Stacked areas of counts over time: `samples` = [{t, counts: {key: n}}], `keys` with colors. */
export function stackPlot(samples, keys, { width = 560, height = 120, title = '' } = {}) {
  if (samples.length < 2 || samples[samples.length - 1].t === samples[0].t) return `<figure class="plot"><figcaption>${esc(title)}</figcaption><div class="muted">collecting data…</div></figure>`
  const t0 = samples[0].t
  const t1 = samples[samples.length - 1].t
  const total = Math.max(1, ...samples.map((s) => keys.reduce((a, k) => a + (s.counts[k.key] || 0), 0)))
  const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * width
  const y = (v) => height - (v / total) * height
  const below = samples.map(() => 0)
  const areas = keys.map((k) => {
    const top = samples.map((s, i) => below[i] + (s.counts[k.key] || 0))
    const d = samples.map((s, i) => `${i ? 'L' : 'M'}${x(s.t).toFixed(1)},${y(top[i]).toFixed(1)}`).join('')
      + samples.slice().reverse().map((s, j) => `L${x(s.t).toFixed(1)},${y(below[samples.length - 1 - j]).toFixed(1)}`).join('') + 'Z'
    top.forEach((v, i) => { below[i] = v })
    return `<path d="${d}" fill="${k.color}" stroke="none"><title>${esc(k.key)}</title></path>`
  }).join('')
  return `<figure class="plot"><figcaption>${esc(title)} <span class="muted">(last ${fmtDuration((t1 - t0) / 1000)})</span></figcaption>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${areas}</svg></figure>`
}

/** Replace an element's HTML only when it changed (keeps focus, open details and selection otherwise). */
export function setHtml(el, html) {
  if (el._html === html) return
  el._html = html
  el.innerHTML = html
}

/** Remember things across page changes within a tab (history for plots). */
export const memory = new Map()
export function remembered(key, make) {
  if (!memory.has(key)) memory.set(key, make())
  return memory.get(key)
}
