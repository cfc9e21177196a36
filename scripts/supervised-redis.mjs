// redis-server as a daemon of scripts/bridge-on-devnet.mjs: the launcher's side of the contract the
// prb entry keeps (src/index.ts): JSON log lines on stdout, 'stop-handler-installed' over IPC once
// SIGTERM stops it cleanly, and a clean stop when the launcher's IPC channel ends (even by kill -9),
// which redis-server alone cannot do.
//
// Usage: node scripts/supervised-redis.mjs <redis-server> <port> <dir>
// Redis keeps nothing on disk (no RDB, no AOF): the queue and the trader's journal belong to the
// devnet chain of this run, and the devnet makes a new chain at every start.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createInterface } from 'node:readline'

const [bin, port, dir] = process.argv.slice(2)
const host = '127.0.0.1'

function say(msg, extra = {}, level = 30) {
  process.stdout.write(JSON.stringify({ name: 'prb', module: 'redis', level, msg, ...extra, time: new Date().toISOString(), v: 0 }) + '\n')
}

mkdirSync(dir, { recursive: true })
const redis = spawn(bin, ['--port', port, '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', ''], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'pipe'],
})
let stopping = false
redis.once('error', (err) => {
  say(`redis-server could not be started (${bin}): ${err.message}`, { bin }, 50)
  process.exit(1)
})
say(`started redis-server`, { redisPid: redis.pid, port: Number(port), dir })

const url = `redis://${host}:${port}/`
for (const stream of [redis.stdout, redis.stderr]) {
  createInterface({ input: stream }).on('line', (line) => {
    // redis' own format: "pid:role date time.ms <level> message" (its start-up lines carry the warning level)
    const text = line.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [*#.-] /, '')
    say(text, { redisPid: redis.pid }, /^WARNING/.test(text) ? 40 : 30)
    if (/Ready to accept connections/.test(text)) say(`redis ready on ${url}`, { url, port: Number(port), redisPid: redis.pid })
  })
}

redis.once('exit', (code, signal) => {
  if (stopping) {
    say('Stopped cleanly.', { code, signal })
    process.exit(0)
  }
  say(`redis-server exited (code ${code}, signal ${signal})`, { code, signal }, 50)
  process.exit(code || 1)
})

const stop = (why) => {
  if (stopping) return
  stopping = true
  say(`Shutting down redis-server (${why}).`, { signal: why })
  redis.kill('SIGTERM')
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
if (process.channel) {
  process.channel.unref()
  process.on('disconnect', () => stop('disconnect'))
}
process.send?.({ prb: 'stop-handler-installed' })
