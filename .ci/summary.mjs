// Prints vitest's JSON result as one plain "N passed, M failed" line and
// exits non-zero unless the run executed tests and all of them passed.
import { readFileSync } from "node:fs"

let r
try {
  r = JSON.parse(readFileSync(".vitest-result.json", "utf8"))
} catch (err) {
  console.log("0 passed, 1 failed")
  console.error(`no vitest result: ${err.message}`)
  process.exit(1)
}
const passed = r.numPassedTests ?? 0
const failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0)
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`)
process.exit(failed === 0 && passed > 0 && r.success !== false ? 0 : 1)
