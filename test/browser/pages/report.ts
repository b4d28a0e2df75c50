/**
 * Runs in the page (bundled into its script by test/helpers/browser.ts's bundleForBrowser):
 * publishes the outcome of `run` under the name `openPage(...).result()` reads in Node. A thrown
 * error is published too, as text with its stack, so the test fails with the page's reason.
 * Values cross to Node as JSON-like data: send bytes as arrays or hex, not typed arrays.
 */
// Must match PAGE_RESULT in test/helpers/browser.ts (not imported: that file is Node-only).
const PAGE_RESULT = "omqPageResult"

export function report(run: () => Promise<unknown>): void {
  const outcome = run().then(
    (value) => ({ ok: true, value }),
    (err: unknown) => ({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  )
  ;(globalThis as Record<string, unknown>)[PAGE_RESULT] = outcome
}

/** The page's query parameter `name` (the test passes its server addresses this way). */
export function param(name: string): string {
  const value = new URL((globalThis as unknown as { location: { href: string } }).location.href).searchParams.get(name)
  if (value === null) throw new Error(`the page needs ?${name}=`)
  return value
}
