/**
 * Observer (`sock.events`): zeromq.js event names and payloads for the
 * connection life cycle, bind/accept, protocol errors, emitter mode and the
 * end of async iteration. The peers are real libzmq sockets (zeromq.js).
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import type { Event } from "../../lib/index.js"
import { bindRetry } from "../helpers.js"
import { RawPeer, nextEvent, rawServer, tracker, withTimeout } from "./feature-util.js"

const t = tracker()
const IO = { linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }
/** zeromq.js refuses options a socket type lacks, so its sockets get only the relevant ones. */
const ZPULL = { linger: 0, receiveTimeout: 5000 }
const ZPUSH = { linger: 0, sendTimeout: 5000 }
const ZPUB = { linger: 0 }

const types = (log: Event[]) => log.map((e) => e.type)

/**
 * How an omq socket may report an incompatible libzmq peer. Both sides stage their greeting
 * (RFC 23 version negotiation, as libzmq does, so that ZMTP 2.0/1.0 peers can be served), so
 * both READY commands cross on the wire. When libzmq reads our READY before writing its own, it
 * hangs up without a READY or an ERROR, and all omq can report is that close
 * (handshake:error:other, ECONNRESET); libzmq against libzmq reports only "disconnect" there.
 * Either way the peer is refused cleanly. The raw-peer tests below pin the protocol error itself.
 */
function expectIncompatibleRefused(e: Event): void {
  const code = (e.error as Error & { code?: string }).code
  if (e.type === "handshake:error:protocol") expect(code).toBe("ERR_ZMTP_INVALID_METADATA")
  else expect([e.type, code]).toEqual(["handshake:error:other", "ECONNRESET"])
}

/** Index of the first event of `type` at or after `from` (fails the test if missing). */
function indexOf(log: Event[], type: string, from = 0): number {
  const i = log.findIndex((e, k) => k >= from && e.type === type)
  if (i < 0) throw new Error(`no "${type}" event after index ${from} in: ${types(log).join(", ")}`)
  return i
}

