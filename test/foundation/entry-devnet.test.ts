import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

// The whole path an operator takes: `PHALA_MODULE=devnet node dist/index.js`, then SIGTERM.
test('PHALA_MODULE=devnet starts from the built entry with its pRuntimes, answers JSON-RPC and prpc, and stops cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, ['dist/index.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      PHALA_MODULE: 'devnet',
      PHALA_DEVNET_PARA_PORT: '0',
      PHALA_DEVNET_RELAY_PORT: '0',
      PHALA_DEVNET_CONTROL_PORT: '0',
      PHALA_DEVNET_PRUNTIMES: '2',
      PHALA_DEVNET_PRUNTIME_PORT: '0',
      PHALA_DEVNET_HISTORY: '20',
      PHALA_DEVNET_BLOCK_MS: '60000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const ready = await new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no "devnet ready" line within 60 s')), 60_000)
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const rec = JSON.parse(line)
        if (typeof rec.msg === 'string' && rec.msg.startsWith('devnet ready')) {
          clearTimeout(timer)
          resolve(rec)
        }
      })
      child.on('exit', (code) => reject(new Error(`exited early with ${code}`)))
    })
    assert.match(ready.para!, /^ws:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(ready.paraHttp!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'chain_getBlockHash', params: [1] }),
    })
    const body = (await res.json()) as { result: string }
    assert.equal(body.result, ready.paraBlock1)
    assert.equal(ready.pruntimes.length, 2)
    const info = await fetch(`${ready.pruntimes[1]}/prpc/PhactoryAPI.GetInfo?json`, { method: 'POST', body: '{}' })
    assert.equal(info.status, 200)
    const infoBody = (await info.json()) as { initialized: boolean; public_key?: string }
    assert.equal(infoBody.initialized, false)
    const stopAt = Date.now()
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.ok(Date.now() - stopAt < 10_000)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
