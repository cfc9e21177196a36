import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

// The README's first command, small: the devnet plus every built daemon, as separate processes.
test('bridge on the devnet: the data provider catches up with the devnet, then Ctrl-C stops everything with 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'prb-bod-'))
  const child = spawn(process.execPath, ['scripts/bridge-on-devnet.mjs'], {
    env: {
      PATH: process.env.PATH ?? '',
      PRB_DEVNET_DATA_DIR: dataDir,
      PRB_DEVNET_BLOB_PORT: '0',
      PRB_DEVNET_DP_WALKIE_PORT: '0',
      PHALA_DEVNET_PARA_PORT: '0',
      PHALA_DEVNET_RELAY_PORT: '0',
      PHALA_DEVNET_CONTROL_PORT: '0',
      PHALA_DEVNET_PRUNTIME_PORT: '0',
      PHALA_DEVNET_PRUNTIMES: '1',
      PHALA_DEVNET_HISTORY: '60',
      PHALA_DEVNET_BLOCK_MS: '60000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const modules = new Set<string>()
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the data provider did not catch up within 120 s')), 120_000)
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let rec: { module?: string; msg?: string; relay?: { processed: number; target: number } }
        try {
          rec = JSON.parse(line)
        } catch {
          return
        }
        if (rec.module) modules.add(rec.module)
        // The data provider's progress line once both chains are caught up with the devnet's 60 blocks.
        if (rec.module === 'data_provider' && rec.relay && rec.relay.target >= 60 && rec.relay.processed === rec.relay.target) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.on('exit', (code) => reject(new Error(`launcher exited early with ${code}`)))
    })
    assert.ok(modules.has('devnet'))
    assert.ok(modules.has('data_provider'))
    child.kill('SIGINT')
    assert.equal(await exited, 0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
})
