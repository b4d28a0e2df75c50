/**
 * The store's writes do not depend on what promisify(fs.writev) resolves to. Node and Bun give
 * `{ bytesWritten, buffers }` through a hint they attach to fs.writev; Deno's fs.writev has no
 * such hint, so there it resolves to the number and the store failed every put with "short
 * write … (undefined of N bytes)". Here fs.writev is replaced by one shaped like Deno's.
 */
import * as fs from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it, vi } from "vitest"
import { RecordType } from "../../lib/devices/queue/journal/records.js"
import { Store } from "../../lib/devices/queue/journal/store.js"
import { tempDir } from "./queue-util.js"

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>()
  // The same function and callback, without Node's promisify hint: as Deno's.
  const writev = ((...args: Parameters<typeof real.writev>) => real.writev(...args)) as typeof real.writev
  return { ...real, writev, default: { ...real, writev } }
})

describe("store writes with a Deno-shaped fs.writev", () => {
  it("the fake resolves to a number when promisified, as Deno's does", async () => {
    const file = join(tempDir(), "probe")
    const fd = fs.openSync(file, "w")
    try {
      expect(await promisify(fs.writev)(fd, [Buffer.from("abc")], 0)).toBe(3)
    } finally {
      fs.closeSync(fd)
    }
  })

  for (const fsync of ["always", "never"] as const) {
    it(`fsync ${fsync}: records are written and committed, a rotation and a checkpoint too`, async () => {
      const dir = tempDir()
      const store = new Store(dir, 1, { fsync, segmentBytes: 256 })
      const errors: (Error | undefined)[] = []
      store.onCommit = (_actions, error) => errors.push(error)
      for (let i = 0; i < 20; i++) {
        store.begin(RecordType.Ack, 4 + 8)
        store.writer.u32(1)
        store.writer.f64(i)
        store.end()
        store.afterCommit(i)
      }
      await store.idle()
      expect(store.failed).toBeUndefined()
      expect(errors.length).toBeGreaterThan(0)
      expect(errors.every((e) => e === undefined)).toBe(true)
      const segment = store.cut()
      expect(segment).toBeGreaterThan(2) // 420 bytes in segments of 256: rotated on the way
      await store.writeCheckpoint(segment, (w) => (w.raw(Buffer.from("snapshot")), false))
      await store.close()
      const files = fs.readdirSync(dir).sort()
      expect(files.some((f) => f.startsWith("checkpoint-"))).toBe(true)
      const last = files.filter((f) => f.startsWith("seg-")).pop()!
      expect(fs.readFileSync(join(dir, last)).length).toBeGreaterThan(0)
    })
  }
})
