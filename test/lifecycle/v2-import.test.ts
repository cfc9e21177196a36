/**
 * The drop-in upgrade: PHALA_LOCAL_DB_PATH names a v2 SQLite database (written here with upstream's
 * Sequelize schema, §3.3-3.4, and operators encrypted upstream's way with plain node:crypto and a
 * hand-encoded EncPb); the first start imports it into `<path>.prb`, leaves the file untouched,
 * and never imports twice. The v2 key file must be there: missing or another key is refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { constants, createCipheriv, createHash, publicEncrypt, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import initSqlJs from 'sql.js'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto'
import { decryptOperatorPair } from '../../src/common/operator-key.js'
import { keyFilePath, loadOrCreateIdentity } from '../../src/walkie/index.js'
import { lifecycleHandlers, startLifecycle, type RunningLifecycle } from '../../src/lifecycle/index.js'
import { getCodec } from '../../src/common/codec.js'
import { tempDir } from '../helpers/fs.js'
import { memoryLogger, quietLogger } from '../helpers/log.js'
import { lifecycleConfig } from './helpers.js'

await cryptoWaitReady()

/** protobuf bytes field: tag, varint length, bytes. */
function bytesField(no: number, b: Buffer): Buffer {
  const len: number[] = []
  let n = b.length
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  len.push(n)
  return Buffer.concat([Buffer.from([(no << 3) | 2, ...len]), b])
}

