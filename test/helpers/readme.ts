import { readFileSync } from 'node:fs'

/** The README's sh block that sets LM=… (importing pools and workers), as an operator would paste it. */
export function readmeImportBlock(readme = readFileSync('README.md', 'utf8')): string {
  for (const m of readme.matchAll(/```sh\n([\s\S]*?)```/g)) if (m[1]!.startsWith('LM=')) return m[1]!
  throw new Error('the README has no sh block starting with LM=')
}
