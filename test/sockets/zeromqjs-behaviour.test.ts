/**
 * zeromq.js v6 behaviour of endpoints, close, events and send/receive that its own unit tests
 * pin down (bind/unbind blocking, bindSync, disconnect errors, what close() releases, event
 * addresses, small-buffer copies, yielding to the event loop), checked on omq — and, where a
 * difference would be easy to miss, on zeromq.js side by side.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import * as zmq from "zeromq"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { tracker } from "../features/feature-util.js"
import { freePort, uniqueIpc } from "../helpers.js"

type Lib = typeof omq | typeof zmq
const t = tracker()
const track = t.track.bind(t)

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r))
    gc()
  }
}

const errorOf = async (p: Promise<unknown> | (() => unknown)): Promise<{ code?: string | undefined; message: string } | "ok"> => {
  try {
    await (typeof p === "function" ? p() : p)
    return "ok"
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message }
  }
}

describe("bind and unbind block the socket while they run (zeromq.js socket-bind-unbind, socket-close)", () => {
  const BLOCKED = { code: "EBUSY", message: "Socket is blocked by a bind or unbind operation" }

  for (const kind of ["tcp", "ipc", "inproc"] as const) {
    const address = async () =>
      kind === "tcp" ? `tcp://127.0.0.1:${await freePort()}` : kind === "ipc" ? uniqueIpc() : `inproc://blocked-${Math.random()}`

    it(`${kind}: a second bind, an unbind, a connect or a send during a bind throws EBUSY`, async () => {
      const s = track(new omq.Dealer({ linger: 0 }))
      const a = await address()
      const bound = s.bind(a)
      expect(await errorOf(() => s.bind("inproc://other"))).toEqual(BLOCKED)
      expect(await errorOf(() => s.unbind(a))).toEqual(BLOCKED)
      expect(await errorOf(() => s.connect("inproc://other"))).toEqual(BLOCKED)
      expect(await errorOf(() => s.send("x"))).toEqual(BLOCKED)
      await bound
      expect(await errorOf(s.unbind(a))).toBe("ok")
    })

    it(`${kind}: a second unbind during an unbind throws EBUSY`, async () => {
      const s = track(new omq.Dealer({ linger: 0 }))
      const a = await address()
      await s.bind(a)
      const unbound = s.unbind(a)
      expect(await errorOf(() => s.unbind(a))).toEqual(BLOCKED)
      await unbound
    })

    it(`${kind}: close() during a bind or unbind, successful or not, takes effect when it ends`, async () => {
      const a = await address()
      const cases: Array<(s: omq.Dealer) => Promise<void>> = [
        (s) => s.bind(a),
        async (s) => {
          await s.bind(a)
          await s.unbind(a)
        },
        (s) => s.unbind(a), // never bound: fails
      ]
      for (const run of cases) {
        const s = track(new omq.Dealer({ linger: 0 }))
        const step = run(s)
        s.close()
        expect(s.closed).toBe(false)
        await step.catch(() => undefined)
        expect(s.closed).toBe(true)
      }
      const holder = track(new omq.Dealer({ linger: 0 }))
      await holder.bind(a)
      const s = track(new omq.Dealer({ linger: 0 }))
      const failing = s.bind(a) // in use: fails
      s.close()
      expect(s.closed).toBe(false)
      await expect(failing).rejects.toBeDefined()
      expect(s.closed).toBe(true)
    })
  }
})

describe("bindSync and unbindSync (zeromq.js's synchronous bind)", () => {
  it("binds tcp at once, wildcard port resolved, and refuses an address in use with EADDRINUSE, synchronously", async () => {
    const a = track(new omq.Pull({ linger: 0 }))
    a.bindSync("tcp://127.0.0.1:*")
    expect(a.lastEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    const b = track(new omq.Pull({ linger: 0 }))
    expect(() => b.bindSync(a.lastEndpoint!)).toThrow(
      expect.objectContaining({ code: "EADDRINUSE", message: "Address already in use", address: a.lastEndpoint }),
    )
    const push = track(new zmq.Push({ linger: 0 }))
    push.connect(a.lastEndpoint!)
    await push.send("over bindSync")
    expect((await a.receive()).map(String)).toEqual(["over bindSync"])
    a.unbindSync(a.lastEndpoint!)
    expect(() => a.unbindSync(a.lastEndpoint!)).toThrow(expect.objectContaining({ code: "ENOENT" }))
  })

  it("binds ipc and inproc at once", async () => {
    const ep = uniqueIpc()
    const pull = track(new omq.Pull({ linger: 0 }))
    pull.bindSync(ep)
    pull.bindSync("inproc://bind-sync")
    const zpush = track(new zmq.Push({ linger: 0 }))
    zpush.connect(ep)
    await zpush.send("ipc")
    const push = track(new omq.Push({ linger: 0 }))
    push.connect("inproc://bind-sync")
    await push.send("inproc")
    const got = [String((await pull.receive())[0]), String((await pull.receive())[0])].sort()
    expect(got).toEqual(["inproc", "ipc"])
  })

  it("refuses what bind() refuses, with the same errors, but at once", () => {
    const s = track(new omq.Pull({ linger: 0 }))
    expect(() => s.bindSync("foo-bar")).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => s.bindSync("foo://bar")).toThrow(expect.objectContaining({ code: "EPROTONOSUPPORT" }))
    expect(() => s.bindSync("tcp://no-such-interface-or-host.invalid:5555")).toThrow(expect.objectContaining({ code: "ENODEV" }))
  })
})

describe("endpoint addresses as libzmq takes them", () => {
  it("bind takes an interface name (lo) and a source;address endpoint, and gives ENODEV for an unknown host, as zeromq.js", async () => {
    for (const lib of [zmq, omq] as Lib[]) {
      const s = track(new lib.Pull({ linger: 0 }))
      await s.bind("tcp://lo:*")
      expect(s.lastEndpoint, String(lib === omq)).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
      const port = await freePort()
      await s.bind(`tcp://127.0.0.1:6000;127.0.0.1:${port}`)
      expect(s.lastEndpoint).toBe(`tcp://127.0.0.1:${port}`)
      expect(await errorOf(s.bind("tcp://nosuchhost.invalid:0"))).toMatchObject({ code: "ENODEV", message: "No such device" })
    }
  })

  it("disconnect() checks the address's form and transport before looking it up, as zeromq.js", async () => {
    for (const address of ["foo-bar", "foo://bar", "udp://127.0.0.1:5", "tcp://127.0.0.1:5", "tcp://foo"]) {
      const ours = track(new omq.Dealer())
      const theirs = track(new zmq.Dealer())
      const o = await errorOf(() => ours.disconnect(address))
      const t = await errorOf(() => theirs.disconnect(address))
      expect(o, address).toEqual(t)
    }
  })
})

describe("close() (zeromq.js socket-close)", () => {
  it("releases the socket's hold on its context: a closed socket's context can be collected at once", async () => {
    for (const address of ["tcp://127.0.0.1:1", uniqueIpc(), "inproc://nobody-binds"]) {
      let ref: WeakRef<omq.Context> | undefined
      await (async () => {
        const context = new omq.Context()
        ref = new WeakRef(context)
        const s = new omq.Dealer({ context, linger: 0 })
        s.connect(address)
        await s.send(Buffer.from("foo"))
        s.close()
      })()
      await collect()
      expect(ref!.deref(), address).toBeUndefined()
    }
  })

  it("with linger 0 still writes what the stream takes at once of what was sent just before", async () => {
    const pull = track(new zmq.Pull({ linger: 0 }))
    await pull.bind("tcp://127.0.0.1:*")
    const push = new omq.Push({ linger: 0 })
    push.connect(pull.lastEndpoint!)
    await new Promise((resolve) => push.events.on("handshake", resolve))
    await push.send("last words")
    push.close()
    pull.receiveTimeout = 2000
    expect((await pull.receive()).map(String)).toEqual(["last words"])
  })
})

describe("unbind() and disconnect() deliver what send() already accepted, as close() does (within linger)", () => {
  // libzmq delivers what its I/O thread already took (100 small messages: all; 60 × 256 KiB:
  // 2 of them, as measured here); omq delivers everything queued, within linger, as close() does.
  const cases: Array<[Lib, string, number, number]> = [
    [zmq, "zeromq", 100, 10],
    [omq, "omq", 100, 10],
    [omq, "omq", 60, 256 * 1024],
  ]
  for (const [L, lib, N, size] of cases) {
    const body = Buffer.alloc(size, 7)
    it(`${lib} PUSH: unbind right after ${N} × ${size} B sends resolved; the libzmq PULL gets every message`, async () => {
      const push = track(new L.Push({ sendHighWaterMark: N + 1 }))
      await push.bind("tcp://127.0.0.1:*")
      const ep = push.lastEndpoint!
      const pull = track(new zmq.Pull({ linger: 0, receiveTimeout: 10_000 }))
      pull.connect(ep)
      await push.send("hello") // waits for the peer: the pipe exists
      for (let i = 0; i < N; i++) await push.send([String(i), body])
      await push.unbind(ep)
      expect(String((await pull.receive())[0])).toBe("hello")
      for (let i = 0; i < N; i++) expect(String((await pull.receive())[0])).toBe(String(i))
    }, 30_000)

    it(`${lib} PUSH: disconnect right after ${N} × ${size} B sends resolved; the libzmq PULL gets every message`, async () => {
      const pull = track(new zmq.Pull({ linger: 0, receiveTimeout: 10_000 }))
      await pull.bind("tcp://127.0.0.1:*")
      const push = track(new L.Push({ sendHighWaterMark: N + 1 }))
      push.connect(pull.lastEndpoint!)
      await push.send("hello")
      expect(String((await pull.receive())[0])).toBe("hello") // connected
      for (let i = 0; i < N; i++) await push.send([String(i), body])
      push.disconnect(pull.lastEndpoint!)
      for (let i = 0; i < N; i++) expect(String((await pull.receive())[0])).toBe(String(i))
    }, 30_000)
  }

  it("omq over inproc: unbind and disconnect hand the queued messages to the peer", async () => {
    for (const how of ["unbind", "disconnect"] as const) {
      const push = track(new omq.Push({ sendHighWaterMark: 0 }))
      const pull = track(new omq.Pull({ receiveHighWaterMark: 10, receiveTimeout: 5000 }))
      const ep = `inproc://linger-${how}`
      if (how === "unbind") {
        await push.bind(ep)
        pull.connect(ep)
      } else {
        await pull.bind(ep)
        push.connect(ep)
      }
      for (let i = 0; i < 100; i++) await push.send(String(i))
      if (how === "unbind") await push.unbind(ep)
      else push.disconnect(ep)
      for (let i = 0; i < 100; i++) expect(String((await pull.receive())[0]), how).toBe(String(i))
    }
  })
})

describe("message parts (zeromq.js MessageLike)", () => {
  it("a number is sent as its decimal text, as zeromq.js sends it", async () => {
    for (const L of [omq, zmq] as Lib[]) {
      const pull = track(new zmq.Pull({ linger: 0, receiveTimeout: 5000 }))
      await pull.bind("tcp://127.0.0.1:*")
      const push = track(new L.Push({ linger: 1000 }))
      push.connect(pull.lastEndpoint!)
      await push.send([42, 1.5, -7])
      expect((await pull.receive()).map(String)).toEqual(["42", "1.5", "-7"])
    }
  })
})

describe("events (zeromq.js socket-events)", () => {
  it("bind:error names the address without its transport, as libzmq reports it", async () => {
    const a = track(new omq.Dealer({ linger: 0 }))
    await a.bind("tcp://127.0.0.1:*")
    const b = track(new omq.Dealer({ linger: 0 }))
    const event = new Promise<omq.Event>((resolve) => b.events.on("bind:error", resolve))
    await b.bind(a.lastEndpoint!).catch(() => undefined)
    const e = await event
    expect(`tcp://${e.address}`).toBe(a.lastEndpoint)
    expect(e.error).toMatchObject({ code: "EADDRINUSE", message: "Address already in use" })
  })

  it("after the socket closed, the Observer gives its end event, then receive() rejects with EBADF", async () => {
    const s = new omq.Dealer()
    const events = s.events
    s.close()
    expect((await events.receive()).type).toBe("end")
    await expect(events.receive()).rejects.toMatchObject({ code: "EBADF", message: "Socket is closed" })
    expect(events.closed).toBe(true)
  })

  it("inproc connections raise no Observer events, as in libzmq: only the end", async () => {
    const a = new omq.Dealer()
    const b = track(new omq.Dealer())
    const seen: string[] = []
    for (const t of ["bind", "accept", "connect", "handshake", "close", "disconnect", "end"] as const) a.events.on(t, (e) => seen.push(e.type))
    await a.bind("inproc://quiet")
    b.connect("inproc://quiet")
    await b.send("x")
    await a.receive()
    const ended = new Promise((r) => a.events.on("end", r))
    a.close()
    await ended
    expect(seen).toEqual(["end"])
  })
})

describe("send and receive (zeromq.js socket-send-receive)", () => {
  it("copies Buffers of up to 128 bytes on send, so the caller's Buffer is free at once; larger ones are kept until written", async () => {
    const s = track(new omq.Pair({ linger: 0, sendHighWaterMark: 10 }))
    s.connect("inproc://nobody-here")
    let small: WeakRef<Buffer> | undefined
    let large: WeakRef<Buffer> | undefined
    await (async () => {
      const a = Buffer.alloc(128, 1)
      const b = Buffer.alloc(129, 2)
      small = new WeakRef(a)
      large = new WeakRef(b)
      await s.send(a)
      await s.send(b)
      a.fill(9) // the queued copy must not change
    })()
    await collect()
    expect(small!.deref()).toBeUndefined()
    expect(large!.deref()).toBeDefined()
    const peer = track(new omq.Pair({ linger: 0 }))
    await peer.bind("inproc://nobody-here")
    expect((await peer.receive())[0]).toEqual(Buffer.alloc(128, 1))
  })

  it("a loop of send()s, receive()s or async iteration that all complete at once still lets timers run (every ms or so)", async () => {
    const a = track(new omq.Pair({ linger: 0, sendHighWaterMark: 0 }))
    const b = track(new omq.Pair({ linger: 0, receiveHighWaterMark: 0 }))
    await b.bind("inproc://no-starving")
    a.connect("inproc://no-starving")
    /** How many times a 0 ms timer, re-armed each time it fires, ran while `fn` ran, and how long fn took. */
    const timerTurns = async (fn: () => Promise<void>): Promise<[number, number]> => {
      let n = 0
      let stop = false
      const tick = () => {
        n++
        if (!stop) setTimeout(tick, 0)
      }
      setTimeout(tick, 0)
      const t0 = performance.now()
      await fn()
      stop = true
      return [n, performance.now() - t0]
    }
    const N = 200_000
    const results = [
      await timerTurns(async () => {
        for (let i = 0; i < N; i++) await a.send("x")
      }),
      await timerTurns(async () => {
        for (let i = 0; i < N; i++) await b.receive()
      }),
      await timerTurns(async () => {
        for (let i = 0; i < N; i++) await a.send("y")
        let i = 0
        for await (const _ of b) if (++i === N) break
      }),
    ]
    for (const [turns, ms] of results) {
      // A streak is checked every 512 calls and yields after 1 ms; a timer is due after 1 ms.
      expect(turns, `${turns} timer turns in ${ms.toFixed(1)} ms`).toBeGreaterThanOrEqual(Math.min(3, Math.floor(ms / 4)))
      expect(turns).toBeGreaterThanOrEqual(1)
    }
  })

  it("a send that must yield makes a concurrent send EBUSY (as zeromq.js's delayed send); omq's internal sendPipelined never yields", async () => {
    const d = track(new omq.Dealer({ linger: 0, sendHighWaterMark: 0 }))
    d.connect("inproc://nobody-reads")
    const burst = (send: (m: Buffer[]) => Promise<void>): number => {
      const t0 = performance.now()
      let n = 0
      while (performance.now() - t0 < 20) {
        try {
          void send([Buffer.from("x")]).catch(() => undefined)
        } catch (err) {
          expect(err).toMatchObject({ code: "EBUSY" })
          return n
        }
        n++
      }
      return -1 // no refusal within 20 ms
    }
    expect(burst((m) => d.send(m))).toBeGreaterThan(0)
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    expect(burst((m) => d.sendPipelined(m))).toBe(-1)
  })

  it("every socket has send() and receive() at run time; where the type cannot use them they never complete", async () => {
    const sub = track(new omq.Subscriber({ sendTimeout: 0 }))
    const untyped = sub as unknown as { send(m?: unknown): Promise<void> }
    expect(() => untyped.send()).toThrow("Message must be present")
    await expect(untyped.send("x")).rejects.toMatchObject({ code: "EAGAIN" })
  })
})
