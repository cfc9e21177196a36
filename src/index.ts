import './polyfill.js'
import { ConfigError } from './common/errors.js'
import { createLogger, SecretGuard } from './common/logger.js'
import { installShutdown, type StopEvent } from './common/shutdown.js'
import { loadConfig, MODULE_NAMES, printableConfig, type ModuleName } from './config/index.js'
import { MODULE_LOADERS } from './modules.js'
import { runHealthcheck } from './healthcheck.js'

const OPTIONS = ['--print-config', '--healthcheck']
// Docker reads a healthcheck's status 1 as unhealthy (2 is reserved): a bad configuration is unhealthy too.
let failStatus = 2

/** A user's mistake: one clear line on stderr, status 2, no stack trace. */
function fail(message: string): never {
  for (const line of message.split('\n')) process.stderr.write(`prb: ${line}\n`)
  process.exit(failStatus)
}

async function main(argv: string[]): Promise<void> {
  const printConfig = argv.includes('--print-config')
  const healthcheck = argv.includes('--healthcheck')
  if (healthcheck) failStatus = 1
  const unknownArgs = argv.filter((a) => !OPTIONS.includes(a))
  if (unknownArgs.length > 0) fail(`unknown argument ${JSON.stringify(unknownArgs[0])}; the options are --print-config and --healthcheck (configuration comes from environment variables)`)

  const raw = process.env.PHALA_MODULE
  if (raw === undefined || raw.trim() === '') fail(`PHALA_MODULE is not set; set it to one of: ${MODULE_NAMES.join(', ')}`)
  const module = raw.trim() as ModuleName
  if (!MODULE_NAMES.includes(module)) fail(`PHALA_MODULE=${JSON.stringify(raw)} is not a module; valid values: ${MODULE_NAMES.join(', ')}`)

  let loaded
  try {
    loaded = loadConfig(module, process.env)
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message)
    throw e
  }

  if (printConfig) {
    process.stdout.write(JSON.stringify(printableConfig(module, loaded.config), null, 2) + '\n')
    return
  }

  if (healthcheck) {
    const report = await runHealthcheck(module, loaded.config)
    process.stdout.write(report.lines.join('\n') + '\n')
    process.exit(report.healthy ? 0 : 1)
  }

  const loader = MODULE_LOADERS[module]
  if (!loader) {
    const ready = MODULE_NAMES.filter((m) => MODULE_LOADERS[m] !== null)
    fail(`PHALA_MODULE=${module}: this module is not built yet in this version of prb; available now: ${ready.join(', ') || 'none'}`)
  }

  const guard = new SecretGuard()
  for (const s of loaded.secrets) guard.add(s)
  const logger = createLogger({ level: loaded.config.PHALA_LOGGER_LEVEL, guard }).child({ module })
  for (const w of loaded.warnings) logger.warn(w)

  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'Uncaught exception; exiting.')
    process.exit(1)
  })
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'Unhandled promise rejection; exiting.')
    process.exit(1)
  })

  // The handler is in place before start-up begins: a signal while the module starts stops it
  // cleanly (once started, or as soon as it gives up on the aborted signal) instead of killing it.
  const abort = new AbortController()
  const starting = loader().then((start) => start({ config: loaded.config as never, logger, guard, signal: abort.signal }))
  const events: StopEvent[] = ['SIGINT', 'SIGTERM']
  // Started by a supervisor over IPC (scripts/bridge-on-devnet.mjs): when it dies, even by
  // kill -9, the channel ends and this daemon stops cleanly instead of living on as an orphan.
  if (process.channel) {
    process.channel.unref()
    events.push('disconnect')
  }
  installShutdown(starting, { logger, exit: (code) => process.exit(code), signals: process, events, onStop: () => abort.abort() })
  logger.info({ pid: process.pid }, `Starting ${module}; SIGINT or SIGTERM stops it cleanly.`)
  // the supervisor sends its SIGTERM only after this: one sent earlier would kill, not stop
  process.send?.({ prb: 'stop-handler-installed' })
  try {
    await starting
  } catch (err) {
    if (!abort.signal.aborted) throw err
    logger.info({ err }, 'Stopped during start-up.')
    process.exit(0)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message)
  process.stderr.write(`prb: start-up failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
