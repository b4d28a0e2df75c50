/**
 * lib/environment.ts: where the environment may not be read (Deno without --allow-env, faked
 * here by a `Deno` global whose permission query says so), omq does not read it.
 */
import * as os from "node:os"
import { afterEach, describe, expect, it } from "vitest"
import { environmentReadable, tempDirectory } from "../../lib/environment.js"
import { Pull } from "../../lib/index.js"

/** A `Deno` global answering env permission queries with `state`; removed after the test. */
function fakeDeno(state: "granted" | "prompt" | "denied"): void {
  ;(globalThis as { Deno?: unknown }).Deno = { permissions: { querySync: () => ({ state }) } }
}

afterEach(() => {
  delete (globalThis as { Deno?: unknown }).Deno
})

describe("environment access", () => {
  it("is assumed where there is no Deno global (Node, Bun)", () => {
    expect(environmentReadable()).toBe(true)
    expect(tempDirectory()).toBe(os.tmpdir())
  })

  it("follows Deno's env permission, which querySync reports without prompting", () => {
    fakeDeno("granted")
    expect(environmentReadable()).toBe(true)
    for (const state of ["prompt", "denied"] as const) {
      fakeDeno(state)
      expect(environmentReadable()).toBe(false)
    }
  })

  // Not on Windows: ipc:// is Unix domain sockets.
  it.runIf(process.platform !== "win32")("ipc://* binds in /tmp without reading TMPDIR when env access is refused", async () => {
    const saved = process.env.TMPDIR
    process.env.TMPDIR = "/nonexistent-omq-tmpdir"
    fakeDeno("prompt")
    const pull = new Pull()
    try {
      await pull.bind("ipc://*")
      expect(pull.lastEndpoint).toMatch(/^ipc:\/\/\/tmp\/omq-[0-9a-f]+\.sock$/)
    } finally {
      pull.close()
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
    }
  })
})
