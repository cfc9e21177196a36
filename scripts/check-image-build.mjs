// Runs docker/Dockerfile's steps on this machine, without a Docker engine, as far as they can run:
// the build stage (npm ci, tsc) in a temporary copy of the build context, the runtime stage's file
// set (its COPY targets, `npm ci --omit=dev`) in a directory of its own, then the image's entry
// `node dist/index.js` from that directory for every role (devnet, data_provider on it, lifecycle
// and trade with a Redis, monitor), each until the image's HEALTHCHECK command passes; and the
// healthcheck failing once a daemon is stopped. Every step prints what it did, or that it was
// skipped and why (the base image pull, USER, VOLUME, chown need an engine or root).
//
//   node scripts/check-image-build.mjs [--keep] [--reuse-build] [--dockerfile <path>]
//   (--keep leaves the temporary directory; --reuse-build: see below; the context is this checkout)
//
// Exit status 0 when every step that can run here passed. Needs the network or npm's cache for npm ci,
// and redis-server on PATH for the lifecycle and trade roles (skipped, and said so, without it).
import { execFile, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const keep = process.argv.includes('--keep')
// --reuse-build: the build stage links this checkout's node_modules (installed by npm ci from the same
// lockfile) and takes its dist/ (npm run build of the same src/ and tsconfig.json) instead of running
// npm ci and tsc again; the runtime stage still runs in full
// --roles devnet,data_provider,…: start only these roles (default: all five)
const reuseBuild = process.argv.includes('--reuse-build')
const ALL_ROLES = ['devnet', 'data_provider', 'lifecycle', 'trade', 'monitor']
const rolesArg = process.argv.indexOf('--roles')
const selectedRoles = rolesArg > 0 ? process.argv[rolesArg + 1].split(',') : ALL_ROLES
for (const r of selectedRoles) if (!ALL_ROLES.includes(r)) throw new Error(`--roles: unknown role ${r}; the roles are ${ALL_ROLES.join(', ')}`)
const dfArg = process.argv.indexOf('--dockerfile')
const dockerfilePath = dfArg > 0 ? resolve(process.argv[dfArg + 1]) : join(repo, 'docker', 'Dockerfile')
const work = mkdtempSync(join(tmpdir(), 'prb-image-check-'))
const started = Date.now()
const skipped = []
let failures = 0

const say = (line) => process.stdout.write(line + '\n')
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`
function skip(what, why) {
  skipped.push(`${what}: ${why}`)
  say(`skipped  ${what}: ${why}`)
}
function fail(what, why) {
  failures++
  say(`FAILED   ${what}: ${why}`)
}

// ---- the Dockerfile ----

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text) {
  const out = []
  let cur = ''
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (/^\s*#/.test(line) || (cur === '' && line.trim() === '')) continue
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' '
      continue
    }
    cur += line
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(cur)
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() })
    cur = ''
  }
  return out
}

/** `--name=value` flags in front of an instruction's arguments. */
function takeFlags(args) {
  const flags = {}
  let rest = args
  for (let m; (m = /^--([\w-]+)=(\S+)\s+/.exec(rest)); rest = rest.slice(m[0].length)) flags[m[1]] = m[2]
  return { flags, rest }
}

const execForm = (s) => (s.trim().startsWith('[') ? JSON.parse(s) : ['/bin/sh', '-c', s])

function dockerignore() {
  const file = join(repo, '.dockerignore')
  if (!existsSync(file)) return () => false
  const patterns = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  const res = patterns.map((p) => new RegExp('^' + p.replace(/\/$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '(/.*)?$'))
  return (rel) => res.some((re) => re.test(rel))
}
const ignored = dockerignore()

// ---- running the stages ----

const stages = new Map() // name -> root directory standing for the stage's filesystem
const inRoot = (root, p) => join(root, p)

function run(cmd, cwd, env) {
  const r = spawnSync('sh', ['-c', cmd], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-8).join('\n')}`)
}

