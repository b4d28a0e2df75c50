import { describe, expect, it } from "vitest"
import { waitFor } from "../helpers.js"
import { BACKENDS, client, startDevice, useBackend } from "./queue-util.js"

const text = (b: Buffer) => b.toString("utf8")

describe.each(BACKENDS)("put, reserve, ack (%s backend)", (kind) => {
  useBackend(kind)
  it("round-trips body and headers, and ack removes the message", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const r = await c.put("jobs", Buffer.from([0, 1, 2, 255]), { headers: { kind: "resize", n: 3, nested: { ok: true } } })
    expect(r).toEqual({ seq: expect.any(Number), duplicate: false })
    const d = (await c.reserve("jobs", { timeout: 1000 }))!
    expect(d.seq).toBe(r.seq)
    expect(d.attempt).toBe(1)
    expect(d.queue).toBe("jobs")
    expect([...d.body]).toEqual([0, 1, 2, 255])
    expect(d.headers).toEqual({ kind: "resize", n: 3, nested: { ok: true } })
    expect((await c.stats("jobs")).queues.jobs).toMatchObject({ ready: 0, reserved: 1, total: 1 })
    await d.ack()
    expect((await c.stats("jobs")).queues.jobs).toMatchObject({ ready: 0, reserved: 0, total: 0, acks: 1 })
    expect(await c.reserve("jobs", { timeout: 0 })).toBeNull()
  })

  it("queues are created on first use and kept apart", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.put("a", "for a")
    await c.put("b", "for b")
    expect(text((await c.reserve("b", { timeout: 1000 }))!.body)).toBe("for b")
    expect(text((await c.reserve("a", { timeout: 1000 }))!.body)).toBe("for a")
    expect(Object.keys((await c.stats()).queues).sort()).toEqual(["a", "b"])
  })

  it("delivers by priority (0 first), then in put order", async () => {
    const dev = await startDevice()
    const c = client(dev)
    for (const [body, priority] of [
      ["p5-a", 5],
      ["p0", 0],
      ["p10", 10],
      ["p5-b", 5],
      ["default", undefined],
    ] as const) {
      await c.put("jobs", body, priority === undefined ? {} : { priority })
    }
    const order: string[] = []
    for (let i = 0; i < 5; i++) order.push(text((await c.reserve("jobs", { timeout: 1000 }))!.body))
    expect(order).toEqual(["p0", "p5-a", "p5-b", "p10", "default"])
  })

  it("reserve waits for a later put, and times out with null", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const p = c.reserve("late", { timeout: 5000 })
    await c.put("late", "hello")
    expect(text((await p)!.body)).toBe("hello")
    const t0 = Date.now()
    expect(await c.reserve("late", { timeout: 100 })).toBeNull()
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90)
  })

  it("a delayed message is invisible until its delay passes", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const t0 = Date.now()
    const { seq } = await c.put("later", "x", { delay: 200 })
    expect(await c.reserve("later", { timeout: 0 })).toBeNull()
    expect((await c.peek("later", { state: "delayed" })).map((m) => m.seq)).toEqual([seq])
    const d = await c.reserve("later", { timeout: 5000 })
    expect(d?.seq).toBe(seq)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190)
  })
})

