/**
 * A fake lifecycle manager for the monitor's tests: a real Walkie peer (role WR_LIFECYCLE_MANAGER)
 * that answers the lifecycle's RPCs from memory with the proto messages of lifecycle.proto,
 * worker.proto and db.proto, behaves as upstream documents (C.1, B.7), and records every call.
 * Field errors name the field as `pools[0].name: …`, the form the monitor's page maps to a field.
 */
import { randomUUID } from 'node:crypto'
import { createWalkie, WalkieError, type Walkie, type WalkieInit } from '../../src/walkie/index.js'
import { quietLogger } from '../helpers/log.js'

export interface FakePool { uuid: string; pid: number; name: string; enabled: boolean; syncOnly: boolean; realPhalaSs58: string; mnemonic: string }
export interface FakeWorker { uuid: string; pid: number; name: string; endpoint: string; enabled: boolean; stake: string; syncOnly: boolean }
export interface FakeState { status: string; parentHeaderSynchedTo: number; paraHeaderSynchedTo: number; paraBlockDispatchedTo: number; lastMessage: string }

export interface FakeLifecycle {
  walkie: Walkie
  peerId: string
  address: string
  pools: Map<string, FakePool>
  workers: Map<string, FakeWorker>
  states: Map<string, FakeState>
  /** Every call as {method, request}, oldest first. */
  calls: Array<{ method: string; request: any }>
  /** Make `method` wait this long before answering (deadline tests). */
  delay: Map<string, number>
  /** Add `n` workers to pool `pid` with varied states (some in error, some behind). */
  addWorkers(n: number, pid: number): void
  stop(): Promise<void>
}

const STATES = ['S_ACTIVE', 'S_ACTIVE', 'S_ACTIVE', 'S_SYNCHING', 'S_SYNCHED', 'S_PRE_ACTIVE', 'S_ERROR', 'S_STARTING', 'S_IDLE', 'S_KICKED']
const SS58 = '43rbqFjBBWNpRYhbg2mb4fZZU1XDwbKtyeuDphNRaGEK6Mr4'

function fieldError(path: string, message: string, type: 'SERVER' | 'NOT_FOUND' | 'DUPLICATED' = 'SERVER'): WalkieError {
  return new WalkieError(type, `${path}: ${message}`)
}

