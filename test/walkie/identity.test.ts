import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWalkie, loadOrCreateIdentity, IdentityError, keyFilePath } from '../../src/walkie/index.js'
import { memoryLogger } from '../helpers/log.js'
import { FAST } from './helpers.js'
import { publicEncrypt, privateDecrypt } from 'node:crypto'

const dirs: string[] = []
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'walkie-id-'))
  dirs.push(d)
  return d
}

describe('walkie identity key file', () => {
  it('is created as RSA-2048 in the old PeerId protobuf, mode 0600, and kept across restarts', async () => {
    const prefix = join(await tmp(), 'keys', 'id')
    const run = async () => {
      const { logger, lines } = memoryLogger()
      const w = createWalkie({ role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0xc1', bridgeIdentity: 'default', identity: { peerIdPrefix: prefix, name: 'LIFECYCLE' }, ...FAST }, { logger })
      await w.start()
      const id = w.peerId
      const addrs = w.multiaddrs()
      await w.stop()
      return { id, addrs, lines: lines() }
    }
    const first = await run()
    const file = keyFilePath(prefix, 'LIFECYCLE')
    assert.equal(file, join(prefix, 'LIFECYCLE'))
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.match(first.id, /^Qm/)
    const got = first.lines.find((l) => l.msg === 'Got my peer id as LIFECYCLE.')
    assert.ok(got, 'the line operators grep for')
    assert.equal(got.id, first.id)
    assert.deepEqual(got.addresses, first.addrs)

    const bytes = await readFile(file)
    // PeerIdProto: field 1 (id, bytes) = 0x0a, a 34-byte sha2-256 multihash (0x12 0x20 ...)
    assert.equal(bytes[0], 0x0a)
    assert.equal(bytes[1], 34)
    assert.deepEqual([...bytes.subarray(2, 4)], [0x12, 0x20])
    // then field 2 (pubKey) = 0x12, then field 3 (privKey) = 0x1a
    assert.equal(bytes[36], 0x12)
    const pubLen = (bytes[37] & 0x7f) | (bytes[38] << 7)
    assert.ok(bytes[37] & 0x80)
    assert.equal(bytes[39 + pubLen], 0x1a)

    const second = await run()
    assert.equal(second.id, first.id)
    assert.ok(!second.lines.some((l) => /Created a new identity key/.test(l.msg)))
  })

  it('exposes the RSA key pair for operator-key encryption', async () => {
    const file = join(await tmp(), 'TRADE')
    const a = await loadOrCreateIdentity(file)
    assert.equal(a.created, true)
    const b = await loadOrCreateIdentity(file)
    assert.equal(b.created, false)
    assert.equal(b.peerId, a.peerId)
    assert.ok(a.rsa && b.rsa)
    assert.equal(a.rsa.privateKey.asymmetricKeyDetails?.modulusLength, 2048)
    const sealed = publicEncrypt(a.rsa.publicKey, Buffer.from('operator'))
    assert.equal(privateDecrypt(b.rsa.privateKey, sealed).toString(), 'operator')
  })

  it('refuses a corrupt key file, naming it, and leaves it in place', async () => {
    const file = join(await tmp(), 'DATA_PROVIDER')
    await writeFile(file, Buffer.from([0x0a, 0x05, 0x01]), { mode: 0o600 })
    await assert.rejects(loadOrCreateIdentity(file), (e: unknown) => e instanceof IdentityError && e.code === 'ERR_WALKIE_IDENTITY' && e.message.includes(file))
    const valid = await loadOrCreateIdentity(join(await tmp(), 'X'))
    // a well-formed file whose private key is garbage
    await writeFile(file, Buffer.from([0x1a, 0x03, 0x08, 0x00, 0x12]))
    await assert.rejects(loadOrCreateIdentity(file), (e: unknown) => e instanceof IdentityError && e.message.includes(file))
    assert.deepEqual([...(await readFile(file))], [0x1a, 0x03, 0x08, 0x00, 0x12])
    assert.ok(valid.peerId)
  })

  it('refuses an unreadable key file, naming it', async () => {
    // a directory in the key's place fails to read for root too (EISDIR), unlike chmod 000
    const file = join(await tmp(), 'LIFECYCLE')
    await mkdir(file)
    await assert.rejects(loadOrCreateIdentity(file), (e: unknown) => e instanceof IdentityError && e.message.includes(file) && /cannot read/.test(e.message))
  })

  it('a start-up with a corrupt key file fails with the file name', async () => {
    const prefix = await tmp()
    await writeFile(join(prefix, 'LIFECYCLE'), 'not a key')
    const { logger } = memoryLogger()
    const w = createWalkie({ role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0xc1', bridgeIdentity: 'default', identity: { peerIdPrefix: prefix, name: 'LIFECYCLE' }, ...FAST }, { logger })
    await assert.rejects(w.start(), (e: unknown) => e instanceof Error && e.message.includes(join(prefix, 'LIFECYCLE')))
    await w.stop()
  })
})
