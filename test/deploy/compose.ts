/**
 * docker-compose.yml as Compose itself resolves it: `docker compose config` (the plugin) or
 * `docker-compose config` (v1, Debian's docker-compose), with a clean environment and an empty
 * env file, so an operator's .env or shell cannot change what the tests see.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const COMPOSE_FILE = resolve('docker-compose.yml')

export interface Port { host?: string; published: number; target: number }
export interface Mount { source: string; target: string }
export interface Service {
  image?: string
  profiles?: string[]
  environment: Record<string, string>
  ports: Port[]
  volumes: Mount[]
  command?: string[] | string
  depends_on?: unknown
}
export interface ComposeConfig {
  /** Services active for the profiles asked (v1's `config` lists every service; v2's only the active ones). */
  services: Record<string, Service>
  /** Every service the file declares, active or not. */
  all: Record<string, Service>
  volumes: string[]
}

let cached: string[] | null | undefined

/** The compose command available here, or null. */
export function composeCommand(): string[] | null {
  if (cached !== undefined) return cached
  const ok = (cmd: string[]) => spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' }).status === 0
  cached = ok(['docker', 'compose']) ? ['docker', 'compose'] : ok(['docker-compose']) ? ['docker-compose'] : null
  return cached
}

function requireCompose(): string[] {
  const cmd = composeCommand()
  if (!cmd) throw new Error('neither `docker compose` nor `docker-compose` is installed: apt-get install -y docker-compose (.ci/run installs it)')
  return cmd
}

function parsePort(p: unknown): Port {
  if (typeof p === 'string') {
    // [host:]published:target[/proto]
    const parts = p.replace(/\/\w+$/, '').split(':')
    const target = Number(parts.pop())
    const published = Number(parts.pop() ?? target)
    return { ...(parts.length ? { host: parts.join(':') } : {}), published, target }
  }
  const o = p as { host_ip?: string; published?: string | number; target: number }
  return { ...(o.host_ip ? { host: o.host_ip } : {}), published: Number(o.published ?? o.target), target: Number(o.target) }
}

function parseMount(v: unknown): Mount {
  if (typeof v === 'string') {
    const [source, target] = v.split(':')
    return { source: source!, target: target! }
  }
  const o = v as { source: string; target: string }
  return { source: o.source, target: o.target }
}

function normalize(raw: { services: Record<string, Record<string, unknown>>; volumes?: Record<string, unknown> }, profiles: string[]): ComposeConfig {
  const all: Record<string, Service> = {}
  for (const [name, s] of Object.entries(raw.services)) {
    const env = (s.environment ?? {}) as Record<string, unknown>
    all[name] = {
      ...(s as object),
      environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])),
      ports: ((s.ports ?? []) as unknown[]).map(parsePort),
      volumes: ((s.volumes ?? []) as unknown[]).map(parseMount),
    } as Service
  }
  const services = Object.fromEntries(Object.entries(all).filter(([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p))))
  return { services, all, volumes: Object.keys(raw.volumes ?? {}) }
}

/** The resolved configuration for these profiles and this environment (what .env or the shell would set). */
export function composeConfig(opts: { profiles?: string[]; env?: Record<string, string> } = {}): ComposeConfig {
  const cmd = requireCompose()
  const profiles = opts.profiles ?? []
  const dir = mkdtempSync(join(tmpdir(), 'prb-compose-'))
  try {
    const envFile = join(dir, 'empty.env')
    writeFileSync(envFile, '')
    const v2 = cmd[0] === 'docker'
    const args = [...cmd.slice(1), '--env-file', envFile, '-f', COMPOSE_FILE, ...profiles.flatMap((p) => ['--profile', p]), 'config', ...(v2 ? ['--format', 'json'] : [])]
    const r = spawnSync(cmd[0]!, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, ...opts.env }, timeout: 120_000 })
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} config failed (${r.status}): ${r.stderr}`)
    let json = r.stdout
    if (!v2) {
      // v1 prints YAML only; it is a Python program that ships PyYAML, so python3 + yaml are there with it
      const y = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: r.stdout, encoding: 'utf8' })
      if (y.status !== 0) throw new Error(`converting docker-compose's YAML failed: ${y.stderr}`)
      json = y.stdout
    }
    return normalize(JSON.parse(json), profiles)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