describe.each(BACKENDS)("leases (%s backend)", (kind) => {
  useBackend(kind)
  it("an expired lease redelivers with attempt+1 and the old ack fails with LEASE_LOST", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.put("jobs", "x", { ttr: 100 })
    const first = (await c.reserve("jobs", { timeout: 1000 }))!
    const second = (await c.reserve("jobs", { timeout: 5000 }))!
    expect(second.seq).toBe(first.seq)
    expect(second.attempt).toBe(2)
    await expect(first.ack()).rejects.toMatchObject({ code: "LEASE_LOST" })
    await second.ack()
    expect((await c.stats("jobs")).queues.jobs).toMatchObject({ total: 0, redeliveries: 1 })
  })

  it("touch extends a lease", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const other = client(dev)
    await c.put("jobs", "x", { ttr: 150 })
    const d = (await c.reserve("jobs", { timeout: 1000 }))!
    const deadline = await d.touch({ ttr: 5000 })
    expect(deadline).toBeGreaterThan(Date.now() + 4000)
    // Well past the original 150 ms lease, nobody else gets it.
    expect(await other.reserve("jobs", { timeout: 400 })).toBeNull()
    await d.ack()
  })

  it("a consumer that disconnects has its leases released at once", async () => {
    const dev = await startDevice()
    const producer = client(dev)
    const doomed = client(dev)
    await producer.put("jobs", "one", { ttr: 60_000 })
    await producer.put("jobs", "two", { ttr: 60_000 })
    const got = [(await doomed.reserve("jobs", { timeout: 1000 }))!, (await doomed.reserve("jobs", { timeout: 1000 }))!]
    expect(got.map((d) => d.attempt)).toEqual([1, 1])
    await doomed.close()
    const t0 = Date.now()
    const again = [(await producer.reserve("jobs", { timeout: 5000 }))!, (await producer.reserve("jobs", { timeout: 5000 }))!]
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(again.map((d) => [text(d.body), d.attempt])).toEqual([
      ["one", 2],
      ["two", 2],
    ])
  })
})

describe.each(BACKENDS)("nack, retry and dead letters (%s backend)", (kind) => {
  useBackend(kind)
  it("nack without delay makes it ready again; with delay, delayed", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.put("jobs", "x")
    const d1 = (await c.reserve("jobs", { timeout: 1000 }))!
    expect(await d1.nack()).toBe("ready")
    const d2 = (await c.reserve("jobs", { timeout: 1000 }))!
    expect(d2.attempt).toBe(2)
    expect(await d2.nack({ delay: 150 })).toBe("delayed")
    expect(await c.reserve("jobs", { timeout: 0 })).toBeNull()
    const d3 = (await c.reserve("jobs", { timeout: 5000 }))!
    expect(d3.attempt).toBe(3)
  })

  it("exceeding the queue's maxAttempts dead-letters with reason, attempts and last consumer; kick revives", async () => {
    const dev = await startDevice()
    const c = client(dev, { consumerName: "worker-7" })
    await c.configure("jobs", { retry: { maxAttempts: 2 } })
    const { seq } = await c.put("jobs", "poison")
    expect(await (await c.reserve("jobs", { timeout: 1000 }))!.nack()).toBe("ready")
    expect(await (await c.reserve("jobs", { timeout: 1000 }))!.nack()).toBe("buried")
    expect(await c.reserve("jobs", { timeout: 0 })).toBeNull()
    const [dead] = await c.peek("jobs", { state: "buried" })
    expect(dead).toMatchObject({ seq, state: "buried", buryReason: "max-attempts", attempts: 2, lastConsumer: "worker-7" })
    expect(text(dead!.body)).toBe("poison")
    expect((await c.stats("jobs")).queues.jobs).toMatchObject({ buried: 1, ready: 0 })
    expect(await c.kick("jobs")).toBe(1)
    const again = (await c.reserve("jobs", { timeout: 1000 }))!
    expect(again.seq).toBe(seq)
    expect(again.attempt).toBe(1)
  })

  it("a message's own retry policy wins over the queue's; backoff delays retries", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.configure("jobs", { retry: { maxAttempts: 10 } })
    const { seq } = await c.put("jobs", "x", { retry: { maxAttempts: 3, backoff: "exponential", delay: 100, maxDelay: 150 } })
    const d1 = (await c.reserve("jobs", { timeout: 1000 }))!
    const t1 = Date.now()
    expect(await d1.nack()).toBe("delayed")
    const m1 = (await c.peekMessage({ seq }))!
    expect(m1.readyAt - t1).toBeGreaterThanOrEqual(90)
    expect(m1.readyAt - t1).toBeLessThanOrEqual(130)
    const d2 = (await c.reserve("jobs", { timeout: 5000 }))!
    const t2 = Date.now()
    expect(await d2.nack()).toBe("delayed")
    const m2 = (await c.peekMessage({ seq }))!
    expect(m2.readyAt - t2).toBeGreaterThanOrEqual(140) // 200, capped at 150
    expect(m2.readyAt - t2).toBeLessThanOrEqual(180)
    const d3 = (await c.reserve("jobs", { timeout: 5000 }))!
    expect(await d3.nack()).toBe("buried")
  })

  it("a lease that expires counts as a failed attempt", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.put("jobs", "x", { ttr: 50, retry: { maxAttempts: 1 } })
    const d = (await c.reserve("jobs", { timeout: 1000 }))!
    await waitFor(async () => (await c.stats("jobs")).queues.jobs!.buried === 1, 5000, "lease expiry to bury")
    expect((await c.peekMessage({ seq: d.seq }))!.buryReason).toBe("max-attempts")
  })

  it("bury(reason) dead-letters at once; kick by seq", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const a = await c.put("jobs", "a")
    await c.put("jobs", "b")
    const d = (await c.reserve("jobs", { timeout: 1000 }))!
    await d.bury("cannot parse")
    expect((await c.peek("jobs", { state: "buried" }))[0]).toMatchObject({ seq: a.seq, buryReason: "cannot parse" })
    await expect(c.kick("jobs", { seq: 999_999 })).rejects.toMatchObject({ code: "NOT_FOUND" })
    expect(await c.kick("jobs", { seq: a.seq })).toBe(1)
    expect((await c.peek("jobs", { state: "ready", count: 10 })).map((m) => text(m.body))).toEqual(["b", "a"])
  })

  it("TTL expiry dead-letters an unconsumed message with reason expired", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const { seq } = await c.put("jobs", "stale", { ttl: 100 })
    await c.put("jobs", "fresh")
    await waitFor(async () => (await c.stats("jobs")).queues.jobs!.buried === 1, 5000, "TTL expiry")
    expect((await c.peekMessage({ seq }))!).toMatchObject({ state: "buried", buryReason: "expired" })
    expect(text((await c.reserve("jobs", { timeout: 1000 }))!.body)).toBe("fresh")
  })
})

