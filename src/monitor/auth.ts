import { createHash, timingSafeEqual } from 'node:crypto'

export interface BasicAuth {
  user: string
  password: string
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * A checker of `Authorization: Basic …` headers for one user. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths.
 */
export function basicAuthChecker(auth: BasicAuth): (header: string | undefined) => boolean {
  const want = digest(`${auth.user}:${auth.password}`)
  return (header) => {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
    const given = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : ''
    return timingSafeEqual(digest(given), want) && m !== null
  }
}

/** True for binds only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1'
}
