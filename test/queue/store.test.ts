/**
 * The store: recovery by replay, torn tails, corruption in the middle,
 * checkpoints and compaction, the lock file. A "crash" is simulated by
 * copying the data directory of a running device (what a SIGKILL would leave
 * on disk, since confirmed writes are fsynced); test/queue/crash.test.ts
 * kills real device processes.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { waitFor } from "../helpers.js"
import { describe, expect, it, vi } from "vitest"
import { QueueDevice, QueueStoreError } from "../../lib/entry/queue.js"
import { client, startDevice, tempDir, onCleanup } from "./queue-util.js"

const segments = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith("seg-"))
    .sort()
const checkpoints = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith("checkpoint-"))
    .sort()

/** The files of a running device's directory, as a crash would leave them (without LOCK's live owner). */
function crashCopy(dir: string): string {
  const copy = tempDir()
  for (const f of fs.readdirSync(dir)) if (f !== "LOCK") fs.copyFileSync(join(dir, f), join(copy, f))
  return copy
}

async function reopen(dir: string, options: { repair?: boolean } = {}): Promise<QueueDevice> {
  const dev = new QueueDevice({ dir, ...options })
  onCleanup(() => dev.close())
  await dev.bind("tcp://127.0.0.1:*")
  return dev
}

async function bodies(dev: QueueDevice, queue: string): Promise<string[]> {
  const c = client(dev)
  return (await c.peek(queue, { count: 1000 })).map((m) => m.body.toString())
}

