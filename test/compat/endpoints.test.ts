/**
 * omq/v5-compat endpoints: bind/unbind with callbacks and their "bind"/"unbind" events,
 * errors to the callback or as "error", bindSync/unbindSync, connect and disconnect.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "../../lib/entry/v5-compat.js"
import { bound, compatSockets, inproc, messages, nextEvent, turn, until } from "../helpers/v5-compat.js"

const socket = compatSockets()

function bindResult(sock: zmq.Socket, address: string): Promise<Error | undefined> {
  return new Promise((resolve) => sock.bind(address, (err) => resolve(err)))
}

describe("v5-compat: bind", () => {
  it("bind() returns the socket, emits 'bind' with the address as given, then calls back", async () => {
    const rep = socket("rep")
    const order: unknown[] = []
    rep.on("bind", (address: string) => order.push(["bind", address]))
    const done = new Promise<void>((resolve) => {
      expect(
        rep.bind("tcp://127.0.0.1:*", (...args) => {
          order.push(["cb", ...args])
          resolve()
        }),
      ).toBe(rep)
    })
    await done
    expect(order).toEqual([["bind", "tcp://127.0.0.1:*"], ["cb"]])
    expect(rep.getsockopt(zmq.ZMQ_LAST_ENDPOINT)).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    expect(rep.last_endpoint).toBe(rep.getsockopt(zmq.ZMQ_LAST_ENDPOINT))
  })

  it("a failed bind calls back with the error (EADDRINUSE, with address) and emits no 'bind'", async () => {
    const first = socket("pull")
    const endpoint = await bound(first)
    const second = socket("pull")
    second.on("bind", () => expect.unreachable("no bind event"))
    const err = await bindResult(second, endpoint)
    expect(err).toMatchObject({ code: "EADDRINUSE", address: endpoint })
  })

  it("a failed bind without a callback is emitted as 'error'", async () => {
    const endpoint = await bound(socket("pull"))
    const second = socket("pull")
    const errored = nextEvent(second, "error")
    second.bind(endpoint)
    const [err] = await errored
    expect(err).toMatchObject({ code: "EADDRINUSE" })
  })

  it("an invalid address calls back with EINVAL / EPROTONOSUPPORT", async () => {
    expect(await bindResult(socket("pull"), "tcp://no-port")).toMatchObject({ code: "EINVAL" })
    expect(await bindResult(socket("pull"), "bogus://x")).toMatchObject({ code: "EPROTONOSUPPORT" })
  })

  it("bindSync() binds (inproc: at once, so a peer can connect and send right away)", async () => {
    const pull = socket("pull")
    const push = socket("push")
    const address = inproc()
    expect(pull.bindSync(address)).toBe(pull)
    const got = messages(pull, 1)
    push.connect(address)
    push.send("hello")
    expect(await got).toEqual([["hello"]])
  })

  it("bindSync() binds tcp at once: lastEndpoint is known when it returns", () => {
    const pull = socket("pull")
    pull.bindSync("tcp://127.0.0.1:*")
    expect(pull.last_endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
  })

  it("bindSync() on a taken address throws EADDRINUSE", () => {
    const address = inproc()
    socket("pull").bindSync(address)
    expect(() => socket("pull").bindSync(address)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }))
  })
})

describe("v5-compat: sending and receiving while a bind runs", () => {
  it("a message sent while the socket binds is sent when the bind is done (no EBUSY)", async () => {
    const peer = socket("dealer")
    const dealer = socket("dealer")
    dealer.connect(await bound(peer))
    const errors: unknown[] = []
    dealer.on("error", (e) => errors.push(e))
    const got = messages(peer, 1)
    const calls: unknown[] = []
    const bindDone = new Promise<void>((resolve) => dealer.bind("tcp://127.0.0.1:*", () => resolve()))
    dealer.send("during bind", 0, (err) => calls.push(err))
    expect(await got).toEqual([["during bind"]])
    await bindDone
    expect(calls).toEqual([undefined])
    expect(errors).toEqual([])
  })

  it("messages waiting to be received while the socket binds are emitted when the bind is done", async () => {
    const pull = socket("pull")
    const push = socket("push")
    push.connect(await bound(pull))
    const errors: unknown[] = []
    pull.on("error", (e) => errors.push(e))
    pull.pause()
    for (const m of ["a", "b", "c"]) push.send(m)
    await until(() => (pull.getsockopt(zmq.ZMQ_EVENTS) & zmq.ZMQ_POLLIN) !== 0, "messages waiting")
    const got = messages(pull, 3)
    pull.bind("tcp://127.0.0.1:*")
    pull.resume()
    expect(await got).toEqual([["a"], ["b"], ["c"]])
    expect(errors).toEqual([])
  })
})

describe("v5-compat: unbind", () => {
  it("unbind() emits 'unbind' with the address as given, then calls back; peers are cut off", async () => {
    const pull = socket("pull")
    const endpoint = await bound(pull)
    const push = socket("push")
    push.connect(endpoint)
    const got = messages(pull, 1)
    push.send("before")
    await got
    const order: unknown[] = []
    pull.on("unbind", (address: string) => order.push(["unbind", address]))
    await new Promise<void>((resolve, reject) =>
      pull.unbind(endpoint, (err) => {
        order.push(["cb", err])
        if (err) reject(err)
        else resolve()
      }),
    )
    expect(order).toEqual([
      ["unbind", endpoint],
      ["cb", undefined],
    ])
    // The address is free again.
    await expect(bound(socket("pull"), endpoint)).resolves.toBe(endpoint)
  })

  it("unbinding an address that is not bound calls back with ENOENT, or emits 'error' without a callback", async () => {
    const pull = socket("pull")
    await bound(pull)
    const err = await new Promise<Error | undefined>((resolve) => pull.unbind("tcp://127.0.0.1:1", resolve))
    expect(err).toMatchObject({ code: "ENOENT" })
    const errored = nextEvent(pull, "error")
    pull.unbind("tcp://127.0.0.1:1")
    expect((await errored)[0]).toMatchObject({ code: "ENOENT" })
  })

  it("unbindSync() unbinds at once (the address can be bound again), without an 'unbind' event", async () => {
    const pull = socket("pull")
    pull.on("unbind", () => expect.unreachable("no unbind event"))
    pull.bindSync("tcp://127.0.0.1:*")
    const endpoint = pull.last_endpoint as string
    expect(pull.unbindSync(endpoint)).toBe(pull)
    socket("pull").bindSync(endpoint)
    await turn()
  })

  it("unbindSync() of an address not bound throws ENOENT", () => {
    expect(() => socket("pull").unbindSync("tcp://127.0.0.1:1")).toThrow(expect.objectContaining({ code: "ENOENT" }))
  })
})

describe("v5-compat: connect and disconnect", () => {
  it("connect() and disconnect() return the socket; messages flow while connected", async () => {
    const pull = socket("pull")
    const endpoint = await bound(pull)
    const push = socket("push")
    expect(push.connect(endpoint)).toBe(push)
    const got = messages(pull, 1)
    push.send("while connected")
    await got
    expect(push.disconnect(endpoint)).toBe(push)
  })

  it("an invalid address throws at once", () => {
    const push = socket("push")
    expect(() => push.connect("bogus://x")).toThrow(expect.objectContaining({ code: "EPROTONOSUPPORT" }))
  })

  it("disconnecting from an address never connected throws ENOENT", () => {
    const push = socket("push")
    expect(() => push.disconnect("tcp://127.0.0.1:1")).toThrow(expect.objectContaining({ code: "ENOENT" }))
  })
})

describe("v5-compat: endpoints of a closed socket", () => {
  it("bind, bindSync and connect on a closed socket throw EBADF", () => {
    const s = socket("pull")
    s.close()
    const ebadf = expect.objectContaining({ code: "EBADF" })
    expect(() => s.bind("tcp://127.0.0.1:*")).toThrow(ebadf)
    expect(() => s.bindSync("tcp://127.0.0.1:*")).toThrow(ebadf)
    expect(() => s.connect("tcp://127.0.0.1:1")).toThrow(ebadf)
  })
})
