/**
 * A full run of `PHALA_MODULE=lifecycle` through the real entry (its own process, debug logs):
 * operators set with mnemonics, a 0x seed and a bad mnemonic, edited, listed, errors provoked,
 * then SIGTERM. No mnemonic, seed or secret appears in any log line, API answer, error text or
 * file the run leaves (the store holds only the encrypted operators); the process stops cleanly.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { u8aToHex } from '@polkadot/util'
import { cryptoWaitReady, mnemonicGenerate, mnemonicToMiniSecret, randomAsHex } from '@polkadot/util-crypto'
import { createWalkie, WalkieError } from '../../src/walkie/index.js'
import { ROOT } from '../walkie/proc.js'
import { tempDir } from '../helpers/fs.js'
import { quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'
import { startChain, TEST_WALKIE } from './helpers.js'

await cryptoWaitReady()

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })
}

test('no secret in any log line, answer, error or file of a full lifecycle run; SIGTERM stops it cleanly', async (t) => {
  const dir = tempDir(t, 'prb-lc-secrets-')
  const chain = await startChain()
  t.after(() => chain.stop())
  const m1 = mnemonicGenerate(12)
  const m2 = mnemonicGenerate(24)
  const seed = randomAsHex(32)
  const bad = `${mnemonicGenerate(12).split(' ').slice(0, 11).join(' ')} notabipword` // never a valid mnemonic
  const secrets = [m1, m2, seed, seed.slice(2), bad, u8aToHex(mnemonicToMiniSecret(m1)), u8aToHex(mnemonicToMiniSecret(m1)).slice(2), u8aToHex(mnemonicToMiniSecret(m2)).slice(2)]

  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', 'src/index.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '', HOME: dir,
      PHALA_MODULE: 'lifecycle', PHALA_LOGGER_LEVEL: 'debug',
      PHALA_LOCAL_DB_PATH: join(dir, 'local.db'), PHALA_PEER_ID_PREFIX: join(dir, 'keys'),
      PHALA_CHAIN_ENDPOINT: chain.paraUrl, PHALA_PARENT_CHAIN_ENDPOINT: chain.relayUrl,
      PHALA_WALKIE_LISTEN_ADDRESSES: '/ip4/127.0.0.1/tcp/0', PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true',
    },
  })
  let stdout = ''
  let stderr = ''
  const lines: Array<Record<string, any>> = []
  child.stderr.on('data', (d) => (stderr += String(d)))
  createInterface({ input: child.stdout }).on('line', (l) => {
    stdout += l + '\n'
    try {
      lines.push(JSON.parse(l))
    } catch {
      // not JSON: kept in stdout for the grep
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  await waitFor(() => lines.some((l) => /^Lifecycle up/.test(l.msg)) || child.exitCode !== null, 60_000, () => `the lifecycle is up; stderr: ${stderr.slice(-1000)}`)
  const up = lines.find((l) => /^Lifecycle up/.test(l.msg))!
  assert.ok(up, stderr)
  assert.ok(lines.some((l) => l.msg === 'Got my peer id as LIFECYCLE.' && l.id === up.peerId))

  const client = createWalkie({ role: 'WR_CLIENT', chainIdentity: up.chainIdentity, bridgeIdentity: 'default', identity: { ephemeral: true }, listenAddresses: [], disableMdns: true, ...TEST_WALKIE }, { logger: quietLogger() })
  await client.start()
  t.after(() => client.stop())
  await client.dial(up.addresses[0])
  const answers: unknown[] = []
  const errors: string[] = []
  const call = async (m: string, req: unknown): Promise<any> => {
    try {
      const r = await client.call(up.peerId, m as never, req as never)
      answers.push(r)
      return r
    } catch (e) {
      assert.ok(e instanceof WalkieError)
      errors.push(e.message, String(e))
      return undefined
    }
  }
  await call('CreatePool', { pools: [{ pid: 1, name: 'one', owner: { mnemonic: m1 } }, { pid: 2, name: 'two', owner: { mnemonic: seed } }] })
  await call('CreatePool', { pools: [{ pid: 3, name: 'three', owner: { mnemonic: bad } }] })
  await call('CreatePool', { pools: [{ pid: 1, name: 'dup', owner: { mnemonic: m2 } }] })
  await call('UpdatePool', { items: [{ id: { pid: 1 }, pool: { owner: { mnemonic: m2 } } }] })
  await call('UpdatePool', { items: [{ id: { pid: 2 }, pool: { owner: { mnemonic: bad } } }] })
  await call('CreateWorker', { workers: [{ pid: 1, name: 'w', endpoint: 'http://127.0.0.1:1', stake: '1000000000000' }] })
  await call('ListPool', {})
  await call('ListWorker', {})
  await call('GetWorkerStatus', {})
  assert.equal(answers.length, 6, `6 calls answered, 3 refused: ${errors.join(' | ')}`)
  assert.equal(errors.length, 6)
  assert.equal((answers[3] as any).pools[0].owner.ss58Phala.length > 40, true)

  child.kill('SIGTERM')
  assert.equal(await exited, 0, `exit 0 on SIGTERM; stderr: ${stderr.slice(-1000)}`)
  assert.ok(lines.some((l) => l.msg === 'Stopped cleanly.'))

  const outputs: Array<[string, string]> = [
    ['stdout', stdout], ['stderr', stderr], ['answers', JSON.stringify(answers)], ['errors', errors.join('\n')],
    ...filesUnder(dir).map((f) => [f, readFileSync(f).toString('latin1')] as [string, string]),
  ]
  assert.ok(outputs.length > 6, 'the store and the key file are among the files checked')
  for (const [where, text] of outputs) {
    for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 6)}…) is in ${where}`)
  }
})
