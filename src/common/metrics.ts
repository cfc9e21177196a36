/**
 * Prometheus metrics for every daemon (prom-client), served on PHALA_METRICS_PORT; off when unset.
 *
 * How a daemon wires it (in its main.ts, from its config):
 *
 *   const metrics = createMetrics({ module: 'lifecycle' })        // registry + process metrics
 *   new metrics.Gauge({ name: 'prb_lifecycle_workers', help: 'workers by state', labelNames: ['state'],
 *     registers: [metrics.registry], collect() { ...this.set({ state }, n) } })   // read at scrape time
 *   const server = createMetricsServer({ port: c.PHALA_METRICS_PORT, host: c.PHALA_METRICS_HOST },
 *     { registry: metrics.registry, logger })
 *   await server.start()      // resolves with the bound port; stop() is idempotent
 *
 * Add `...metrics` (src/config/schemas.ts) to the module's schema for the two variables. Prefer
 * `collect()` callbacks that read the component's own progress over pushing from hot paths; names
 * start with `prb_<module>_`; every series carries the `module` label.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Logger } from './logger.js'

export { Counter, Gauge, Histogram, Registry }

/**
 * Blocks per second of the relay and para chains from running totals, over at least a second
 * between scrapes (a faster scrape keeps the last rate rather than dividing by ~0).
 */
export function createChainRate(clock: () => number): (relay: number, para: number) => { relay: number; para: number } {
  let last: { t: number; relay: number; para: number } | undefined
  let rate = { relay: 0, para: 0 }
  return (relay, para) => {
    const cur = { t: clock(), relay, para }
    if (!last) last = cur
    else if (cur.t - last.t >= 1000) {
      const dt = (cur.t - last.t) / 1000
      rate = { relay: (cur.relay - last.relay) / dt, para: (cur.para - last.para) / dt }
      last = cur
    }
    return rate
  }
}

export interface Metrics {
  readonly registry: Registry
  readonly Gauge: typeof Gauge
  readonly Counter: typeof Counter
  readonly Histogram: typeof Histogram
}

/** A registry of its own (never prom-client's global one, so tests can make many) with process metrics. */
export function createMetrics(init: { module: string; processMetrics?: boolean }): Metrics {
  const registry = new Registry()
  registry.setDefaultLabels({ module: init.module })
  if (init.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'prb_' })
  return { registry, Gauge, Counter, Histogram }
}

export interface MetricsServerInit {
  /** 0 picks a free port. */
  port: number
  host?: string
}

export interface MetricsServer {
  start(): Promise<{ port: number }>
  /** Idempotent. */
  stop(): Promise<void>
}

/** A small HTTP server: GET /metrics in the Prometheus text format, 404 for anything else. */
export function createMetricsServer(init: MetricsServerInit, deps: { registry: Registry; logger: Logger }): MetricsServer {
  let server: Server | undefined
  let stopping: Promise<void> | undefined
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at GET /metrics\n')
      return
    }
    deps.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': deps.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        deps.logger.warn({ err }, 'Collecting metrics failed.')
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('collecting metrics failed; see the daemon log\n')
      },
    )
  }
  return {
    start: () => new Promise((resolve, reject) => {
      const s = createServer(onRequest)
      server = s
      s.once('error', (err) => reject(new Error(`cannot serve metrics on ${init.host ?? '0.0.0.0'}:${init.port}: ${err.message}; free the port or change PHALA_METRICS_PORT`, { cause: err })))
      s.listen(init.port, init.host ?? '0.0.0.0', () => {
        const port = (s.address() as AddressInfo).port
        deps.logger.info({ port, host: init.host ?? '0.0.0.0' }, `Metrics at http://${init.host ?? '0.0.0.0'}:${port}/metrics`)
        resolve({ port })
      })
    }),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        if (!server?.listening) return resolve()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return stopping
    },
  }
}