/** One part of a RUN (split at &&): run it, emulate it, or say why not. */
function runPart(part, stage) {
  const cmd = part.trim()
  if (/^npm cache clean\b/.test(cmd)) return skip(`RUN ${cmd}`, "it would empty this machine's npm cache; in the image it keeps the cache out of the layer")
  if (reuseBuild && stage.name !== 'runtime' && /^npm ci\b/.test(cmd) && !/--omit=dev/.test(cmd)) {
    symlinkSync(join(repo, 'node_modules'), join(stage.cwd, 'node_modules'), 'dir')
    return skip(`RUN ${cmd}`, "--reuse-build: linked this checkout's node_modules (npm ci of the same lockfile) instead")
  }
  if (reuseBuild && stage.name !== 'runtime' && /^npm run build\b/.test(cmd)) {
    if (!existsSync(join(repo, 'dist', 'index.js'))) throw new Error('--reuse-build: this checkout has no dist/: run npm run build first')
    cpSync(join(repo, 'dist'), join(stage.cwd, 'dist'), { recursive: true })
    return skip(`RUN ${cmd}`, "--reuse-build: took this checkout's dist/ (npm run build of the same src/ and tsconfig.json) instead")
  }
  if (/^npm\s/.test(cmd)) {
    const t = Date.now()
    // prefer-offline: npm's cache first (the image build downloads the same locked versions)
    run(cmd, stage.cwd, { ...stage.env, PATH: process.env.PATH, HOME: process.env.HOME ?? work, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' })
    return say(`ran      RUN ${cmd} (in ${relative(work, stage.cwd)}, ${((Date.now() - t) / 1000).toFixed(1)} s)`)
  }
  const mkdir = /^mkdir\s+-p\s+(.+)$/.exec(cmd)
  if (mkdir) {
    for (const p of mkdir[1].split(/\s+/)) mkdirSync(p.startsWith('/') ? inRoot(stage.root, p) : join(stage.cwd, p), { recursive: true })
    return say(`emulated RUN ${cmd} (under the stage's root ${relative(work, stage.root)})`)
  }
  if (/^chown\s/.test(cmd)) return skip(`RUN ${cmd}`, "needs root and the base image's user; in the image it gives the directory to that user")
  if (/(^|\s)\//.test(cmd)) return skip(`RUN ${cmd}`, 'touches absolute paths of the image, not of this machine')
  run(cmd, stage.cwd, { ...stage.env, PATH: process.env.PATH })
  say(`ran      RUN ${cmd}`)
}

function copy(args, stage) {
  const { flags, rest } = takeFlags(args)
  const parts = execForm(rest)[0] === '/bin/sh' ? rest.split(/\s+/) : JSON.parse(rest)
  const dest = parts.pop()
  const destAbs = dest.startsWith('/') ? inRoot(stage.root, dest) : join(stage.cwd, dest)
  const from = flags.from
  if (flags.chown) skip(`COPY --chown=${flags.chown}`, 'ownership needs root; the files are copied as this user')
  for (const src of parts) {
    let srcAbs
    if (from) {
      const root = stages.get(from)
      if (!root) throw new Error(`COPY --from=${from}: no stage of that name before this one`)
      srcAbs = src.startsWith('/') ? inRoot(root, src) : join(root, src)
    } else {
      if (ignored(posix.normalize(src))) throw new Error(`COPY ${src}: .dockerignore excludes it from the build context`)
      srcAbs = join(repo, src)
    }
    if (!existsSync(srcAbs)) throw new Error(`COPY ${src}: not found (${srcAbs})`)
    const target = dest.endsWith('/') || parts.length > 1 ? join(destAbs, posix.basename(src)) : destAbs
    const filter = from ? undefined : (p) => !ignored(relative(repo, p).split('\\').join('/')) || p === srcAbs
    cpSync(srcAbs, target, { recursive: true, ...(filter ? { filter } : {}) })
  }
  say(`copied   COPY ${args}`)
}

function du(dir) {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) n += du(p)
    else if (e.isFile()) n += statSync(p).size
  }
  return n
}

function buildStages(instructions) {
  const args = {}
  let stage
  const image = { expose: [], volumes: [] }
  for (const { op, args: raw } of instructions) {
    const a = raw.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, x, y) => args[x ?? y] ?? m)
    switch (op) {
      case 'ARG': {
        const [k, v] = a.split('=')
        if (!(k in args) || v !== undefined) args[k] = v ?? args[k]
        say(`read     ARG ${a}`)
        break
      }
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(a)
        const name = m[2] ?? `stage${stages.size}`
        const root = join(work, `stage-${name}`)
        mkdirSync(root, { recursive: true })
        stages.set(name, root)
        stage = { name, root, cwd: root, env: {}, base: m[1] }
        image.stage = stage
        const nodeMajor = /^node:(\d+)/.exec(m[1])?.[1]
        skip(`FROM ${m[1]}${m[2] ? ' AS ' + m[2] : ''}`, `no engine to pull the base image; this stage runs on this machine's Node ${process.version}${nodeMajor && nodeMajor !== process.versions.node.split('.')[0] ? ` (the image has Node ${nodeMajor})` : ''}`)
        break
      }
      case 'WORKDIR':
        stage.cwd = a.startsWith('/') ? inRoot(stage.root, a) : join(stage.cwd, a)
        stage.workdir = a
        mkdirSync(stage.cwd, { recursive: true })
        say(`emulated WORKDIR ${a} (${relative(work, stage.cwd)})`)
        break
      case 'ENV': {
        for (const m of a.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]] = m[2].replace(/^"|"$/g, '')
        say(`set      ENV ${a}`)
        break
      }
      case 'COPY':
        copy(a, stage)
        break
      case 'RUN':
        for (const part of a.split('&&')) runPart(part, stage)
        break
      case 'USER':
        image.user = a
        skip(`USER ${a}`, `no such switch without root; the daemons below run as ${process.env.USER ?? 'this user'} (uid ${process.getuid?.()}), the image runs them as ${a}`)
        break
      case 'VOLUME':
        image.volumes.push(...execForm(a)[0] === '/bin/sh' ? a.split(/\s+/) : JSON.parse(a))
        for (const v of image.volumes) {
          if (!existsSync(inRoot(stage.root, v))) fail(`VOLUME ${v}`, 'the directory is not made by an earlier step, so a fresh volume would be owned by root')
        }
        skip(`VOLUME ${a}`, 'no engine to mount volumes; the daemons below keep their data in a temporary directory')
        break
      case 'EXPOSE':
        image.expose.push(...a.split(/\s+/).map((p) => Number(p.split('/')[0])))
        say(`read     EXPOSE ${a}`)
        break
      case 'HEALTHCHECK': {
        const { rest } = takeFlags(a)
        image.healthcheck = execForm(rest.replace(/^CMD\s+/, ''))
        say(`read     HEALTHCHECK ${a}`)
        break
      }
      case 'ENTRYPOINT':
        image.entrypoint = execForm(a)
        say(`read     ENTRYPOINT ${a}`)
        break
      case 'CMD':
        image.cmd = execForm(a)
        say(`read     CMD ${a}`)
        break
      default:
        skip(op, 'an instruction this check does not know')
    }
  }
  return image
}

