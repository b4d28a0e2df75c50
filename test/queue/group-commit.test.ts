/** The store's write path: group commit, order of commits, fsync policies, rotation. */
import * as fs from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { RecordType } from "../../lib/devices/queue/journal/records.js"
import { Store, type FsyncPolicy } from "../../lib/devices/queue/journal/store.js"
import { client, startDevice, tempDir } from "./queue-util.js"

function append(store: Store, n: number, tag: number, actions: number[]): void {
  for (let i = 0; i < n; i++) {
    store.begin(RecordType.Ack, 4 + 8)
    store.writer.u32(1)
    store.writer.f64(tag * 1_000_000 + i)
    store.end()
    store.afterCommit(tag * 1_000_000 + i)
    actions.push(tag * 1_000_000 + i)
  }
}

describe("group commit", () => {
  it("everything appended in one turn is committed together, after it is in the file", async () => {
    const dir = tempDir()
    const store = new Store(dir, 1, { fsync: "always", segmentBytes: 1 << 20 })
    const batches: number[][] = []
    const sizesAtCommit: number[] = []
    store.onCommit = (actions) => {
      batches.push(actions as number[])
      sizesAtCommit.push(fs.statSync(join(dir, "seg-0000000000000001.log")).size)
    }
    const expected: number[] = []
    append(store, 500, 1, expected)
    await store.idle()
    expect(batches).toHaveLength(1)
    expect(batches[0]).toEqual(expected)
    expect(sizesAtCommit[0]).toBe(16 + 500 * (9 + 12))

    // While one write+fsync is in flight, what arrives meanwhile forms the next group.
    batches.length = 0
    const all: number[] = []
    append(store, 10, 2, all)
    await new Promise<void>((r) => setImmediate(r)) // the first group's write starts
    append(store, 10, 3, all)
    append(store, 10, 4, all)
    await store.idle()
    expect(batches.flat()).toEqual(all) // in order
    expect(batches.length).toBeLessThanOrEqual(2)
    await store.close()
  })

  it("rotates segments at their size limit and keeps the order across them", async () => {
    const dir = tempDir()
    const store = new Store(dir, 1, { fsync: "always", segmentBytes: 4096 })
    const got: number[] = []
    store.onCommit = (actions) => got.push(...(actions as number[]))
    const expected: number[] = []
    for (let t = 1; t <= 5; t++) {
      append(store, 100, t, expected)
      await new Promise<void>((r) => setImmediate(r))
    }
    await store.idle()
    await store.close()
    expect(got).toEqual(expected)
    const segs = fs.readdirSync(dir).filter((f) => f.startsWith("seg-"))
    expect(segs.length).toBeGreaterThan(2)
    for (const f of segs.slice(0, -1)) expect(fs.statSync(join(dir, f)).size).toBeLessThan(4096 + 64)
  })

  for (const fsync of ["never", { intervalMs: 20 }] as FsyncPolicy[]) {
    it(`fsync ${JSON.stringify(fsync)}: confirmed puts are kept across a restart`, async () => {
      const dir = tempDir()
      const dev = await startDevice({ dir, fsync })
      const c = client(dev)
      await Promise.all(Array.from({ length: 100 }, (_, i) => c.put("p", `m${i}`)))
      expect((await c.stats()).fsync).toBe(fsync === "never" ? "never" : "interval 20 ms")
      await c.close()
      await dev.close()
      const dev2 = await startDevice({ dir, fsync })
      expect((await client(dev2).stats("p")).queues.p!.total).toBe(100)
    })
  }
})
