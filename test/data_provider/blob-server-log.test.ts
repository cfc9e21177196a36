/** The blob server's start line says whether the shared secret is on, and never the secret itself. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createBlobServer } from '../../src/data_provider/index.js'
import { SecretGuard } from '../../src/common/logger.js'
import { memoryLogger } from '../helpers/log.js'

const SECRET = 'a blob secret nobody may read 42'

async function startLine(secret?: string): Promise<{ line: Record<string, unknown>; text: string }> {
  const guard = new SecretGuard()
  guard.add(secret)
  const mem = memoryLogger('info', guard)
  const server = createBlobServer({ host: '127.0.0.1', port: 0, ...(secret ? { secret } : {}) }, { logger: mem.logger, lookup: async () => undefined })
  await server.start()
  await server.stop()
  const line = mem.lines().find((l) => String(l.msg).startsWith('blob server listening'))
  assert.ok(line, mem.text())
  return { line, text: mem.text() }
}

test('without a secret the start line says off (it read [REDACTED] before)', async () => {
  const { line } = await startLine()
  assert.equal(line.sharedSecret, 'off')
  assert.match(String(line.msg), /shared secret off/)
  assert.ok(!JSON.stringify(line).includes('[REDACTED]'), JSON.stringify(line))
})

test('with a secret the start line says on and what clients need, the secret stays out', async () => {
  const { line, text } = await startLine(SECRET)
  assert.equal(line.sharedSecret, 'on')
  assert.match(String(line.msg), /shared secret on: clients must present PHALA_DATA_PROVIDER_BLOB_SECRET/)
  assert.ok(!text.includes(SECRET))
})
