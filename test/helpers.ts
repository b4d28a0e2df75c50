import { randomBytes } from "node:crypto"
import * as os from "node:os"
import * as path from "node:path"

/** A unique ipc:// endpoint in the temp dir. */
export function uniqueIpc(): string {
  return `ipc://${path.join(os.tmpdir(), `omq-test-${process.pid}-${randomBytes(4).toString("hex")}.sock`)}`
}

/** Polls `cond` until true or the deadline passes (then throws). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