// ---- running the image's entry ----

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const children = []

function startProcess(name, argv, cwd, env) {
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keepTail = (d) => (tail = (tail + String(d)).slice(-4000))
  child.stdout.on('data', keepTail)
  child.stderr.on('data', keepTail)
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)))
  const p = { name, child, exited, tail: () => tail, alive: () => child.exitCode === null && child.signalCode === null }
  children.push(p)
  return p
}

/** The image's HEALTHCHECK command, run without blocking (the daemons' output keeps flowing meanwhile). */
function healthcheck(image, cwd, env) {
  const [cmd, ...argv] = image.healthcheck
  return new Promise((res) => {
    execFile(cmd === 'node' ? process.execPath : cmd, argv, { cwd, env, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      res({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: (stdout + stderr).trim() })
    })
  })
}

/** Polls the image's HEALTHCHECK command until it passes (or the daemon dies, or the deadline). */
async function waitHealthy(image, proc, cwd, env, ms) {
  const deadline = Date.now() + ms
  let last
  while (Date.now() < deadline) {
    if (!proc.alive()) throw new Error(`exited (${await proc.exited}) before it was healthy: ${proc.tail().slice(-1500)}`)
    last = await healthcheck(image, cwd, env)
    if (last.status === 0) return last.out
    await sleep(500)
  }
  throw new Error(`not healthy within ${ms / 1000} s; last healthcheck: ${last?.out}; log: ${proc.tail().slice(-1500)}`)
}

function httpGet(url) {
  return new Promise((res, rej) => {
    const req = request(url, (r) => {
      let body = ''
      r.on('data', (d) => (body += d))
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body }))
    })
    req.on('error', rej)
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
    req.end()
  })
}

