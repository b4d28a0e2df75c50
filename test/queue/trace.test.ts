/** Tracing: a message's history by seq or id (TRACE), and lifecycle events on the device's PUB, by queue-name prefix. */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { Subscriber } from "../../lib/index.js"
import { decodeCbor } from "../../lib/devices/queue/cbor.js"
import { QueueDevice } from "../../lib/entry/queue.js"
import { waitFor } from "../helpers.js"
import { client, onCleanup, startDevice, tempDir } from "./queue-util.js"

describe("traces and lifecycle events", () => {
  it("TRACE shows put (by whom), each delivery with consumer and outcome, the dead letter and the kick", async () => {
    const dev = await startDevice({ trace: true })
    const c = client(dev, { consumerName: "worker-1" })
    await c.configure("jobs", { retry: { maxAttempts: 2 } })
    const { seq } = await c.put("jobs", "x", { id: "job-7" })
    ;(await c.reserve("jobs", { timeout: 1000 }))!.nack()
    await waitFor(async () => (await c.stats("jobs")).queues.jobs!.ready === 1)
    await (await c.reserve("jobs", { timeout: 1000, consumer: "worker-2" }))!.nack()
    await c.kick("jobs")
    await (await c.reserve("jobs", { timeout: 1000 }))!.ack()
    const t = await c.trace({ queue: "jobs", id: "job-7" })
    expect(t.seq).toBe(seq)
    expect(t.events.map((e) => [e.type, e.attempt ?? null, e.by ?? null, e.reason ?? null])).toEqual([
      ["put", null, expect.stringMatching(/^[0-9a-f]+$/), null],
      ["deliver", 1, "worker-1", null],
      ["retry", 1, "worker-1", "nack"],
      ["deliver", 2, "worker-2", null],
      ["dead", 2, "worker-2", "max-attempts"],
      ["kick", null, null, null],
      ["deliver", 1, "worker-1", null],
      ["ack", 1, "worker-1", null],
    ])
    expect(t.events.every((e) => e.queue === "jobs" && typeof e.at === "number")).toBe(true)
    expect((await c.trace({ seq })).events).toHaveLength(8)
    await expect(c.trace({ seq: seq + 1000 })).rejects.toMatchObject({ code: "NOT_FOUND" })
  })

  it("a stream's trace names the group of each delivery; finished traces are kept up to `keep`", async () => {
    const dev = await startDevice({ trace: { keep: 1 } })
    const c = client(dev)
    await c.createGroup("s", "a")
    await c.createGroup("s", "b")
    const { seq } = await c.put("s", "m", { key: "k" })
    const ca = client(dev)
    const cb = client(dev)
    await (await ca.reserve("s", { group: "a", timeout: 1000 }))!.ack()
    await (await cb.reserve("s", { group: "b", timeout: 1000 }))!.ack()
    await waitFor(async () => (await c.stats("s")).queues.s!.total === 0, 5000, "trim")
    const t = await c.trace({ seq })
    expect(t.events[0]).toMatchObject({ type: "put", key: "k" })
    expect(
      t.events
        .filter((e) => e.type === "deliver")
        .map((e) => e.group)
        .sort(),
    ).toEqual(["a", "b"])
    expect(t.events.at(-1)).toMatchObject({ type: "trim", reason: "retention" })
    // keep 1: a later finished message pushes this one out.
    await c.put("plain", "p")
    await (await c.reserve("plain", { timeout: 1000 }))!.ack()
    await expect(c.trace({ seq })).rejects.toMatchObject({ code: "NOT_FOUND" })
  })

  it("without trace, TRACE is refused; a backend that reports no events refuses trace", async () => {
    const dev = await startDevice()
    await expect(client(dev).trace({ seq: 1 })).rejects.toMatchObject({ code: "BAD_REQUEST" })
    const { MemoryBackend } = await import("../../lib/devices/queue/memory-backend.js")
    const b = new MemoryBackend({})
    ;(b as { observe?: unknown }).observe = undefined
    const d = new QueueDevice({ dir: tempDir(), backend: b, trace: true })
    onCleanup(() => d.close())
    await expect(d.bind("tcp://127.0.0.1:*")).rejects.toMatchObject({ code: "BAD_OPTION" })
    expect(() => new QueueDevice({ dir: tempDir(), trace: { keep: -1 } })).toThrow(/trace/)
  })

  it("lifecycle events on the PUB: an omq SUB and a libzmq SUB subscribe by queue-name prefix", async () => {
    const dev = await startDevice({ events: ["tcp://127.0.0.1:*"] })
    const endpoint = dev.eventsEndpoint!
    const ours = new Subscriber()
    onCleanup(() => ours.close())
    ours.connect(endpoint)
    ours.subscribe("orders")
    const theirs = new zmq.Subscriber()
    onCleanup(() => theirs.close())
    theirs.connect(endpoint)
    theirs.subscribe("orders.eu")
    const c = client(dev)
    // Subscriptions take a moment to reach the PUB: put until both have seen one event.
    const got: { queue: string; type: string }[] = []
    const libzmqGot: string[] = []
    void (async () => {
      for await (const [q, e] of ours) got.push({ queue: q!.toString(), type: (decodeCbor(e!) as { type: string }).type })
    })()
    void (async () => {
      for await (const [q] of theirs) libzmqGot.push(q!.toString())
    })()
    await waitFor(
      async () => {
        await c.put("orders.eu", "x")
        await c.put("invoices", "y")
        return got.some((g) => g.queue === "orders.eu") && libzmqGot.length > 0
      },
      5000,
      "events on both subscribers",
    )
    await (await c.reserve("orders.us", { timeout: 0 }))?.ack()
    await c.put("orders.us", "z")
    await (await c.reserve("orders.us", { timeout: 1000 }))!.ack()
    await waitFor(() => got.filter((g) => g.queue === "orders.us").length === 3, 5000, "put, deliver, ack of orders.us")
    expect(got.filter((g) => g.queue === "orders.us").map((g) => g.type)).toEqual(["put", "deliver", "ack"])
    expect(got.some((g) => g.queue === "invoices")).toBe(false)
    expect(new Set(libzmqGot)).toEqual(new Set(["orders.eu"]))
  })
})
