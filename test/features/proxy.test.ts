/**
 * Proxy (run/pause/resume/terminate, capture) and the queue, forwarder and
 * streamer devices, with omq and libzmq (zeromq.js) sockets on both ends.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { nextEvent, tracker, tryReceive, withTimeout } from "./feature-util.js"
import { forwarderDevice, queueDevice, streamerDevice } from "../../lib/entry/devices.js"

const t = tracker()
const IO = { linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }
const strs = (m: Buffer[]) => m.map(String)

interface Rep {
  receive(): Promise<Buffer[]>
  send(m: (string | Buffer)[]): Promise<void>
  readonly closed: boolean
}

/** Echo worker: replies [tag, ...request] until its socket closes. */
function serve(rep: Rep, tag: string): Promise<void> {
  return (async () => {
    for (;;) {
      let msg: Buffer[]
      try {
        msg = await rep.receive()
      } catch (err) {
        if (rep.closed) return
        throw err
      }
      try {
        await rep.send([tag, ...msg])
      } catch (err) {
        if (rep.closed) return
        throw err
      }
    }
  })()
}

interface Req {
  receive(): Promise<Buffer[]>
  send(m: string): Promise<void>
}

describe("Proxy", () => {
  it("ROUTER/DEALER queue carries REQ/REP traffic between omq and libzmq clients and workers", async () => {
    const front = t.track(new omq.Router(IO))
    const back = t.track(new omq.Dealer(IO))
    const backEvents = back.events
    await front.bind("tcp://127.0.0.1:*")
    await back.bind(t.ipc())
    const proxy = new omq.Proxy(front, back)
    const running = proxy.run()

    const zrep = t.track(new zmq.Reply({ linger: 0 }))
    const orep = t.track(new omq.Reply({ linger: 0 }))
    zrep.connect(back.lastEndpoint!)
    orep.connect(back.lastEndpoint!)
    // Both workers connected before any request, so the DEALER spreads the load.
    let handshakes = 0
    await nextEvent(backEvents, (e) => e.type === "handshake" && ++handshakes === 2, 5000)
    const workers = [serve(zrep as unknown as Rep, "libzmq-worker"), serve(orep, "omq-worker")]

    const zreq = t.track(new zmq.Request({ linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }))
    const oreq = t.track(new omq.Request(IO))
    zreq.connect(front.lastEndpoint!)
    oreq.connect(front.lastEndpoint!)
    const servedBy = new Set<string>()
    const client = async (req: Req, name: string) => {
      for (let i = 0; i < 10; i++) {
        await req.send(`${name}-${i}`)
        const reply = strs(await req.receive())
        expect(reply).toHaveLength(2)
        expect(reply[1]).toBe(`${name}-${i}`)
        servedBy.add(reply[0]!)
      }
    }
    await withTimeout(
      Promise.all([client(zreq as unknown as Req, "libzmq-client"), client(oreq, "omq-client")]),
      15_000,
      "the REQ/REP round trips",
    )
    expect([...servedBy].sort()).toEqual(["libzmq-worker", "omq-worker"])

    proxy.terminate()
    await withTimeout(running, 5000, "run() to resolve")
    zrep.close()
    orep.close()
    await withTimeout(Promise.all(workers), 5000, "workers to stop")
  })

  it("pause() holds traffic back and resume() delivers what was held, in order", async () => {
    const front = t.track(new omq.Pull(IO))
    const back = t.track(new omq.Push(IO))
    await front.bind("tcp://127.0.0.1:*")
    await back.bind(t.ipc())
    const proxy = new omq.Proxy(front, back)
    const running = proxy.run()
    const zpush = t.track(new zmq.Push({ linger: 0, sendTimeout: 5000 }))
    zpush.connect(front.lastEndpoint!)
    const sink = t.track(new omq.Pull(IO))
    sink.connect(back.lastEndpoint!)

    await zpush.send("before")
    expect(strs(await sink.receive())).toEqual(["before"])

    proxy.pause()
    for (let i = 0; i < 5; i++) await zpush.send(`held-${i}`)
    expect(await tryReceive(sink, 300)).toBeUndefined()

    proxy.resume()
    for (let i = 0; i < 5; i++) expect(strs(await sink.receive())).toEqual([`held-${i}`])
    await zpush.send("after")
    expect(strs(await sink.receive())).toEqual(["after"])

    proxy.terminate()
    await withTimeout(running, 5000, "run() to resolve")
  })

  it("terminate() makes run() resolve and closes both sockets (also while paused)", async () => {
    for (const paused of [false, true]) {
      const front = t.track(new omq.Router(IO))
      const back = t.track(new omq.Dealer(IO))
      await front.bind("tcp://127.0.0.1:*")
      await back.bind("tcp://127.0.0.1:*")
      const proxy = new omq.Proxy(front, back)
      let resolved = false
      const running = proxy.run().then(() => {
        resolved = true
      })
      if (paused) proxy.pause()
      await Promise.resolve()
      expect(resolved).toBe(false)
      expect(front.closed || back.closed).toBe(false)
      proxy.terminate()
      await withTimeout(running, 5000, "run() to resolve")
      expect(front.closed).toBe(true)
      expect(back.closed).toBe(true)
    }
  })

  it("terminate() ends run() even while the proxy is stuck sending to a back-end without peers", async () => {
    const front = t.track(new omq.Pull(IO))
    const back = t.track(new omq.Push({ ...IO, sendTimeout: -1 })) // would wait forever
    const capture = t.track(new omq.Push(IO))
    const captured = t.track(new omq.Pull(IO))
    await captured.bind(t.ipc())
    capture.connect(captured.lastEndpoint!)
    await front.bind("tcp://127.0.0.1:*")
    await back.bind("tcp://127.0.0.1:*")
    const proxy = new omq.Proxy(front, back, { capture })
    const running = proxy.run()
    const zpush = t.track(new zmq.Push({ linger: 0, sendTimeout: 5000 }))
    zpush.connect(front.lastEndpoint!)
    await zpush.send("stuck")
    // The capture copy is made right before the send to the back-end, which then blocks.
    expect(strs(await captured.receive())).toEqual(["stuck"])
    expect(back.writable).toBe(false)
    proxy.terminate()
    await withTimeout(running, 5000, "run() to resolve")
    expect(front.closed && back.closed).toBe(true)
  })

  it("run() while already running rejects with EBUSY; run() on closed sockets with EINVAL (zeromq.js's message)", async () => {
    const front = t.track(new omq.Pull(IO))
    const back = t.track(new omq.Push(IO))
    await front.bind("tcp://127.0.0.1:*")
    back.connect("tcp://127.0.0.1:1")
    const proxy = new omq.Proxy(front, back)
    const running = proxy.run()
    await expect(proxy.run()).rejects.toMatchObject({ code: "EBUSY" })
    proxy.terminate()
    await withTimeout(running, 5000, "run() to resolve")
    await expect(new omq.Proxy(front, back).run()).rejects.toMatchObject({
      code: "EINVAL",
      message: "Front-end socket must be bound or connected",
    })
  })

  it("a capture socket receives a copy of every proxied message, in both directions", async () => {
    const front = t.track(new omq.Router(IO))
    const back = t.track(new omq.Dealer(IO))
    const capture = t.track(new omq.Push(IO))
    const captured = t.track(new omq.Pull(IO))
    await captured.bind(t.ipc())
    capture.connect(captured.lastEndpoint!)
    await front.bind("tcp://127.0.0.1:*")
    await back.bind("tcp://127.0.0.1:*")
    const proxy = new omq.Proxy(front, back, { capture })
    const running = proxy.run()

    const zrep = t.track(new zmq.Reply({ linger: 0 }))
    zrep.connect(back.lastEndpoint!)
    const worker = serve(zrep as unknown as Rep, "w")
    const req = t.track(new omq.Request(IO))
    req.connect(front.lastEndpoint!)
    await req.send("ping")
    expect(strs(await req.receive())).toEqual(["w", "ping"])

    const request = await captured.receive()
    const reply = await captured.receive()
    // ROUTER side: [peer id, "", "ping"]; DEALER side: [peer id, "", "w", "ping"].
    expect(request).toHaveLength(3)
    expect(strs(request).slice(1)).toEqual(["", "ping"])
    expect(reply).toHaveLength(4)
    expect(strs(reply).slice(1)).toEqual(["", "w", "ping"])
    expect(Buffer.compare(request[0]!, reply[0]!)).toBe(0)
    expect(await tryReceive(captured, 0)).toBeUndefined()

    proxy.terminate()
    await withTimeout(running, 5000, "run() to resolve")
    zrep.close()
    await withTimeout(worker, 5000, "worker to stop")
  })
})

