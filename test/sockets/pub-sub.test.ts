import { describe, expect, it } from "vitest"
import { Publisher, Subscriber, XPublisher, XSubscriber } from "../../lib/index.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

const str = (m: Buffer[]) => m.map(String)

/** Publishes `probe` until `sub` receives it: subscriptions travel asynchronously (slow joiner). */
async function syncSubscription(pub: Publisher | XPublisher, sub: Subscriber, probe = "probe"): Promise<void> {
  const saved = sub.receiveTimeout
  sub.receiveTimeout = 20
  try {
    const deadline = Date.now() + 5000
    for (;;) {
      await pub.send(probe)
      const got = await sub.receive().catch(() => undefined)
      if (got !== undefined && String(got[0]) === probe) break
      if (Date.now() > deadline) throw new Error("subscription never arrived")
    }
    // Drain further probes already in flight.
    sub.receiveTimeout = 0
    for (;;) {
      const extra = await sub.receive().catch(() => undefined)
      if (extra === undefined) break
    }
  } finally {
    sub.receiveTimeout = saved
  }
}

async function pubSub(subOptions: Record<string, unknown> = {}): Promise<[Publisher, Subscriber]> {
  const pub = track(new Publisher())
  await pub.bind("tcp://127.0.0.1:*")
  const sub = track(new Subscriber({ receiveTimeout: 3000, ...subOptions }))
  sub.connect(pub.lastEndpoint!)
  return [pub, sub]
}

describe("PUB/SUB filtering (RFC 29)", () => {
  it("delivers only messages whose first frame matches a prefix", async () => {
    const [pub, sub] = await pubSub()
    sub.subscribe("probe", "news", Buffer.from([0, 1]))
    await syncSubscription(pub, sub)
    for (const t of ["sport", "news/1", "weather", Buffer.from([0, 1, 9]), Buffer.from([0, 2])]) await pub.send([t, "body"])
    await pub.send("probe")
    const got: string[] = []
    for (;;) {
      const m = await sub.receive()
      if (String(m[0]) === "probe") break
      got.push(m[0]!.toString("hex"))
      expect(String(m[1])).toBe("body")
    }
    expect(got).toEqual([Buffer.from("news/1").toString("hex"), "000109"])
  })

  it("subscribe twice + unsubscribe once keeps the subscription; the second unsubscribe ends it", async () => {
    const [pub, sub] = await pubSub()
    sub.subscribe("probe")
    sub.subscribe("t")
    sub.subscribe("t")
    sub.unsubscribe("t")
    await syncSubscription(pub, sub)
    await pub.send("t1")
    expect(str(await sub.receive())).toEqual(["t1"])
    sub.unsubscribe("t")
    sub.subscribe("probe2")
    await syncSubscription(pub, sub, "probe2")
    await pub.send("t2")
    await pub.send("probe2")
    expect(str(await sub.receive())).toEqual(["probe2"])
  })

  it("subscribe() without arguments receives everything", async () => {
    const [pub, sub] = await pubSub()
    sub.subscribe()
    await syncSubscription(pub, sub)
    await pub.send(["", "empty topic"])
    expect(str(await sub.receive())).toEqual(["", "empty topic"])
  })

  it("invertMatching on both sides delivers the messages that do not match", async () => {
    const pub = track(new Publisher({ invertMatching: true }))
    await pub.bind("tcp://127.0.0.1:*")
    const sub = track(new Subscriber({ invertMatching: true, receiveTimeout: 3000 }))
    sub.connect(pub.lastEndpoint!)
    sub.subscribe("skip")
    // Wait until the subscription arrived: "skip" must then be filtered.
    await syncSubscription(pub, sub)
    await pub.send("skip me")
    await pub.send("keep")
    expect(str(await sub.receive())).toEqual(["keep"])
  })

  it("resubscribes after the publisher restarts on the same endpoint", async () => {
    let pub = new Publisher({ linger: 0 })
    await pub.bind("tcp://127.0.0.1:*")
    const ep = pub.lastEndpoint!
    const sub = track(new Subscriber({ receiveTimeout: 3000, reconnectInterval: 10 }))
    sub.connect(ep)
    sub.subscribe("probe")
    await syncSubscription(pub, sub)
    pub.close()
    pub = track(new Publisher())
    await pub.bind(ep)
    await syncSubscription(pub, sub)
  })
})

