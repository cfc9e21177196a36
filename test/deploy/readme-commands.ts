/**
 * The README's Deployment commands, for test/foundation/readme.test.ts (its ELSEWHERE): each names the
 * test that runs what it stands for (no engine here to run `docker compose up`), and a check of the
 * files the command relies on.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const compose = (): string => readFileSync('docker-compose.yml', 'utf8')
const dockerfile = (): string => readFileSync('docker/Dockerfile', 'utf8')

export const DEPLOYMENT_COMMANDS: Record<string, { test: string; check: () => void }> = {
  'docker compose --profile devnet up -d': {
    test: 'test/deploy/compose.test.ts (the devnet profile, resolved by compose config)',
    check: () => assert.match(compose(), /^ {2}devnet:\n(?: {4}.*\n)*? {4}profiles: \["devnet"\]$/m),
  },
  'docker compose up -d': {
    test: 'test/deploy/compose.test.ts (the default services, ports, volumes and variables)',
    check: () => assert.match(compose(), /^services:$/m),
  },
  'docker compose ps': {
    test: 'test/deploy/healthcheck.test.ts and test/deploy/check-image-build.test.ts (the health it shows)',
    check: () => assert.match(dockerfile(), /^HEALTHCHECK .*CMD \["node", "dist\/index\.js", "--healthcheck"\]$/m),
  },
  'node scripts/check-image-build.mjs': {
    test: 'test/deploy/check-image-build.test.ts',
    check: () => assert.match(readFileSync('scripts/check-image-build.mjs', 'utf8'), /docker', 'Dockerfile'/),
  },
}
