/**
 * The queue board (upstream ran bull-arena on :4567 with no authentication): @bull-board on
 * fastify, showing `prbmq__main`, bound to PHALA_QUEUE_BOARD_HOST (default loopback), with
 * optional basic auth (PHALA_QUEUE_BOARD_AUTH=user:password). Served by the trade daemon, or by
 * the lifecycle when the trader is built in.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import type Queue from 'bull'
import { createBullBoard } from '@bull-board/api'
import { BullAdapter } from '@bull-board/api/bullAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { Logger } from '../common/logger.js'
import { openTradeQueue } from '../common/trade-queue.js'

export interface QueueBoardOptions {
  host: string
  port: number
  /** PHALA_QUEUE_BOARD_AUTH; unset = no authentication. */
  auth?: { user: string; password: string }
  /** The queue to show; without it the board opens its own on `redisUrl`. */
  queue?: Queue.Queue
  redisUrl?: string
}

export interface QueueBoard {
  /** Resolves with the bound port. */
  start(): Promise<{ port: number; url: string }>
  stop(): Promise<void>
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export function createQueueBoard(o: QueueBoardOptions, deps: { logger: Logger }): QueueBoard {
  if (!o.queue && !o.redisUrl) throw new Error('queue board: give it the queue or its Redis URL (PHALA_Q_REDIS_ENDPOINT)')
  let app: FastifyInstance | undefined
  let own: Queue.Queue | undefined
  let stopping: Promise<void> | undefined
  return {
    async start() {
      const queue = o.queue ?? (own = openTradeQueue(o.redisUrl!))
      own?.on('error', (err) => deps.logger.warn({ err }, 'queue board Redis error'))
      const adapter = new FastifyAdapter()
      adapter.setBasePath('/')
      createBullBoard({ queues: [new BullAdapter(queue, { readOnlyMode: false })], serverAdapter: adapter, options: { uiConfig: { boardTitle: 'prb trade queue' } } })
      app = Fastify({ logger: false })
      if (o.auth) {
        const want = digest(`Basic ${Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64')}`)
        app.addHook('onRequest', async (req, reply) => {
          const got = digest(String(req.headers.authorization ?? ''))
          if (!timingSafeEqual(got, want)) {
            await reply.code(401).header('www-authenticate', 'Basic realm="prb queue board"').send({ message: 'authentication required: use the PHALA_QUEUE_BOARD_AUTH user and password' })
          }
        })
      }
      await app.register(adapter.registerPlugin(), { prefix: '/' })
      await app.listen({ host: o.host, port: o.port })
      const port = (app.server.address() as AddressInfo).port
      const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`
      deps.logger.info({ url, auth: Boolean(o.auth) }, `queue board on ${url}`)
      return { port, url }
    },
    stop() {
      stopping ??= (async () => {
        await app?.close().catch((err: unknown) => deps.logger.debug({ err }, 'closing the board failed'))
        await own?.close().catch(() => undefined)
      })()
      return stopping
    },
  }
}
