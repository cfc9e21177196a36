/**
 * The Walkie PSK and the identity key never reach a log line, an error text or an answer to a peer.
 * The loggers' SecretGuard knows only the handler's secret (as the entry registers the secrets of
 * the config): for the PSK and the key, what is proven is that the code keeps them out, not that
 * a guard hides them afterwards.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SecretGuard } from '../../src/common/logger.js'
import { createWalkie, keyFilePath, WalkieError, type Walkie } from '../../src/walkie/index.js'
import { tempDir } from '../helpers/fs.js'
import { memoryLogger } from '../helpers/log.js'
import { FAST } from './helpers.js'

const PSK = 'a walkie psk nobody may read 1234567890'
const OTHER_SECRET = 'an operator mnemonic stand-in abcdefgh'

const stops: Array<() => Promise<void>> = []
after(async () => {
  for (const s of stops.reverse()) await s()
})

test('the PSK and the identity key stay out of logs, error texts and answers to peers', async (t) => {
  const dir = tempDir(t, 'prb-walkie-secrets-')
  const prefix = join(dir, 'keys')
  const logs: Array<ReturnType<typeof memoryLogger>> = []
  const start = async (role: 'WR_DATA_PROVIDER_INT' | 'WR_LIFECYCLE_MANAGER', psk: string, extra: { bootNodes?: string[] } = {}): Promise<Walkie> => {
    const guard = new SecretGuard()
    guard.add(OTHER_SECRET)
    const log = memoryLogger('debug', guard)
    logs.push(log)
    const logger = log.logger
    const walkie = createWalkie({
      role,
      chainIdentity: '0xc1',
      bridgeIdentity: 'default',
      ...FAST,
      psk,
      ...extra,
      identity: role === 'WR_DATA_PROVIDER_INT' ? { peerIdPrefix: prefix, name: 'DATA_PROVIDER' } : { ephemeral: true },
    }, { logger, redact: (text) => guard.redact(text) })
    await walkie.start()
    stops.push(() => walkie.stop())
    return walkie
  }

  const dp = await start('WR_DATA_PROVIDER_INT', PSK)
  // handlers whose errors carry secrets: a registered secret (also kept out of the log by the
  // guard), and the node's own PSK in an answer-only error (WalkieErrors are not logged above debug)
  dp.handle('GetDataProviderInfo', () => { throw new Error(`cannot decrypt with ${OTHER_SECRET}`) })
  dp.handle('GetBlobByKey', () => { throw new WalkieError('NOT_FOUND', `no blob for ${PSK}`) })
  const lm = await start('WR_LIFECYCLE_MANAGER', PSK, { bootNodes: dp.multiaddrs() })
  await lm.waitForPeer('WR_DATA_PROVIDER_INT', { timeoutMs: 10_000 })

  const answers: string[] = []
  for (const call of [() => lm.call(dp.peerId, 'GetDataProviderInfo'), () => lm.call(dp.peerId, 'GetBlobByKey', { key: 'k' })]) {
    await assert.rejects(call(), (e: unknown) => {
      assert.ok(e instanceof WalkieError, String(e))
      answers.push(e.message)
      return true
    })
  }
  assert.match(answers[0]!, /cannot decrypt with \[REDACTED\]/, 'the answer still says what failed')
  assert.match(answers[1]!, /no blob for \[REDACTED\]/)

  // a peer with the wrong PSK fails to connect; that failure must not print either key
  const wrong = await start('WR_LIFECYCLE_MANAGER', 'another psk of sufficient length 0987')
  const dialErr = await wrong.dial(dp.multiaddrs()[0]!, { timeoutMs: 3000 }).then(() => undefined, (e: unknown) => e as Error)
  assert.ok(dialErr, 'the dial with the wrong PSK fails')

  // a too-short PSK is refused with a text that does not echo it
  const short = 'tiny-psk-1'
  let shortErr = ''
  try {
    createWalkie({ role: 'WR_CLIENT', chainIdentity: '0xc1', bridgeIdentity: 'default', identity: { ephemeral: true }, psk: short }, { logger: memoryLogger().logger })
  } catch (e) {
    shortErr = (e as Error).message
  }
  assert.match(shortErr, /too short/)

  const keyFile = readFileSync(keyFilePath(prefix, 'DATA_PROVIDER'))
  const raw = Buffer.from(dp.identity.privateKey.raw)
  const forbidden: Array<[string, string]> = [
    ['PSK', PSK],
    ['handler secret', OTHER_SECRET],
    ['short PSK', short],
    ['identity key file (base64)', keyFile.toString('base64').slice(0, 40)],
    ['identity key file (hex)', keyFile.toString('hex').slice(0, 40)],
    ['identity private key (base64)', raw.toString('base64').slice(8, 48)],
    ['identity private key (hex)', raw.toString('hex').slice(16, 56)],
  ]
  const texts = [
    ...logs.map((l) => l.text()),
    ...answers,
    dialErr.message + String(dialErr.stack),
    shortErr,
  ]
  assert.ok(logs.every((l) => l.lines().length > 0), 'every node logged something')
  for (const [what, secret] of forbidden) {
    for (const text of texts) assert.ok(!text.includes(secret), `the ${what} appears in: ${text.slice(Math.max(0, text.indexOf(secret) - 600), text.indexOf(secret) + 100)}`)
  }
})
