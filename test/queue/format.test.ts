/**
 * On-disk format v1 stays readable: a data directory written by omq before the queue device was
 * split into layers (test/queue/fixtures/format-v1, made by its generate.ts with that build) opens
 * with today's code to the same state that build read back from it.
 */
import { cpSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import * as lib from "../../lib/entry/queue.js"
import { dump } from "./fixtures/format-v1/state.js"
import { tempDir } from "./queue-util.js"

const FIXTURE = fileURLToPath(new URL("./fixtures/format-v1/", import.meta.url))

describe("on-disk format v1", () => {
  it("a checkpoint and the log records after it, written by the previous build, recover to the same state", async () => {
    const dir = tempDir()
    cpSync(join(FIXTURE, "data"), dir, { recursive: true })
    const expected = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8")) as unknown
    const got = JSON.parse(JSON.stringify(await dump(lib, dir))) as unknown
    expect(got).toEqual(expected)
  })
})
