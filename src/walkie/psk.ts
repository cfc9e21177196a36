import { createHash } from 'node:crypto'
import { WalkieError } from './types.js'

const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/'
const MIN_SECRET = 16

/**
 * The libp2p private-network key for PHALA_WALKIE_PSK. A ready swarm.key text is used as is;
 * any other secret (at least 16 characters) is hashed into the 32-byte key, so operators can
 * share a passphrase. Every node of the deployment, the monitor included, needs the same value.
 */
export function swarmKeyFromSecret(secret: string): Uint8Array {
  const trimmed = secret.trim()
  if (trimmed.startsWith(SWARM_KEY_HEADER)) return new TextEncoder().encode(trimmed)
  if (trimmed.length < MIN_SECRET) {
    throw new WalkieError('UNAUTHORIZED', `the Walkie pre-shared key is too short (${trimmed.length} characters); use at least ${MIN_SECRET} random characters, the same on every node`, 'ERR_WALKIE_PSK')
  }
  const hex = createHash('sha256').update('prb-walkie-psk/v1\0').update(trimmed).digest('hex')
  return new TextEncoder().encode(`${SWARM_KEY_HEADER}\n/base16/\n${hex}`)
}
