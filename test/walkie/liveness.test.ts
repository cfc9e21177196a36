import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WalkieError, type WalkiePeerEvent } from '../../src/walkie/index.js'
import { waitFor } from '../helpers/wait.js'
import { startNode } from './helpers.js'
import { spawnPeer, type PeerProcess } from './proc.js'

const stops: Array<() => Promise<void>> = []
const procs: PeerProcess[] = []
after(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  await Promise.allSettled(stops.map((s) => s()))
})

describe('walkie liveness and failover', () => {
  it('a killed peer leaves the registry within the liveness window and callRole fails over', async () => {
    const lm = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', livenessIntervalMs: 200, staleAfterMs: 1500 })
    const boot = lm.walkie.multiaddrs()
    const b = spawnPeer({ bootNodes: boot })
    const c = spawnPeer({ bootNodes: boot })
    procs.push(b, c)
    const [bi, ci] = await Promise.all([b.ready, c.ready])
    await waitFor(() => lm.walkie.peers({ role: 'WR_DATA_PROVIDER_INT', connectedOnly: true }).length === 2, 20_000, 'both data providers in the registry')

    const picked = new Set<string>()
    for (let i = 0; i < 40 && picked.size < 2; i++) picked.add(lm.walkie.pick('WR_DATA_PROVIDER_INT').peerId)
    assert.equal(picked.size, 2, 'pick spreads over both peers')

    const down = new Promise<{ ev: WalkiePeerEvent; at: number }>((resolve) => {
      lm.walkie.registry.on('peer', (ev) => {
        if (ev.type === 'down' && ev.peer.peerId === bi.peerId) resolve({ ev, at: Date.now() })
      })
    })
    const killedAt = Date.now()
    b.child.kill('SIGKILL')
    await b.exited

    // every call lands on C, whether B is still listed (unreachable, skipped) or already gone
    for (let i = 0; i < 10; i++) {
      const { peer, response } = await lm.walkie.callRole('WR_DATA_PROVIDER_INT', 'GetDataProviderInfo', {})
      assert.equal(peer.peerId, ci.peerId)
      assert.equal(response.blobServerPort, 7)
    }
    const { ev, at } = await down
    assert.equal(ev.type === 'down' && ev.reason.startsWith('no answer'), true)
    // staleAfterMs 1500 + one 200 ms interval + a probe timeout of 200 ms, with slack for a busy machine
    assert.ok(at - killedAt < 4000, `left after ${at - killedAt} ms`)
    assert.deepEqual(lm.walkie.peers({ role: 'WR_DATA_PROVIDER_INT' }).map((p) => p.peerId), [ci.peerId])

    c.child.kill('SIGKILL')
    await c.exited
    await waitFor(() => lm.walkie.peers().length === 0, 5000, 'C to leave too')
    await assert.rejects(lm.walkie.callRole('WR_DATA_PROVIDER_INT', 'GetDataProviderInfo', {}), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_NO_PEER')
  })

  it('a boot node that restarts is found again', async () => {
    const dp = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', listenAddresses: ['/ip4/127.0.0.1/tcp/0'] })
    const port = dp.walkie.multiaddrs()[0].split('/')[4]
    const client = await startNode(stops, { role: 'WR_CLIENT', listenAddresses: [], bootNodes: [`/ip4/127.0.0.1/tcp/${port}`] })
    await client.walkie.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
    await dp.walkie.stop()
    await waitFor(() => client.walkie.peers({ connectedOnly: true }).length === 0, 5000, 'the client to see the DP disconnected or gone')
    // same port, new identity: the boot loop redials the address
    const again = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', listenAddresses: [`/ip4/127.0.0.1/tcp/${port}`] })
    const found = await client.walkie.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
    assert.equal(found.peerId, again.walkie.peerId)
  })
})

describe('walkie pre-shared key', () => {
  it('nodes with the same PSK meet; a node with another or no PSK cannot connect', async () => {
    const psk = 'correct horse battery staple 42'
    const a = await startNode(stops, { role: 'WR_DATA_PROVIDER_INT', psk })
    const b = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', psk, bootNodes: a.walkie.multiaddrs() })
    await b.walkie.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })
    const wrong = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER', psk: 'another secret of enough length' })
    const none = await startNode(stops, { role: 'WR_LIFECYCLE_MANAGER' })
    for (const n of [wrong, none]) {
      await assert.rejects(n.walkie.dial(a.walkie.multiaddrs()[0], { timeoutMs: 3000 }))
      assert.deepEqual(n.walkie.peers({ includeIncompatible: true }), [])
    }
    assert.deepEqual(a.walkie.peers({ includeIncompatible: true }).map((p) => p.peerId), [b.walkie.peerId])
  })

  it('a PSK shorter than 16 characters is refused at construction', async () => {
    await assert.rejects(startNode(stops, { role: 'WR_CLIENT', psk: 'short' }), (e: unknown) => e instanceof WalkieError && e.code === 'ERR_WALKIE_PSK')
  })
})
