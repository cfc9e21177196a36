// A node:test reporter that prints, after everything else, each failed test's file, name and error
// (cut to a few KB): CI keeps only the tail of a long run, and a failure in the middle of 400 tests
// was otherwise out of sight.
const MAX = 4000

export default async function* failureSummary(source) {
  const failures = []
  for await (const event of source) {
    if (event.type !== 'test:fail') continue
    const d = event.data
    // A suite fails when a test inside does: its own line adds nothing.
    if (d.details?.type === 'suite' || d.details?.error?.failureType === 'subtestsFailed') continue
    const err = d.details?.error
    const cause = err?.cause ?? err
    const text = String(cause?.stack ?? cause?.message ?? cause ?? 'no error text')
    failures.push(`- ${d.file ?? '?'}: ${d.name}\n  ${text.length > MAX ? `${text.slice(0, MAX)} …` : text}`.replace(/\n/g, '\n  '))
  }
  if (failures.length === 0) return
  yield `\n# failed tests (${failures.length}), in full:\n${failures.join('\n')}\n`
}
