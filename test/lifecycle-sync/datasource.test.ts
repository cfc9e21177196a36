/**
 * The lifecycle's data provider list against a stub Walkie: one Info call running past its
 * deadline keeps a provider in use (a busy provider, not a dead one); a second late one in a row,
 * or any other failure, leaves it out until it answers again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDataProviders } from '../../src/lifecycle/sync/datasource.js'
import { WalkieError, type Walkie } from '../../src/walkie/index.js'
import { quietLogger } from '../helpers/log.js'
import { waitFor } from '../helpers/wait.js'

test('one late Info keeps a data provider in use; two in a row or a refused call leave it out; a good answer brings it back', async () => {
  type Answer = 'ok' | 'late' | 'refused'
  const script: Answer[] = ['ok']
  let calls = 0
  // Past the end of the script a call waits for the next one: the state is read between steps.
  let more: (() => void) | undefined
  const info = { status: 'S_IDLE', paraId: 2035, parentProcessedHeight: 10, parentCommittedHeight: 10, paraFetchedHeight: 5, paraProcessedHeight: 5, paraCommittedHeight: 5, blobServerPort: 8012 }
  const walkie = {
    peers: () => [{ peerId: 'dp-1', host: '127.0.0.1', hostname: 'dp' }],
    call: async (_peer: string, _method: string, _req: unknown, opts: { signal: AbortSignal }) => {
      while (calls >= script.length) {
        await new Promise<void>((r) => {
          more = r
          opts.signal.addEventListener('abort', () => r(), { once: true })
        })
        if (opts.signal.aborted) throw new WalkieError('UNKNOWN', 'aborted', 'ERR_WALKIE_ABORTED')
      }
      const a = script[calls]!
      calls++
      if (a === 'late') throw new WalkieError('UNKNOWN', 'Walkie call GetDataProviderInfo to dp-1 timed out after 10 ms', 'ERR_WALKIE_TIMEOUT')
      if (a === 'refused') throw new WalkieError('UNKNOWN', 'dp-1 unreachable: connection refused', 'ERR_WALKIE_UNREACHABLE')
      return { ...info, paraProcessedHeight: info.paraProcessedHeight + calls }
    },
  } as unknown as Walkie
  const dps = createDataProviders({ infoPollMs: 5, blobGetTimeoutMs: 1000 }, { walkie, logger: quietLogger() })
  const after = async (answers: Answer[]): Promise<boolean> => {
    const from = calls
    script.push(...answers)
    more?.()
    await waitFor(() => calls >= from + answers.length, 10_000, `${answers.join(', ')} answered`)
    // The last answer is handled once its promise settles: after the current macrotask.
    await new Promise((r) => setImmediate(r))
    return dps.sources()[0]!.down
  }
  dps.start()
  try {
    await waitFor(() => dps.sources().length === 1, 10_000, 'the provider is found')
    assert.equal(await after(['late']), false, 'one late Info: still in use')
    assert.equal(await after(['ok']), false)
    assert.equal(await after(['late', 'late']), true, 'two late in a row: left out')
    assert.match(dps.sources()[0]!.lastError ?? '', /timed out/)
    assert.equal(await after(['ok']), false, 'answers again: back in use')
    assert.equal(await after(['refused']), true, 'a refused call: left out at once')
    assert.equal(await after(['ok']), false)
  } finally {
    await dps.stop()
  }
})
