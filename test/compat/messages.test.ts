/**
 * omq/v5-compat messages: "message" events with one argument per frame, send() with
 * ZMQ_SNDMORE and callbacks, errors to callbacks or "error" events, a throwing listener,
 * pause/resume, REQ/REP taking turns as 5.x did, and STREAM with a plain TCP client.
 */
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import * as zmq from "../../lib/entry/v5-compat.js"
import { bound, catchingUncaught, compatSockets, inproc, messages, nextEvent, sent, turn, until } from "../helpers/v5-compat.js"

const socket = compatSockets()

async function pushPull(address = inproc()): Promise<{ push: zmq.Socket; pull: zmq.Socket }> {
  const pull = socket("pull")
  const push = socket("push")
  push.connect(await bound(pull, address))
  return { push, pull }
}

describe("v5-compat: message events", () => {
  it("each message is one 'message' event with one Buffer argument per frame", async () => {
    const { push, pull } = await pushPull("tcp://127.0.0.1:*")
    const got = new Promise<unknown[]>((resolve) => pull.once("message", (...frames: unknown[]) => resolve(frames)))
    push.send(["a", Buffer.from([1, 2]), ""])
    const frames = await got
    expect(frames).toHaveLength(3)
    for (const f of frames) expect(Buffer.isBuffer(f)).toBe(true)
    expect(frames).toEqual([Buffer.from("a"), Buffer.from([1, 2]), Buffer.alloc(0)])
  })

  it("strings, numbers and Buffers are sent as frames, in order", async () => {
    const { push, pull } = await pushPull()
    const got = messages(pull, 3)
    push.send("string")
    push.send(15.99)
    push.send(Buffer.from("buffer"))
    expect(await got).toEqual([["string"], ["15.99"], ["buffer"]])
  })

  it("ZMQ_SNDMORE keeps the frames and sends them with the next call without it", async () => {
    const { push, pull } = await pushPull()
    const got = messages(pull, 2)
    push.send(["a", "b"], zmq.ZMQ_SNDMORE)
    push.send("c", zmq.ZMQ_SNDMORE)
    push.send(["d", "e"])
    push.send("next")
    expect(await got).toEqual([["a", "b", "c", "d", "e"], ["next"]])
  })

  it("flags may be null or undefined", async () => {
    const { push, pull } = await pushPull()
    const got = messages(pull, 2)
    push.send("one", null)
    push.send("two", undefined)
    expect(await got).toEqual([["one"], ["two"]])
  })

  it("send callbacks are called once each, with no argument, in order", async () => {
    const { push, pull } = await pushPull()
    const calls: unknown[][] = []
    const got = messages(pull, 3)
    for (const m of ["1", "2", "3"]) push.send(m, 0, (...args: unknown[]) => calls.push([m, ...args]))
    await got
    await until(() => calls.length === 3, "three callbacks")
    expect(calls).toEqual([["1"], ["2"], ["3"]])
  })

  it("only the last send() of a multipart message takes the callback", async () => {
    const { push, pull } = await pushPull()
    let first = 0
    let last = 0
    const got = messages(pull, 1)
    push.send("a", zmq.ZMQ_SNDMORE, () => first++)
    push.send("b", 0, () => last++)
    await got
    expect([first, last]).toEqual([0, 1])
  })

  it("send() returns the socket", () => {
    const push = socket("push")
    expect(push.send("x")).toBe(push)
  })
})

describe("v5-compat: send errors", () => {
  const unroutable = (): zmq.Socket => {
    const router = socket("router")
    router.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1)
    return router
  }

  it("a failed send calls back with the error (ROUTER_MANDATORY, unknown peer: EHOSTUNREACH)", async () => {
    const err = await sent(unroutable(), ["nobody", "hi"]).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: "EHOSTUNREACH", message: "Host unreachable" })
  })

  it("without a callback the error is emitted as 'error'", async () => {
    const router = unroutable()
    const errored = nextEvent(router, "error")
    router.send(["nobody", "hi"])
    const [err] = await errored
    expect(err).toMatchObject({ code: "EHOSTUNREACH" })
  })

  it("without ROUTER_MANDATORY the unroutable message is dropped and the callback gets no error", async () => {
    const router = socket("router")
    await expect(sent(router, ["nobody", "hi"])).resolves.toBeUndefined()
  })

  it("a socket type that cannot send reports ENOTSUP to the callback", async () => {
    await expect(sent(socket("pull"), "x")).rejects.toMatchObject({ code: "ENOTSUP" })
    await expect(sent(socket("sub"), "x")).rejects.toMatchObject({ code: "ENOTSUP" })
  })

  it("send() on a closed socket reports EBADF to the callback, and emits no 'error'", async () => {
    const push = socket("push")
    push.close()
    push.on("error", () => expect.unreachable("no error event after close"))
    await expect(sent(push, "x")).rejects.toMatchObject({ code: "EBADF" })
    push.send("no callback")
    await turn()
  })

  it("messages still queued when the socket closes are dropped without calling back", async () => {
    const router = unroutable()
    const calls: unknown[] = []
    router.send(["a", "x"], 0, (err) => calls.push(err))
    router.send(["b", "x"], 0, (err) => calls.push(err))
    router.close()
    await turn()
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ code: "EHOSTUNREACH" })
  })
})

