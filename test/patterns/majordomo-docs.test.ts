/**
 * The whole program in docs/majordomo-titanic.md, run as written there (its imports pointed at
 * lib/, its port at a free one), so that it cannot rot.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { expect, it } from "vitest"
import { freePort } from "../helpers.js"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))

it("docs/majordomo-titanic.md: the example program runs and prints what the text says", async () => {
  const doc = fs.readFileSync(path.join(ROOT, "docs/majordomo-titanic.md"), "utf8")
  const program = /## A whole program\s+```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  expect(program).toBeDefined()
  const source = program!
    .replace('"omq/devices"', JSON.stringify(path.join(ROOT, "lib/entry/devices.js")))
    .replace('"omq/queue"', JSON.stringify(path.join(ROOT, "lib/entry/queue.js")))
    .replace("tcp://127.0.0.1:5555", `tcp://127.0.0.1:${await freePort()}`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-docs-"))
  try {
    const file = path.join(dir, "example.mts")
    fs.writeFileSync(file, source)
    // The program must end by itself once it closed everything: no kill, only a generous timeout.
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file], { cwd: ROOT, timeout: 30_000 })
    const lines = stdout.trim().split("\n")
    expect(lines[0]).toBe("echo answered hello")
    expect(lines[1]).toMatch(/^titanic\.request: 200 [0-9a-f]{32}$/)
    expect(lines.slice(2)).toEqual(["titanic.reply: desserts", "titanic.close: 200"])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 40_000)