/** Upstream's pool_model encryption (§3.5), written independently of src/common/operator-key.ts. */
function upstreamEncrypt(mnemonic: string, rsaPublic: KeyObject): Buffer {
  const pair = new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromMnemonic(mnemonic)
  const plain = Buffer.from(JSON.stringify(pair.toJson()), 'utf8')
  const key = randomBytes(32)
  const iv = randomBytes(16)
  const c = createCipheriv('aes-256-cbc', key, iv)
  const payload = Buffer.concat([c.update(plain), c.final()])
  const encKey = publicEncrypt({ key: rsaPublic, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key)
  return Buffer.concat([bytesField(1, iv), bytesField(2, encKey), bytesField(3, payload)])
}

const SCHEMA = `
CREATE TABLE \`pools\` (\`id\` UUID NOT NULL PRIMARY KEY, \`pid\` INTEGER NOT NULL UNIQUE, \`name\` VARCHAR(255) NOT NULL UNIQUE, \`proxiedAccountSs58\` VARCHAR(255), \`encryptedOperator\` BLOB NOT NULL, \`enabled\` TINYINT(1) DEFAULT 1, \`syncOnly\` TINYINT(1) DEFAULT 0, \`createdAt\` DATETIME NOT NULL, \`updatedAt\` DATETIME NOT NULL);
CREATE INDEX \`pools_enabled\` ON \`pools\` (\`enabled\`);
CREATE TABLE \`workers\` (\`id\` UUID NOT NULL PRIMARY KEY, \`name\` VARCHAR(255) NOT NULL UNIQUE, \`endpoint\` VARCHAR(255) NOT NULL, \`stake\` VARCHAR(255) NOT NULL, \`enabled\` TINYINT(1) DEFAULT 1, \`syncOnly\` TINYINT(1) DEFAULT 0, \`poolId\` UUID REFERENCES \`pools\` (\`id\`) ON DELETE SET NULL ON UPDATE CASCADE, \`createdAt\` DATETIME NOT NULL, \`updatedAt\` DATETIME NOT NULL);
CREATE INDEX \`workers_pool_id\` ON \`workers\` (\`poolId\`);
CREATE INDEX \`workers_enabled\` ON \`workers\` (\`enabled\`);
`

interface V2Fixture { file: string; pools: Array<{ id: string; pid: number; name: string; address: string }>; workers: Record<string, string> }

async function writeV2(file: string, rsaPublic: KeyObject): Promise<V2Fixture> {
  const SQL = await initSqlJs()
  const db = new SQL.Database()
  db.run(SCHEMA)
  const kr = new Keyring({ type: 'sr25519', ss58Format: 30 })
  const at = '2022-06-01 10:00:00.000 +00:00'
  const pools = [{ m: mnemonicGenerate(12), pid: 3, name: 'pool-a', proxied: null, sync: 0 }, { m: mnemonicGenerate(24), pid: 4, name: 'pool-b', proxied: kr.addFromUri('//Alice').address, sync: 1 }]
    .map((p) => ({ ...p, id: randomUUID(), address: kr.addFromMnemonic(p.m).address }))
  for (const p of pools) {
    db.run('INSERT INTO pools VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)', [p.id, p.pid, p.name, p.proxied, upstreamEncrypt(p.m, rsaPublic), p.sync, at, at])
  }
  const workers = { w1: randomUUID(), w2: randomUUID(), w3: randomUUID(), orphan: randomUUID() }
  db.run('INSERT INTO workers VALUES (?, ?, ?, ?, 1, 0, ?, ?, ?)', [workers.w1, 'w-1', 'http://10.0.0.1:8000', '4000000000000000', pools[0]!.id, at, at])
  db.run('INSERT INTO workers VALUES (?, ?, ?, ?, 1, 1, ?, ?, ?)', [workers.w2, 'w-2', 'http://10.0.0.2:8000', '5', pools[1]!.id, at, at])
  db.run('INSERT INTO workers VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?)', [workers.w3, 'w-3', 'http://10.0.0.3:8000', '2000000000000', pools[0]!.id, at, at])
  db.run('INSERT INTO workers VALUES (?, ?, ?, ?, 1, 0, NULL, ?, ?)', [workers.orphan, 'w-orphan', 'http://10.0.0.4:8000', '4000000000000000', at, at])
  writeFileSync(file, db.export())
  db.close()
  return { file, pools: pools.map(({ id, pid, name, address }) => ({ id, pid, name, address })), workers }
}

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex')
const start = (dir: string, logger = quietLogger()): Promise<RunningLifecycle> =>
  startLifecycle({ config: lifecycleConfig(dir, undefined), reconnectMinMs: 50, reconnectMaxMs: 200 }, { logger })

test('a v2 SQLite database is imported once beside itself, untouched, operators still under the same key', async (t) => {
  const dir = tempDir(t, 'prb-lc-v2-')
  const keyFile = keyFilePath(join(dir, 'keys'), 'LIFECYCLE')
  const id = await loadOrCreateIdentity(keyFile)
  const v2 = await writeV2(join(dir, 'local.db'), id.rsa!.publicKey)
  const before = sha(v2.file)

  const { logger, lines } = memoryLogger()
  let lm = await start(dir, logger)
  assert.equal(lm.storePath, `${v2.file}.prb`)
  assert.equal(lm.peerId, id.peerId, 'the v2 key file is the identity')
  const pools = lm.repo.listPools()
  assert.deepEqual(pools.map((p) => [p.uuid, p.pid, p.name, p.operatorSs58, p.realPhalaSs58, p.syncOnly, p.enabled]), [
    [v2.pools[0]!.id, '3', 'pool-a', v2.pools[0]!.address, '', false, true],
    [v2.pools[1]!.id, '4', 'pool-b', v2.pools[1]!.address, new Keyring({ type: 'sr25519', ss58Format: 30 }).addFromUri('//Alice').address, true, true],
  ])
  const workers = lm.repo.listWorkers()
  assert.deepEqual(workers.map((w) => [w.worker.uuid, w.worker.name, w.pool.pid, w.worker.stake, w.worker.enabled, w.worker.syncOnly]), [
    [v2.workers.w1, 'w-1', '3', '4000000000000000', true, false],
    [v2.workers.w2, 'w-2', '4', '5', false, true],
    [v2.workers.w3, 'w-3', '3', '2000000000000', false, false],
  ])
  const msgs = lines().map((l) => l.msg as string)
  assert.ok(msgs.some((m) => /^Imported 2 pool\(s\) and 3 worker\(s\) from the v2 database .*local\.db into .*local\.db\.prb; the v2 file is left untouched\.$/.test(m)), msgs.join('\n'))
  assert.ok(msgs.some((m) => /left out worker "w-orphan"/.test(m)), 'the orphan is reported')
  assert.ok(msgs.some((m) => /imported disabled .*worker "w-2": stake "5" plancks is below 1 PHA/.test(m)), 'the bad stake is reported')
  // the API lists the imported pools with the same EncPb blob v2 had, and it decrypts
  const h = lifecycleHandlers({ repo: lm.repo, engine: () => undefined, configMode: true, logger: quietLogger() })
  const listed = getCodec().toJSON('prb.lifecycle.PoolList', getCodec().encode('prb.lifecycle.PoolList', await h.ListPool(new Uint8Array()))) as any
  for (const [i, p] of listed.pools.entries()) {
    const pair = await decryptOperatorPair(Buffer.from(p.owner.polkadotJson, 'hex'), id.rsa!.privateKey)
    assert.equal(pair.address, v2.pools[i]!.address)
    assert.equal(p.owner.ss58Phala, v2.pools[i]!.address)
  }
  await lm.stop()
  assert.equal(sha(v2.file), before, 'the SQLite file is untouched')

  // second start: no second import, edits kept
  const second = memoryLogger()
  lm = await start(dir, second.logger)
  await lm.repo.updateWorkers([{ id: { name: 'w-2' }, worker: { stake: '3000000000000000', enabled: true } }])
  await lm.stop()
  lm = await start(dir, second.logger)
  assert.equal(lm.repo.listWorkers().length, 3)
  assert.equal(lm.repo.listWorkers().find((w) => w.worker.name === 'w-2')!.worker.enabled, true)
  assert.ok(second.lines().some((l) => /^The v2 database was imported on /.test(l.msg)))
  assert.ok(!second.lines().some((l) => /^Imported /.test(l.msg)), 'not imported again')
  await lm.stop()
  assert.equal(sha(v2.file), before)
})

test('v2 import: without v2\'s key file nothing starts (no new key), with another key nothing is imported', async (t) => {
  const src = tempDir(t, 'prb-lc-v2src-')
  const id = await loadOrCreateIdentity(keyFilePath(join(src, 'keys'), 'LIFECYCLE'))
  const v2 = await writeV2(join(src, 'local.db'), id.rsa!.publicKey)

  const noKey = tempDir(t, 'prb-lc-v2nokey-')
  copyFileSync(v2.file, join(noKey, 'local.db'))
  const keyFile = keyFilePath(join(noKey, 'keys'), 'LIFECYCLE')
  await assert.rejects(start(noKey), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_LIFECYCLE_KEY_MISSING')
    assert.ok(e.message.includes(keyFile))
    assert.match(e.message, /the v2 database .*local\.db holds 2 pool\(s\)/)
    return true
  })
  assert.ok(!existsSync(keyFile), 'no new key was made')

  const otherKey = tempDir(t, 'prb-lc-v2other-')
  copyFileSync(v2.file, join(otherKey, 'local.db'))
  mkdirSync(join(otherKey, 'keys'))
  await loadOrCreateIdentity(keyFilePath(join(otherKey, 'keys'), 'LIFECYCLE'))
  await assert.rejects(start(otherKey), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_V2_IMPORT_KEY')
    assert.match(e.message, /2 pool operator\(s\) that do not decrypt with the LIFECYCLE key/)
    assert.match(e.message, /Nothing was imported/)
    return true
  })
})
