/**
 * `PHALA_MODULE=monitor`: a Walkie client node (ephemeral identity, role WR_CLIENT, identities
 * `client`, any peer accepted, as upstream), the proxy over it, the web page and JSON routes on
 * PORT, and /metrics on PHALA_METRICS_PORT. Started in that order, stopped in reverse.
 */
import type { FastifyInstance } from 'fastify'
import { getCodec } from '../common/codec.js'
import { componentLogger, type Logger } from '../common/logger.js'
import { createMetrics, createMetricsServer, type MetricsServer } from '../common/metrics.js'
import { cleanupStack, type ModuleContext, type RunningModule } from '../common/module.js'
import type { MonitorConfig } from '../config/index.js'
import { createWalkie, type Walkie, type WalkieInit } from '../walkie/index.js'
import { buildMonitorApp } from './app.js'
import { isLoopbackHost, type BasicAuth } from './auth.js'
import { createProxy } from './proxy.js'

export interface MonitorOptions {
  port: number
  host: string
  auth?: BasicAuth
  proxyTimeoutMs: number
  walkie: Omit<WalkieInit, 'role' | 'chainIdentity' | 'bridgeIdentity' | 'identity'>
  metrics?: { port: number; host: string }
  /** The web page's folder (tests); the shipped `monitor/` by default. */
  pageDir?: string
}

export interface RunningMonitor extends RunningModule {
  readonly port: number
  readonly walkie: Walkie
  readonly app: FastifyInstance
  readonly metricsPort?: number
}

export function monitorOptions(c: MonitorConfig): MonitorOptions {
  return {
    port: c.PORT,
    host: c.PHALA_MONITOR_HOST,
    ...(c.PHALA_MONITOR_AUTH ? { auth: c.PHALA_MONITOR_AUTH } : {}),
    proxyTimeoutMs: c.PHALA_MONITOR_PROXY_TIMEOUT,
    walkie: {
      listenAddresses: c.PTP_LISTEN_ADDRESSES,
      bootNodes: c.PTP_BOOT_NODES,
      disableMdns: c.PHALA_WALKIE_DISABLE_MDNS_DISCOVERY,
      ...(c.PHALA_WALKIE_PSK ? { psk: c.PHALA_WALKIE_PSK } : {}),
    },
    ...(c.PHALA_METRICS_PORT !== undefined ? { metrics: { port: c.PHALA_METRICS_PORT, host: c.PHALA_METRICS_HOST } } : {}),
  }
}

/** The start-up warning when neither basic auth nor a loopback bind keeps strangers out; undefined when one does. */
export function exposureWarning(host: string, port: number, auth: boolean): string | undefined {
  if (auth || isLoopbackHost(host)) return undefined
  return `The monitor listens on ${host}:${port} without PHALA_MONITOR_AUTH: anyone who reaches this port can create and delete pools (with their operator mnemonics), restart and kick workers. Set PHALA_MONITOR_AUTH=user:password or PHALA_MONITOR_HOST=127.0.0.1.`
}

export async function startMonitor(o: MonitorOptions, deps: { logger: Logger; redact?: (text: string) => string }): Promise<RunningMonitor> {
  const log = deps.logger
  const cleanups = cleanupStack(log)
  // Nothing of the start-up listens for an abort: each step is quick, and a failed one stops the rest.
  const stop = cleanups.stopper({ name: 'monitor', abort: new AbortController(), booted: () => undefined })
  try {
    const walkie = createWalkie({
      ...o.walkie,
      role: 'WR_CLIENT',
      chainIdentity: 'client',
      bridgeIdentity: 'client',
      acceptAnyIdentity: true,
      identity: { ephemeral: true },
      // A proxied call has its own deadline; Walkie's default must not cut it shorter.
      rpcTimeoutMs: Math.max(o.proxyTimeoutMs, 30_000),
    }, { logger: componentLogger(log, 'walkie'), ...(deps.redact ? { redact: deps.redact } : {}) })
    await walkie.start()
    cleanups.push('walkie', () => walkie.stop())
    log.info({ id: walkie.peerId }, `PtpNode started as ${walkie.peerId}`)

    const metrics = o.metrics ? createMetrics({ module: 'monitor' }) : undefined
    const stopping = new AbortController()
    const proxy = createProxy({ timeoutMs: o.proxyTimeoutMs, stopping: stopping.signal }, { walkie, codec: getCodec() })
    const app = await buildMonitorApp({
      proxy, logger: componentLogger(log, 'http'),
      ...(o.auth ? { auth: o.auth } : {}),
      ...(metrics ? { metrics } : {}),
      ...(o.pageDir ? { pageDir: o.pageDir } : {}),
      self: () => ({ peerId: walkie.peerId }),
    })
    cleanups.push('http', () => app.close())
    // Runs before the close above: open proxied calls answer 503 now instead of holding the close
    // for up to PHALA_MONITOR_PROXY_TIMEOUT.
    cleanups.push('proxied calls', async () => stopping.abort())
    await app.listen({ port: o.port, host: o.host })
    const port = app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : o.port
    log.info({ host: o.host, port, auth: o.auth !== undefined }, `Monitor at http://${o.host}:${port}/discover`)
    const warning = exposureWarning(o.host, port, o.auth !== undefined)
    if (warning) log.warn({ host: o.host, port }, warning)

    let metricsServer: MetricsServer | undefined
    let metricsPort: number | undefined
    if (metrics && o.metrics) {
      metricsServer = createMetricsServer(o.metrics, { registry: metrics.registry, logger: componentLogger(log, 'metrics') })
      cleanups.push('metrics', () => metricsServer!.stop())
      metricsPort = (await metricsServer.start()).port
    }
    return { port, walkie, app, ...(metricsPort !== undefined ? { metricsPort } : {}), stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export async function start(ctx: ModuleContext<MonitorConfig>): Promise<RunningModule> {
  const o = monitorOptions(ctx.config)
  if (o.auth) ctx.guard.add(o.auth.password)
  const m = await startMonitor(o, { logger: ctx.logger, redact: (t) => ctx.guard.redact(t) })
  return { stop: () => m.stop() }
}