describe.each(BACKENDS)("dedup and batches (%s backend)", (kind) => {
  useBackend(kind)
  it("a repeated id returns the original confirmation and stores nothing, even after ack", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const first = await c.put("jobs", "x", { id: "order-42" })
    expect(await c.put("jobs", "x again", { id: "order-42" })).toEqual({ seq: first.seq, duplicate: true })
    expect((await c.stats("jobs")).queues.jobs!.total).toBe(1)
    await (await c.reserve("jobs", { timeout: 1000 }))!.ack()
    expect(await c.put("jobs", "x", { id: "order-42" })).toEqual({ seq: first.seq, duplicate: true })
    expect((await c.put("other", "x", { id: "order-42" })).duplicate).toBe(false)
    expect((await c.peekMessage({ queue: "other", id: "order-42" }))!.queue).toBe("other")
  })

  it("dedup also holds among puts sent together", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const rs = await Promise.all([c.put("jobs", "1", { id: "same" }), c.put("jobs", "2", { id: "same" }), c.put("jobs", "3")])
    expect(rs[1]).toEqual({ seq: rs[0]!.seq, duplicate: true })
    expect((await c.stats("jobs")).queues.jobs!.total).toBe(2)
  })

  it("putBatch stores all in order, or nothing when one message is invalid", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const ok = await c.putBatch("jobs", [{ body: "a" }, { body: "b", priority: 1 }, { body: "c", headers: { h: 1 } }])
    expect(ok.map((r) => r.duplicate)).toEqual([false, false, false])
    expect(ok[1]!.seq).toBe(ok[0]!.seq + 1)
    await expect(c.putBatch("jobs", [{ body: "d" }, { body: "e", priority: -1 }])).rejects.toMatchObject({ code: "BAD_OPTION" })
    expect((await c.stats("jobs")).queues.jobs!.total).toBe(3)
  })

  it("puts sent together are confirmed one by one; an invalid one fails alone", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const results = await Promise.allSettled([c.put("jobs", "a"), c.put("jobs", "b", { delay: -5 }), c.put("jobs", "c")])
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: "BAD_OPTION" })
    expect((await c.peek("jobs", { count: 10 })).map((m) => text(m.body))).toEqual(["a", "c"])
  })
})

