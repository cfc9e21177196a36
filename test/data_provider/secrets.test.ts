/**
 * The data provider started from its typed config with PHALA_DATA_PROVIDER_BLOB_SECRET,
 * PHALA_WALKIE_PSK and a persistent Walkie identity key: none of the three reaches a log line
 * (debug level), an error a client sees, or a Walkie answer, whether clients know the secrets or not.
 * The SecretGuard handed to the module is empty, so what is proven is that the code keeps them out.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SecretGuard } from '../../src/common/logger.js'
import { loadConfig } from '../../src/config/index.js'
import { start } from '../../src/data_provider/main.js'
import { createBlobClient, decodeGenesis } from '../../src/data_provider/index.js'
import type { Devnet } from '../../src/devnet/devnet.js'
import { createWalkie, keyFilePath, type Walkie } from '../../src/walkie/index.js'
import { tempDir } from '../helpers/fs.js'
import { memoryLogger, quietLogger } from '../helpers/log.js'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'
import { startTestDevnet } from './e2e-helpers.js'

const BLOB_SECRET = 'blob secret nobody may read 0123456789'
const PSK = 'walkie psk nobody may read 9876543210'

let dn: Devnet
before(async () => {
  dn = await startTestDevnet({}, quietLogger())
  await dn.makeBlocks(5)
})
after(async () => {
  await dn?.stop()
})

test('the blob secret, the Walkie PSK and the identity key stay out of logs, client errors and Walkie answers', async (t) => {
  const [blobPort, walkiePort] = [await freePort(), await freePort()]
  const keys = tempDir(t, 'prb-dp-secrets-keys-')
  const { config } = loadConfig('data_provider', {
    PHALA_MODULE: 'data_provider',
    PHALA_PARENT_CHAIN_ENDPOINT: dn.relayUrl,
    PHALA_CHAIN_ENDPOINT: dn.paraUrl,
    PHALA_LOCAL_DB_PATH: tempDir(t, 'prb-dp-secrets-db-'),
    PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blobPort),
    PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1',
    PHALA_DATA_PROVIDER_BLOB_SECRET: BLOB_SECRET,
    PHALA_PEER_ID_PREFIX: keys,
    PHALA_WALKIE_PSK: PSK,
    PHALA_WALKIE_LISTEN_ADDRESSES: `/ip4/127.0.0.1/tcp/${walkiePort}`,
    PHALA_WALKIE_BOOT_NODES: '/ip4/127.0.0.1/tcp/0',
    PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    PHALA_LOGGER_LEVEL: 'debug',
  })
  const log = memoryLogger('debug')
  const running = await start({ config, logger: log.logger, guard: new SecretGuard() })
  const clientErrors: string[] = []
  const answers: string[] = []
  const nodes: Walkie[] = []
  const blobs = [
    createBlobClient({ host: '127.0.0.1', port: blobPort, secret: BLOB_SECRET }),
    createBlobClient({ host: '127.0.0.1', port: blobPort, secret: 'a wrong blob secret of enough length' }),
    createBlobClient({ host: '127.0.0.1', port: blobPort }),
  ]
  try {
    // our client with the secret is served
    let genesis: Uint8Array | null = null
    await waitFor(async () => (genesis = await blobs[0]!.get('genesis:2035:pb')) !== null, 30_000, 'the genesis on the blob port')
    assert.equal(decodeGenesis(genesis!).paraId, 2035)
    // a wrong secret and no secret are refused
    for (const c of blobs.slice(1)) {
      await assert.rejects(c.get('genesis:2035:pb'), (e: Error) => {
        clientErrors.push(e.message)
        return true
      })
    }

    // a Walkie peer with the PSK talks to the data provider; one with another PSK cannot connect
    const peer = createWalkie({
      role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0x', acceptAnyIdentity: true, bridgeIdentity: 'default', identity: { ephemeral: true },
      listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, psk: PSK, bootNodes: [`/ip4/127.0.0.1/tcp/${walkiePort}`],
    }, { logger: quietLogger() })
    nodes.push(peer)
    await peer.start()
    const dp = await peer.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 20_000 })
    answers.push(JSON.stringify(await peer.call(dp.peerId, 'GetDataProviderInfo')))
    answers.push(JSON.stringify(await peer.call(dp.peerId, 'GetBlobByKey', { key: 'no such key' })))
    const stranger = createWalkie({
      role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0x', bridgeIdentity: 'default', identity: { ephemeral: true },
      listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, psk: 'another walkie psk of enough length',
    }, { logger: quietLogger() })
    nodes.push(stranger)
    await stranger.start()
    await assert.rejects(stranger.dial(`/ip4/127.0.0.1/tcp/${walkiePort}`, { timeoutMs: 3000 }), (e: Error) => {
      clientErrors.push(e.message)
      return true
    })
  } finally {
    for (const c of blobs) await c.close()
    for (const n of nodes) await n.stop()
    await running.stop()
  }

  const keyFile = readFileSync(keyFilePath(keys, 'DATA_PROVIDER'))
  const forbidden: Array<[string, string]> = [
    ['blob secret', BLOB_SECRET],
    ['Walkie PSK', PSK],
    ['identity key file (base64)', keyFile.toString('base64').slice(40, 80)],
    ['identity key file (hex)', keyFile.toString('hex').slice(80, 160)],
  ]
  const text = log.text()
  assert.match(text, /blob server listening/, 'the logs were collected')
  assert.match(text, /refused: the first frame is not a valid secret handshake/, 'the refused clients were logged')
  assert.equal(clientErrors.length, 3)
  for (const [what, secret] of forbidden) {
    assert.ok(!text.includes(secret), `the ${what} is in the log: …${text.slice(Math.max(0, text.indexOf(secret) - 300), text.indexOf(secret) + 50)}`)
    for (const e of [...clientErrors, ...answers]) assert.ok(!e.includes(secret), `the ${what} is in: ${e}`)
  }
})
