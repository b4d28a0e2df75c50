/**
 * inproc:// transport: every socket-type pairing, zero copy, connect before
 * bind, HWM, per-Context namespaces, EADDRINUSE, incompatible types.
 */
import { describe, expect, it } from "vitest"
import { Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, XPublisher, XSubscriber } from "../../lib/index.js"
import { isEagain, tracker, tryReceive, uniqueInproc, withTimeout } from "./feature-util.js"

const t = tracker()
/** Every receive/send is bounded: a failure is EAGAIN, not a hang. */
const IO = { linger: 0, receiveTimeout: 3000, sendTimeout: 3000 }
const strs = (m: Buffer[]) => m.map(String)

describe("inproc: socket type pairs", () => {
  it("PAIR ↔ PAIR exchanges messages both ways", async () => {
    const ep = uniqueInproc("pair")
    const a = t.track(new Pair(IO))
    const b = t.track(new Pair(IO))
    await a.bind(ep)
    b.connect(ep)
    await b.send(["hello", "multi"])
    expect(strs(await a.receive())).toEqual(["hello", "multi"])
    await a.send("back")
    expect(strs(await b.receive())).toEqual(["back"])
  })

  it("PUSH → PULL delivers in order, both with the PUSH binding and with the PULL binding", async () => {
    for (const pushBinds of [true, false]) {
      const ep = uniqueInproc("pushpull")
      const push = t.track(new Push(IO))
      const pull = t.track(new Pull(IO))
      if (pushBinds) {
        await push.bind(ep)
        pull.connect(ep)
      } else {
        await pull.bind(ep)
        push.connect(ep)
      }
      for (let i = 0; i < 100; i++) await push.send(String(i))
      for (let i = 0; i < 100; i++) expect(strs(await pull.receive())).toEqual([String(i)])
    }
  })

  it("REQ → REP round trips", async () => {
    const ep = uniqueInproc("reqrep")
    const rep = t.track(new Reply(IO))
    const req = t.track(new Request(IO))
    await rep.bind(ep)
    req.connect(ep)
    for (let i = 0; i < 5; i++) {
      await req.send(["q", String(i)])
      expect(strs(await rep.receive())).toEqual(["q", String(i)])
      await rep.send(["a", String(i)])
      expect(strs(await req.receive())).toEqual(["a", String(i)])
    }
  })

  it("DEALER ↔ ROUTER: the ROUTER sees the DEALER's routingId and routes replies by it", async () => {
    const ep = uniqueInproc("router")
    const router = t.track(new Router(IO))
    const d1 = t.track(new Dealer({ ...IO, routingId: "dealer-1" }))
    const d2 = t.track(new Dealer({ ...IO, routingId: "dealer-2" }))
    await router.bind(ep)
    d1.connect(ep)
    d2.connect(ep)
    await d1.send("from-1")
    await d2.send("from-2")
    const got = [strs(await router.receive()), strs(await router.receive())].sort()
    expect(got).toEqual([
      ["dealer-1", "from-1"],
      ["dealer-2", "from-2"],
    ])
    await router.send(["dealer-2", "to-2"])
    await router.send(["dealer-1", "to-1"])
    expect(strs(await d1.receive())).toEqual(["to-1"])
    expect(strs(await d2.receive())).toEqual(["to-2"])
  })

  it("ROUTER connect({routingId}) over inproc addresses the bound DEALER by that id", async () => {
    const ep = uniqueInproc("router-connect")
    const dealer = t.track(new Dealer(IO))
    const router = t.track(new Router({ ...IO, mandatory: true }))
    await dealer.bind(ep)
    router.connect(ep, { routingId: "the-dealer" })
    await router.send(["the-dealer", "hi"])
    expect(strs(await dealer.receive())).toEqual(["hi"])
    await dealer.send("hello")
    expect(strs(await router.receive())).toEqual(["the-dealer", "hello"])
  })

  it("PUB → SUB delivers only subscribed topics", async () => {
    const ep = uniqueInproc("pubsub")
    const pub = t.track(new Publisher(IO))
    const sub = t.track(new Subscriber(IO))
    await pub.bind(ep)
    sub.connect(ep)
    sub.subscribe("a")
    // Wait until the subscription is in place (probes with the subscribed prefix).
    const end = Date.now() + 3000
    for (;;) {
      await pub.send("a-probe")
      if ((await tryReceive(sub, 20)) !== undefined) break
      if (Date.now() > end) throw new Error("subscription never reached the PUB")
    }
    for (const m of ["b1", "a1", "b2", "ab", "c", "a-last"]) await pub.send(m)
    const got: string[] = []
    for (;;) {
      const m = String((await sub.receive())[0])
      if (m === "a-probe") continue
      got.push(m)
      if (m === "a-last") break
    }
    expect(got).toEqual(["a1", "ab", "a-last"])
    // Nothing unsubscribed is left queued behind.
    expect(await tryReceive(sub, 0)).toBeUndefined()
  })

  it("SUB that subscribed and connected before the PUB bound gets the subscribed topics", async () => {
    const ep = uniqueInproc("early-sub")
    const sub = t.track(new Subscriber(IO))
    sub.subscribe("yes")
    sub.connect(ep)
    const pub = t.track(new Publisher(IO))
    await pub.bind(ep)
    await pub.send("no-1")
    await pub.send("yes-1")
    expect(strs(await sub.receive())).toEqual(["yes-1"])
  })

  it("XSUB → XPUB: subscription messages arrive at the XPUB, data flows to the XSUB, unsubscribe arrives too", async () => {
    const ep = uniqueInproc("xpubsub")
    const xpub = t.track(new XPublisher(IO))
    const xsub = t.track(new XSubscriber(IO))
    await xpub.bind(ep)
    xsub.connect(ep)
    await xsub.send(Buffer.from("\x01news"))
    expect(await xpub.receive()).toEqual([Buffer.from("\x01news")])
    await xpub.send(["sports", "x"])
    await xpub.send(["news", "y"])
    expect(strs(await xsub.receive())).toEqual(["news", "y"])
    await xsub.send(Buffer.from("\x00news"))
    expect(await xpub.receive()).toEqual([Buffer.from("\x00news")])
  })
})

