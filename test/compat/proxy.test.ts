/**
 * omq/v5-compat `zmq.proxy(frontend, backend, capture)`: push/pull, router/dealer and
 * xpub/xsub pairs, the capture socket (backend → frontend traffic, router/dealer without the
 * envelope), and the pairs it refuses.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "../../lib/entry/v5-compat.js"
import { bound, compatSockets, messages, nextEvent } from "../helpers/v5-compat.js"

const socket = compatSockets()

/** A PUB capture socket and a SUB that receives everything it publishes. */
async function captureSocket(): Promise<{ capture: zmq.Socket; watcher: zmq.Socket }> {
  const capture = socket("pub")
  const watcher = socket("sub")
  watcher.subscribe("")
  watcher.connect(await bound(capture))
  return { capture, watcher }
}

/** Sends `probe` through `send` until `sub` receives it (the SUB's subscription is then in place). */
async function untilFlowing(sub: zmq.Socket, send: () => void): Promise<void> {
  const got = nextEvent(sub, "message")
  const timer = setInterval(send, 5)
  try {
    await got
  } finally {
    clearInterval(timer)
  }
}

const notProbe = (frames: string[]) => !frames.some((f) => f.startsWith("probe"))

describe("v5-compat: proxy", () => {
  it("pull frontend / push backend: messages from the pushers reach the pullers", async () => {
    const frontend = socket("pull")
    const backend = socket("push")
    const front = await bound(frontend)
    const back = await bound(backend)
    zmq.proxy(frontend, backend)
    const producer = socket("push")
    const consumer = socket("pull")
    producer.connect(front)
    consumer.connect(back)
    const got = messages(consumer, 2)
    producer.send(["job", "1"])
    producer.send("job 2")
    expect(await got).toEqual([["job", "1"], ["job 2"]])
  })

  it("push frontend / pull backend with capture: backend messages reach the frontend and the capture", async () => {
    const frontend = socket("push")
    const backend = socket("pull")
    const { capture, watcher } = await captureSocket()
    const front = await bound(frontend)
    const back = await bound(backend)
    zmq.proxy(frontend, backend, capture)
    const producer = socket("push")
    const consumer = socket("pull")
    consumer.connect(front)
    producer.connect(back)
    await untilFlowing(watcher, () => producer.send("probe"))
    const got = messages(consumer, 1, notProbe)
    const captured = messages(watcher, 1, notProbe)
    producer.send("foo")
    expect(await got).toEqual([["foo"]])
    expect(await captured).toEqual([["foo"]])
  })

  it("router frontend / dealer backend: requests and replies go through; capture gets replies without envelope", async () => {
    const frontend = socket("router")
    const backend = socket("dealer")
    const { capture, watcher } = await captureSocket()
    const front = await bound(frontend)
    const back = await bound(backend)
    zmq.proxy(frontend, backend, capture)
    const rep = socket("rep")
    rep.on("message", (msg: Buffer) => rep.send(`${msg.toString()} bar`))
    rep.connect(back)
    const req = socket("req")
    req.connect(front)
    // Capture only sees replies: wait until a probe's reply shows up there.
    await untilFlowing(watcher, () => {
      const probe = socket("req")
      probe.connect(front)
      probe.send("probe")
    })
    const replies = messages(req, 1)
    const captured = messages(watcher, 1, notProbe)
    req.send("foo")
    expect(await replies).toEqual([["foo bar"]])
    expect(await captured).toEqual([["foo bar"]])
  })

  it("xrep/xreq are router/dealer: the proxy accepts them under their old names", async () => {
    const frontend = socket("xrep")
    const backend = socket("xreq")
    const front = await bound(frontend)
    const back = await bound(backend)
    zmq.proxy(frontend, backend)
    const rep = socket("rep")
    rep.on("message", (msg: Buffer) => rep.send(msg.toString().toUpperCase()))
    rep.connect(back)
    const req = socket("req")
    req.connect(front)
    const replies = messages(req, 1)
    req.send("hi")
    expect(await replies).toEqual([["HI"]])
  })

  it("xpub frontend / xsub backend: subscriptions go up, publications come down", async () => {
    const frontend = socket("xpub")
    const backend = socket("xsub")
    const front = await bound(frontend)
    const back = await bound(backend)
    zmq.proxy(frontend, backend)
    const pub = socket("pub")
    const sub = socket("sub")
    pub.connect(back)
    sub.connect(front)
    sub.subscribe("news")
    sub.subscribe("probe")
    await untilFlowing(sub, () => pub.send("probe"))
    const got = messages(sub, 1, notProbe)
    pub.send("weather: dropped")
    pub.send("news: kept")
    expect(await got).toEqual([["news: kept"]])
  })

  it("any other pair, or the right pair in the wrong order, throws", () => {
    const unsupported = expect.objectContaining({ message: "This socket type order is not supported in compatibility mode" })
    expect(() => zmq.proxy(socket("xsub"), socket("xpub"))).toThrow(unsupported)
    expect(() => zmq.proxy(socket("dealer"), socket("router"))).toThrow(unsupported)
    expect(() => zmq.proxy(socket("req"), socket("rep"))).toThrow(unsupported)
  })
})