describe("PUB high water mark", () => {
  it("drops for a full subscriber without blocking or starving the others", async () => {
    const pub = track(new Publisher({ sendHighWaterMark: 1000 }))
    await pub.bind("tcp://127.0.0.1:*")
    const slow = track(new Subscriber({ receiveHighWaterMark: 10, receiveTimeout: 3000 }))
    const fast = track(new Subscriber({ receiveHighWaterMark: 0, receiveTimeout: 3000 }))
    for (const s of [slow, fast]) {
      s.connect(pub.lastEndpoint!)
      s.subscribe("")
      await syncSubscription(pub, s)
    }
    const N = 20000
    let fastGot = 0
    const reader = (async () => {
      for (;;) {
        const [m] = await fast.receive()
        if (String(m) === "end") return
        fastGot++
      }
    })()
    const t0 = Date.now()
    for (let i = 0; i < N; i++) {
      await pub.send(Buffer.alloc(1024))
      if (i % 500 === 0) await new Promise((r) => setImmediate(r))
    }
    const sendMs = Date.now() - t0
    // "end" itself may be dropped if the fast queue is full at that instant: repeat it.
    let finished = false
    void reader.then(() => (finished = true))
    while (!finished) {
      await pub.send("end")
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(sendMs).toBeLessThan(15000)
    expect(fastGot).toBeGreaterThan(N / 2)
    // The slow subscriber kept at most what its queues hold, not everything.
    slow.receiveTimeout = 0
    let slowGot = 0
    while (
      await slow.receive().then(
        () => true,
        () => false,
      )
    )
      slowGot++
    expect(slowGot).toBeLessThan(N)
  })

  it("with every subscriber full, a send is dropped and waits for room (at most ~1 ms) instead of resolving at once; a stuck subscriber costs a loop 1 ms a send, not a hang; nothing dropped comes later", async () => {
    const pub = track(new Publisher({ sendHighWaterMark: 10 }))
    await pub.bind("tcp://127.0.0.1:*")
    const stuck = track(new Subscriber({ receiveHighWaterMark: 10, receiveTimeout: 3000 }))
    stuck.connect(pub.lastEndpoint!)
    stuck.subscribe("")
    await syncSubscription(pub, stuck)
    // Fill everything between the two (pipe, socket buffers) with big messages nobody reads.
    const big = Buffer.alloc(256 * 1024)
    for (let i = 0; i < 200; i++) await pub.send(big)
    // Now a send is dropped and does not resolve in the same turn (a tight loop would spin)...
    let resolved = false
    const one = pub.send("dropped").then(() => (resolved = true))
    for (let i = 0; i < 10; i++) await Promise.resolve()
    expect(resolved).toBe(false)
    await one
    // ...but each resolves, none hangs, and a loop of them takes
    // about DROP_WAIT_MS a send (bounded well above that for a loaded machine).
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) await pub.send("dropped")
    const ms = performance.now() - t0
    expect(ms).toBeLessThan(2000)
    // Nothing dropped is delivered late: what the subscriber reads is big messages only.
    stuck.receiveTimeout = 200
    let read = 0
    for (;;) {
      const got = await stuck.receive().then(
        ([m]) => m!,
        () => undefined,
      )
      if (got === undefined) break
      expect(got.length).toBe(big.length)
      read++
    }
    expect(read).toBeGreaterThan(0)
    expect(read).toBeLessThan(200)
  })

  it("an XPUB whose subscribers are all full drops and waits for room the same way; with noDrop it waits for room and delivers instead", async () => {
    for (const noDrop of [false, true]) {
      const xpub = track(new XPublisher({ sendHighWaterMark: 10, noDrop, sendTimeout: noDrop ? 50 : -1 }))
      await xpub.bind("tcp://127.0.0.1:*")
      const sub = track(new Subscriber({ receiveHighWaterMark: 10 }))
      sub.connect(xpub.lastEndpoint!)
      sub.subscribe("")
      await xpub.receive() // the subscription
      const big = Buffer.alloc(256 * 1024)
      let sent = 0
      for (; sent < 200; sent++) {
        const ok = await xpub.send(big).then(
          () => true,
          () => false, // noDrop: EAGAIN once full
        )
        if (!ok) break
      }
      if (noDrop) {
        expect(sent).toBeLessThan(200) // it stopped at the HWM instead of dropping
        continue
      }
      let resolved = false
      const one = xpub.send("dropped").then(() => (resolved = true))
      for (let i = 0; i < 10; i++) await Promise.resolve()
      expect(resolved).toBe(false)
      await one
    }
  })

  it("a send to a PUB with no peers, or with room, resolves at once (no wait added)", async () => {
    const pub = track(new Publisher({ sendHighWaterMark: 10 }))
    await pub.bind("tcp://127.0.0.1:*")
    const t0 = performance.now()
    for (let i = 0; i < 10_000; i++) await pub.send("nobody")
    expect(performance.now() - t0).toBeLessThan(2000) // 10,000 × 1 ms would be 10 s
  })

  it("noDrop makes send wait at a full subscriber and time out with EAGAIN", async () => {
    const pub = track(new Publisher({ noDrop: true, sendHighWaterMark: 2, sendTimeout: 50 }))
    await pub.bind("tcp://127.0.0.1:*")
    const sub = track(new Subscriber({ receiveHighWaterMark: 2, receiveTimeout: 3000 }))
    sub.connect(pub.lastEndpoint!)
    sub.subscribe("")
    await syncSubscription(pub, sub)
    let err: unknown
    for (let i = 0; i < 100000 && err === undefined; i++) {
      await pub.send(Buffer.alloc(65536)).catch((e) => (err = e))
    }
    expect(err).toMatchObject({ code: "EAGAIN" })
  })

  it("conflate keeps only the newest message", async () => {
    const [pub, sub] = await pubSub({ conflate: true })
    sub.subscribe("")
    await syncSubscription(pub, sub)
    for (let i = 0; i < 50; i++) await pub.send(String(i))
    await pub.send("last")
    // Wait for the last one to land, then only it is left.
    const deadline = Date.now() + 3000
    let m = await sub.receive()
    while (String(m[0]) !== "last" && Date.now() < deadline) m = await sub.receive()
    expect(String(m[0])).toBe("last")
    sub.receiveTimeout = 0
    await expect(sub.receive()).rejects.toMatchObject({ code: "EAGAIN" })
  })
})

