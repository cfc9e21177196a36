/**
 * Upstream clients fetch blobs at the data provider's Walkie address + blobServerPort: a blob server
 * bound where Walkie is not announced is named at start, and a matching one is not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { unreachableFromBlobServer } from '../../src/data_provider/blob-reach.js'
import { memoryLogger } from '../helpers/log.js'
import { tempDir } from '../helpers/fs.js'
import { quiet, startDp, startTestDevnet } from './e2e-helpers.js'

test('which announced Walkie addresses a bind address does not cover', () => {
  const walkie = ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWA', '/ip4/10.1.2.3/tcp/4001', '/ip6/::1/tcp/4002', '/ip6/fe80::1/tcp/4002', '/ip6/2001:db8::7/tcp/4002']
  assert.deepEqual(unreachableFromBlobServer(['127.0.0.1'], walkie), ['/ip4/10.1.2.3/tcp/4001', '/ip6/2001:db8::7/tcp/4002'])
  assert.deepEqual(unreachableFromBlobServer(['0.0.0.0'], walkie), ['/ip6/2001:db8::7/tcp/4002'], 'an IPv4 wildcard leaves the global IPv6 address out')
  assert.deepEqual(unreachableFromBlobServer(['::'], walkie), [])
  assert.deepEqual(unreachableFromBlobServer(['2001:DB8::7'], ['/ip6/2001:db8::7/tcp/1']), [])
  assert.deepEqual(unreachableFromBlobServer([], ['/ip4/127.0.0.1/tcp/1']), ['/ip4/127.0.0.1/tcp/1'], 'a host that does not resolve covers nothing')
})

test('the data provider warns at start when the blob server is bound where Walkie is not announced, and not when they agree', async (t) => {
  const dn = await startTestDevnet({ history: 10 }, quiet())
  t.after(() => dn.stop())
  const walkie = (host: string) => ({ bridgeIdentity: 'default', identity: { ephemeral: true as const }, listenAddresses: [`/ip4/${host}/tcp/0`], bootNodes: [], disableMdns: true })
  const warningsOf = async (walkieHost: string): Promise<Array<Record<string, any>>> => {
    const log = memoryLogger()
    const dp = await startDp(dn, tempDir(t), log.logger, { walkie: walkie(walkieHost) })
    try {
      await dp.booted
    } finally {
      await dp.stop()
    }
    assert.ok(log.lines().some((l) => l.msg?.startsWith('Walkie up')), 'Walkie started')
    return log.lines().filter((l) => l.level === 40 && /PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST/.test(l.msg))
  }
  // 127.0.0.2 is loopback too, but not where the blob server (127.0.0.1) listens
  const off = await warningsOf('127.0.0.2')
  assert.equal(off.length, 1, JSON.stringify(off))
  assert.deepEqual(off[0]!.unreachable.map((a: string) => a.replace(/tcp\/\d+/, 'tcp/N')), ['/ip4/127.0.0.2/tcp/N'])
  assert.match(off[0]!.msg, /binds the blob server on 127\.0\.0\.1, but Walkie announces \/ip4\/127\.0\.0\.2\/tcp\/\d+/)
  assert.deepEqual(await warningsOf('127.0.0.1'), [])
})
