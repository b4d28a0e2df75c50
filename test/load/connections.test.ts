/**
 * Many concurrent connections on one ROUTER (tcp, loopback, one process):
 * 1,000 omq DEALERs, then 200 libzmq DEALERs (zeromq.js), each sends one
 * request while all are connected, and every one gets the echo back.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { MB, delay, fdCount, gc, mb, waitUntil, within } from "./util.js"

const open: { close(): void }[] = []
afterEach(() => {
  for (const s of open.splice(0)) {
    try {
      s.close()
    } catch {
      /* closed */
    }
  }
})

/** Echoes every request back to its sender until the router is closed. */
async function echo(router: omq.Router): Promise<number> {
  let n = 0
  for await (const [id, ...rest] of router) {
    await router.send([id!, ...rest])
    n++
  }
  return n
}

interface DealerLike {
  connect(address: string): void
  send(msg: unknown): Promise<void>
  receive(): Promise<Buffer[]>
  close(): void
}

/**
 * Connects `n` dealers in batches (a burst of 1,000 SYNs at once would just
 * overflow the listen backlog and wait on SYN retransmits), waits until the
 * router has completed all n handshakes, then has every dealer send one
 * request and wait for its own reply.
 */
async function run(
  router: omq.Router,
  handshakes: () => number,
  n: number,
  make: () => DealerLike,
): Promise<{ dealers: DealerLike[]; connectMs: number; roundTripMs: number }> {
  const endpoint = router.lastEndpoint!
  const dealers: DealerLike[] = []
  const t0 = Date.now()
  const before = handshakes()
  for (let i = 0; i < n; i++) {
    const d = make()
    open.push(d)
    dealers.push(d)
    d.connect(endpoint)
    if (i % 100 === 99) await waitUntil(() => handshakes() - before >= i + 1 - 50, 15_000, `handshakes of ${i + 1} dealers`)
  }
  await waitUntil(() => handshakes() - before >= n, 15_000, `${n} handshakes`)
  const connectMs = Date.now() - t0

  const t1 = Date.now()
  const answers = await within(
    Promise.all(
      dealers.map(async (d, i) => {
        const body = `request ${i} ${"x".repeat(i % 50)}`
        await d.send(body)
        const reply = await d.receive()
        return reply.length === 1 && reply[0]!.toString() === body
      }),
    ),
    20_000,
    `${n} request/reply round trips`,
  )
  const roundTripMs = Date.now() - t1
  const wrong = answers.filter((ok) => !ok).length
  expect(wrong, "dealers that got a wrong reply").toBe(0)
  return { dealers, connectMs, roundTripMs }
}

describe("ROUTER with many concurrent DEALER connections (tcp)", () => {
  it("holds 1,000 omq DEALER connections at once and answers every one", { timeout: 45_000 }, async () => {
    const N = 1000
    const router = new omq.Router({ linger: 0, sendTimeout: 5000 })
    open.push(router)
    let handshakes = 0
    let disconnects = 0
    router.events.on("handshake", () => handshakes++)
    router.events.on("disconnect", () => disconnects++)
    await router.bind("tcp://127.0.0.1:*")
    const served = echo(router)

    gc()
    const fds0 = fdCount()
    const rss0 = process.memoryUsage.rss()
    const heap0 = process.memoryUsage().heapUsed

    const { dealers, connectMs, roundTripMs } = await run(
      router,
      () => handshakes,
      N,
      () => {
        return new omq.Dealer({ linger: 0, receiveTimeout: 20_000, sendTimeout: 5000, reconnectInterval: 50 })
      },
    )

    // All N connections are open at the same time: each is one fd on each side.
    const fdsHeld = fdCount() - fds0
    expect(fdsHeld).toBeGreaterThanOrEqual(2 * N)
    expect(disconnects, "no connection dropped").toBe(0)

    gc()
    const rss1 = process.memoryUsage.rss()
    const heap1 = process.memoryUsage().heapUsed
    console.log(
      `[connections] ${N} omq DEALERs → omq ROUTER: connected in ${connectMs} ms, ${N} round trips in ${roundTripMs} ms; ` +
        `fds held ${fdsHeld}; RSS +${mb(rss1 - rss0)} (${((rss1 - rss0) / N / 1024).toFixed(1)} KiB per connection, both ends), ` +
        `heap +${mb(heap1 - heap0)} (${((heap1 - heap0) / N / 1024).toFixed(1)} KiB per connection)`,
    )
    expect(rss1 - rss0, "RSS growth for 1,000 connections").toBeLessThan(200 * MB)

    for (const d of dealers) d.close()
    await waitUntil(() => disconnects >= N, 10_000, "router to see every dealer disconnect")
    router.close()
    expect(await within(served, 5000, "echo loop to end")).toBe(N)
    await waitUntil(() => fdCount() - fds0 <= 2, 5000, "fds to be released")
  })

  it("answers 200 libzmq DEALERs (zeromq.js) connected at once", { timeout: 45_000 }, async () => {
    const N = 200
    const router = new omq.Router({ linger: 0, sendTimeout: 5000 })
    open.push(router)
    let handshakes = 0
    let disconnects = 0
    router.events.on("handshake", () => handshakes++)
    router.events.on("disconnect", () => disconnects++)
    await router.bind("tcp://127.0.0.1:*")
    const served = echo(router)
    const rss0 = process.memoryUsage.rss()

    const { dealers, connectMs, roundTripMs } = await run(
      router,
      () => handshakes,
      N,
      () => {
        return new zmq.Dealer({ linger: 0, receiveTimeout: 20_000, sendTimeout: 5000 }) as unknown as DealerLike
      },
    )
    expect(disconnects).toBe(0)
    console.log(
      `[connections] ${N} libzmq DEALERs → omq ROUTER: connected in ${connectMs} ms, ${N} round trips in ${roundTripMs} ms; ` +
        `RSS +${mb(process.memoryUsage.rss() - rss0)} (includes libzmq's own buffers)`,
    )

    for (const d of dealers) d.close()
    await waitUntil(() => disconnects >= N, 10_000, "router to see every libzmq dealer disconnect")
    router.close()
    expect(await within(served, 5000, "echo loop to end")).toBe(N)
    await delay(0)
  })
})
