/**
 * Operator keys at rest, as upstream keeps them (upstream-lifecycle.md §3.5): what an operator types
 * as `owner.mnemonic` becomes an sr25519 pair, its keystore JSON is sealed in `EncPb` under the
 * LIFECYCLE RSA key, and the secret itself is dropped here: it is never stored, logged or returned.
 * Also the LIFECYCLE identity itself: never silently re-created while operators depend on it.
 */
import { access, stat } from 'node:fs/promises'
import type { KeyObject } from 'node:crypto'
import { u8aToHex } from '@polkadot/util'
import { decodeAddress, keyExtractSuri, mnemonicValidate } from '@polkadot/util-crypto'
import { PrbError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import {
  decryptOperatorPair, encryptOperator, operatorPairFromSuri, pairToKeystoreJson,
} from '../common/operator-key.js'
import { keyFilePath, loadOrCreateIdentity, type WalkieIdentity } from '../walkie/index.js'

export class LifecycleKeyError extends PrbError {
  override name = 'LifecycleKeyError'
}

export interface SealedOperator {
  /** Hex (no 0x) of the EncPb bytes. */
  encryptedOperator: string
  operatorSs58: string
  /** 0x hex of the 32-byte sr25519 public key. */
  operatorPublicKey: string
}

export interface OperatorVault {
  /** From an operator secret (mnemonic, 0x seed or //dev URI) to its sealed form; throws LifecycleKeyError without echoing it. */
  seal(secret: string): Promise<SealedOperator>
  /** Decrypts a sealed operator (a full unlock, as the trader does) and returns its public identity. */
  open(encryptedOperator: string): Promise<{ operatorSs58: string; operatorPublicKey: string }>
}

/**
 * What upstream's keyring would take, minus its trap: polkadot.js takes any phrase of up to 32
 * bytes as a raw seed, so a mistyped short secret would silently make a new, wrong operator.
 * Accepted: a BIP39 mnemonic, a 0x 32-byte seed, a `//dev` URI; each optionally with a /derivation path.
 */
export function checkOperatorSecret(secret: string): string | undefined {
  const s = secret.trim()
  const hint = 'expected a 12/24-word BIP39 mnemonic, a 0x-prefixed 32-byte seed or a dev URI such as //Alice (the value is not shown)'
  if (s === '') return `is empty; ${hint}`
  if (s.startsWith('//')) return undefined
  let phrase: string
  try {
    phrase = keyExtractSuri(s).phrase
  } catch {
    return `is not a secret URI; ${hint}`
  }
  if (phrase.startsWith('0x')) return /^0x[0-9a-fA-F]{64}$/.test(phrase) ? undefined : `is a hex seed but not of 32 bytes; ${hint}`
  if (!mnemonicValidate(phrase)) return `is not a valid BIP39 mnemonic (check the words, their number and their order); ${hint}`
  return undefined
}

export function createOperatorVault(rsa: { publicKey: KeyObject; privateKey: KeyObject }): OperatorVault {
  return {
    async seal(secret) {
      const problem = checkOperatorSecret(secret)
      if (problem) throw new LifecycleKeyError('ERR_OPERATOR_SECRET', `the operator secret ${problem}`)
      let pair
      try {
        pair = await operatorPairFromSuri(secret)
      } catch (e) {
        throw new LifecycleKeyError('ERR_OPERATOR_SECRET', (e as Error).message)
      }
      const enc = encryptOperator(pairToKeystoreJson(pair), rsa.publicKey)
      return { encryptedOperator: Buffer.from(enc).toString('hex'), operatorSs58: pair.address, operatorPublicKey: u8aToHex(pair.publicKey) }
    },
    async open(encryptedOperator) {
      const pair = await decryptOperatorPair(Buffer.from(encryptedOperator, 'hex'), rsa.privateKey)
      return { operatorSs58: pair.address, operatorPublicKey: u8aToHex(decodeAddress(pair.address)) }
    },
  }
}

/** Where encrypted operators already exist, for the missing-key error. */
export interface SealedOperatorsAt {
  count: number
  where: string
}

/**
 * The LIFECYCLE identity (the Walkie key and the operators' RSA key): read from
 * `<peerIdPrefix>/LIFECYCLE`, created only when no operator was ever sealed with a previous one.
 */
export async function loadLifecycleIdentity(peerIdPrefix: string, sealed: SealedOperatorsAt | undefined, log: Logger): Promise<WalkieIdentity & { rsa: NonNullable<WalkieIdentity['rsa']> }> {
  const file = keyFilePath(peerIdPrefix, 'LIFECYCLE')
  const exists = await access(file).then(() => true, () => false)
  if (!exists && sealed && sealed.count > 0) {
    throw new LifecycleKeyError('ERR_LIFECYCLE_KEY_MISSING', `the LIFECYCLE identity key ${file} is missing, but ${sealed.where} holds ${sealed.count} pool(s) whose operator keys were encrypted with it; restore that file from a backup (or set PHALA_PEER_ID_PREFIX to the directory holding it). prb does not create a new key here: it could not decrypt any of those operators.`)
  }
  const identity = await loadOrCreateIdentity(file)
  const mode = (await stat(file)).mode & 0o777
  if (mode & 0o077) log.warn({ file, mode: mode.toString(8) }, `The LIFECYCLE key file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it: it decrypts every pool's operator key.`)
  if (identity.created) log.warn({ file }, `Created a new LIFECYCLE identity key at ${file}; back it up: every pool's operator key is encrypted with it.`)
  if (!identity.rsa) {
    throw new LifecycleKeyError('ERR_LIFECYCLE_KEY_TYPE', `the LIFECYCLE identity key ${file} is not an RSA key; operator keys need upstream's RSA key: restore the right file`)
  }
  log.info({ id: identity.peerId }, 'Got my peer id as LIFECYCLE.')
  return identity as WalkieIdentity & { rsa: NonNullable<WalkieIdentity['rsa']> }
}