describe("inproc: semantics", () => {
  it("zero copy for large Buffers: a part over 128 bytes is the very object that was sent; a small one is a copy (as zeromq.js)", async () => {
    const ep = uniqueInproc("zerocopy")
    const push = t.track(new Push(IO))
    const pull = t.track(new Pull(IO))
    await pull.bind(ep)
    push.connect(ep)
    const a = Buffer.from("part-a")
    const b = Buffer.alloc(100_000, 1)
    await push.send([a, b])
    const got = await pull.receive()
    expect(got).toHaveLength(2)
    expect(got[0]).not.toBe(a)
    expect(got[0]).toEqual(a)
    expect(got[1]).toBe(b)
  })

  it("connect before bind: messages queued before the bind are delivered once the name is bound", async () => {
    const ep = uniqueInproc("early")
    const push = t.track(new Push(IO))
    push.connect(ep)
    // Queued on the pending connection (no peer yet), so these resolve at once.
    await withTimeout(push.send("m0"), 1000, "a send queued before the bind")
    await push.send("m1")
    await push.send("m2")
    const pull = t.track(new Pull(IO))
    await pull.bind(ep)
    expect(strs(await pull.receive())).toEqual(["m0"])
    expect(strs(await pull.receive())).toEqual(["m1"])
    expect(strs(await pull.receive())).toEqual(["m2"])
    await push.send("m3")
    expect(strs(await pull.receive())).toEqual(["m3"])
  })

  it("HWM: PUSH(sndhwm 1) → PULL(rcvhwm 1) nobody reading: sends soon wait and fail with EAGAIN, then resume after reads", async () => {
    const ep = uniqueInproc("hwm")
    const pull = t.track(new Pull({ ...IO, receiveHighWaterMark: 1 }))
    const push = t.track(new Push({ ...IO, sendHighWaterMark: 1, sendTimeout: 100 }))
    await pull.bind(ep)
    push.connect(ep)
    let sent = 0
    let err: unknown
    for (; sent < 50; sent++) {
      try {
        await push.send(String(sent))
      } catch (e) {
        err = e
        break
      }
    }
    expect(isEagain(err)).toBe(true)
    // libzmq bounds an inproc direction by sndhwm + rcvhwm (here 2); allow a little slack.
    expect(sent).toBeGreaterThanOrEqual(1)
    expect(sent).toBeLessThanOrEqual(4)
    // Reading frees room: everything sent arrives in order, then sending works again.
    for (let i = 0; i < sent; i++) expect(strs(await pull.receive())).toEqual([String(i)])
    push.sendTimeout = 3000
    await push.send("again")
    expect(strs(await pull.receive())).toEqual(["again"])
  })

  it("separate Contexts: the same name can be bound in two contexts, each reaching its own socket", async () => {
    const name = uniqueInproc("ctx")
    const ctxA = new Context()
    const ctxB = new Context()
    const pullA = t.track(new Pull({ ...IO, context: ctxA }))
    const pullB = t.track(new Pull({ ...IO, context: ctxB }))
    await pullA.bind(name)
    await pullB.bind(name) // no EADDRINUSE: different namespace
    const pushA = t.track(new Push({ ...IO, context: ctxA }))
    const pushB = t.track(new Push({ ...IO, context: ctxB }))
    pushA.connect(name)
    pushB.connect(name)
    await pushA.send("for-A")
    await pushB.send("for-B")
    expect(strs(await pullA.receive())).toEqual(["for-A"])
    expect(strs(await pullB.receive())).toEqual(["for-B"])
    expect(await tryReceive(pullA, 0)).toBeUndefined()
    expect(await tryReceive(pullB, 0)).toBeUndefined()
  })

  it("separate Contexts: connecting in context B does not reach the socket bound in context A", async () => {
    const name = uniqueInproc("ctx-only-a")
    const ctxA = new Context()
    const ctxB = new Context()
    const pullA = t.track(new Pull({ ...IO, context: ctxA }))
    const seenA: string[] = []
    pullA.onConnectionEvent((type) => seenA.push(type))
    await pullA.bind(name)
    const pushB = t.track(new Push({ ...IO, context: ctxB }))
    pushB.connect(name)
    await pushB.send("lost-in-B")
    // A later bind of the same name in B gets it: it was pending in B's namespace all along.
    const pullB = t.track(new Pull({ ...IO, context: ctxB }))
    await pullB.bind(name)
    expect(strs(await pullB.receive())).toEqual(["lost-in-B"])
    expect(await tryReceive(pullA, 0)).toBeUndefined()
    // A never accepted anything.
    pullA.close()
    expect(seenA).toEqual(["bind", "close", "end"])
  })

  it("inproc connections: the Observer reports none of them (as libzmq); onConnectionEvent sees connect/handshake, accept/handshake, disconnect", async () => {
    const ep = uniqueInproc("events")
    const pull = t.track(new Pull(IO))
    const push = t.track(new Push(IO))
    const observed: string[] = []
    pull.events.on("end", (e) => observed.push(e.type))
    for (const type of ["bind", "accept", "handshake", "connect", "disconnect", "close"] as const) {
      pull.events.on(type, (e) => observed.push(e.type))
      push.events.on(type, (e) => observed.push(e.type))
    }
    const pullLog: string[] = []
    const pushLog: string[] = []
    pull.onConnectionEvent((type) => pullLog.push(type))
    push.onConnectionEvent((type) => pushLog.push(type))
    push.connect(ep)
    await pull.bind(ep)
    await push.send("x")
    expect(strs(await pull.receive())).toEqual(["x"])
    expect([...pullLog].sort()).toEqual(["accept", "bind", "handshake"])
    expect(pullLog.indexOf("accept")).toBeLessThan(pullLog.indexOf("handshake"))
    expect(pushLog).toEqual(["connect", "handshake"])
    pull.close()
    expect(pushLog).toEqual(["connect", "handshake", "disconnect"])
    await new Promise((r) => setImmediate(r))
    expect(observed).toEqual(["end"])
  })

  it("default context is shared: sockets without {context} reach each other", async () => {
    const ep = uniqueInproc("default-ctx")
    const pull = t.track(new Pull(IO))
    const push = t.track(new Push(IO))
    await pull.bind(ep)
    push.connect(ep)
    await push.send("x")
    expect(strs(await pull.receive())).toEqual(["x"])
    expect(pull.context).toBe(push.context)
  })

  it("binding a name twice in one context rejects with EADDRINUSE (same socket and another socket)", async () => {
    const ep = uniqueInproc("inuse")
    const a = t.track(new Pull(IO))
    const b = t.track(new Pull(IO))
    await a.bind(ep)
    await expect(a.bind(ep)).rejects.toMatchObject({ code: "EADDRINUSE" })
    await expect(b.bind(ep)).rejects.toMatchObject({ code: "EADDRINUSE" })
    // After the owner unbinds (here: closes), the name is free again.
    a.close()
    await b.bind(ep)
  })

  it("incompatible socket types over inproc do not exchange messages (PULL bound, PAIR connecting)", async () => {
    const ep = uniqueInproc("incompat")
    const pull = t.track(new Pull(IO))
    const log: string[] = []
    pull.onConnectionEvent((type) => log.push(type))
    await pull.bind(ep)
    const pair = t.track(new Pair({ ...IO, sendTimeout: 0 }))
    pair.connect(ep)
    // The PAIR may queue on its own pipe, but nothing may cross.
    await pair.send("should-not-arrive").catch((e) => {
      if (!isEagain(e)) throw e
    })
    expect(log).toContain("handshake:error:protocol")
    expect(log).not.toContain("handshake")
    expect(await tryReceive(pull, 200)).toBeUndefined()
  })

  it("incompatible socket types over inproc: a bound PUSH has no peer for a connecting REQ (send EAGAIN, REQ gets nothing)", async () => {
    const ep = uniqueInproc("incompat2")
    const push = t.track(new Push({ ...IO, sendTimeout: 0 }))
    await push.bind(ep)
    const req = t.track(new Request(IO))
    req.connect(ep)
    await expect(push.send("x")).rejects.toMatchObject({ code: "EAGAIN" })
    const sub = t.track(new Subscriber(IO))
    sub.subscribe()
    sub.connect(ep)
    await expect(push.send("y")).rejects.toMatchObject({ code: "EAGAIN" })
    expect(await tryReceive(sub, 200)).toBeUndefined()
  })
})
