/**
 * The LIFECYCLE key: created on a fresh start; a missing key file while the store holds encrypted
 * operators is a hard error naming the file (upstream silently made a new key, §11.4.7), and the
 * file is not created then; another key than the operators' is refused at start.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { keyFilePath } from '../../src/walkie/index.js'
import { startLifecycle } from '../../src/lifecycle/index.js'
import { tempDir } from '../helpers/fs.js'
import { memoryLogger, quietLogger } from '../helpers/log.js'
import { lifecycleConfig } from './helpers.js'
import { ROOT } from '../walkie/proc.js'

// No chain: start() returns once the store and the key are ready; the chain is only needed later.
const start = (dir: string, logger = quietLogger()) => startLifecycle({ config: lifecycleConfig(dir, undefined), reconnectMinMs: 50, reconnectMaxMs: 200 }, { logger })

test('a fresh start creates the key; a missing key with pools in the store is a hard error naming the file', async (t) => {
  const dir = tempDir(t, 'prb-lc-keys-')
  const keyFile = keyFilePath(join(dir, 'keys'), 'LIFECYCLE')
  const { logger, text } = memoryLogger()
  let lm = await start(dir, logger)
  assert.ok(existsSync(keyFile), 'the key was created')
  assert.match(text(), /Created a new LIFECYCLE identity key at .*LIFECYCLE; back it up/)
  assert.match(text(), /Got my peer id as LIFECYCLE\./)
  await lm.repo.createPools([{ pid: 7, name: 'p7', owner: { mnemonic: '//Alice' } }])
  const peerId = lm.peerId
  await lm.stop()

  // the same key: same peer id, the operator decrypts
  lm = await start(dir)
  assert.equal(lm.peerId, peerId)
  await lm.stop()

  renameSync(keyFile, `${keyFile}.bak`)
  await assert.rejects(start(dir), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_LIFECYCLE_KEY_MISSING')
    assert.ok(e.message.includes(keyFile), e.message)
    assert.match(e.message, /holds 1 pool\(s\)/)
    assert.match(e.message, /restore that file from a backup/)
    return true
  })
  assert.ok(!existsSync(keyFile), 'no new key was made')

  // the store was closed on the way out: restoring the key makes it start again
  renameSync(`${keyFile}.bak`, keyFile)
  lm = await start(dir)
  assert.equal(lm.repo.listPools().length, 1)
  await lm.stop()
})

test('another key than the one the operators were sealed with is refused at start', async (t) => {
  const a = tempDir(t, 'prb-lc-keya-')
  const b = tempDir(t, 'prb-lc-keyb-')
  const lmA = await start(a)
  await lmA.repo.createPools([{ pid: 1, name: 'p1', owner: { mnemonic: '//Alice' } }])
  await lmA.stop()
  const other = await start(b)
  await other.stop()
  // a's store with b's key
  renameSync(join(b, 'keys', 'LIFECYCLE'), join(a, 'keys', 'LIFECYCLE'))
  const { logger, lines } = memoryLogger()
  await assert.rejects(start(a, logger), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_LIFECYCLE_KEY_WRONG')
    assert.match(e.message, /decrypts none of the 1 operator\(s\)/)
    return true
  })
  assert.ok(lines().some((l) => /^The operator of pool "p1" \(pid 1\) does not decrypt/.test(l.msg) && l.poolPid === '1'), 'the pool that does not decrypt is named')
})

test('through the entry: a missing key with pools in the store stops start-up with one line naming the file', async (t) => {
  const dir = tempDir(t, 'prb-lc-keyentry-')
  const lm = await start(dir)
  await lm.repo.createPools([{ pid: 1, name: 'p1', owner: { mnemonic: '//Alice' } }])
  await lm.stop()
  const keyFile = keyFilePath(join(dir, 'keys'), 'LIFECYCLE')
  rmSync(keyFile)
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', 'src/index.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? '', PHALA_MODULE: 'lifecycle', PHALA_LOCAL_DB_PATH: join(dir, 'local.db'), PHALA_PEER_ID_PREFIX: join(dir, 'keys'),
      PHALA_CHAIN_ENDPOINT: 'ws://127.0.0.1:9', PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0', PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    },
  })
  assert.equal(r.status, 1, r.stderr)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.ok(r.stderr.startsWith(`prb: start-up failed: the LIFECYCLE identity key ${keyFile} is missing`), r.stderr)
  assert.ok(!existsSync(keyFile))
})
