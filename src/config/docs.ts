import { SCHEMAS, type ModuleName } from './schemas.js'
import type { Schema, VarSpec } from './spec.js'

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * The README's environment table, generated from the schemas: one row per variable and meaning,
 * with the modules that read it. A test keeps README and schema equal.
 */
export function envTableMarkdown(): string {
  const rows = new Map<string, { spec: VarSpec<unknown>; modules: ModuleName[] }>()
  for (const [module, schema] of Object.entries(SCHEMAS) as [ModuleName, Schema][]) {
    for (const spec of Object.values(schema)) {
      // PHALA_LOCAL_DB_PATH means different things per module: one row per meaning.
      const key = `${spec.name}\u0000${spec.description}`
      const row = rows.get(key)
      if (row) row.modules.push(module)
      else rows.set(key, { spec, modules: [module] })
    }
  }
  const lines = [
    '| variable | modules | default | expected | meaning |',
    '|---|---|---|---|---|',
    '| `PHALA_MODULE` | all | (required) | one of ' + Object.keys(SCHEMAS).join(', ') + ' | the daemon to start |',
  ]
  for (const { spec, modules } of rows.values()) {
    const flags = [spec.secret ? 'secret, never printed' : '', spec.unused ? 'accepted for compatibility, no effect' : ''].filter(Boolean).join('; ')
    const meaning = flags ? `${spec.description} (${flags})` : spec.description
    const mods = modules.length === Object.keys(SCHEMAS).length ? 'all' : modules.join(', ')
    lines.push(`| \`${spec.name}\` | ${mods} | ${cell(spec.defaultText)} | ${cell(spec.expected)} | ${cell(meaning)} |`)
  }
  return lines.join('\n')
}
