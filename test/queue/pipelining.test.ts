/**
 * A client keeps many requests in flight without awaiting each (put() after put()), and the
 * device answers without awaiting its sends: neither may be refused because a socket took a
 * turn of the event loop in the middle of a long streak of sends (the yield that keeps a busy
 * socket from starving timers).
 */
import { afterEach, describe, expect, it } from "vitest"
import type { QueueClient, QueueDevice } from "../../lib/entry/queue.js"
import { client, startDevice } from "./queue-util.js"

const opened: Array<QueueClient | QueueDevice> = []
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close()
})

describe("pipelined requests", () => {
  it("a producer keeping 1,000 puts in flight for 20,000 puts (each confirmation sends the next) gets them all confirmed", async () => {
    const dev = await startDevice({ fsync: "never" })
    opened.push(dev)
    const c = client(dev, { maxInFlight: 1000 })
    opened.push(c)
    const N = 20_000
    let sent = 0
    let confirmed = 0
    let failed: unknown
    await new Promise<void>((resolve) => {
      const next = (): void => {
        if (failed !== undefined || sent >= N) return
        sent++
        c.put("pipelined", "m").then(
          () => {
            if (++confirmed === N) resolve()
            next()
          },
          (err: unknown) => {
            failed = err
            resolve()
          },
        )
      }
      for (let i = 0; i < 1000; i++) next()
    })
    expect(failed).toBeUndefined()
    expect(confirmed).toBe(N)
  }, 60_000)

  it("20,000 puts issued at once, confirmed in group commits every 50 ms (bursts of replies), are all confirmed; a consumer gets and acks them all", async () => {
    const dev = await startDevice({ fsync: { intervalMs: 50 } })
    opened.push(dev)
    const c = client(dev, { maxInFlight: 50_000 })
    opened.push(c)
    const N = 20_000
    const puts = []
    for (let i = 0; i < N; i++) puts.push(c.put("pipelined", `m${i}`))
    const results = await Promise.all(puts)
    expect(new Set(results.map((r) => r.seq)).size).toBe(N)
    let got = 0
    for await (const job of c.consume("pipelined", { credit: 5000 })) {
      void job.ack()
      if (++got === N) break
    }
    expect(got).toBe(N)
  }, 60_000)

  it("an ack nobody awaits that fails (lease lost, client closed) is no unhandled rejection; an awaited one rejects", async () => {
    const dev = await startDevice({ fsync: "never" })
    opened.push(dev)
    const c = client(dev)
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown): void => void unhandled.push(e)
    process.on("unhandledRejection", onUnhandled)
    try {
      await c.put("acks", "x", { ttr: 50 })
      const d = (await c.reserve("acks"))!
      await new Promise((r) => setTimeout(r, 150))
      void d.ack() // the lease ran out
      await expect(d.ack()).rejects.toMatchObject({ code: "LEASE_LOST" })
      const again = (await c.reserve("acks"))!
      await c.close()
      void again.ack() // after close
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
    expect(unhandled).toEqual([])
  })
})
