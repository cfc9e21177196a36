/**
 * Upstream clients (v2's lifecycle) fetch blobs from the IP address of their Walkie connection to
 * the data provider, at `blobServerPort` (upstream-lifecycle.md §7.2): the blob server must listen
 * wherever Walkie can be reached. This says which announced Walkie addresses the blob server's
 * bind address does not cover, so a start-up line can name them.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

interface Announced { address: string; family: 4 | 6; host: string }

function parse(addr: string): Announced | undefined {
  const m = /^\/(ip4|ip6)\/([^/]+)\/tcp\/\d+/.exec(addr)
  if (!m) return undefined
  return { address: addr, family: m[1] === 'ip4' ? 4 : 6, host: m[2]! }
}

/** Link-local and loopback IPv6 addresses are no address a remote client dials by IP. */
function ignorable(a: Announced): boolean {
  return a.family === 6 && (a.host === '::1' || /^fe[89ab][0-9a-f]:/i.test(a.host))
}

/** The Walkie addresses (multiaddrs) a blob server bound on `bindIps` does not answer on. */
export function unreachableFromBlobServer(bindIps: string[], walkieAddresses: string[]): string[] {
  const out: string[] = []
  for (const raw of walkieAddresses) {
    const a = parse(raw)
    if (!a || ignorable(a)) continue
    const reached = bindIps.some((ip) => ip === '::' || (ip === '0.0.0.0' && a.family === 4) || ip.toLowerCase() === a.host.toLowerCase())
    if (!reached) out.push(raw.replace(/\/p2p\/[^/]+$/, ''))
  }
  return out
}

/** The address `listen(port, host)` binds: the host itself, or the first address it resolves to. */
export async function bindAddresses(host: string): Promise<string[]> {
  if (isIP(host)) return [host]
  try {
    return [(await lookup(host)).address]
  } catch {
    return []
  }
}

/** The start-up warning, or undefined when every announced address leads to the blob server. */
export async function blobReachWarning(host: string, port: number, walkieAddresses: string[]): Promise<{ msg: string; unreachable: string[]; bind: string[] } | undefined> {
  const bind = await bindAddresses(host)
  const unreachable = unreachableFromBlobServer(bind, walkieAddresses)
  if (unreachable.length === 0) return undefined
  return {
    bind,
    unreachable,
    msg: `PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST=${host} binds the blob server on ${bind.join(', ') || 'an address that does not resolve'}, but Walkie announces ${unreachable.join(', ')}; `
      + `upstream clients fetch blobs from the data provider's Walkie address at port ${port}, so one that reaches this node there gets no blobs. `
      + 'Set PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST to 0.0.0.0 (every IPv4 address) or :: (IPv4 and IPv6), or make PHALA_WALKIE_LISTEN_ADDRESSES listen only where the blob server does.',
  }
}