async function runRoles(image, appDir) {
  const entry = [...(image.entrypoint ?? []), ...(image.cmd ?? [])]
  const argv = entry[0] === 'node' ? [process.execPath, ...entry.slice(1)] : entry
  const data = join(work, 'var-data')
  const base = { PATH: process.env.PATH, HOME: process.env.HOME ?? work, PHALA_LOGGER_LEVEL: 'info', PHALA_WALKIE_DISABLE_MDNS_DISCOVERY: 'true', PHALA_BRIDGE_IDENTITY: `image-check-${process.pid}` }
  const ports = {}
  for (const k of ['para', 'relay', 'control', 'pruntime', 'blob', 'dpWalkie', 'lmWalkie', 'trWalkie', 'board', 'monitor', 'redis']) ports[k] = await freePort()
  const dpWalkie = `/ip4/127.0.0.1/tcp/${ports.dpWalkie}`
  const lmWalkie = `/ip4/127.0.0.1/tcp/${ports.lmWalkie}`
  const chains = { PHALA_CHAIN_ENDPOINT: `ws://127.0.0.1:${ports.para}`, PHALA_PARENT_CHAIN_ENDPOINT: `ws://127.0.0.1:${ports.relay}` }
  const redisUrl = `redis://127.0.0.1:${ports.redis}/`
  const haveRedis = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status === 0
  const roles = [
    { module: 'devnet', env: { PHALA_DEVNET_HOST: '127.0.0.1', PHALA_DEVNET_PARA_PORT: ports.para, PHALA_DEVNET_RELAY_PORT: ports.relay, PHALA_DEVNET_CONTROL_PORT: ports.control, PHALA_DEVNET_PRUNTIME_PORT: ports.pruntime, PHALA_DEVNET_PRUNTIMES: 1, PHALA_DEVNET_HISTORY: 20, PHALA_DEVNET_BLOCK_MS: 2000, PHALA_DEVNET_DATA_DIR: join(data, 'devnet') } },
    { module: 'data_provider', env: { ...chains, PHALA_LOCAL_DB_PATH: join(data, 'dp', '0'), PHALA_PEER_ID_PREFIX: join(data, 'dp', 'keys', 'id'), PHALA_DATA_PROVIDER_LOCAL_SERVER: ports.blob, PHALA_DATA_PROVIDER_LOCAL_SERVER_HOST: '127.0.0.1', PHALA_WALKIE_LISTEN_ADDRESSES: dpWalkie } },
    { module: 'lifecycle', needsRedis: true, env: { ...chains, PHALA_Q_REDIS_ENDPOINT: redisUrl, PHALA_LOCAL_DB_PATH: join(data, 'lm', 'local.db'), PHALA_PEER_ID_PREFIX: join(data, 'lm', 'keys', 'id'), PHALA_WALKIE_LISTEN_ADDRESSES: lmWalkie, PHALA_WALKIE_BOOT_NODES: dpWalkie } },
    { module: 'trade', needsRedis: true, env: { ...chains, PHALA_Q_REDIS_ENDPOINT: redisUrl, PHALA_PEER_ID_PREFIX: join(data, 'lm', 'keys', 'id'), PHALA_WALKIE_LISTEN_ADDRESSES: `/ip4/127.0.0.1/tcp/${ports.trWalkie}`, PHALA_WALKIE_BOOT_NODES: lmWalkie, PHALA_QUEUE_BOARD_PORT: ports.board, PHALA_QUEUE_BOARD_HOST: '127.0.0.1' } },
    { module: 'monitor', env: { PORT: ports.monitor, PHALA_MONITOR_HOST: '127.0.0.1', PTP_BOOT_NODES: `${dpWalkie},${lmWalkie}` } },
  ]
  if (!selectedRoles.some((r) => r === 'lifecycle' || r === 'trade')) {
    // no Redis needed
  } else if (haveRedis) {
    const redis = startProcess('redis', ['redis-server', '--port', String(ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], work, base)
    await sleep(300)
    if (!redis.alive()) fail('redis-server', redis.tail())
  } else {
    skip('lifecycle and trade roles', 'redis-server is not on PATH (apt-get install redis-server)')
  }
  for (const r of ALL_ROLES) if (!selectedRoles.includes(r)) skip(`role ${r}`, 'not in --roles')
  const running = []
  // in two waves: everything but the trader, which needs the key the lifecycle makes on its first start
  // (the others retry until the devnet answers, as in docker-compose.yml)
  const waves = [['devnet', 'data_provider', 'lifecycle', 'monitor'], ['trade']]
  for (const wave of waves) {
    await Promise.all(roles.filter((r) => wave.includes(r.module) && selectedRoles.includes(r.module) && (!r.needsRedis || haveRedis)).map(async (role) => {
      const env = { ...base, ...Object.fromEntries(Object.entries(role.env).map(([k, v]) => [k, String(v)])), PHALA_MODULE: role.module }
      const t = Date.now()
      const proc = startProcess(role.module, argv, appDir, env)
      try {
        const out = await waitHealthy(image, proc, appDir, env, 240_000)
        say(`healthy  ${role.module}: \`${entry.join(' ')}\` from the runtime file set, HEALTHCHECK passed after ${((Date.now() - t) / 1000).toFixed(1)} s\n${out.split('\n').slice(1).map((l) => `           ${l}`).join('\n')}`)
        running.push({ role, proc, env })
      } catch (e) {
        fail(role.module, e.message)
      }
    }))
  }

  const monitor = running.find((r) => r.role.module === 'monitor')
  if (monitor) {
    // the page is served from the image's monitor/ folder, and the monitor meets the daemons over Walkie (proto/)
    const page = await httpGet(`http://127.0.0.1:${ports.monitor}/discover`).catch((e) => ({ status: 0, body: e.message }))
    if (page.status === 200 && /<html/i.test(page.body)) say('served   monitor page /discover from the runtime set\'s monitor/ folder')
    else fail('monitor page /discover', `HTTP ${page.status}: ${page.body.slice(0, 200)}`)
    const want = running.filter((r) => r.role.module === 'data_provider' || r.role.module === 'lifecycle').length
    const deadline = Date.now() + 90_000
    let seen = { dataProviders: [], lifecycleManagers: [] }
    while (Date.now() < deadline) {
      seen = JSON.parse((await httpGet(`http://127.0.0.1:${ports.monitor}/ptp/discover`)).body)
      if (seen.dataProviders.length + seen.lifecycleManagers.length >= want) break
      await sleep(1000)
    }
    if (seen.dataProviders.length + seen.lifecycleManagers.length >= want) say(`met      monitor /ptp/discover lists ${seen.dataProviders.length} data provider(s) and ${seen.lifecycleManagers.length} lifecycle manager(s) over Walkie`)
    else fail('monitor /ptp/discover', `expected ${want} peers, saw ${JSON.stringify(seen).slice(0, 300)}`)
  }

  // stop in reverse: each exits 0 on SIGTERM, and its healthcheck fails once it is gone
  const order = roles.map((r) => r.module)
  running.sort((a, b) => order.indexOf(b.role.module) - order.indexOf(a.role.module))
  for (const { role, proc, env } of running) {
    proc.child.kill('SIGTERM')
    const code = await Promise.race([proc.exited, sleep(30_000).then(() => 'still running after 30 s')])
    const after = await healthcheck(image, appDir, env)
    if (code === 0 && after.status === 1) say(`stopped  ${role.module}: exit 0 on SIGTERM; then its HEALTHCHECK fails (status 1): ${after.out.split('\n')[1] ?? ''}`)
    else fail(`stopping ${role.module}`, `exit ${code}, healthcheck after stop ${after.status}: ${after.out}`)
  }
}

async function main() {
  say(`check-image-build: ${relative(repo, dockerfilePath)} in ${work}`)
  const instructions = parseDockerfile(readFileSync(dockerfilePath, 'utf8'))
  let image
  try {
    image = buildStages(instructions)
  } catch (e) {
    fail('build', e.message)
    return
  }
  const appDir = image.stage.cwd
  // dev-only packages (the lockfile's `dev: true`) must be absent; `devOptional` ones (an optional peer
  // of a production package, such as typescript for valibot) are installed by npm ci --omit=dev too
  const lock = JSON.parse(readFileSync(join(appDir, 'package-lock.json'), 'utf8'))
  const devOnly = Object.entries(lock.packages).filter(([k, v]) => k && v.dev).map(([k]) => k)
  const devPresent = devOnly.filter((k) => existsSync(join(appDir, k)))
  if (devPresent.length > 0) fail('runtime file set', `dev-only packages present: ${devPresent.slice(0, 10).join(', ')}`)
  else say(`checked  runtime file set: ${readdirSync(appDir).sort().join(', ')}; none of the lockfile's ${devOnly.length} dev-only packages; ${(du(appDir) / 1e6).toFixed(0)} MB`)
  for (const f of ['dist/index.js', 'proto/message.proto', 'monitor/index.html']) if (!existsSync(join(appDir, f))) fail('runtime file set', `${f} is missing`)
  if (!image.healthcheck) fail('HEALTHCHECK', 'the Dockerfile has none')
  if (!image.user || image.user === 'root' || image.user === '0') fail('USER', 'the runtime stage must switch to a non-root user')
  await runRoles(image, appDir)
}

const cleanup = () => {
  for (const p of children) if (p.alive()) p.child.kill('SIGKILL')
  if (!keep) rmSync(work, { recursive: true, force: true })
}
process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

main()
  .catch((e) => fail('check-image-build', e.stack ?? String(e)))
  .finally(() => {
    cleanup()
    say('')
    say(`skipped (${skipped.length}), and why:`)
    for (const s of skipped) say(`  - ${s}`)
    say(failures === 0 ? `check-image-build: OK in ${elapsed()}${keep ? ` (kept ${work})` : ''}` : `check-image-build: ${failures} FAILED in ${elapsed()}`)
    process.exitCode = failures === 0 ? 0 : 1
  })
