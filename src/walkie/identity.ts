import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import protobuf from 'protobufjs'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { PrbError } from '../common/errors.js'
import type { WalkieKeyName } from './types.js'

/**
 * Upstream's key file is the old js-peer-id `PeerIdProto` (id = 1 multihash, pubKey = 2 and
 * privKey = 3 as libp2p-crypto protobufs). libp2p 3 no longer ships it, so it is declared here.
 */
const PeerIdProto = new protobuf.Type('PeerIdProto')
  .add(new protobuf.Field('id', 1, 'bytes'))
  .add(new protobuf.Field('pubKey', 2, 'bytes'))
  .add(new protobuf.Field('privKey', 3, 'bytes'))
new protobuf.Root().add(PeerIdProto)

export class IdentityError extends PrbError {
  override name = 'IdentityError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WALKIE_IDENTITY', message, options)
  }
}

/** A node identity: the libp2p key and, for RSA keys, the Node key pair the lifecycle encrypts with. */
export interface WalkieIdentity {
  privateKey: PrivateKey
  /** base58btc peer id (`Qm…` for RSA). */
  peerId: string
  /** Node KeyObjects of the same RSA key (undefined for non-RSA ephemeral keys). */
  rsa?: { privateKey: KeyObject; publicKey: KeyObject }
  /** The file it was read from or written to (undefined when ephemeral). */
  file?: string
  /** True when the file did not exist and was created now. */
  created: boolean
}

/** `<peerIdPrefix>/<NAME>`, as upstream lays it out. */
export function keyFilePath(peerIdPrefix: string, name: WalkieKeyName): string {
  return join(peerIdPrefix, name)
}

export function encodeKeyFile(privateKey: PrivateKey): Uint8Array {
  const peerId = peerIdFromPrivateKey(privateKey)
  return PeerIdProto.encode(
    PeerIdProto.create({
      id: peerId.toMultihash().bytes,
      pubKey: publicKeyToProtobuf(privateKey.publicKey),
      privKey: privateKeyToProtobuf(privateKey),
    }),
  ).finish()
}

export function decodeKeyFile(bytes: Uint8Array, file: string): PrivateKey {
  let msg: { id?: Uint8Array; pubKey?: Uint8Array; privKey?: Uint8Array }
  try {
    msg = PeerIdProto.toObject(PeerIdProto.decode(bytes)) as typeof msg
  } catch (e) {
    throw new IdentityError(`identity key file ${file} is corrupt (not a PeerId protobuf: ${(e as Error).message}); restore it from a backup, or delete it to get a new peer id (pools encrypted with the old key become unreadable)`, { cause: e })
  }
  if (!msg.privKey || msg.privKey.length === 0) {
    throw new IdentityError(`identity key file ${file} holds no private key; restore it from a backup, or delete it to get a new peer id`)
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(msg.privKey)
  } catch (e) {
    throw new IdentityError(`identity key file ${file} has an unreadable private key (${(e as Error).message}); restore it from a backup, or delete it to get a new peer id`, { cause: e })
  }
  if (msg.id && msg.id.length > 0) {
    const derived = peerIdFromPrivateKey(key).toMultihash().bytes
    if (Buffer.compare(Buffer.from(derived), Buffer.from(msg.id)) !== 0) {
      throw new IdentityError(`identity key file ${file} is inconsistent: its peer id does not belong to its private key; restore it from a backup`)
    }
  }
  return key
}

function toIdentity(privateKey: PrivateKey, file: string | undefined, created: boolean): WalkieIdentity {
  const identity: WalkieIdentity = { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), file, created }
  if (privateKey.type === 'RSA') {
    const priv = createPrivateKey({ key: Buffer.from(privateKey.raw), format: 'der', type: 'pkcs1' })
    identity.rsa = { privateKey: priv, publicKey: createPublicKey(priv) }
  }
  return identity
}

/**
 * Read the identity key at `file`, or create an RSA-2048 one there (mode 0600, directory created)
 * when it does not exist. Anything else (unreadable, corrupt) is an error naming the file: the key
 * is never silently replaced, since the lifecycle's encrypted operator keys depend on it.
 */
export async function loadOrCreateIdentity(file: string): Promise<WalkieIdentity> {
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new IdentityError(`cannot read identity key file ${file}: ${(e as Error).message}; fix its permissions or PHALA_PEER_ID_PREFIX`, { cause: e })
    }
  }
  if (bytes) return toIdentity(decodeKeyFile(bytes, file), file, false)

  const key = await generateKeyPair('RSA', 2048)
  const data = encodeKeyFile(key)
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    // Write beside, then link into place: a crash never leaves a half-written key, and two
    // processes racing on a fresh directory cannot overwrite each other's key.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
    await writeFile(tmp, data, { mode: 0o600, flag: 'wx' })
    try {
      await link(tmp, file)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        await unlink(tmp).catch(() => {})
        return loadOrCreateIdentity(file)
      }
      throw e
    } finally {
      await unlink(tmp).catch(() => {})
    }
  } catch (e) {
    if (e instanceof IdentityError) throw e
    throw new IdentityError(`cannot create identity key file ${file}: ${(e as Error).message}; check that the directory is writable`, { cause: e })
  }
  return toIdentity(key, file, true)
}

/** A fresh identity that lives only in memory (runners, the monitor). Ed25519: instant to make. */
export async function ephemeralIdentity(): Promise<WalkieIdentity> {
  return toIdentity(await generateKeyPair('Ed25519'), undefined, false)
}

/** The permission bits of a key file, for a warning when others can read it. */
export async function keyFileMode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}
