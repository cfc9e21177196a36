/**
 * `node dist/index.js --healthcheck`: the image's HEALTHCHECK, one command for every PHALA_MODULE.
 * It reads the same configuration as the daemon and asks what that daemon serves once it is up:
 * the data provider's blob server and Walkie port, the lifecycle's Walkie port (and its queue board
 * with USE_BUILT_IN_TRADER), the trader's queue board, the monitor's `/ptp/discover`, the devnet's
 * control `/status` and JSON-RPC ports. Ports set to 0 (random) cannot be probed and are named as
 * such. Exit 0 healthy, 1 unhealthy (Docker's meanings); one line per probe on stdout, which
 * `docker inspect` shows in the health log.
 */
import { connect } from 'node:net'
import { request } from 'node:http'
import type { ConfigFor, ModuleName } from './config/index.js'
import type { BasicAuthCredentials } from './config/spec.js'

export interface Probe {
  readonly what: string
  /** Resolves when the service answers as it should; rejects with the reason otherwise. */
  readonly run: (timeoutMs: number) => Promise<void>
}

export interface HealthReport {
  healthy: boolean
  lines: string[]
}

/** The address to dial for a bind address: a wildcard bind is reached on loopback. */
function dialHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1'
  if (bind === '::' || bind === '[::]') return '::1'
  return bind.replace(/^\[(.*)\]$/, '$1')
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function tcpProbe(what: string, bindHost: string, port: number): Probe {
  const host = dialHost(bindHost)
  return {
    what: `${what} accepts on ${hostPort(host, port)}`,
    run: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const s = connect({ host, port })
        const timer = setTimeout(() => {
          s.destroy()
          reject(new Error(`no answer within ${timeoutMs} ms`))
        }, timeoutMs)
        s.once('connect', () => {
          clearTimeout(timer)
          s.destroy()
          resolve()
        })
        s.once('error', (err) => {
          clearTimeout(timer)
          reject(err)
        })
      }),
  }
}

function httpProbe(what: string, bindHost: string, port: number, path: string, auth?: BasicAuthCredentials): Probe {
  const host = dialHost(bindHost)
  return {
    what: `${what} answers GET http://${hostPort(host, port)}${path}`,
    run: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const headers: Record<string, string> = auth ? { authorization: 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64') } : {}
        const req = request({ host, port, path, method: 'GET', headers, timeout: timeoutMs }, (res) => {
          res.resume()
          const code = res.statusCode ?? 0
          // 2xx, or a redirect to the page: the server routes requests. 401 would mean our own credentials are refused.
          if (code >= 200 && code < 400) resolve()
          else reject(new Error(`HTTP ${code}`))
        })
        req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
        req.once('error', reject)
        req.end()
      }),
  }
}

/** The TCP listen addresses with a fixed port among multiaddrs like /ip4/0.0.0.0/tcp/28888. */
function fixedTcpAddresses(addrs: readonly string[]): Array<{ host: string; port: number }> {
  const out: Array<{ host: string; port: number }> = []
  for (const a of addrs) {
    const m = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(a)
    if (m && Number(m[2]) !== 0) out.push({ host: m[1]!, port: Number(m[2]) })
  }
  return out
}

/** Walkie listens when any of its fixed-port addresses accepts (an IPv6 one may be off in a container). */
function walkieProbe(addrs: readonly string[]): Probe | string {
  const fixed = fixedTcpAddresses(addrs)
  if (fixed.length === 0) return 'Walkie: not probed, its listen addresses have no fixed TCP port (set PHALA_WALKIE_LISTEN_ADDRESSES with one, e.g. /ip4/0.0.0.0/tcp/28888)'
  const probes = fixed.map((f) => tcpProbe('Walkie', f.host, f.port))
  return {
    what: probes.length === 1 ? probes[0]!.what : `Walkie accepts on one of ${fixed.map((f) => hostPort(dialHost(f.host), f.port)).join(', ')}`,
    run: (timeoutMs) => Promise.any(probes.map((p) => p.run(timeoutMs))).then(() => undefined, (e: AggregateError) => {
      throw new Error(e.errors.map((x: Error) => x.message).join('; '))
    }),
  }
}

function portProbe(port: number, name: string, make: () => Probe): Probe | string {
  return port === 0 ? `${name}: not probed, its port is 0 (random)` : make()
}

