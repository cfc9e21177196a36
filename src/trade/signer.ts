/**
 * A signing pair for the operator's extrinsics that signs through the wasm sr25519 signer:
 * @polkadot/keyring's pairs sign with @polkadot/util-crypto's pure-JS sr25519 (~10x slower), and
 * signing each batch sat between one batch's InBlock and the next batch's submission (60 ms median,
 * 200 ms at the 90th percentile on a loaded machine, out of a 500 ms block).
 */
import type { KeyringPair } from '@polkadot/keyring/types'
import type { IKeyringPair } from '@polkadot/types/types'
import { decodePair } from '@polkadot/keyring/pair/decode'
import { u8aConcat, u8aToU8a } from '@polkadot/util'
import { isReady as wasmReady, sr25519Sign as wasmSr25519Sign } from '@polkadot/wasm-crypto'

const SR25519_PREFIX = new Uint8Array([1])

/** The pair itself when it is not an unlocked sr25519 pair or the wasm is not loaded. */
export function fastSigner(pair: KeyringPair): IKeyringPair {
  if (pair.type !== 'sr25519' || pair.isLocked || !wasmReady()) return pair
  let secretKey: Uint8Array
  try {
    // An unlocked pair encodes its secret unencrypted (no passphrase).
    secretKey = decodePair(undefined, pair.encodePkcs8(), 'none').secretKey
  } catch {
    return pair
  }
  const publicKey = pair.publicKey
  return {
    address: pair.address,
    addressRaw: pair.addressRaw,
    publicKey,
    sign(data, options) {
      const sig = wasmSr25519Sign(publicKey, secretKey, u8aToU8a(data))
      return options?.withType ? u8aConcat(SR25519_PREFIX, sig) : sig
    },
  }
}