describe("recovery", () => {
  it("a restart keeps ready, delayed, dead-lettered messages, attempts, config and dedup ids", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir })
    const c = client(dev)
    await c.configure("q", { ttr: 12_345, retry: { maxAttempts: 5 } })
    await c.put("q", "dead", { priority: 0 })
    await c.put("q", "low", { priority: 9 })
    await c.put("q", "high", { priority: 1, id: "dedup-me", headers: { h: "v" } })
    await c.put("q", "later", { delay: 60_000 })
    const dead = (await c.reserve("q", { timeout: 1000 }))!
    expect(dead.body.toString()).toBe("dead")
    await dead.bury("broken")
    const high = (await c.reserve("q", { timeout: 1000 }))!
    expect(high.body.toString()).toBe("high")
    await high.nack() // attempts 1, back to ready
    await c.close()
    await dev.close()

    const again = await reopen(dir)
    const c2 = client(again)
    const ready = await c2.peek("q", { count: 10 })
    expect(ready.map((m) => [m.body.toString(), m.attempts])).toEqual([
      ["high", 1],
      ["low", 0],
    ])
    expect(ready[0]!.headers).toEqual({ h: "v" })
    expect(ready[0]!.ttr).toBe(12_345)
    expect((await c2.peek("q", { state: "delayed" }))[0]!.body.toString()).toBe("later")
    expect((await c2.peek("q", { state: "buried" }))[0]).toMatchObject({ buryReason: "broken" })
    expect((await c2.put("q", "x", { id: "dedup-me" })).duplicate).toBe(true)
    const s = (await c2.stats("q")).queues.q!
    expect(s).toMatchObject({ ready: 2, delayed: 1, buried: 1 })
  })

  it("replays the log after a crash: confirmed puts kept, confirmed acks stay acked, leases released", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir })
    const c = client(dev)
    for (let i = 0; i < 20; i++) await c.put("q", `m${i}`)
    for (let i = 0; i < 5; i++) await (await c.reserve("q", { timeout: 1000 }))!.ack()
    const held = (await c.reserve("q", { timeout: 1000 }))! // leased at the "crash"
    const copy = crashCopy(dir)
    const dev2 = await reopen(copy)
    expect(dev2.recovery!.checkpoint).toBe(0)
    expect(dev2.recovery!.records).toBeGreaterThan(0)
    const left = await bodies(dev2, "q")
    expect(left).toEqual(Array.from({ length: 15 }, (_, i) => `m${i + 5}`))
    expect(left).toContain(held.body.toString())
  })

  for (const [name, tail] of [
    ["a partial record", () => Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 1, 9, 9])],
    ["zeros", () => Buffer.alloc(4096)],
    ["garbage", () => Buffer.from("this is not a record at all, just trailing junk bytes")],
  ] as const) {
    it(`truncates a torn tail of ${name} and keeps everything before it`, async () => {
      const dir = tempDir()
      const dev = await startDevice({ dir })
      const c = client(dev)
      for (let i = 0; i < 10; i++) await c.put("q", `m${i}`)
      const copy = crashCopy(dir)
      const last = join(copy, segments(copy).at(-1)!)
      const size = fs.statSync(last).size
      fs.appendFileSync(last, tail())
      const dev2 = await reopen(copy)
      expect(dev2.recovery!.truncated).toEqual([{ file: last, offset: size, bytes: tail().length }])
      expect(fs.statSync(last).size).toBe(size)
      expect(await bodies(dev2, "q")).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`))
    })
  }

  it("a last record cut short is dropped (it was never confirmed)", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir })
    const c = client(dev)
    for (let i = 0; i < 3; i++) await c.put("q", `m${i}`)
    const copy = crashCopy(dir)
    const last = join(copy, segments(copy).at(-1)!)
    fs.truncateSync(last, fs.statSync(last).size - 3)
    const dev2 = await reopen(copy)
    expect(dev2.recovery!.truncated).toHaveLength(1)
    expect(await bodies(dev2, "q")).toEqual(["m0", "m1"])
  })

  it("a corrupted record in the middle is reported with file and offset, not skipped", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir })
    const c = client(dev)
    for (let i = 0; i < 10; i++) await c.put("q", `message-${i}`)
    const copy = crashCopy(dir)
    const last = join(copy, segments(copy).at(-1)!)
    const buf = fs.readFileSync(last)
    const at = buf.indexOf("message-3")
    buf[at] = buf[at]! ^ 0xff
    fs.writeFileSync(last, buf)
    const broken = new QueueDevice({ dir: copy })
    const err = await broken.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QueueStoreError)
    expect(err).toMatchObject({ code: "CORRUPT", file: last })
    expect((err as QueueStoreError).offset).toBeLessThan(at)
    expect((err as Error).message).toMatch(/valid record follows/)
    await broken.close()
    // The lock was released: with repair, the log is cut at the damage and the loss reported.
    const repaired = await reopen(copy, { repair: true })
    expect(repaired.recovery!.truncated[0]).toMatchObject({ file: last, offset: (err as QueueStoreError).offset })
    expect(await bodies(repaired, "q")).toEqual(["message-0", "message-1", "message-2"])
  })

  it("damage in a segment that is not the last is corruption", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir, segmentBytes: 4096, checkpointBytes: 1 << 30 })
    const c = client(dev)
    for (let i = 0; i < 200; i++) await c.put("q", `message-${i}`.padEnd(100, "."))
    const copy = crashCopy(dir)
    const segs = segments(copy)
    expect(segs.length).toBeGreaterThan(2)
    const first = join(copy, segs[0]!)
    const buf = fs.readFileSync(first)
    buf[buf.length - 5] = buf[buf.length - 5]! ^ 0x55
    fs.writeFileSync(first, buf)
    await expect(new QueueDevice({ dir: copy }).open()).rejects.toMatchObject({ code: "CORRUPT", file: first })
    fs.rmSync(join(copy, "LOCK"), { force: true })
    fs.rmSync(join(copy, segs[1]!))
    await expect(new QueueDevice({ dir: copy }).open()).rejects.toMatchObject({ code: "CORRUPT" })
  })
})

describe("checkpoints and compaction", () => {
  it("deletes segments covered by a checkpoint; recovery loads it and replays only what follows", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir, segmentBytes: 4096, checkpointBytes: 1 << 30 })
    const c = client(dev)
    for (let i = 0; i < 300; i++) await c.put("q", `m${i}`.padEnd(60, "."), { priority: i % 3 })
    for (let i = 0; i < 200; i++) await (await c.reserve("q", { timeout: 1000 }))!.ack()
    const d = (await c.reserve("q", { timeout: 1000 }))!
    await d.nack({ delay: 60_000 })
    const e = (await c.reserve("q", { timeout: 1000 }))!
    await e.bury("kept")
    expect(segments(dir).length).toBeGreaterThan(5)
    await dev.checkpoint()
    expect(checkpoints(dir)).toHaveLength(1)
    const covered = parseInt(checkpoints(dir)[0]!.slice(11, 27), 16)
    expect(segments(dir).every((f) => parseInt(f.slice(4, 20), 16) >= covered)).toBe(true)
    await c.put("q", "after the checkpoint")
    const copy = crashCopy(dir)
    const dev2 = await reopen(copy)
    expect(dev2.recovery!.checkpoint).toBe(covered)
    expect(dev2.recovery!.records).toBe(1) // only the put that followed the checkpoint
    const c2 = client(dev2)
    const s = (await c2.stats("q")).queues.q!
    expect(s).toMatchObject({ ready: 99, delayed: 1, buried: 1, total: 101 })
    expect((await c2.peekMessage({ seq: d.seq }))!).toMatchObject({ state: "delayed", attempts: 1 })
    expect((await c2.peekMessage({ seq: e.seq }))!).toMatchObject({ state: "buried", buryReason: "kept" })
  })

  it("checkpoints by itself as the log grows, and a clean close leaves a short log", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir, segmentBytes: 8192, checkpointBytes: 16384 })
    const c = client(dev)
    const sub = c.consume("q", { credit: 50 })
    let acked = 0
    const done = (async () => {
      for await (const m of sub) {
        await m.ack()
        if (++acked === 1000) return
      }
    })()
    for (let i = 0; i < 1000; i++) void c.put("q", `m${i}`.padEnd(80, "."))
    await done
    const st = await c.stats()
    expect(st.checkpoints).toBeGreaterThan(0)
    expect(st.diskBytes).toBeLessThan(200_000) // 1000 x ~100 B puts + acks, compacted
    await c.close()
    await dev.close()
    const dev2 = await reopen(dir)
    expect(dev2.recovery!.records).toBe(0)
    expect((await client(dev2).stats("q")).queues.q?.total ?? 0).toBe(0)
  })
})

describe("lock file", () => {
  it("a second device on the same directory is refused", async () => {
    const dir = tempDir()
    await startDevice({ dir })
    const second = new QueueDevice({ dir })
    await expect(second.open()).rejects.toMatchObject({ code: "LOCKED" })
    await expect(second.open()).rejects.toThrow(/in use by another queue device \(pid \d+/)
  })

  it("a stale lock left by a dead process is taken over", async () => {
    const dir = tempDir()
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!
    fs.writeFileSync(join(dir, "LOCK"), JSON.stringify({ pid: dead, start: "1", host: hostname() }))
    const dev = await startDevice({ dir })
    const c = client(dev)
    await c.put("q", "fine")
    await c.close()
    await dev.close()
    expect(fs.existsSync(join(dir, "LOCK"))).toBe(false)
  })

  // Deno without --allow-run refuses process.kill(pid, 0) with a NotCapable error (no code):
  // that must not count as "the owner is dead".
  describe("where the runtime may not signal processes", () => {
    const notCapable = () => {
      throw Object.assign(new Error("Requires run access"), { name: "NotCapable" })
    }

    it("a lock held by a live process is still refused", async () => {
      const dir = tempDir()
      const owner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" })
      onCleanup(() => void owner.kill())
      await new Promise((r) => owner.once("spawn", r))
      fs.writeFileSync(join(dir, "LOCK"), JSON.stringify({ pid: owner.pid, start: null, host: hostname() }))
      const kill = vi.spyOn(process, "kill").mockImplementation(notCapable)
      onCleanup(() => kill.mockRestore())
      await expect(new QueueDevice({ dir }).open()).rejects.toMatchObject({ code: "LOCKED" })
      expect(kill).toHaveBeenCalled()
    })

    // Runs only where /proc shows process ids (Linux): elsewhere a lock's owner cannot be checked.
    it.runIf(fs.existsSync("/proc/self/stat"))("a stale lock is taken over when /proc shows its pid is gone", async () => {
      const dir = tempDir()
      const dead = spawnSync(process.execPath, ["-e", ""]).pid!
      fs.writeFileSync(join(dir, "LOCK"), JSON.stringify({ pid: dead, start: "1", host: hostname() }))
      const kill = vi.spyOn(process, "kill").mockImplementation(notCapable)
      onCleanup(() => kill.mockRestore())
      const dev = await startDevice({ dir })
      expect(kill).toHaveBeenCalled()
      await dev.close()
    })
  })
})

describe("write failures", () => {
  it("a failed write is reported as STORE_FAILED and the device keeps answering", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir, segmentBytes: 4096, checkpointBytes: 1 << 30 })
    const c = client(dev)
    await c.put("q", "before")
    fs.rmSync(dir, { recursive: true, force: true }) // the next segment cannot be created
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => c.put("q", `m${i}`.padEnd(100, "."))))
    const failed = results.filter((r) => r.status === "rejected")
    expect(failed.length).toBeGreaterThan(0)
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: "STORE_FAILED" })
    await expect(c.put("q", "after")).rejects.toMatchObject({ code: "STORE_FAILED" })
    expect((await c.stats("q")).queues.q!.total).toBeGreaterThanOrEqual(1) // reads still work
  })

  it("after a failed write, a lease that ends (ttr) or a consumer that goes away does not take the process down", async () => {
    const dir = tempDir()
    const dev = await startDevice({ dir, segmentBytes: 4096, checkpointBytes: 1 << 30 })
    const c = client(dev)
    await c.put("q", "a", { ttr: 100 })
    await c.put("q", "b")
    const held = client(dev)
    await held.reserve("q", { timeout: 1000 }) // "a", ttr 100
    await held.reserve("q", { timeout: 1000 }) // "b"
    fs.rmSync(dir, { recursive: true, force: true })
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => c.put("q", `m${i}`.padEnd(100, "."))))
    expect(results.some((r) => r.status === "rejected")).toBe(true)
    // The lease of "a" ends (its release cannot be logged); the consumer holding "b" goes away.
    await new Promise((r) => setTimeout(r, 250))
    await held.close()
    await waitFor(async () => (await c.stats()).clients <= 1, 5000, "the consumer's session to go")
    expect(await c.hello()).toMatchObject({ protocol: "omq-queue" })
  })
})
