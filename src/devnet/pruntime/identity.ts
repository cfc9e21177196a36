/**
 * A worker's keys: the sr25519 identity key (WorkerPublicKey, signs egress and bin_api answers) and
 * the ECDH key (also sr25519 on Phala). A real enclave seals them to disk; here they live in memory,
 * or in `<dir>/identity.json` when a folder is given, so a restarted worker keeps its identity.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { sr25519PairFromSeed, sr25519Sign } from '@polkadot/util-crypto'
import { isReady as wasmReady, sr25519Sign as wasmSr25519Sign } from '@polkadot/wasm-crypto'
import { hexToU8a, u8aToHex } from '@polkadot/util'

export interface Keypair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export interface WorkerIdentity {
  seed: Uint8Array
  identity: Keypair
  ecdh: Keypair
  /** Set when the identity came from InitRuntime.debug_set_key (dev mode). */
  devMode: boolean
}

function ecdhSeedOf(seed: Uint8Array): Uint8Array {
  // A distinct key derived from the identity seed, so one sealed seed restores both keys.
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = seed[i]! ^ 0x5c
  return out
}

export function identityFromSeed(seed: Uint8Array, devMode = false): WorkerIdentity {
  if (seed.length !== 32) throw new Error(`an sr25519 seed has 32 bytes, got ${seed.length}`)
  return { seed, identity: sr25519PairFromSeed(seed), ecdh: sr25519PairFromSeed(ecdhSeedOf(seed)), devMode }
}

export function newIdentity(): WorkerIdentity {
  return identityFromSeed(new Uint8Array(randomBytes(32)))
}

/** Load the sealed identity from `dir`, or make one and seal it there. */
export function loadOrCreateIdentity(dir: string | undefined): WorkerIdentity {
  if (!dir) return newIdentity()
  const file = join(dir, 'identity.json')
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { seed?: string }
    if (typeof saved.seed === 'string') return identityFromSeed(hexToU8a(saved.seed))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the worker identity ${file}: ${(e as Error).message}; delete it to make a new identity`)
  }
  const id = newIdentity()
  mkdirSync(dir, { recursive: true })
  writeFileSync(file + '.tmp', JSON.stringify({ seed: u8aToHex(id.seed) }), { mode: 0o600 })
  renameSync(file + '.tmp', file)
  return id
}

/**
 * sr25519 signature (schnorrkel, as pRuntime). The wasm signer once the wasm is loaded (every
 * pRuntime start awaits cryptoWaitReady): @polkadot/util-crypto's own sr25519Sign is pure JS and
 * ~8x slower, and signing every bin_api answer made it the simulated pRuntimes' largest cost.
 */
export function sign(pair: Keypair, message: Uint8Array): Uint8Array {
  if (wasmReady()) return wasmSr25519Sign(pair.publicKey, pair.secretKey, message)
  return sr25519Sign(message, pair)
}
