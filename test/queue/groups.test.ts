/**
 * Streams and consumer groups: broadcast, work sharing, per-group settling, replay, retention,
 * per-key ordering, rate limits, filters, and all of it across a restart of the device.
 */
import { describe, expect, it } from "vitest"
import { waitFor } from "../helpers.js"
import type { Delivery, QueueClient } from "../../lib/entry/queue.js"
import { BACKENDS, client, startDevice, tempDir, useBackend } from "./queue-util.js"

const text = (d: { body: Buffer }) => d.body.toString("utf8")

/** Takes `n` deliveries from a consumer of group `group`, acking each. */
async function drain(c: QueueClient, queue: string, group: string, n: number, ack = true): Promise<Delivery[]> {
  const got: Delivery[] = []
  const sub = c.consume(queue, { group, credit: 50 })
  for await (const d of sub) {
    got.push(d)
    if (ack) void d.ack()
    if (got.length === n) break
  }
  await sub.close()
  return got
}

async function groupStats(c: QueueClient, queue: string, group: string) {
  return (await c.stats(queue)).queues[queue]!.stream!.groups[group]!
}

describe.each(BACKENDS)("consumer groups (%s backend)", (kind) => {
  useBackend(kind)

  it("every group gets every message; consumers of one group share them", async () => {
    const dev = await startDevice()
    const admin = client(dev)
    expect(await admin.createGroup("events", "billing")).toEqual({ created: true, floor: expect.any(Number) })
    await admin.createGroup("events", "audit")
    for (let i = 0; i < 20; i++) await admin.put("events", `e${i}`)
    const audit = await drain(client(dev), "events", "audit", 20)
    expect(audit.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`))
    expect(audit.every((d) => d.group === "audit" && d.attempt === 1)).toBe(true)
    // Two consumers in "billing": each message to one of them.
    const a = client(dev)
    const b = client(dev)
    const seen: string[] = []
    const take = async (c: QueueClient) => {
      for (;;) {
        const d = await c.reserve("events", { group: "billing", timeout: 200 })
        if (d === null) return
        seen.push(text(d))
        await d.ack()
      }
    }
    await Promise.all([take(a), take(b)])
    expect(seen.sort()).toEqual(audit.map(text).sort())
    // Both groups settled everything: retention "acked" drops it.
    await waitFor(async () => (await admin.stats("events")).queues.events!.total === 0, 5000, "compaction")
    const s = (await admin.stats("events")).queues.events!.stream!
    expect(s.trimmed).toBe(20)
    expect(s.groups.audit).toMatchObject({ acks: 20, lag: 0, reserved: 0 })
  })

  it("a stream needs a group; a group must exist; the first group needs an empty queue; one group per stream per connection", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.put("plain", "x")
    await expect(c.createGroup("plain", "g")).rejects.toMatchObject({ code: "BAD_REQUEST" })
    await c.createGroup("s", "g1")
    await c.createGroup("s", "g2")
    await expect(c.reserve("s", { timeout: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/stream/) })
    await expect(c.reserve("s", { group: "nope", timeout: 0 })).rejects.toMatchObject({ code: "NOT_FOUND" })
    await expect(c.range("plain")).rejects.toMatchObject({ code: "BAD_REQUEST" })
    expect(await c.reserve("s", { group: "g1", timeout: 0 })).toBeNull()
    await expect(c.reserve("s", { group: "g2", timeout: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST" })
    const sub = c.consume("s", { group: "nope" })
    await expect(
      (async () => {
        for await (const _ of sub) void _
      })(),
    ).rejects.toMatchObject({ code: "NOT_FOUND" })
    await expect(c.createGroup("s", "bad name!")).rejects.toMatchObject({ code: "BAD_OPTION" })
    await expect(c.createGroup("s", "g3", { keyConcurrency: 0 })).rejects.toMatchObject({ code: "BAD_OPTION" })
    await expect(c.createGroup("s", "g3", { filter: [{ header: "a" }] as never })).rejects.toMatchObject({ code: "BAD_OPTION" })
    await expect(c.createGroup("s", "g3", { start: "middle" as never })).rejects.toMatchObject({ code: "BAD_OPTION" })
  })

  it("acks, nacks, retries, dead letters and kicks are per group", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.configure("jobs", { retry: { maxAttempts: 2 } })
    await c.createGroup("jobs", "a")
    await c.createGroup("jobs", "b")
    await c.put("jobs", "one")
    const ca = client(dev)
    const d1 = (await ca.reserve("jobs", { group: "a", timeout: 1000 }))!
    expect(await d1.nack()).toBe("ready")
    const d2 = (await ca.reserve("jobs", { group: "a", timeout: 1000 }))!
    expect(d2.attempt).toBe(2)
    expect(await d2.nack()).toBe("buried")
    expect(await groupStats(c, "jobs", "a")).toMatchObject({ buried: 1, redeliveries: 1 })
    // b is untouched: its first delivery.
    const cb = client(dev)
    const b1 = (await cb.reserve("jobs", { group: "b", timeout: 1000 }))!
    expect(b1.attempt).toBe(1)
    await b1.ack()
    const dead = await c.peek("jobs", { group: "a", state: "buried" })
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ group: "a", buryReason: "max-attempts", attempts: 2 })
    // Still stored: a holds it as a dead letter.
    expect((await c.stats("jobs")).queues.jobs!.total).toBe(1)
    expect(await c.kick("jobs", { group: "a" })).toBe(1)
    const again = (await ca.reserve("jobs", { group: "a", timeout: 1000 }))!
    expect([text(again), again.attempt]).toEqual(["one", 1])
    await again.ack()
    await waitFor(async () => (await c.stats("jobs")).queues.jobs!.total === 0, 5000, "compaction")
  })

  it("a lease that ends (ttr, disconnect) redelivers within the group only", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.createGroup("s", "g", { ttr: 100 })
    await c.put("s", "m")
    const first = (await c.reserve("s", { group: "g", timeout: 1000 }))!
    expect(first.ttr).toBe(100)
    const second = (await c.reserve("s", { group: "g", timeout: 2000 }))!
    expect([text(second), second.attempt]).toEqual(["m", 2])
    await expect(first.ack()).rejects.toMatchObject({ code: "LEASE_LOST" })
    await second.ack()
  })

  it("replay: seek to first, to an offset, to a time, to last; range reads without a group", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.configure("log", { retention: "limits" })
    await c.createGroup("log", "r")
    const offsets: number[] = []
    for (let i = 0; i < 10; i++) offsets.push((await c.put("log", `m${i}`)).seq)
    const t5 = (await c.range("log", { from: offsets[5]!, count: 1 })).messages[0]!.putAt
    expect((await drain(client(dev), "log", "r", 10)).map(text)).toEqual(offsets.map((_, i) => `m${i}`))
    // Retention "limits": kept after every group acked.
    await waitFor(async () => (await groupStats(c, "log", "r")).acks === 10, 5000, "acks")
    expect((await c.stats("log")).queues.log!.total).toBe(10)
    expect(await c.seek("log", "r", "first")).toBe(offsets[0])
    expect((await drain(client(dev), "log", "r", 10)).map(text)).toEqual(offsets.map((_, i) => `m${i}`))
    expect(await c.seek("log", "r", offsets[7]!)).toBe(offsets[7])
    expect((await drain(client(dev), "log", "r", 3)).map(text)).toEqual(["m7", "m8", "m9"])
    // By time: the first message put at or after t5 (several may share a millisecond).
    const at = await c.seek("log", "r", { time: t5 })
    expect(at).toBeLessThanOrEqual(offsets[5]!)
    const fromTime = await drain(client(dev), "log", "r", 1)
    expect(fromTime[0]!.putAt).toBeGreaterThanOrEqual(t5)
    expect(await c.seek("log", "r", "last")).toBeGreaterThan(offsets[9]!)
    expect(await client(dev).reserve("log", { group: "r", timeout: 50 })).toBeNull()
    // RANGE: by offset (0: from the oldest), in pages, and by time.
    const p1 = await c.range("log", { from: 0, count: 4 })
    expect(p1.messages.map((m) => m.body.toString())).toEqual(["m0", "m1", "m2", "m3"])
    const p2 = await c.range("log", { from: p1.next, count: 100 })
    expect(p2.messages.map((m) => m.body.toString())).toEqual(["m4", "m5", "m6", "m7", "m8", "m9"])
    expect((await c.range("log", { from: p2.next })).messages).toEqual([])
    const byTime = await c.range("log", { from: new Date(t5), count: 100 })
    expect(byTime.messages[0]!.putAt).toBeGreaterThanOrEqual(t5)
    expect(byTime.messages.at(-1)!.body.toString()).toBe("m9")
  })

  it("a new group starts at first (default), last, or an offset", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.configure("s", { retention: "limits" })
    await c.createGroup("s", "early")
    const seqs: number[] = []
    for (let i = 0; i < 4; i++) seqs.push((await c.put("s", `m${i}`)).seq)
    expect((await c.createGroup("s", "all")).floor).toBe(seqs[0])
    expect((await c.createGroup("s", "late", { start: "last" })).floor).toBeGreaterThan(seqs[3]!)
    expect((await c.createGroup("s", "mid", { start: seqs[2]! })).floor).toBe(seqs[2])
    await c.put("s", "m4")
    expect((await drain(client(dev), "s", "all", 5)).map(text)).toEqual(["m0", "m1", "m2", "m3", "m4"])
    expect((await drain(client(dev), "s", "late", 1)).map(text)).toEqual(["m4"])
    expect((await drain(client(dev), "s", "mid", 3)).map(text)).toEqual(["m2", "m3", "m4"])
    // Updating a group keeps its position.
    expect(await c.createGroup("s", "mid", { ttr: 5000 })).toEqual({ created: false, floor: seqs[2] })
    await c.deleteGroup("s", "late")
    expect(Object.keys((await c.stats("s")).queues.s!.stream!.groups).sort()).toEqual(["all", "early", "mid"])
    await expect(c.deleteGroup("s", "late")).rejects.toMatchObject({ code: "NOT_FOUND" })
    // A connection that read through a deleted group may read through another one, or the group made again.
    const r = client(dev)
    expect(await r.reserve("s", { group: "mid", timeout: 0 })).toBeNull()
    await c.deleteGroup("s", "mid")
    await c.createGroup("s", "mid", { start: "first" })
    expect((await r.reserve("s", { group: "mid", timeout: 1000 }))!.body.toString()).toBe("m0")
    await c.deleteGroup("s", "mid")
    expect((await r.reserve("s", { group: "early", timeout: 1000 }))!.body.toString()).toBe("m0")
  })

  it("retention limits: maxMessages and maxBytes drop the oldest, also unconsumed; maxAge by time", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.configure("capped", { retention: "limits", maxMessages: 5 })
    await c.createGroup("capped", "slow")
    for (let i = 0; i < 12; i++) await c.put("capped", `m${i}`)
    await waitFor(async () => (await c.stats("capped")).queues.capped!.total === 5, 5000, "trim to 5")
    expect((await c.stats("capped")).queues.capped!.stream!.trimmed).toBe(7)
    expect((await drain(client(dev), "capped", "slow", 5)).map(text)).toEqual(["m7", "m8", "m9", "m10", "m11"])
    // A delivery whose stored message retention drops while it is leased is not delivered again.
    await c.configure("leased", { retention: "limits", maxMessages: 1 })
    await c.createGroup("leased", "g", { ttr: 100 })
    await c.put("leased", "first")
    const w = client(dev)
    const held = (await w.reserve("leased", { group: "g", timeout: 1000 }))!
    await c.put("leased", "second")
    await waitFor(async () => (await c.stats("leased")).queues.leased!.total === 1, 5000, "trim to 1")
    const next = (await w.reserve("leased", { group: "g", timeout: 1000 }))!
    expect(next.body.toString()).toBe("second")
    await next.ack()
    // first's lease ends (ttr 100): nothing comes back, and its ack finds nothing.
    expect(await w.reserve("leased", { group: "g", timeout: 400 })).toBeNull()
    await expect(held.ack()).rejects.toMatchObject({ code: expect.stringMatching(/NOT_FOUND|LEASE_LOST/) })
    expect(await groupStats(c, "leased", "g")).toMatchObject({ reserved: 0, ready: 0, lag: 0 })
    await c.configure("aged", { retention: "limits", maxAge: 150 })
    await c.createGroup("aged", "g")
    await c.put("aged", "old")
    await waitFor(async () => (await c.stats("aged")).queues.aged!.total === 0, 5000, "maxAge")
    await c.put("aged", "new")
    expect((await drain(client(dev), "aged", "g", 1)).map(text)).toEqual(["new"])
  })

  it("per-key ordering: one in flight per key (default), keys in parallel, order kept across retries", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.createGroup("orders", "ship")
    const keys = ["a", "b", "c"]
    for (let i = 0; i < 30; i++) await c.put("orders", `${keys[i % 3]}${i}`, { key: keys[i % 3]! })
    const w1 = client(dev)
    const w2 = client(dev)
    const inflight = new Map<string, number>()
    const order = new Map<string, string[]>()
    let maxPerKey = 0
    let nacked = false
    const work = async (w: QueueClient) => {
      for (;;) {
        const d = await w.reserve("orders", { group: "ship", timeout: 300 })
        if (d === null) return
        const k = d.key!
        const n = (inflight.get(k) ?? 0) + 1
        inflight.set(k, n)
        maxPerKey = Math.max(maxPerKey, n)
        await new Promise((r) => setImmediate(r))
        inflight.set(k, n - 1)
        if (!nacked && text(d) === "b4") {
          nacked = true
          await d.nack() // retried before b7 may go
          continue
        }
        ;(order.get(k) ?? order.set(k, []).get(k)!).push(text(d))
        await d.ack()
      }
    }
    await Promise.all([work(w1), work(w2)])
    expect(maxPerKey).toBe(1)
    for (const k of keys) expect(order.get(k)).toEqual(Array.from({ length: 10 }, (_, j) => `${k}${j * 3 + keys.indexOf(k)}`))
  })

  it("keyConcurrency 2 lets two of a key go at once; a dead letter frees its key", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.createGroup("k", "two", { keyConcurrency: 2 })
    await c.createGroup("k", "one", { retry: { maxAttempts: 1 } })
    for (let i = 0; i < 3; i++) await c.put("k", `m${i}`, { key: "same" })
    const t = client(dev)
    const a = (await t.reserve("k", { group: "two", timeout: 1000 }))!
    const b = (await t.reserve("k", { group: "two", timeout: 1000 }))!
    expect([text(a), text(b)]).toEqual(["m0", "m1"])
    expect(await t.reserve("k", { group: "two", timeout: 50 })).toBeNull()
    expect(await groupStats(c, "k", "two")).toMatchObject({ blocked: 1, reserved: 2 })
    await a.ack()
    expect(text((await t.reserve("k", { group: "two", timeout: 1000 }))!)).toBe("m2")
    const o = client(dev)
    const first = (await o.reserve("k", { group: "one", timeout: 1000 }))!
    expect(await first.nack()).toBe("buried")
    expect(text((await o.reserve("k", { group: "one", timeout: 1000 }))!)).toBe("m1")
  })

  it("rate limits: a group's rate and a key's rate hold deliveries back (and say so in stats)", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.createGroup("r", "paced", { rate: 20, burst: 1 })
    await c.createGroup("r", "perkey", { keyRate: 20, keyConcurrency: 100 })
    for (let i = 0; i < 6; i++) await c.put("r", `m${i}`, { key: "k" })
    const start = Date.now()
    await drain(client(dev), "r", "paced", 6)
    // 1 at once, then one per 50 ms: at least 250 ms (a lower bound only; load makes it longer).
    expect(Date.now() - start).toBeGreaterThanOrEqual(240)
    expect((await groupStats(c, "r", "paced")).throttled).toBeGreaterThan(0)
    const t2 = Date.now()
    await drain(client(dev), "r", "perkey", 6)
    expect(Date.now() - t2).toBeGreaterThanOrEqual(240)
    // A plain queue's rate (config).
    await c.configure("plain", { rate: 20, burst: 2 })
    for (let i = 0; i < 4; i++) await c.put("plain", `p${i}`)
    const t3 = Date.now()
    for (let i = 0; i < 4; i++) await (await c.reserve("plain", { timeout: 2000 }))!.ack()
    expect(Date.now() - t3).toBeGreaterThanOrEqual(90)
    expect((await c.stats("plain")).queues.plain!.throttled).toBeGreaterThan(0)
  })

  it("filters: a group gets only matching messages and the rest does not block it; a consumer's filter within a group", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.createGroup("f", "eu", { filter: [{ header: "region", prefix: "eu-" }] })
    await c.createGroup("f", "typed", { filter: [{ header: "type", equals: "order" }] })
    await c.createGroup("f", "split")
    const put = (body: string, headers: Record<string, unknown>) => c.put("f", body, { headers })
    await put("1", { region: "us-east", type: "order" })
    await put("2", { region: "eu-west", type: "refund" })
    await put("3", { region: "eu-north", type: "order" })
    await put("4", {})
    await put("5", { region: 7 })
    expect((await drain(client(dev), "f", "eu", 2)).map(text)).toEqual(["2", "3"])
    expect((await drain(client(dev), "f", "typed", 2)).map(text)).toEqual(["1", "3"])
    expect(await groupStats(c, "f", "eu")).toMatchObject({ filtered: 3, lag: 0 })
    // Within "split": orders to one consumer, everything else to the other; none waits for the other's filter.
    const orders: string[] = []
    const rest: string[] = []
    const o = client(dev)
    const r = client(dev)
    const so = o.consume("f", { group: "split", filter: [{ header: "type", equals: "order" }] })
    const sr = r.consume("f", { group: "split" })
    const loop = async (s: typeof so, into: string[]) => {
      for await (const d of s) {
        into.push(text(d))
        await d.ack()
      }
    }
    const lo = loop(so, orders)
    const lr = loop(sr, rest)
    await waitFor(() => orders.length + rest.length === 5, 5000, "split deliveries")
    await so.close()
    await sr.close()
    await Promise.all([lo, lr])
    expect(orders.every((b) => b === "1" || b === "3")).toBe(true)
    expect([...orders, ...rest].sort()).toEqual(["1", "2", "3", "4", "5"])
    expect(rest.filter((b) => b === "1" || b === "3").length + orders.length).toBe(2)
  })
})

describe("consumer filters on a plain queue", () => {
  it("each subscription gets what its filter takes; a message nobody takes waits without blocking, for a consumer that takes it", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const got: Record<string, string[]> = { a: [], b: [], any: [] }
    const loop = async (name: string, sub: ReturnType<QueueClient["consume"]>) => {
      for await (const d of sub) {
        got[name]!.push(text(d))
        await d.ack()
      }
    }
    const ca = client(dev)
    const cb = client(dev)
    const sa = ca.consume("mixed", { filter: [{ header: "type", equals: "a" }] })
    const sb = cb.consume("mixed", { filter: [{ header: "type", equals: "b" }] })
    const la = loop("a", sa)
    const lb = loop("b", sb)
    for (const t of ["a", "c", "b", "a", "c", "b"]) await c.put("mixed", t, { headers: { type: t } })
    await waitFor(() => got.a!.length === 2 && got.b!.length === 2, 5000, "a and b deliveries")
    expect((await c.stats("mixed")).queues.mixed).toMatchObject({ ready: 2 })
    const cany = client(dev)
    const sany = cany.consume("mixed")
    const lany = loop("any", sany)
    await waitFor(() => got.any!.length === 2, 5000, "the unfiltered consumer takes the rest")
    expect(got).toEqual({ a: ["a", "a"], b: ["b", "b"], any: ["c", "c"] })
    await Promise.all([sa.close(), sb.close(), sany.close()])
    await Promise.all([la, lb, lany])
  })
})

describe("consumer groups across a restart (file backend)", () => {
  it("groups, their positions, settled messages, retries, dead letters and key order survive a restart (with and without a checkpoint)", async () => {
    for (const checkpoint of [false, true]) {
      const dir = tempDir()
      let dev = await startDevice({ dir })
      let c = client(dev)
      await c.configure("s", { retry: { maxAttempts: 3 } })
      await c.createGroup("s", "a", { keyConcurrency: 1 })
      await c.createGroup("s", "b")
      for (let i = 0; i < 10; i++) await c.put("s", `m${i}`, { key: i < 5 ? "x" : "y", headers: { i } })
      const w = client(dev)
      // a: m0 acked, m5 buried, m1 nacked once (attempts 1, ready), m6 leased when the device stops.
      // Keys go in parallel: m5 (key y) is ready as soon as m0 (key x) is delivered; m1 waits for m0's ack, m6 for m5's burial.
      const take = async (body: string) => {
        const d = (await w.reserve("s", { group: "a", timeout: 1000 }))!
        expect(text(d)).toBe(body)
        return d
      }
      await (await take("m0")).ack()
      await (await take("m5")).bury("bad")
      await (await take("m1")).nack()
      await take("m6")
      // b: the first three acked.
      for (const d of await drain(client(dev), "s", "b", 3)) expect(d.group).toBe("b")
      await waitFor(async () => (await groupStats(c, "s", "b")).acks === 3, 5000, "b acks")
      if (checkpoint) await dev.checkpoint()
      await c.close()
      await w.close()
      await dev.close()
      dev = await startDevice({ dir })
      c = client(dev)
      const ga = await groupStats(c, "s", "a")
      expect(ga).toMatchObject({ buried: 1 })
      const dead = await c.peek("s", { group: "a", state: "buried" })
      expect(dead.map((m) => [m.body.toString(), m.buryReason])).toEqual([["m5", "bad"]])
      const again = await drain(client(dev), "s", "a", 8)
      // Key order kept: x's m1 (a retry, attempt 2) before m2..m4; y's m6 (was leased) before m7..m9.
      const x = again.filter((d) => d.key === "x")
      const y = again.filter((d) => d.key === "y")
      expect(x.map(text)).toEqual(["m1", "m2", "m3", "m4"])
      expect(x[0]!.attempt).toBe(2)
      expect(y.map(text)).toEqual(["m6", "m7", "m8", "m9"])
      // b had settled m0, m5, m1 (keys in parallel, each in order).
      const bs = await drain(client(dev), "s", "b", 7)
      expect(bs.filter((d) => d.key === "x").map(text)).toEqual(["m2", "m3", "m4"])
      expect(bs.filter((d) => d.key === "y").map(text)).toEqual(["m6", "m7", "m8", "m9"])
      expect(bs.find((d) => text(d) === "m3")!.headers).toEqual({ i: 3 })
      await c.close()
      await dev.close()
    }
  })

  it("a retry restored after a restart and acked before the cursor reaches it is not delivered again", async () => {
    const dir = tempDir()
    let dev = await startDevice({ dir })
    let c = client(dev)
    await c.createGroup("s", "g")
    for (let i = 0; i < 4; i++) await c.put("s", `m${i}`)
    const w = client(dev)
    await (await w.reserve("s", { group: "g", timeout: 1000 }))!.ack()
    await (await w.reserve("s", { group: "g", timeout: 1000 }))!.nack() // m1: a retry, logged
    await w.close()
    await c.close()
    await dev.close()
    dev = await startDevice({ dir })
    c = client(dev)
    // One at a time: the restored m1 goes first, and is acked before the cursor passes its offset.
    const got: string[] = []
    for (;;) {
      const d = await c.reserve("s", { group: "g", timeout: 100 })
      if (d === null) break
      got.push(`${text(d)}@${d.attempt}`)
      await d.ack()
    }
    expect(got).toEqual(["m1@2", "m2@1", "m3@1"])
  })

  it("a seek and a trim are kept: after a restart the group reads from where it was moved, trimmed messages stay gone", async () => {
    const dir = tempDir()
    let dev = await startDevice({ dir })
    let c = client(dev)
    await c.configure("s", { retention: "limits", maxMessages: 6 })
    await c.createGroup("s", "g")
    const seqs: number[] = []
    for (let i = 0; i < 8; i++) seqs.push((await c.put("s", `m${i}`)).seq)
    await waitFor(async () => (await c.stats("s")).queues.s!.total === 6, 5000, "trim")
    await drain(client(dev), "s", "g", 6)
    await c.seek("s", "g", seqs[4]!)
    await c.close()
    await dev.close()
    dev = await startDevice({ dir })
    c = client(dev)
    expect((await c.stats("s")).queues.s!.total).toBe(6)
    expect((await drain(client(dev), "s", "g", 4)).map(text)).toEqual(["m4", "m5", "m6", "m7"])
    expect((await c.range("s", { from: 0, count: 10 })).messages.map((m) => m.body.toString())).toEqual(["m2", "m3", "m4", "m5", "m6", "m7"])
  })
})