/** What to ask for the module, given its configuration; strings are checks that cannot be made. */
export function healthProbes(module: ModuleName, config: object): Array<Probe | string> {
  switch (module) {
    case 'data_provider': {
      const c = config as ConfigFor<'data_provider'>
      return [
        portProbe(c.PHALA_DATA_PROVIDER_LOCAL_SERVER, 'blob server', () => tcpProbe('blob server', c.PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST, c.PHALA_DATA_PROVIDER_LOCAL_SERVER)),
        walkieProbe(c.PHALA_WALKIE_LISTEN_ADDRESSES),
        ...(c.PHALA_METRICS_PORT !== undefined ? [portProbe(c.PHALA_METRICS_PORT, 'metrics', () => httpProbe('metrics', c.PHALA_METRICS_HOST, c.PHALA_METRICS_PORT!, '/metrics'))] : []),
      ]
    }
    case 'lifecycle': {
      const c = config as ConfigFor<'lifecycle'>
      const board = c.USE_BUILT_IN_TRADER && !c.PHALA_LIFECYCLE_CONFIG_MODE
      return [
        walkieProbe(c.PHALA_WALKIE_LISTEN_ADDRESSES),
        ...(board ? [portProbe(c.PHALA_QUEUE_BOARD_PORT, 'queue board', () => httpProbe('queue board', c.PHALA_QUEUE_BOARD_HOST, c.PHALA_QUEUE_BOARD_PORT, '/', c.PHALA_QUEUE_BOARD_AUTH))] : []),
      ]
    }
    case 'trade': {
      const c = config as ConfigFor<'trade'>
      return [
        portProbe(c.PHALA_QUEUE_BOARD_PORT, 'queue board', () => httpProbe('queue board', c.PHALA_QUEUE_BOARD_HOST, c.PHALA_QUEUE_BOARD_PORT, '/', c.PHALA_QUEUE_BOARD_AUTH)),
        walkieProbe(c.PHALA_WALKIE_LISTEN_ADDRESSES),
      ]
    }
    case 'monitor': {
      const c = config as ConfigFor<'monitor'>
      const auth = c.PHALA_MONITOR_AUTH
      return [
        portProbe(c.PORT, 'monitor', () => httpProbe('monitor', c.PHALA_MONITOR_HOST, c.PORT, '/ptp/discover', auth)),
        ...(c.PHALA_METRICS_PORT !== undefined ? [portProbe(c.PHALA_METRICS_PORT, 'metrics', () => httpProbe('metrics', c.PHALA_METRICS_HOST, c.PHALA_METRICS_PORT!, '/metrics'))] : []),
      ]
    }
    case 'devnet': {
      const c = config as ConfigFor<'devnet'>
      return [
        portProbe(c.PHALA_DEVNET_CONTROL_PORT, 'devnet control', () => httpProbe('devnet control', c.PHALA_DEVNET_HOST, c.PHALA_DEVNET_CONTROL_PORT, '/status')),
        portProbe(c.PHALA_DEVNET_RELAY_PORT, 'relay chain RPC', () => tcpProbe('relay chain RPC', c.PHALA_DEVNET_HOST, c.PHALA_DEVNET_RELAY_PORT)),
        portProbe(c.PHALA_DEVNET_PARA_PORT, 'parachain RPC', () => tcpProbe('parachain RPC', c.PHALA_DEVNET_HOST, c.PHALA_DEVNET_PARA_PORT)),
        ...(c.PHALA_DEVNET_PRUNTIMES > 0 ? [portProbe(c.PHALA_DEVNET_PRUNTIME_PORT, 'pRuntime', () => tcpProbe('first pRuntime', c.PHALA_DEVNET_HOST, c.PHALA_DEVNET_PRUNTIME_PORT))] : []),
      ]
    }
  }
}

/** Runs every probe at once; healthy when all that can run pass. */
export async function runHealthcheck(module: ModuleName, config: object, timeoutMs = 3000): Promise<HealthReport> {
  const probes = healthProbes(module, config)
  const results = await Promise.all(
    probes.map(async (p) => {
      if (typeof p === 'string') return { ok: true, line: `skipped: ${p}` }
      try {
        await p.run(timeoutMs)
        return { ok: true, line: `ok: ${p.what}` }
      } catch (err) {
        return { ok: false, line: `FAILED: ${p.what}: ${(err as Error).message || String(err)}` }
      }
    }),
  )
  const healthy = results.every((r) => r.ok)
  const lines = results.map((r) => r.line)
  if (!probes.some((p) => typeof p !== 'string')) lines.push(`nothing to probe for ${module} with this configuration: healthy while the process runs`)
  lines.unshift(`prb ${module}: ${healthy ? 'healthy' : 'unhealthy'}`)
  return { healthy, lines }
}