describe.each(BACKENDS)("consume with credit (%s backend)", (kind) => {
  useBackend(kind)
  it("never has more than `credit` unsettled deliveries", async () => {
    const dev = await startDevice()
    const c = client(dev)
    for (let i = 0; i < 10; i++) await c.put("jobs", String(i))
    const sub = c.consume("jobs", { credit: 3 })
    const it = sub[Symbol.asyncIterator]()
    const got = [(await it.next()).value!, (await it.next()).value!, (await it.next()).value!]
    expect(got.map((d) => text(d.body))).toEqual(["0", "1", "2"])
    // Nothing beyond the credit arrives while these are held.
    await waitFor(async () => (await c.stats("jobs")).queues.jobs!.reserved === 3, 2000, "3 leases")
    expect(await c.reserve("jobs", { timeout: 0 })).not.toBeNull() // the rest are still ready for others
    expect(sub.buffered).toBe(0)
    await got[0]!.ack()
    expect(text((await it.next()).value!.body)).toBe("4")
    await sub.close()
    expect((await it.next()).done).toBe(true)
  })

  it("async iteration delivers everything in order and ends when the client closes", async () => {
    const dev = await startDevice()
    const producer = client(dev)
    const consumer = client(dev)
    const n = 500
    await Promise.all(Array.from({ length: n }, (_, i) => producer.put("stream", String(i))))
    const seen: number[] = []
    for await (const d of consumer.consume("stream", { credit: 50 })) {
      seen.push(Number(text(d.body)))
      void d.ack()
      if (seen.length === n) break
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i))
    await waitFor(async () => (await producer.stats("stream")).queues.stream!.total === 0, 5000, "all acked")
  })

  it("several consumers share a queue", async () => {
    const dev = await startDevice()
    const producer = client(dev)
    const subs = [client(dev).consume("shared", { credit: 5 }), client(dev).consume("shared", { credit: 5 })]
    const counts = [0, 0]
    const total = 200
    let done = 0
    const finished = new Promise<void>((resolve) => {
      subs.forEach(async (sub, i) => {
        for await (const d of sub) {
          counts[i]!++
          await d.ack()
          if (++done === total) resolve()
        }
      })
    })
    for (let i = 0; i < total; i++) void producer.put("shared", String(i))
    await finished
    expect(counts[0]! + counts[1]!).toBe(total)
    expect(Math.min(...counts)).toBeGreaterThan(0)
  })
})

describe.each(BACKENDS)("peek and stats (%s backend)", (kind) => {
  useBackend(kind)
  it("peeks ready, delayed, reserved, buried, by seq and by id without leasing", async () => {
    const dev = await startDevice()
    const c = client(dev)
    const r1 = await c.put("q", "ready-1", { id: "k1", headers: { a: 1 } })
    await c.put("q", "delayed", { delay: 60_000 })
    await c.put("q", "ready-2")
    expect((await c.peek("q", { count: 5 })).map((m) => text(m.body))).toEqual(["ready-1", "ready-2"])
    expect((await c.peek("q", { state: "delayed" }))[0]).toMatchObject({ state: "delayed" })
    const byId = (await c.peekMessage({ queue: "q", id: "k1" }))!
    expect(byId).toMatchObject({ seq: r1.seq, id: "k1", headers: { a: 1 }, state: "ready" })
    expect(await c.peekMessage({ seq: 123_456 })).toBeNull()
    const d = (await c.reserve("q", { timeout: 1000 }))!
    expect((await c.peek("q", { state: "reserved" }))[0]).toMatchObject({ seq: d.seq, state: "reserved", attempts: 1 })
    const s = (await c.stats("q")).queues.q!
    expect(s).toMatchObject({ ready: 1, delayed: 1, reserved: 1, buried: 0, total: 3 })
    expect(s.bytes).toBeGreaterThan(0)
    expect(s.oldestAge).toBeGreaterThanOrEqual(0)
  })

  // The file store's own figures (fsync policy, disk bytes): defined for the file backend only,
  // so that no test shows as skipped.
  if (kind === "file") {
    it("reports device-wide figures", async () => {
      const dev = await startDevice()
      const c = client(dev)
      await c.put("q", "x")
      const s = await c.stats()
      expect(s).toMatchObject({ fsync: "always", checkpoints: 0 })
      expect(s.diskBytes).toBeGreaterThan(0)
    })
  }
})

