import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, privateDecrypt, constants, createDecipheriv } from 'node:crypto'
import { mnemonicGenerate, cryptoWaitReady } from '@polkadot/util-crypto'
import { u8aToHex } from '@polkadot/util'
import { getCodec } from '../../src/common/codec.js'
import { decryptOperator, decryptOperatorPair, encryptOperator, operatorPairFromSuri, pairToKeystoreJson, OperatorKeyError } from '../../src/common/operator-key.js'

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })

test('operator key: EncPb round trip with upstream layout (AES-256-CBC, RSA-OAEP SHA-1) and a signing pair back', async () => {
  await cryptoWaitReady()
  const { publicKey, privateKey } = rsa()
  const mnemonic = mnemonicGenerate()
  const pair = await operatorPairFromSuri(mnemonic)
  const json = pairToKeystoreJson(pair)
  assert.deepEqual(json.encoding.type, ['none'])
  const enc = encryptOperator(json, publicKey)
  const msg = getCodec().decode<{ iv: Uint8Array; key: Uint8Array; payload: Uint8Array }>('prb.local.EncPb', enc)
  assert.equal(msg.iv.length, 16)
  assert.equal(msg.key.length, 256)
  // decrypt by hand the way upstream does, to pin the scheme
  const aes = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, msg.key)
  const d = createDecipheriv('aes-256-cbc', aes, msg.iv)
  const plain = JSON.parse(Buffer.concat([d.update(msg.payload), d.final()]).toString('utf8'))
  assert.equal(plain.address, pair.address)
  assert.ok(!Buffer.from(enc).toString('latin1').includes(mnemonic.split(' ')[0]!.repeat(1) + ' '))
  const back = await decryptOperatorPair(enc, privateKey)
  assert.equal(back.address, pair.address)
  const sig = back.sign(new Uint8Array([1, 2, 3]))
  assert.ok(pair.verify(new Uint8Array([1, 2, 3]), sig, pair.publicKey))
  assert.equal(u8aToHex(back.publicKey), u8aToHex(pair.publicKey))
})

test('operator key: another identity key, garbage and a bad mnemonic are clear errors', async () => {
  const a = rsa()
  const b = rsa()
  const enc = encryptOperator(pairToKeystoreJson(await operatorPairFromSuri('//Alice')), a.publicKey)
  assert.throws(() => decryptOperator(enc, b.privateKey), (e: unknown) => e instanceof OperatorKeyError && /another LIFECYCLE identity key/.test(e.message))
  assert.throws(() => decryptOperator(new Uint8Array([0xff, 0xff, 0xff]), a.privateKey), OperatorKeyError)
  const secret = 'nonsense words that are not a mnemonic at all'
  await assert.rejects(operatorPairFromSuri(secret), (e: unknown) => e instanceof OperatorKeyError && !e.message.includes('nonsense'))
})