describe("XPUB/XSUB", () => {
  it("XPUB receives the first subscribe and the last unsubscribe per topic", async () => {
    const xpub = track(new XPublisher({ receiveTimeout: 3000 }))
    await xpub.bind("tcp://127.0.0.1:*")
    const s1 = track(new Subscriber())
    const s2 = track(new Subscriber())
    s1.connect(xpub.lastEndpoint!)
    s2.connect(xpub.lastEndpoint!)
    s1.subscribe("t")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01t"))
    s2.subscribe("t")
    s2.subscribe("u")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01u")) // second "t" is not reported
    s1.unsubscribe("t")
    s2.unsubscribe("t")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x00t"))
  })

  it("verbosity allSubsUnsubs reports every subscribe and unsubscribe", async () => {
    const xpub = track(new XPublisher({ receiveTimeout: 3000, verbosity: "allSubsUnsubs" }))
    await xpub.bind("tcp://127.0.0.1:*")
    const s1 = track(new Subscriber())
    const s2 = track(new Subscriber())
    s1.connect(xpub.lastEndpoint!)
    s2.connect(xpub.lastEndpoint!)
    s1.subscribe("t")
    expect(String((await xpub.receive())[0]!.subarray(1))).toBe("t")
    s2.subscribe("t")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01t"))
    s1.unsubscribe("t")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x00t"))
  })

  it("XPUB reports an unsubscribe when the only subscriber of a topic goes away", async () => {
    const xpub = track(new XPublisher({ receiveTimeout: 3000 }))
    await xpub.bind("tcp://127.0.0.1:*")
    const s = new Subscriber()
    s.connect(xpub.lastEndpoint!)
    s.subscribe("gone")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01gone"))
    s.close()
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x00gone"))
  })

  it("manual XPUB applies subscriptions only when the user does", async () => {
    const xpub = track(new XPublisher({ manual: true, receiveTimeout: 3000 }))
    await xpub.bind("tcp://127.0.0.1:*")
    const sub = track(new Subscriber({ receiveTimeout: 3000 }))
    sub.connect(xpub.lastEndpoint!)
    sub.subscribe("g")
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01g"))
    await xpub.send("g: asked for, but not applied by the user")
    xpub.subscribe("granted")
    await xpub.send("granted: yes")
    const m = await sub.receive()
    expect(str(m)).toEqual(["granted: yes"])
  })

  it("welcomeMessage is sent to each new subscriber", async () => {
    const xpub = track(new XPublisher({ welcomeMessage: "WELCOME", receiveTimeout: 3000 }))
    await xpub.bind("tcp://127.0.0.1:*")
    const sub = track(new Subscriber({ receiveTimeout: 3000 }))
    sub.subscribe("WELCOME")
    sub.connect(xpub.lastEndpoint!)
    expect(str(await sub.receive())).toEqual(["WELCOME"])
  })

  it("XSUB sends subscriptions as messages and XPUB passes other XSUB messages through", async () => {
    const xpub = track(new XPublisher({ receiveTimeout: 3000 }))
    await xpub.bind("tcp://127.0.0.1:*")
    const xsub = track(new XSubscriber({ receiveTimeout: 3000 }))
    xsub.connect(xpub.lastEndpoint!)
    await xsub.send(Buffer.from("\x01abc"))
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01abc"))
    await xsub.send(["hello", "upstream"])
    expect(str(await xpub.receive())).toEqual(["hello", "upstream"])
    await xpub.send("abc: data")
    expect(str(await xsub.receive())).toEqual(["abc: data"])
  })

  it("PUB's receive() and SUB's send() exist at run time, as on zeromq.js, and never complete (EAGAIN when they may not wait)", async () => {
    const pub = new Publisher({ receiveTimeout: 0 })
    const sub = new Subscriber({ sendTimeout: 0 })
    const untyped = (s: object) => s as unknown as { send(m: unknown): Promise<void>; receive(): Promise<unknown> }
    await expect(untyped(pub).receive()).rejects.toMatchObject({ code: "EAGAIN" })
    await expect(untyped(sub).send("x")).rejects.toMatchObject({ code: "EAGAIN" })
    expect(() => untyped(sub).send(undefined)).toThrow("Message must be present")
    pub.close()
    sub.close()
  })
})