describe("v5-compat: exceptions thrown by listeners", () => {
  it("a throwing 'message' listener surfaces as an uncaught exception, before the next message, and delivery goes on", async () => {
    const { push, pull } = await pushPull()
    const seen: string[] = []
    const thrown = await catchingUncaught(async (thrown) => {
      const got = messages(pull, 2)
      pull.on("message", (msg: Buffer) => {
        seen.push(`${msg.toString()} after ${thrown.length} thrown`)
        if (msg.toString() === "first") throw new Error("listener failed")
      })
      push.send("first")
      push.send("second")
      await got
    })
    expect(thrown).toEqual([new Error("listener failed")])
    expect(seen).toEqual(["first after 0 thrown", "second after 1 thrown"])
  })

  it("a throwing send callback surfaces as an uncaught exception and later sends go on", async () => {
    const { push, pull } = await pushPull()
    const thrown = await catchingUncaught(async () => {
      const got = messages(pull, 2)
      push.send("a", 0, () => {
        throw new Error("callback failed")
      })
      push.send("b")
      expect(await got).toEqual([["a"], ["b"]])
      await turn()
    })
    expect(thrown).toEqual([new Error("callback failed")])
  })
})

describe("v5-compat: pause and resume", () => {
  it("while paused no message is emitted; resume() emits the waiting ones in order, then new ones", async () => {
    const { push, pull } = await pushPull("tcp://127.0.0.1:*")
    const emitted: string[] = []
    pull.on("message", (m: Buffer) => emitted.push(m.toString()))
    pull.pause()
    push.send("foo")
    push.send("bar")
    push.send("baz")
    // The core socket has messages waiting (one more may be held by the compat layer).
    await until(() => (pull.getsockopt(zmq.ZMQ_EVENTS) & zmq.ZMQ_POLLIN) !== 0, "messages to wait in the socket")
    await turn()
    expect(emitted).toEqual([])
    const more = messages(pull, 4)
    pull.resume()
    push.send("after")
    await more
    expect(emitted).toEqual(["foo", "bar", "baz", "after"])
  })

  it("while paused sends wait too: their callbacks run after resume()", async () => {
    const { push, pull } = await pushPull()
    let called = false
    push.pause()
    push.send("held", 0, () => (called = true))
    await turn()
    expect(called).toBe(false)
    const got = messages(pull, 1)
    push.resume()
    expect(await got).toEqual([["held"]])
    expect(called).toBe(true)
  })
})

describe("v5-compat: REQ and REP take turns", () => {
  it("a burst of requests goes out one per reply, each reply in order, no EFSM", async () => {
    const rep = socket("rep")
    const req = socket("req")
    const errors: unknown[] = []
    req.on("error", (e) => errors.push(e))
    rep.on("error", (e) => errors.push(e))
    rep.on("message", (msg: Buffer) => rep.send(`re: ${msg.toString()}`))
    req.connect(await bound(rep, "tcp://127.0.0.1:*"))
    const replies = messages(req, 5)
    const callbacks: number[] = []
    for (let i = 0; i < 5; i++) req.send(`q${i}`, 0, () => callbacks.push(i))
    expect(await replies).toEqual([["re: q0"], ["re: q1"], ["re: q2"], ["re: q3"], ["re: q4"]])
    expect(callbacks).toEqual([0, 1, 2, 3, 4])
    expect(errors).toEqual([])
  })

  it("REP may reply later; the next request is received after the reply", async () => {
    const rep = socket("rep")
    const req = socket("req")
    const errors: unknown[] = []
    rep.on("error", (e) => errors.push(e))
    rep.on("message", (msg: Buffer) => {
      setImmediate(() => rep.send(msg.toString().toUpperCase()))
    })
    req.connect(await bound(rep))
    const replies = messages(req, 2)
    req.send("one")
    req.send("two")
    expect(await replies).toEqual([["ONE"], ["TWO"]])
    expect(errors).toEqual([])
  })

  it("a REP send without a request waits for one; with ZMQ_SNDTIMEO it fails with EFSM after that long", async () => {
    const rep = socket("rep")
    rep.setsockopt(zmq.ZMQ_SNDTIMEO, 30)
    const started = Date.now()
    await expect(sent(rep, "unasked")).rejects.toMatchObject({ code: "EFSM" })
    expect(Date.now() - started).toBeGreaterThanOrEqual(25)
  })

  it("a REP send with ZMQ_SNDTIMEO 0 fails with EFSM at once", async () => {
    const rep = socket("rep")
    rep.setsockopt(zmq.ZMQ_SNDTIMEO, 0)
    await expect(sent(rep, "unasked")).rejects.toMatchObject({ code: "EFSM" })
  })
})

describe("v5-compat: STREAM", () => {
  it("a stream socket talks to a plain TCP client: [id, data] in, [id, data] out", async () => {
    const stream = socket("stream")
    stream.on("message", (id: Buffer, data: Buffer) => {
      if (data.length > 0) stream.send([id, `got ${data.toString()}`])
    })
    const endpoint = await bound(stream)
    const { port } = new URL(endpoint.replace("tcp://", "http://"))
    const client = net.connect(Number(port), "127.0.0.1")
    try {
      const answer = new Promise<string>((resolve, reject) => {
        client.once("data", (d) => resolve(d.toString()))
        client.once("error", reject)
      })
      client.write("ping")
      expect(await answer).toBe("got ping")
    } finally {
      client.destroy()
    }
  })
})
