/**
 * omq/v5-compat monitor: `sock.monitor()` emits libzmq's monitor events under their 5.x names
 * as `(value, endpoint, error)`; unmonitor() stops them.
 */
import { describe, expect, it, vi } from "vitest"
import * as zmq from "../../lib/entry/v5-compat.js"
import { bound, compatSockets, nextEvent, turn } from "../helpers/v5-compat.js"

const socket = compatSockets()

/** A tcp endpoint that nothing listens on (bound once, then released). */
async function deadEndpoint(): Promise<string> {
  const s = zmq.socket("pull")
  const endpoint = await bound(s)
  s.close()
  return endpoint
}

describe("v5-compat: monitor events", () => {
  it("the bound side: listen, accept, disconnect, each with the endpoint", async () => {
    const rep = socket("rep")
    expect(rep.monitor()).toBe(rep)
    const listen = nextEvent(rep, "listen")
    const endpoint = await bound(rep)
    expect(await listen).toEqual([undefined, endpoint, undefined])

    const accept = nextEvent(rep, "accept")
    const req = zmq.socket("req")
    req.connect(endpoint)
    expect(await accept).toEqual([undefined, endpoint, undefined])

    // A round trip, so the connection is established when the peer goes.
    rep.on("message", () => rep.send("pong"))
    const pong = nextEvent(req, "message")
    req.send("ping")
    await pong
    const disconnect = nextEvent(rep, "disconnect")
    req.close()
    expect((await disconnect)[1]).toBe(endpoint)
  })

  it("the connecting side: connect with the endpoint", async () => {
    const endpoint = await bound(socket("rep"))
    const req = socket("req")
    req.monitor()
    const connect = nextEvent(req, "connect")
    req.connect(endpoint)
    expect(await connect).toEqual([undefined, endpoint, undefined])
  })

  it("connect_retry carries the reconnect interval (ms)", async () => {
    const endpoint = await deadEndpoint()
    const push = socket("push")
    push.reconnect_ivl = 10
    push.monitor()
    const retry = nextEvent(push, "connect_retry")
    push.connect(endpoint)
    const [interval, address] = await retry
    expect(address).toBe(endpoint)
    expect(interval).toBe(10)
  })

  it("bind_error carries the errno and the Error; the bind callback gets the error too", async () => {
    const endpoint = await bound(socket("rep"))
    const second = socket("rep")
    second.monitor()
    const bindError = nextEvent(second, "bind_error")
    const cbError = new Promise<Error | undefined>((resolve) => second.bind(endpoint, resolve))
    const [errno, address, error] = await bindError
    expect(errno).toBe(98)
    // As zeromq.js's Observer reports it: without the transport.
    expect(address).toBe(endpoint.slice("tcp://".length))
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ code: "EADDRINUSE" })
    expect(await cbError).toMatchObject({ code: "EADDRINUSE" })
  })

  it("close is emitted for each bound endpoint when the socket is unbound or closed", async () => {
    const pull = zmq.socket("pull")
    pull.monitor()
    const first = await bound(pull)
    const second = await bound(pull)
    const closedFirst = nextEvent(pull, "close")
    pull.unbind(first)
    expect((await closedFirst)[1]).toBe(first)
    const closedSecond = nextEvent(pull, "close")
    pull.close()
    expect((await closedSecond)[1]).toBe(second)
  })

  it("monitor() twice emits each event once", async () => {
    const pull = socket("pull")
    pull.monitor()
    pull.monitor()
    let listens = 0
    pull.on("listen", () => listens++)
    await bound(pull)
    await turn()
    expect(listens).toBe(1)
  })

  it("after unmonitor() no more events are emitted; monitor() starts them again", async () => {
    const pull = socket("pull")
    pull.monitor()
    const listen = nextEvent(pull, "listen")
    await bound(pull)
    await listen
    expect(pull.unmonitor()).toBe(pull)
    let listens = 0
    pull.on("listen", () => listens++)
    await bound(pull)
    await turn()
    expect(listens).toBe(0)
    pull.monitor()
    const again = nextEvent(pull, "listen")
    await bound(pull)
    await again
  })

  it("the 5.x polling arguments are ignored, with one process warning", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {})
    try {
      socket("pull").monitor(10, 0)
      socket("pull").monitor(500, 1)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toMatch(/ignored/)
    } finally {
      warn.mockRestore()
    }
  })
})
