/** Waiting on a condition in tests: poll until it holds, with a deadline that names what was awaited. */

/**
 * Poll `cond` every `everyMs` until it holds; after `ms` fail with `what` (a function is called only
 * then, so it can describe the state at the deadline).
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what: string | (() => string) = 'condition',
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms: ${typeof what === 'string' ? what : what()}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