describe("Observer", () => {
  it("connect → handshake → disconnect → connect:retry → reconnect cycle against a libzmq peer closed and re-bound on the same endpoint", async () => {
    const zpull1 = t.track(new zmq.Pull(ZPULL))
    await zpull1.bind("tcp://127.0.0.1:*")
    const ep = zpull1.lastEndpoint!
    const push = t.track(new omq.Push({ ...IO, reconnectInterval: 50 }))
    const events = push.events
    const log: Event[] = []
    push.connect(ep)

    await nextEvent(events, (e) => e.type === "handshake", 5000, log)
    const c1 = indexOf(log, "connect")
    const h1 = indexOf(log, "handshake")
    expect(c1).toBeLessThan(h1)
    expect(log[c1]!.address).toBe(ep)
    expect(log[h1]!.address).toBe(ep)
    await push.send("first")
    expect((await zpull1.receive()).map(String)).toEqual(["first"])

    zpull1.close()
    await nextEvent(events, (e) => e.type === "disconnect", 5000, log)
    const d = indexOf(log, "disconnect", h1)
    expect(log[d]!.address).toBe(ep)
    await nextEvent(events, (e) => e.type === "connect:retry", 5000, log)
    const r = indexOf(log, "connect:retry", d)
    expect(log[r]!.address).toBe(ep)
    expect(log[r]!.interval).toBe(50)

    const zpull2 = t.track(new zmq.Pull(ZPULL))
    await bindRetry(zpull2, ep)
    await nextEvent(events, (e) => e.type === "handshake", 10_000, log)
    const c2 = indexOf(log, "connect", r)
    const h2 = indexOf(log, "handshake", c2)
    expect(log[c2]!.address).toBe(ep)
    expect(log[h2]!.address).toBe(ep)
    // No extra disconnect was reported between the retry and the new handshake.
    expect(types(log.slice(r, h2))).not.toContain("disconnect")
    await push.send("second")
    expect((await zpull2.receive()).map(String)).toEqual(["second"])
  })

  it("bind and accept events (then handshake, disconnect, close, end) with a libzmq peer connecting", async () => {
    const pull = t.track(new omq.Pull(IO))
    const events = pull.events
    const log: Event[] = []
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    const bind = await nextEvent(events, () => true, 2000, log)
    expect(bind).toMatchObject({ type: "bind", address: ep })

    const zpush = t.track(new zmq.Push(ZPUSH))
    zpush.connect(ep)
    const accept = await nextEvent(events, (e) => e.type === "accept", 5000, log)
    expect(accept.address).toBe(ep)
    const hs = await nextEvent(events, (e) => e.type === "handshake", 5000, log)
    expect(hs.address).toBe(ep)
    await zpush.send("hi")
    expect((await pull.receive()).map(String)).toEqual(["hi"])

    zpush.close()
    const disc = await nextEvent(events, (e) => e.type === "disconnect", 5000, log)
    expect(disc.address).toBe(ep)

    pull.close()
    const close = await nextEvent(events, (e) => e.type === "close", 2000, log)
    expect(close.address).toBe(ep)
    await nextEvent(events, (e) => e.type === "end", 2000, log)
    expect(types(log)).toEqual(["bind", "accept", "handshake", "disconnect", "close", "end"])
  })

  it("bind:error with the address and error when the endpoint is in use", async () => {
    const a = t.track(new omq.Pull(IO))
    await a.bind("tcp://127.0.0.1:*")
    const ep = a.lastEndpoint!
    const b = t.track(new omq.Pull(IO))
    const events = b.events
    await expect(b.bind(ep)).rejects.toMatchObject({ code: "EADDRINUSE" })
    const e = await nextEvent(events, () => true, 2000)
    expect(e.type).toBe("bind:error")
    // libzmq (so zeromq.js) reports a failed bind's address without the transport prefix.
    expect(e.address).toBe(ep.slice("tcp://".length))
    expect((e.error as { code?: string } | undefined)?.code).toBe("EADDRINUSE")
  })

  it('"handshake:error:protocol" with code ERR_ZMTP_INVALID_METADATA when an incompatible libzmq socket (PUB) connects to an omq PULL', async () => {
    const pull = t.track(new omq.Pull(IO))
    const events = pull.events
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    const zpub = t.track(new zmq.Publisher(ZPUB))
    zpub.connect(ep)
    const log: Event[] = []
    const e = await nextEvent(events, (x) => x.type.startsWith("handshake"), 5000, log)
    expectIncompatibleRefused(e)
    expect(e.address).toBe(ep)
    expect(e.error).toBeInstanceOf(Error)
    expect(types(log)).toContain("accept")
    // The PULL keeps serving compatible peers.
    const zpush = t.track(new zmq.Push(ZPUSH))
    zpush.connect(ep)
    await zpush.send("ok")
    expect((await pull.receive()).map(String)).toEqual(["ok"])
  })

  it('"handshake:error:protocol" (ERR_ZMTP_INVALID_METADATA) when an omq PULL connects to an incompatible libzmq socket (PUB)', async () => {
    const zpub = t.track(new zmq.Publisher(ZPUB))
    await zpub.bind("tcp://127.0.0.1:*")
    const ep = zpub.lastEndpoint!
    const pull = t.track(new omq.Pull({ ...IO, reconnectInterval: 1000 }))
    const events = pull.events
    pull.connect(ep)
    const log: Event[] = []
    const e = await nextEvent(events, (x) => x.type.startsWith("handshake"), 5000, log)
    expectIncompatibleRefused(e)
    expect(e.address).toBe(ep)
    expect(indexOf(log, "connect")).toBeLessThan(log.indexOf(e))
  })

  it('"handshake:error:protocol" with code ERR_ZMTP_INVALID_METADATA when a peer whose READY says PUB connects to an omq PULL', async () => {
    const pull = t.track(new omq.Pull(IO))
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    // A raw peer writes its whole greeting and READY at once and never hangs up first.
    const peer = RawPeer.connect(ep)
    try {
      peer.handshake("PUB")
      const log: Event[] = []
      const e = await nextEvent(pull.events, (x) => x.type.startsWith("handshake"), 5000, log)
      expect(e.type).toBe("handshake:error:protocol")
      expect(e.address).toBe(ep)
      expect((e.error as Error & { code?: string }).code).toBe("ERR_ZMTP_INVALID_METADATA")
      expect(types(log)).toContain("accept")
      await peer.waitClosed(5000)
    } finally {
      peer.destroy()
    }
  })

  it('"handshake:error:protocol" (ERR_ZMTP_INVALID_METADATA) when an omq PULL connects to a peer whose READY says PUB', async () => {
    const raw: RawPeer[] = []
    const { server, port } = await rawServer((s) => {
      const p = new RawPeer(s)
      raw.push(p)
      p.handshake("PUB")
    })
    try {
      const ep = `tcp://127.0.0.1:${port}`
      const pull = t.track(new omq.Pull({ ...IO, reconnectInterval: 1000 }))
      pull.connect(ep)
      const log: Event[] = []
      const e = await nextEvent(pull.events, (x) => x.type.startsWith("handshake"), 5000, log)
      expect(e.type).toBe("handshake:error:protocol")
      expect(e.address).toBe(ep)
      expect((e.error as Error & { code?: string }).code).toBe("ERR_ZMTP_INVALID_METADATA")
      expect(indexOf(log, "connect")).toBeLessThan(log.indexOf(e))
    } finally {
      for (const p of raw) p.destroy()
      server.close()
    }
  })

  it("on(): emitter mode calls listeners per event type; receive() is refused in that mode", async () => {
    const pull = t.track(new omq.Pull(IO))
    const seen: Event[] = []
    let resolveHandshake!: () => void
    const handshake = new Promise<void>((r) => (resolveHandshake = r))
    let resolveEnd!: () => void
    const ended = new Promise<void>((r) => (resolveEnd = r))
    pull.events
      .on("bind", (e) => seen.push(e))
      .on("accept", (e) => seen.push(e))
      .on("handshake", (e) => {
        seen.push(e)
        resolveHandshake()
      })
      .on("end", (e) => {
        seen.push(e)
        resolveEnd()
      })
    expect(() => pull.events.receive()).toThrow(/emitter mode/)
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    const zpush = t.track(new zmq.Push(ZPUSH))
    zpush.connect(ep)
    await withTimeout(handshake, 5000, "handshake listener")
    pull.close()
    await withTimeout(ended, 2000, "end listener")
    expect(seen.map((e) => e.type)).toEqual(["bind", "accept", "handshake", "end"])
    expect(seen[0]!.address).toBe(ep)
    expect(seen[1]!.address).toBe(ep)
    expect(seen[2]!.address).toBe(ep)
  })

  it("on(): events queued before the first on() are delivered to the listeners", async () => {
    const pull = t.track(new omq.Pull(IO))
    const events = pull.events // receive mode: events queue up
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    const got = await withTimeout(new Promise<Event>((resolve) => events.on("bind", resolve)), 2000, "the queued bind event")
    expect(got).toMatchObject({ type: "bind", address: ep })
  })

  it('async iteration over events ends after the socket closes, with an "end" event last', async () => {
    const pull = t.track(new omq.Pull(IO))
    const iterated = (async () => {
      const seen: Event[] = []
      for await (const e of pull.events) seen.push(e)
      return seen
    })()
    await pull.bind("tcp://127.0.0.1:*")
    const ep = pull.lastEndpoint!
    const zpush = t.track(new zmq.Push(ZPUSH))
    zpush.connect(ep)
    await zpush.send("x")
    expect((await pull.receive()).map(String)).toEqual(["x"])
    pull.close()
    const seen = await withTimeout(iterated, 3000, "the events iteration to end")
    const ts = types(seen)
    expect(ts[0]).toBe("bind")
    expect(ts).toContain("accept")
    expect(ts).toContain("handshake")
    expect(ts).toContain("close")
    expect(ts[ts.length - 1]).toBe("end")
    expect(pull.events.closed || pull.closed).toBe(true)
  })
})
