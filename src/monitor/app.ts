/**
 * The monitor's HTTP side, built apart from listening (tests use inject()): upstream's `/ptp`
 * routes, the web page (static files from the top-level `monitor/` folder, no build step), and
 * optional basic auth in front of every route.
 */
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'
import type { Logger } from '../common/logger.js'
import type { Metrics } from '../common/metrics.js'
import { basicAuthChecker, type BasicAuth } from './auth.js'
import type { Proxy } from './proxy.js'

/** `monitor/` at the repository root, from `src/monitor/` (tsx) and `dist/monitor/` alike. */
export const PAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'monitor')

/** Page paths as upstream's Next.js app had them; each serves the one page, which routes itself. */
export const PAGE_ROUTES = ['/discover', '/fleet', '/dp/status/:peerId', '/lifecycle/status/:peerId', '/lifecycle/pools/:peerId', '/lifecycle/workers/:peerId']

export interface MonitorAppDeps {
  proxy: Proxy
  logger: Logger
  /** PHALA_MONITOR_AUTH; every route answers 401 without these credentials. */
  auth?: BasicAuth
  metrics?: Metrics
  /** The folder of the web page; PAGE_DIR by default. */
  pageDir?: string
  /** What the page shows about this monitor (its own peer id). */
  self?: () => { peerId?: string }
}

const REALM = 'Basic realm="prb monitor", charset="UTF-8"'

function jsonError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: { code, message } })
}

/** upstream's express.json() took an empty body as {}; any other body must be JSON. */
function parseBody(_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void): void {
  if (body.trim() === '') return done(null, {})
  try {
    done(null, JSON.parse(body))
  } catch (e) {
    const err = new Error(`the request body is not JSON (${(e as Error).message}); send camelCase JSON with Content-Type: application/json`) as Error & { statusCode: number; code: string }
    err.statusCode = 400
    err.code = 'ERR_MONITOR_BAD_JSON'
    done(err)
  }
}

export async function buildMonitorApp(deps: MonitorAppDeps): Promise<FastifyInstance> {
  const log = deps.logger
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, routerOptions: { ignoreTrailingSlash: true } })

  // Set before the routes: fastify binds a route to the handlers set when it is added.
  app.setNotFoundHandler((req, reply) => jsonError(reply, 404, 'ERR_MONITOR_NOT_FOUND', `nothing at ${req.method} ${req.url}; the page is at /discover, the JSON at /ptp/discover and /ptp/proxy/<peer id>/<method>`))
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) {
      log.error({ err, url: req.url, method: req.method }, 'Monitor request failed.')
      return jsonError(reply, status, 'ERR_MONITOR_INTERNAL', 'internal error in the monitor; see its log')
    }
    return jsonError(reply, status, err.code ?? 'ERR_MONITOR_BAD_REQUEST', err.message)
  })

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseBody)
  // Only JSON bodies: a form or text/plain body is what another site can make a browser send
  // (no CORS preflight), so it is refused rather than read; an empty one is {} as upstream.
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body: string, done) => {
    if (body.trim() === '') return done(null, {})
    const err = new Error(`a body of type ${req.headers['content-type'] ?? '(none)'} is refused; send JSON with Content-Type: application/json (curl: -H 'Content-Type: application/json')`) as Error & { statusCode: number; code: string }
    err.statusCode = 415
    err.code = 'ERR_MONITOR_BODY_TYPE'
    done(err)
  })
  // A browser on another site may still send requests here; the page itself is same-origin.
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin
    if (!origin || !req.url.startsWith('/ptp/')) return
    let same = false
    try {
      const o = new URL(origin)
      same = o.host === new URL(`${o.protocol}//${req.headers.host ?? ''}`).host
    } catch {
      same = false
    }
    if (!same) {
      return jsonError(reply, 403, 'ERR_MONITOR_CROSS_ORIGIN', `requests from ${origin} are refused: the monitor's JSON routes answer its own page and scripts (no Origin header), not other sites`)
    }
  })

  if (deps.auth) {
    const ok = basicAuthChecker(deps.auth)
    app.addHook('onRequest', async (req, reply) => {
      if (ok(req.headers.authorization)) return
      reply.header('www-authenticate', REALM)
      return jsonError(reply, 401, 'ERR_MONITOR_AUTH', 'this monitor needs a user name and password (PHALA_MONITOR_AUTH); send them with HTTP basic auth, e.g. curl -u user:password')
    })
  }

  const m = deps.metrics
  const calls = m && new m.Counter({ name: 'prb_monitor_proxy_calls_total', help: 'proxied Walkie calls by method and outcome', labelNames: ['method', 'outcome'], registers: [m.registry] })
  const seconds = m && new m.Histogram({ name: 'prb_monitor_proxy_call_seconds', help: 'time of a proxied Walkie call', labelNames: ['method'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [m.registry] })
  if (m) {
    new m.Gauge({
      name: 'prb_monitor_peers', help: 'peers the monitor knows, by role', labelNames: ['role'], registers: [m.registry],
      collect() {
        const d = deps.proxy.discover()
        this.set({ role: 'data_provider' }, d.dataProviders.length)
        this.set({ role: 'lifecycle' }, d.lifecycleManagers.length)
      },
    })
  }

  app.all('/ptp/discover', async (_req, reply) => reply.send(deps.proxy.discover()))

  app.all<{ Params: { peerId: string; method: string } }>('/ptp/proxy/:peerId/:method', async (req, reply) => {
    const { peerId, method } = req.params
    const started = process.hrtime.bigint()
    const r = await deps.proxy.call(peerId, method, req.body)
    const s = Number(process.hrtime.bigint() - started) / 1e9
    calls?.inc({ method, outcome: r.outcome })
    if (r.outcome !== 'unknown_method') seconds?.observe({ method }, s)
    if (r.status >= 500) log.warn({ peer: peerId, method, status: r.status, error: r.body.error }, `Proxied ${method} to ${peerId} failed.`)
    else log.debug({ peer: peerId, method, outcome: r.outcome, ms: Math.round(s * 1000) }, `Proxied ${method}.`)
    return reply.code(r.status).send(r.body)
  })

  app.get('/api/self', async () => ({ ...(deps.self?.() ?? {}), methods: deps.proxy.methods(), auth: deps.auth !== undefined }))

  await app.register(fastifyStatic, { root: deps.pageDir ?? PAGE_DIR, prefix: '/assets/', index: false, cacheControl: true, maxAge: 0 })
  const page = (_req: FastifyRequest, reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html')
  for (const path of PAGE_ROUTES) app.get(path, page)
  app.get('/', async (_req, reply) => reply.redirect('/discover'))

  return app
}
