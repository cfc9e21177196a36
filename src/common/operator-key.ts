import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair, KeyringPair$Json } from '@polkadot/keyring/types'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { getCodec } from './codec.js'
import { PrbError } from './errors.js'

/** Upstream's keyring: sr25519, addresses in Phala's ss58 format 30. */
export const PHALA_SS58_FORMAT = 30

export class OperatorKeyError extends PrbError {
  override name = 'OperatorKeyError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OPERATOR_KEY', message, options)
  }
}

const ENC_PB = 'prb.local.EncPb'

/**
 * The operator pair from what an operator types as `owner.mnemonic`: a mnemonic, a `0x` seed or a
 * dev URI such as `//Alice` (polkadot.js `addFromUri`, as upstream). The error never echoes the input.
 */
export async function operatorPairFromSuri(suri: string): Promise<KeyringPair> {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519', ss58Format: PHALA_SS58_FORMAT })
  try {
    return keyring.addFromUri(suri.trim())
  } catch (e) {
    throw new OperatorKeyError(`the operator secret is not a valid mnemonic, 0x seed or derivation URI (${(e as Error).message.replace(/"[^"]*"/g, '"…"')}); check the words and their order`)
  }
}

/** Upstream's plaintext: the keystore JSON exported with no passphrase (encoding type `none`). */
export function pairToKeystoreJson(pair: KeyringPair): KeyringPair$Json {
  return pair.toJson()
}

/** Encrypts a keystore JSON into upstream's `EncPb` bytes with the LIFECYCLE RSA public key. */
export function encryptOperator(json: KeyringPair$Json, lifecyclePublicKey: KeyObject): Uint8Array {
  const aesKey = randomBytes(32)
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-256-cbc', aesKey, iv)
  const payload = Buffer.concat([cipher.update(Buffer.from(JSON.stringify(json), 'utf8')), cipher.final()])
  // Node's publicEncrypt default: RSA-OAEP with SHA-1 and MGF1-SHA-1, as upstream.
  const key = publicEncrypt({ key: lifecyclePublicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, aesKey)
  return getCodec().encode(ENC_PB, { iv, key, payload })
}

/** Decrypts upstream's `EncPb` bytes with the LIFECYCLE RSA private key into the keystore JSON. */
export function decryptOperator(encPb: Uint8Array, lifecyclePrivateKey: KeyObject): KeyringPair$Json {
  let msg: { iv?: Uint8Array; key?: Uint8Array; payload?: Uint8Array }
  try {
    msg = getCodec().decode(ENC_PB, encPb)
  } catch (e) {
    throw new OperatorKeyError(`the stored operator key is not an EncPb message (${encPb.length} bytes); the store is damaged: restore it from a backup or set the pool's operator again`, { cause: e })
  }
  if (!msg.iv || msg.iv.length !== 16 || !msg.key || !msg.payload) {
    throw new OperatorKeyError('the stored operator key lacks its IV, key or payload; the store is damaged: restore it from a backup or set the pool\'s operator again')
  }
  let aesKey: Buffer
  try {
    aesKey = privateDecrypt({ key: lifecyclePrivateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, msg.key)
  } catch (e) {
    throw new OperatorKeyError('the operator key was encrypted with another LIFECYCLE identity key: use the key file it was made with (PHALA_PEER_ID_PREFIX/LIFECYCLE) or set the pool\'s operator again', { cause: e })
  }
  try {
    const decipher = createDecipheriv('aes-256-cbc', aesKey, msg.iv)
    const plain = Buffer.concat([decipher.update(msg.payload), decipher.final()])
    return JSON.parse(plain.toString('utf8')) as KeyringPair$Json
  } catch (e) {
    throw new OperatorKeyError('the stored operator key does not decrypt to a keystore JSON; the store is damaged: restore it from a backup or set the pool\'s operator again', { cause: e })
  }
}

/** A usable (unlocked) signing pair from a decrypted keystore JSON. */
export async function pairFromKeystoreJson(json: KeyringPair$Json): Promise<KeyringPair> {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519', ss58Format: PHALA_SS58_FORMAT })
  try {
    const pair = keyring.addFromJson(json)
    pair.unlock()
    return pair
  } catch (e) {
    throw new OperatorKeyError(`the decrypted operator keystore cannot be loaded (${(e as Error).message}); set the pool's operator again`, { cause: e })
  }
}

/** Decrypts `EncPb` bytes straight into an unlocked signing pair. */
export async function decryptOperatorPair(encPb: Uint8Array, lifecyclePrivateKey: KeyObject): Promise<KeyringPair> {
  return pairFromKeystoreJson(decryptOperator(encPb, lifecyclePrivateKey))
}
