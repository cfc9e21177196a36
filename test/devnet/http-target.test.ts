/**
 * A request line with a malformed target (`GET http://[ HTTP/1.1`) is answered 400 by every HTTP
 * surface of the devnet (control, pRuntime, JSON-RPC over HTTP), which then carries on. It used to
 * throw `TypeError: Invalid URL` outside any handler and take the whole devnet down.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startTestDevnet } from './helpers.js'

/** Send `raw` on a fresh TCP connection; resolve with everything read until the server closes (or 5 s). */
function rawHttp(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      s.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    }, 5000)
    s.on('data', (c: Buffer) => {
      chunks.push(c)
      // One complete answer is enough: the status line and the end of the headers.
      if (Buffer.concat(chunks).includes('\r\n\r\n')) {
        clearTimeout(timer)
        s.destroy()
        resolve(Buffer.concat(chunks).toString('latin1'))
      }
    })
    s.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    s.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    s.write(raw)
  })
}

const BAD_TARGETS = ['http://[', 'http://[::1', '//[', 'http://a b', 'http://:99999/']

test('every devnet HTTP surface answers 400 to a malformed request target and keeps serving', async (t) => {
  const dn = await startTestDevnet({ controlPort: 0, pruntimes: 1, pruntimePort: 0 })
  t.after(() => dn.stop())
  const pruntimePort = Number(new URL(dn.pruntimes!.workers[0]!.endpoint).port)
  const surfaces: Array<[string, number]> = [['control', dn.controlPort!], ['pruntime', pruntimePort], ['relay rpc', dn.relayPort], ['para rpc', dn.paraPort]]
  for (const [name, port] of surfaces) {
    for (const target of BAD_TARGETS) {
      for (const method of ['GET', 'POST']) {
        const body = method === 'POST' ? '{}' : ''
        const answer = await rawHttp(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
        assert.match(answer, /^HTTP\/1\.1 400 /, `${name}: ${method} ${target} answered ${JSON.stringify(answer.slice(0, 60))}`)
      }
    }
  }
  // Still alive and answering good clients.
  assert.equal((await fetch(`${dn.controlUrl}/status`)).status, 200)
  assert.equal((await fetch(`${dn.pruntimes!.workers[0]!.endpoint}/prpc/PhactoryAPI.GetInfo?json`, { method: 'POST', body: '{}' })).status, 200)
  for (const url of [dn.relayHttpUrl, dn.paraHttpUrl]) {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_getBlockHash', params: [0] }) })
    assert.equal(r.status, 200)
    assert.match(((await r.json()) as { result: string }).result, /^0x[0-9a-f]{64}$/)
  }
})
