/**
 * `node dist/index.js --healthcheck` (the image's HEALTHCHECK): status 0 when the role answers where
 * its configuration says, 1 (Docker's "unhealthy") when it does not or the configuration is bad, and
 * a line naming each probe. The real daemons are probed by scripts/check-image-build.mjs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net'
import { freePort } from '../helpers/net.js'

/** Runs the healthcheck without blocking this process, whose servers it probes. */
function healthcheck(env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['dist/index.js', '--healthcheck'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: stdout + stderr })
    })
  })
}

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return (server.address() as AddressInfo).port
}

test('monitor: healthy when GET /ptp/discover answers 200 with the configured credentials; unhealthy on 401 or nothing listening', async (t) => {
  const seen: IncomingHttpHeaders[] = []
  let status = 200
  const srv = createHttpServer((req, res) => {
    seen.push(req.headers)
    res.statusCode = req.url === '/ptp/discover' ? status : 404
    res.end('{}')
  })
  const port = await listen(srv)
  t.after(() => srv.close())
  const env = { PHALA_MODULE: 'monitor', PORT: String(port), PHALA_MONITOR_HOST: '127.0.0.1', PHALA_MONITOR_AUTH: 'ops:a-long-password' }
  let r = await healthcheck(env)
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, /prb monitor: healthy/)
  assert.match(r.out, new RegExp(`ok: monitor answers GET http://127\\.0\\.0\\.1:${port}/ptp/discover`))
  assert.equal(seen[0]!.authorization, 'Basic ' + Buffer.from('ops:a-long-password').toString('base64'))
  assert.doesNotMatch(r.out, /a-long-password/, 'the secret is not printed')
  status = 401
  r = await healthcheck(env)
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /FAILED: monitor answers GET .*: HTTP 401/)
  r = await healthcheck({ ...env, PORT: String(await freePort()) })
  assert.equal(r.status, 1)
  assert.match(r.out, /prb monitor: unhealthy\nFAILED: .*ECONNREFUSED/)
})

test('data provider: the blob server and a fixed Walkie port must both accept; a wildcard bind is probed on loopback', async (t) => {
  const blob = createTcpServer((s) => s.destroy())
  const walkie = createTcpServer((s) => s.destroy())
  const blobPort = await listen(blob)
  const walkiePort = await listen(walkie)
  t.after(() => {
    blob.close()
    walkie.close()
  })
  const env = { PHALA_MODULE: 'data_provider', PHALA_DATA_PROVIDER_LOCAL_SERVER: String(blobPort), PHALA_WALKIE_LISTEN_ADDRESSES: `/ip4/0.0.0.0/tcp/${walkiePort}` }
  let r = await healthcheck(env)
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, new RegExp(`ok: blob server accepts on 127\\.0\\.0\\.1:${blobPort}\nok: Walkie accepts on 127\\.0\\.0\\.1:${walkiePort}`))
  await new Promise((r) => walkie.close(r))
  r = await healthcheck(env)
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /FAILED: Walkie accepts on/)
  assert.match(r.out, /ok: blob server accepts/)
})

test('a port of 0 (random) cannot be probed and says so; a bad configuration is unhealthy (1), not Docker\'s reserved 2', async () => {
  let r = await healthcheck({ PHALA_MODULE: 'lifecycle' })
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, /skipped: Walkie: not probed, its listen addresses have no fixed TCP port/)
  assert.match(r.out, /nothing to probe for lifecycle/)
  r = await healthcheck({ PHALA_MODULE: 'trade', PHALA_QUEUE_BOARD_PORT: 'eighty' })
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /PHALA_QUEUE_BOARD_PORT="eighty" is invalid/)
  r = await healthcheck({})
  assert.equal(r.status, 1, r.out)
  assert.match(r.out, /PHALA_MODULE is not set/)
})