describe("devices", () => {
  it("forwarderDevice: libzmq PUB upstream → XSUB/XPUB → omq SUB downstream; subscriptions flow upstream, filtering holds", async () => {
    const zpub = t.track(new zmq.Publisher({ linger: 0 }))
    await zpub.bind("tcp://127.0.0.1:*")
    const capture = t.track(new omq.Push(IO))
    const captured = t.track(new omq.Pull({ ...IO, receiveHighWaterMark: 0 }))
    await captured.bind(t.ipc())
    capture.connect(captured.lastEndpoint!)
    const ipc = t.ipc()
    const dev = await forwarderDevice({
      frontEnd: { connect: [zpub.lastEndpoint!] },
      backEnd: { bind: [ipc] },
      capture,
    })
    t.track(dev.frontEnd)
    t.track(dev.backEnd)
    const running = dev.run()

    const sub = t.track(new omq.Subscriber(IO))
    sub.connect(ipc)
    sub.subscribe("weather")
    // The libzmq PUB only sends what its XSUB peer subscribed to, so anything
    // arriving proves the subscription travelled SUB → XPUB → XSUB → PUB.
    const got: string[] = []
    const end = Date.now() + 10_000
    for (let i = 0; got.length === 0; i++) {
      if (Date.now() > end) throw new Error("no message made it through the forwarder")
      await zpub.send(`sports ${i}`)
      await zpub.send(`weather ${i}`)
      const m = await tryReceive(sub, 20)
      if (m !== undefined) got.push(String(m[0]))
    }
    await zpub.send("sports last")
    await zpub.send("weather last")
    for (;;) {
      const m = String((await sub.receive())[0])
      got.push(m)
      if (m === "weather last") break
    }
    expect(got.every((m) => m.startsWith("weather"))).toBe(true)

    // The capture saw the subscription go upstream and no "sports" message come down.
    const copies: Buffer[][] = []
    for (;;) {
      const m = await tryReceive(captured, 200)
      if (m === undefined) break
      copies.push(m)
    }
    expect(copies.some((m) => m.length === 1 && m[0]!.equals(Buffer.from("\x01weather")))).toBe(true)
    expect(copies.some((m) => String(m[0]).startsWith("sports"))).toBe(false)
    expect(copies.some((m) => String(m[0]) === "weather last")).toBe(true)

    dev.terminate()
    await withTimeout(running, 5000, "run() to resolve")
  })

  it("forwarderDevice: a libzmq XPUB upstream receives the downstream omq SUB's subscription and unsubscription", async () => {
    const zxpub = t.track(new zmq.XPublisher({ linger: 0, receiveTimeout: 5000 }))
    await zxpub.bind("tcp://127.0.0.1:*")
    const ipc = t.ipc()
    const dev = await forwarderDevice({ frontEnd: { connect: [zxpub.lastEndpoint!] }, backEnd: { bind: [ipc] } })
    t.track(dev.frontEnd)
    t.track(dev.backEnd)
    const running = dev.run()
    const sub = t.track(new omq.Subscriber(IO))
    sub.connect(ipc)
    sub.subscribe("topic-a")
    expect(await zxpub.receive()).toEqual([Buffer.from("\x01topic-a")])
    await zxpub.send(["topic-a", "payload"])
    expect(strs(await sub.receive())).toEqual(["topic-a", "payload"])
    sub.unsubscribe("topic-a")
    expect(await zxpub.receive()).toEqual([Buffer.from("\x00topic-a")])
    dev.terminate()
    await withTimeout(running, 5000, "run() to resolve")
  })

  it("streamerDevice: PULL → PUSH relays a libzmq PUSH's messages to an omq PULL in order", async () => {
    const ipc = t.ipc()
    const dev = await streamerDevice({ frontEnd: { bind: ["tcp://127.0.0.1:*"] }, backEnd: { bind: [ipc] } })
    t.track(dev.frontEnd)
    t.track(dev.backEnd)
    const running = dev.run()
    const sink = t.track(new omq.Pull(IO))
    sink.connect(ipc)
    const zpush = t.track(new zmq.Push({ linger: 0, sendTimeout: 5000 }))
    zpush.connect(dev.frontEnd.lastEndpoint!)
    for (let i = 0; i < 200; i++) await zpush.send([`m${i}`, "x"])
    for (let i = 0; i < 200; i++) expect(strs(await sink.receive())).toEqual([`m${i}`, "x"])
    dev.terminate()
    await withTimeout(running, 5000, "run() to resolve")
    expect(dev.frontEnd.closed && dev.backEnd.closed).toBe(true)
  })

  it("queueDevice: libzmq REQ → ROUTER/DEALER → omq REP", async () => {
    const ipc = t.ipc()
    const dev = await queueDevice({ frontEnd: { bind: ["tcp://127.0.0.1:*"] }, backEnd: { bind: [ipc] } })
    t.track(dev.frontEnd)
    t.track(dev.backEnd)
    const running = dev.run()
    const rep = t.track(new omq.Reply({ linger: 0 }))
    rep.connect(ipc)
    const worker = serve(rep, "omq")
    const zreq = t.track(new zmq.Request({ linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }))
    zreq.connect(dev.frontEnd.lastEndpoint!)
    for (let i = 0; i < 5; i++) {
      await zreq.send(`q${i}`)
      expect(strs(await zreq.receive())).toEqual(["omq", `q${i}`])
    }
    dev.terminate()
    await withTimeout(running, 5000, "run() to resolve")
    rep.close()
    await withTimeout(worker, 5000, "worker to stop")
  })
})