describe.each(BACKENDS)("pause, purge, paging and counters (%s backend)", (kind) => {
  useBackend(kind)
  it("a paused queue takes puts and delivers nothing (a waiting reserve and a subscription wait) until resumed", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.put("p", "early")
    await c.pause("p")
    expect((await c.stats("p")).queues.p).toMatchObject({ paused: true, ready: 1 })
    expect(await c.reserve("p", { timeout: 100 })).toBeNull()
    await c.put("p", "while paused")
    const got: string[] = []
    const sub = c.consume("p", { credit: 10 })
    const consuming = (async () => {
      for await (const d of sub) {
        got.push(text(d.body))
        await d.ack()
      }
    })()
    const waiting = c.reserve("p", { timeout: 10_000 })
    await c.stats() // a round trip: the subscription and the reserve are in place
    expect(got).toEqual([])
    await c.resume("p")
    const w = await waiting
    await waitFor(() => got.length + (w === null ? 0 : 1) === 2, 5000, "both delivered after resume")
    expect([...got, ...(w === null ? [] : [text(w.body)])].sort()).toEqual(["early", "while paused"])
    expect((await c.stats("p")).queues.p!.paused).toBeUndefined()
    await w?.ack()
    await sub.close()
    await consuming
  })

  // Restarting on the same directory: the file store's (the PostgreSQL store's restarts are in postgres.test.ts).
  if (kind === "file")
    it("a pause survives a restart", async () => {
      const { tempDir } = await import("./queue-util.js")
      const dir = tempDir()
      let dev = await startDevice({ dir })
      let c = client(dev)
      await c.put("p", "kept")
      await c.pause("p")
      await c.close()
      await dev.close()
      dev = await startDevice({ dir })
      c = client(dev)
      expect((await c.stats("p")).queues.p).toMatchObject({ paused: true, ready: 1 })
      expect(await c.reserve("p", { timeout: 100 })).toBeNull()
      await c.resume("p")
      expect(text((await c.reserve("p", { timeout: 2000 }))!.body)).toBe("kept")
    })

  it("a paused stream pauses all its groups", async () => {
    const dev = await startDevice()
    const c = client(dev)
    await c.createGroup("s", "g1")
    await c.put("s", "m")
    await c.pause("s")
    await c.createGroup("s", "g2")
    const c2 = client(dev) // a connection reads a stream through one group
    expect(await c.reserve("s", { group: "g1", timeout: 100 })).toBeNull()
    expect(await c2.reserve("s", { group: "g2", timeout: 100 })).toBeNull()
    await c.resume("s")
    expect(text((await c.reserve("s", { group: "g1", timeout: 2000 }))!.body)).toBe("m")
    expect(text((await c2.reserve("s", { group: "g2", timeout: 2000 }))!.body)).toBe("m")
  })

  it("purge drops ready and delayed messages (or dead letters with states), never leased ones; a stream refuses", async () => {
    const dev = await startDevice()
    const c = client(dev)
    for (let i = 0; i < 5; i++) await c.put("q", `r${i}`)
    await c.put("q", "later", { delay: 60_000 })
    const leased = (await c.reserve("q", { timeout: 1000 }))!
    const dead = (await c.reserve("q", { timeout: 1000 }))!
    await dead.bury("bad")
    expect(await c.purge("q")).toBe(4) // 3 ready + 1 delayed
    expect((await c.stats("q")).queues.q).toMatchObject({ ready: 0, delayed: 0, reserved: 1, buried: 1, total: 2 })
    expect(await c.purge("q", { states: ["buried"] })).toBe(1)
    await leased.ack()
    expect((await c.stats("q")).queues.q).toMatchObject({ total: 0 })
    await expect(c.purge("q", { states: ["reserved" as "ready"] })).rejects.toMatchObject({ code: "BAD_OPTION" })
    await c.createGroup("st", "g")
    await expect(c.purge("st")).rejects.toMatchObject({ code: "BAD_OPTION", message: expect.stringMatching(/stream/) })
  })

  it("peek pages with skip; stats count deliveries, nacks and dead letters", async () => {
    const dev = await startDevice()
    const c = client(dev)
    for (let i = 0; i < 25; i++) await c.put("q", `m${i}`)
    const pages: string[] = []
    for (let skip = 0; skip < 30; skip += 10) for (const m of await c.peek("q", { count: 10, skip })) pages.push(text(m.body))
    expect(pages).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`))
    await c.configure("n", { retry: { maxAttempts: 2, delay: 0 } })
    await c.put("n", "once")
    const a = (await c.reserve("n", { timeout: 1000 }))!
    await a.nack({ delay: 0 })
    const b = (await c.reserve("n", { timeout: 1000 }))!
    expect(b.seq).toBe(a.seq)
    await b.nack({ delay: 0 }) // the second attempt: a dead letter now
    expect((await c.stats("n")).queues.n).toMatchObject({ deliveries: 2, nacks: 2, deadLetters: 1, buried: 1 })
  })
})

describe("reconnection", () => {
  it("a consumer keeps consuming after the device restarts on the same address; requests in flight fail", async () => {
    const { QueueDevice } = await import("../../lib/entry/queue.js")
    const { tempDir, onCleanup } = await import("./queue-util.js")
    const dir = tempDir()
    let dev = new QueueDevice({ dir })
    await dev.bind("tcp://127.0.0.1:*")
    const endpoint = dev.lastEndpoint!
    const consumer = client(endpoint, { socket: { reconnectInterval: 20 } })
    const sub = consumer.consume("r", { credit: 10 })
    const it = sub[Symbol.asyncIterator]()
    const producer = client(endpoint)
    await producer.put("r", "before")
    const first = (await it.next()).value!
    expect(text(first.body)).toBe("before")
    await first.ack()
    // In flight when the device goes away: answered SHUTTING_DOWN if it reached the closing device, else failed DISCONNECTED by the client.
    const waiting = consumer.reserve("other", { timeout: 60_000 }).catch((e: unknown) => e)
    await dev.close()
    const err = (await waiting) as { code?: string }
    expect(["SHUTTING_DOWN", "DISCONNECTED"]).toContain(err.code)
    dev = new QueueDevice({ dir })
    onCleanup(() => dev.close())
    await dev.bind(endpoint)
    const producer2 = client(endpoint)
    await producer2.put("r", "after")
    const second = (await it.next()).value!
    expect(text(second.body)).toBe("after")
    await second.ack()
  })

  it("a client given several devices talks to one at a time (the first), moves to the next when it is gone for failoverMs, and renews its subscription there", async () => {
    const a = await startDevice()
    const b = await startDevice()
    const c = client([a.lastEndpoint!, b.lastEndpoint!], { failoverMs: 200, socket: { reconnectInterval: 20 } })
    for (let i = 0; i < 20; i++) await c.put("q", `m${i}`)
    expect(a.messageCount).toBe(20) // not spread over both, as a DEALER would round-robin
    expect(b.messageCount).toBe(0)
    const sub = c.consume("r", { credit: 10 })
    const it = sub[Symbol.asyncIterator]()
    await a.close()
    // A put in flight as the device went fails with DISCONNECTED (and, with an id, is safe to
    // retry); made while no device is connected, it waits for the next one rather than fail.
    for (;;) {
      try {
        await c.put("r", "on b", { id: "once" })
        break
      } catch (err) {
        expect((err as { code?: string }).code).toBe("DISCONNECTED")
      }
    }
    expect(b.messageCount).toBe(1)
    expect(text((await it.next()).value!.body)).toBe("on b")
    await sub.close()
    expect(() => client("tcp://127.0.0.1:1", { failoverMs: 0 })).toThrow(/failoverMs/)
  })
})
