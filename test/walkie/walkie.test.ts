import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WalkieError, type WalkiePeerEvent } from '../../src/walkie/index.js'
import { waitFor } from '../helpers/wait.js'
import { startNode } from './helpers.js'

const stops: Array<() => Promise<void>> = []
after(async () => {
  await Promise.allSettled(stops.map((s) => s()))
})

describe('walkie discovery and handshake', () => {
  it('two nodes meet by bootstrap and both count each other', async () => {
    const a = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', hostname: 'host-a' })
    const events: WalkiePeerEvent[] = []
    a.walkie.registry.on('peer', (e) => events.push(e))
    const b = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bootNodes: a.walkie.multiaddrs() })
    const dp = await b.walkie.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
    assert.equal(dp.peerId, a.walkie.peerId)
    assert.equal(dp.hostname, 'host-a')
    assert.equal(dp.chainIdentity, '0xc1')
    assert.ok(dp.addresses[0].startsWith('/ip4/127.0.0.1/tcp/'))
    assert.equal(dp.host, '127.0.0.1')
    const lm = await a.walkie.waitForPeer('WR_LIFECYCLE_MANAGER', { timeoutMs: 10_000 })
    assert.equal(lm.peerId, b.walkie.peerId)
    assert.ok(events.some((e) => e.type === 'up' && e.peer.peerId === b.walkie.peerId))
    assert.equal(b.walkie.pick('WR_DATA_PROVIDER_INT').peerId, a.walkie.peerId)
  })

  it('three nodes meet by bootstrap; a boot address without /p2p works', async () => {
    const a = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER' })
    const bare = a.walkie.multiaddrs()[0].replace(/\/p2p\/.*$/, '')
    const b = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', bootNodes: [bare] })
    const c = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', bootNodes: a.walkie.multiaddrs() })
    await waitFor(() => a.walkie.peers({ role: 'WR_DATA_PROVIDER_INT' }).length === 2, 10_000, 'A to count B and C')
    await b.walkie.waitForPeer('WR_LIFECYCLE_MANAGER', { timeoutMs: 10_000 })
    await c.walkie.waitForPeer('WR_LIFECYCLE_MANAGER', { timeoutMs: 10_000 })
    const ids = a.walkie.peers({ role: 'WR_DATA_PROVIDER_INT' }).map((p) => p.peerId).sort()
    assert.deepEqual(ids, [b.walkie.peerId, c.walkie.peerId].sort())
  })

  it('a node of another bridge or chain identity is not counted (unless bridge identity is ignored)', async () => {
    const a = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', bridgeIdentity: 'production' })
    const otherBridge = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bridgeIdentity: 'staging', bootNodes: a.walkie.multiaddrs() })
    const otherChain = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bridgeIdentity: 'production', chainIdentity: '0xother', bootNodes: a.walkie.multiaddrs() })
    const ignoring = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bridgeIdentity: 'staging', ignoreBridgeIdentity: true, bootNodes: a.walkie.multiaddrs() })
    await waitFor(() => a.walkie.peers({ includeIncompatible: true }).length === 3, 10_000, 'A to shake hands with all three')
    await waitFor(() => [otherBridge, otherChain, ignoring].every((n) => n.walkie.peers({ includeIncompatible: true }).length === 1), 10_000, 'the others to shake hands with A')
    assert.deepEqual(a.walkie.peers(), [])
    assert.deepEqual(otherBridge.walkie.peers(), [])
    assert.deepEqual(otherChain.walkie.peers(), [])
    const seen = a.walkie.peers({ includeIncompatible: true }).find((p) => p.peerId === otherBridge.walkie.peerId)
    assert.equal(seen?.compatible, false)
    assert.equal(seen?.bridgeIdentity, 'staging')
    assert.throws(() => otherBridge.walkie.pick('WR_DATA_PROVIDER_INT'), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_NO_PEER')
    // the bridge check is skipped, the chain check is not
    assert.equal(ignoring.walkie.pick('WR_DATA_PROVIDER_INT').peerId, a.walkie.peerId)
  })
})

describe('walkie boot list quirks', () => {
  it('skips its own address and unspecified addresses (upstream falls back to the listen addresses)', async () => {
    const a = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', listenAddresses: ['/ip4/127.0.0.1/tcp/0'] })
    const own = a.walkie.multiaddrs()[0].replace(/\/p2p\/.*$/, '')
    const c = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bootNodes: ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0', 'not-a-multiaddr', own] })
    await c.walkie.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
    const warned = c.lines().filter((l) => /^Ignoring boot node/.test(l.msg)).length
    assert.equal(warned, 3)
    // a node whose boot list names itself logs it once and stops trying
    const d = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', listenAddresses: ['/ip4/127.0.0.1/tcp/0'] })
    const port = d.walkie.multiaddrs()[0].split('/')[4]
    await d.walkie.stop()
    const e = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', listenAddresses: [`/ip4/127.0.0.1/tcp/${port}`], bootNodes: [`/ip4/127.0.0.1/tcp/${port}`] })
    await waitFor(() => e.lines().some((l) => /is this node itself/.test(l.msg)), 10_000, 'the self-dial notice')
    assert.ok(!e.lines().some((l) => /failed \(attempt/.test(l.msg)), 'no retry warnings for dialling itself')
  })
})

describe('walkie lifecycle and live updates', () => {
  it('streams peer updates as an async iterator; stop() is idempotent and ends with down events', async () => {
    const a = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT' })
    const ac = new AbortController()
    const seen: string[] = []
    const reading = (async () => {
      for await (const ev of a.walkie.registry.updates(ac.signal)) {
        seen.push(`${ev.type}:${ev.peer.role}`)
        if (ev.type === 'down') ac.abort()
      }
    })()
    const b = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', bootNodes: a.walkie.multiaddrs() })
    await a.walkie.waitForPeer('WR_LIFECYCLE_MANAGER', { timeoutMs: 10_000 })
    const first = b.walkie.stop()
    assert.equal(b.walkie.stop(), first)
    await first
    await reading
    assert.equal(seen[0], 'up:WR_LIFECYCLE_MANAGER')
    assert.equal(seen.at(-1), 'down:WR_LIFECYCLE_MANAGER')
    await assert.rejects(b.walkie.call(a.walkie.peerId, 'Hello', {}), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_NOT_STARTED')
  })
})