export async function startFakeLifecycle(init: Partial<WalkieInit> = {}): Promise<FakeLifecycle> {
  const walkie = createWalkie({
    role: 'WR_LIFECYCLE_MANAGER', chainIdentity: '0xfeed', bridgeIdentity: 'default', identity: { ephemeral: true },
    listenAddresses: ['/ip4/127.0.0.1/tcp/0'], disableMdns: true, hostname: 'fake-lifecycle', ...init,
  }, { logger: quietLogger() })
  const pools = new Map<string, FakePool>()
  const workers = new Map<string, FakeWorker>()
  const states = new Map<string, FakeState>()
  const calls: FakeLifecycle['calls'] = []
  const delay = new Map<string, number>()

  const poolOut = (p: FakePool) => ({
    uuid: p.uuid, pid: p.pid, name: p.name, enabled: p.enabled, deleted: false, realPhalaSs58: p.realPhalaSs58, syncOnly: p.syncOnly,
    owner: { polkadotJson: 'ab'.repeat(16), ss58Phala: SS58, ss58Polkadot: '1' + SS58.slice(1) },
  })
  const workerOut = (w: FakeWorker) => ({ uuid: w.uuid, pid: w.pid, name: w.name, endpoint: w.endpoint, enabled: w.enabled, deleted: false, stake: w.stake, syncOnly: w.syncOnly })
  const stateOut = (w: FakeWorker) => {
    const s = states.get(w.uuid) ?? { status: 'S_IDLE', parentHeaderSynchedTo: -1, paraHeaderSynchedTo: -1, paraBlockDispatchedTo: -1, lastMessage: '' }
    const session = {
      state: s.status === 'S_ACTIVE' ? 'WorkerIdle' : 'Ready', v: '1234.56780000', ve: '1100.00000000',
      raw: { benchmark: { pInstant: 1200, pInit: 1180 } }, stats: { totalReward: '12.3456 PHA' },
      runtimeInfo: { version: '2.2.0', gitRevision: 'abcdef0', memoryUsage: { rustUsed: 1000, rustPeakUsed: 2000, totalPeakUsed: 3000 } },
    }
    return {
      status: s.status, parentHeaderSynchedTo: s.parentHeaderSynchedTo, paraHeaderSynchedTo: s.paraHeaderSynchedTo, paraBlockDispatchedTo: s.paraBlockDispatchedTo,
      initialized: s.status !== 'S_IDLE', worker: workerOut(w), publicKey: w.uuid.replace(/-/g, '').padEnd(64, '0'), lastMessage: s.lastMessage,
      sessionInfoJson: JSON.stringify(session), workerAccountId: SS58,
    }
  }
  const poolByPid = (pid: number) => [...pools.values()].find((p) => p.pid === pid)
  const findWorker = (id: { uuid?: string; name?: string } | null | undefined) =>
    id?.uuid ? workers.get(id.uuid) : [...workers.values()].find((w) => w.name === id?.name)
  const checkWorker = (w: any, path: string) => {
    if (!w.name) throw fieldError(`${path}.name`, 'a worker needs a name')
    if (!/^https?:\/\//.test(w.endpoint)) throw fieldError(`${path}.endpoint`, `"${w.endpoint}" is not an http(s) URL of a pRuntime`)
    if (!/^\d+$/.test(w.stake) || BigInt(w.stake) < 10n ** 12n) throw fieldError(`${path}.stake`, 'stake must be at least 1 PHA (1000000000000 plancks)')
    if (!poolByPid(Number(w.pid))) throw new WalkieError('NOT_FOUND', `Pool {pid:${w.pid} not found!`)
  }
  const ids = (req: { ids: string[] }) => {
    for (const id of req.ids) if (!workers.has(id)) throw new WalkieError('NOT_FOUND', `Worker ${id} not found!`)
    return req.ids
  }
  const wait = async (method: string) => {
    const ms = delay.get(method)
    if (ms) await new Promise((r) => setTimeout(r, ms))
  }
  const on = <M extends Parameters<Walkie['handle']>[0]>(method: M, fn: Parameters<Walkie['handle']>[1]) => {
    walkie.handle(method, (async (req: any, ctx: any) => {
      calls.push({ method, request: req })
      await wait(method)
      return (fn as any)(req, ctx)
    }) as any)
  }

  on('ListPool', () => ({ pools: [...pools.values()].map(poolOut) }))
  on('CreatePool', (req: any) => {
    const made: FakePool[] = []
    req.pools.forEach((p: any, i: number) => {
      if (!p.name) throw fieldError(`pools[${i}].name`, 'a pool needs a name')
      if (/forbidden/.test(p.name)) throw fieldError(`pools[${i}].name`, `"${p.name}" is a reserved name`)
      if (!p.owner?.mnemonic) throw fieldError(`pools[${i}].owner.mnemonic`, 'the operator mnemonic is required')
      if ([...pools.values(), ...made].some((q) => q.pid === p.pid)) throw fieldError(`pools[${i}].pid`, `a pool with pid ${p.pid} exists`, 'DUPLICATED')
      made.push({ uuid: randomUUID(), pid: p.pid, name: p.name, enabled: p.enabled, syncOnly: p.syncOnly, realPhalaSs58: p.realPhalaSs58, mnemonic: p.owner.mnemonic })
    })
    for (const p of made) pools.set(p.uuid, p)
    return { pools: made.map(poolOut) }
  })
  on('UpdatePool', (req: any) => {
    const out: FakePool[] = []
    for (const item of req.items) {
      const p = item.id?.uuid ? pools.get(item.id.uuid) : [...pools.values()].find((q) => q.name === item.id?.name || (item.id?.pid !== undefined && q.pid === item.id.pid))
      if (!p) throw new WalkieError('NOT_FOUND', `Can't find pool: ${JSON.stringify(item.id)}`)
      if (item.pool.deleted) {
        pools.delete(p.uuid)
        continue
      }
      Object.assign(p, { pid: item.pool.pid, name: item.pool.name, enabled: item.pool.enabled, syncOnly: item.pool.syncOnly, realPhalaSs58: item.pool.realPhalaSs58 })
      if (item.pool.owner?.mnemonic) p.mnemonic = item.pool.owner.mnemonic
      out.push(p)
    }
    return { pools: out.map(poolOut) }
  })
  on('ListWorker', () => ({ workers: [...workers.values()].map(workerOut) }))
  on('CreateWorker', (req: any) => {
    req.workers.forEach((w: any, i: number) => checkWorker(w, `workers[${i}]`))
    const made = req.workers.map((w: any) => ({ uuid: randomUUID(), pid: w.pid, name: w.name, endpoint: w.endpoint, enabled: w.enabled, stake: w.stake, syncOnly: w.syncOnly }))
    for (const w of made) workers.set(w.uuid, w)
    return { workers: made.map(workerOut) }
  })
  on('UpdateWorker', (req: any) => {
    const out: FakeWorker[] = []
    req.items.forEach((item: any, i: number) => {
      const w = findWorker(item.id)
      if (!w) throw new WalkieError('NOT_FOUND', `Can't find worker: ${JSON.stringify(item.id)}`)
      if (item.worker.deleted) {
        workers.delete(w.uuid)
        states.delete(w.uuid)
        return
      }
      checkWorker(item.worker, `items[${i}].worker`)
      Object.assign(w, { pid: item.worker.pid, name: item.worker.name, endpoint: item.worker.endpoint, enabled: item.worker.enabled, stake: item.worker.stake, syncOnly: item.worker.syncOnly })
      out.push(w)
    })
    return { workers: out.map(workerOut) }
  })
  const stateUpdate = (list: string[]) => ({ workerStates: list.map((id) => stateOut(workers.get(id)!)) })
  on('RestartWorker', (req: any) => stateUpdate(ids(req)))
  on('RefreshRaAndRestartWorker', (req: any) => stateUpdate(ids(req)))
  on('KickWorker', (req: any) => {
    const list = ids(req)
    for (const id of list) states.set(id, { ...states.get(id)!, status: 'S_KICKED', lastMessage: `[${new Date().toISOString()}] kicked` })
    return stateUpdate(list)
  })
  on('GetWorkerStatus', (req: any) => stateUpdate(req.ids.length ? ids(req) : [...workers.values()].filter((w) => w.enabled).map((w) => w.uuid)))

  await walkie.start()
  let n = 0
  return {
    walkie, peerId: walkie.peerId, address: walkie.multiaddrs()[0]!, pools, workers, states, calls, delay,
    addWorkers(count, pid) {
      for (let i = 0; i < count; i++, n++) {
        const uuid = randomUUID()
        workers.set(uuid, { uuid, pid, name: `worker-${String(n).padStart(3, '0')}`, endpoint: `http://10.0.${n >> 8}.${n & 255}:8000`, enabled: true, stake: '4000000000000000', syncOnly: false })
        const status = STATES[n % STATES.length]!
        const behind = status === 'S_SYNCHING' ? 500 + n : 0
        states.set(uuid, {
          status, parentHeaderSynchedTo: 2000 - behind, paraHeaderSynchedTo: 1000 - behind, paraBlockDispatchedTo: 1000 - behind,
          lastMessage: status === 'S_ERROR' ? `[2026-12-03T10:00:00.000Z] pRuntime at http://10.0.0.${n & 255}:8000 refused the connection (ECONNREFUSED)` : `[2026-12-03T10:00:00.000Z] ${status}`,
        })
      }
    },
    stop: () => walkie.stop(),
  }
}
