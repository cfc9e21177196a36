/**
 * The optional shared secret of the TCP blob server (PHALA_DATA_PROVIDER_BLOB_SECRET; off by
 * default, then the protocol is byte-identical to upstream's). Upstream had no access control at
 * all (weakness 16). With a secret, each connection starts with a mutual HMAC challenge-response
 * carried in ordinary length-prefixed frames; the secret itself never crosses the wire:
 *
 *   server → client  frame  MAGIC(8) ‖ serverNonce(32)                               (on accept)
 *   client → server  frame  MAGIC(8) ‖ clientNonce(32) ‖ HMAC(secret, "prb-blob-auth-v1 client" ‖ serverNonce ‖ clientNonce)
 *   server → client  frame  MAGIC(8) ‖ HMAC(secret, "prb-blob-auth-v1 server" ‖ serverNonce ‖ clientNonce)
 *
 * HMAC is HMAC-SHA256 (32 bytes); MAGIC is ASCII "PRBAUTH1". Only then does the server answer
 * requests. A first frame that is not a valid response, or none within the handshake timeout,
 * closes the connection (logged without any secret material). An upstream client without the secret
 * is thereby simply refused: it takes the challenge for a reply with an unknown id and ignores it,
 * its first request is not an auth response, the server closes, and its pending requests reject
 * with "Connection closed.". The server's answer proves to our client that the server knows the
 * secret too, so a lifecycle is not fed by an impostor. Fresh nonces on both sides defeat replay.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const AUTH_MAGIC = Buffer.from('PRBAUTH1', 'ascii')
export const NONCE_BYTES = 32
const MAC_BYTES = 32
export const CHALLENGE_BYTES = AUTH_MAGIC.length + NONCE_BYTES
export const RESPONSE_BYTES = AUTH_MAGIC.length + NONCE_BYTES + MAC_BYTES
export const ACK_BYTES = AUTH_MAGIC.length + MAC_BYTES

function mac(secret: string, role: 'client' | 'server', serverNonce: Uint8Array, clientNonce: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`prb-blob-auth-v1 ${role}`).update(serverNonce).update(clientNonce).digest()
}

function hasMagic(frame: Uint8Array): boolean {
  return frame.length >= AUTH_MAGIC.length && Buffer.from(frame.buffer, frame.byteOffset, AUTH_MAGIC.length).equals(AUTH_MAGIC)
}

export function isChallenge(frame: Uint8Array): boolean {
  return frame.length === CHALLENGE_BYTES && hasMagic(frame)
}

export function makeChallenge(): { frame: Buffer; serverNonce: Buffer } {
  const serverNonce = randomBytes(NONCE_BYTES)
  return { frame: Buffer.concat([AUTH_MAGIC, serverNonce]), serverNonce }
}

/** Client side: answer a challenge frame. */
export function answerChallenge(secret: string, challenge: Uint8Array): { frame: Buffer; serverNonce: Buffer; clientNonce: Buffer } {
  const serverNonce = Buffer.from(challenge.subarray(AUTH_MAGIC.length, CHALLENGE_BYTES))
  const clientNonce = randomBytes(NONCE_BYTES)
  return { frame: Buffer.concat([AUTH_MAGIC, clientNonce, mac(secret, 'client', serverNonce, clientNonce)]), serverNonce, clientNonce }
}

/** Server side: check the client's response; returns the ack frame, or undefined when refused. */
export function verifyResponse(secret: string, serverNonce: Uint8Array, frame: Uint8Array): Buffer | undefined {
  if (frame.length !== RESPONSE_BYTES || !hasMagic(frame)) return undefined
  const clientNonce = frame.subarray(AUTH_MAGIC.length, AUTH_MAGIC.length + NONCE_BYTES)
  const got = frame.subarray(AUTH_MAGIC.length + NONCE_BYTES)
  if (!timingSafeEqual(got, mac(secret, 'client', serverNonce, clientNonce))) return undefined
  return Buffer.concat([AUTH_MAGIC, mac(secret, 'server', serverNonce, clientNonce)])
}

/** Client side: check the server's ack. */
export function verifyAck(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array, frame: Uint8Array): boolean {
  if (frame.length !== ACK_BYTES || !hasMagic(frame)) return false
  return timingSafeEqual(frame.subarray(AUTH_MAGIC.length), mac(secret, 'server', serverNonce, clientNonce))
}
