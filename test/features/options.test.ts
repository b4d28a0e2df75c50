/**
 * Socket options with observable behaviour: linger, reconnectMaxInterval,
 * connectTimeout, handshakeInterval, immediate, conflate, maxMessageSize,
 * and EINVAL validation.
 */
import { spawn } from "node:child_process"
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import type { Event } from "../../lib/index.js"
import { waitFor } from "../helpers.js"
import { encodeFrame, FLAG_LONG } from "../../lib/wire/frame.js"
import { encodeMessage } from "../../lib/wire/encoder.js"
import { encodeGreeting } from "../../lib/wire/greeting.js"
import { RawPeer, deadPort, isEagain, nextEvent, tracker, tryReceive, uniqueInproc, withTimeout } from "./feature-util.js"

const t = tracker()
const IO = { linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }
const SLACK = 1500
const ZPULL = { linger: 0, receiveTimeout: 5000 }

/** Reads every message until `quietMs` pass without one. */
async function drain(sock: { receive(): Promise<Buffer[]>; receiveTimeout: number }, quietMs: number): Promise<Buffer[][]> {
  const got: Buffer[][] = []
  for (;;) {
    const m = await tryReceive(sock, quietMs)
    if (m === undefined) return got
    got.push(m)
  }
}

describe("linger", () => {
  /**
   * The PULL (rcvhwm 10) is connected but does not read; the PUSH queues 100
   * messages, 10 of which fit into the PULL's queue and 90 stay in the PUSH's.
   */
  async function inprocLinger(linger: number): Promise<string[]> {
    const ep = uniqueInproc("linger")
    const pull = t.track(new omq.Pull({ ...IO, receiveHighWaterMark: 10 }))
    await pull.bind(ep)
    const push = t.track(new omq.Push({ ...IO, linger }))
    push.connect(ep)
    for (let i = 0; i < 100; i++) await push.send(String(i))
    expect(push.writable).toBe(true)
    // The PULL has taken its share; the rest waits in the PUSH's queue.
    await waitFor(() => pull.readable, 3000, "the PULL to get its first messages")
    push.close()
    const got = await drain(pull, 200)
    return got.map((m) => String(m[0]))
  }

  it("inproc: linger 0 drops the messages still queued at close; the peer only gets what it had already taken", async () => {
    const got = await inprocLinger(0)
    expect(got.length).toBeGreaterThan(0)
    expect(got.length).toBeLessThan(100)
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => String(i)))
  })

  it("inproc: linger > 0 (and -1) hands every queued message to the peer at close", async () => {
    for (const linger of [1000, -1]) {
      const got = await inprocLinger(linger)
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)))
    }
  })

  /**
   * tcp, with a slow libzmq PULL (rcvhwm 5, not reading): the omq PUSH
   * (sndhwm 20) sends 128 KiB messages until a send times out, i.e. the
   * kernel buffers are full and 20 messages wait in the PUSH's queue. Then
   * it closes, and only afterwards the PULL starts reading.
   */
  async function tcpLinger(linger: number, omqBinds: boolean): Promise<{ sent: number; got: Buffer[][] }> {
    const zpull = t.track(new zmq.Pull({ ...ZPULL, receiveHighWaterMark: 5 }))
    const push = t.track(new omq.Push({ ...IO, linger, sendHighWaterMark: 20, sendTimeout: 300 }))
    const events = push.events
    if (omqBinds) {
      await push.bind("tcp://127.0.0.1:*")
      zpull.connect(push.lastEndpoint!)
    } else {
      await zpull.bind("tcp://127.0.0.1:*")
      push.connect(zpull.lastEndpoint!)
    }
    await nextEvent(events, (e) => e.type === "handshake", 5000)
    const body = Buffer.alloc(128 * 1024, 0x5a)
    let sent = 0
    for (; sent < 3000; sent++) {
      try {
        await push.send([String(sent), body])
      } catch (err) {
        if (isEagain(err)) break
        throw err
      }
    }
    expect(sent).toBeLessThan(3000) // back-pressure was reached
    push.close()
    const got = await drain(zpull, 1000)
    return { sent, got }
  }

  for (const omqBinds of [false, true]) {
    const side = omqBinds ? "omq PUSH binds" : "omq PUSH connects"
    it(`tcp (${side}): linger 0 on close drops the queued messages (the slow peer gets fewer than were sent)`, async () => {
      const { sent, got } = await tcpLinger(0, omqBinds)
      // At least the 20 messages in the PUSH's own queue were never written.
      expect(got.length).toBeLessThanOrEqual(sent - 20)
      got.forEach((m, i) => expect(String(m[0])).toBe(String(i)))
    })

    it(`tcp (${side}): linger > 0 on close still delivers every queued message to the slow peer, in order`, async () => {
      const { sent, got } = await tcpLinger(10_000, omqBinds)
      expect(got.length).toBe(sent)
      got.forEach((m, i) => {
        expect(String(m[0])).toBe(String(i))
        expect(m[1]!.length).toBe(128 * 1024)
      })
    })
  }
})

describe("reconnect intervals", () => {
  /** The first `n` connect:retry intervals an omq or libzmq PUSH reports while connecting to a dead port. */
  async function retryIntervals(impl: "omq" | "libzmq", opts: Record<string, unknown>, n: number): Promise<number[]> {
    const port = await deadPort()
    const o = { linger: 0, ...opts }
    const push = t.track(impl === "omq" ? new omq.Push(o) : new zmq.Push(o))
    const events = push.events as unknown as { receive(): Promise<Event> }
    push.connect(`tcp://127.0.0.1:${port}`)
    const out: number[] = []
    const log: Event[] = []
    while (out.length < n) {
      const e = await nextEvent(events, (x) => x.type === "connect:retry", 5000, log)
      out.push(e.interval!)
    }
    expect(log.map((e) => e.type)).not.toContain("connect")
    return out
  }

  /** Each reported interval must be its base (libzmq adds up to one reconnectInterval of jitter when no max is set). */
  function expectIntervals(got: number[], bases: number[], jitter: number): void {
    expect(got).toHaveLength(bases.length)
    got.forEach((g, i) => {
      expect(g, `interval #${i} of ${JSON.stringify(got)}`).toBeGreaterThanOrEqual(bases[i]!)
      expect(g, `interval #${i} of ${JSON.stringify(got)}`).toBeLessThan(bases[i]! + jitter)
    })
  }

  it("reconnectMaxInterval: the connect:retry intervals double up to the max, then stay there (as libzmq reports)", async () => {
    const opts = { reconnectInterval: 20, reconnectMaxInterval: 160 }
    const got = await retryIntervals("omq", opts, 7)
    expect(got).toEqual([20, 40, 80, 160, 160, 160, 160])
    expect(await retryIntervals("libzmq", opts, 7)).toEqual(got)
  })

  it("reconnectMaxInterval 0 (default): the connect:retry interval stays at reconnectInterval", async () => {
    const got = await retryIntervals("omq", { reconnectInterval: 30 }, 5)
    expectIntervals(got, [30, 30, 30, 30, 30], 30)
  })

  it("reconnectMaxInterval below reconnectInterval caps every interval, the first one included (as libzmq 4.3.5)", async () => {
    const opts = { reconnectInterval: 40, reconnectMaxInterval: 20 }
    const reference = await retryIntervals("libzmq", opts, 4)
    expect(reference).toEqual([20, 20, 20, 20])
    expect(await retryIntervals("omq", opts, 4)).toEqual(reference)
  })
})

describe("connectTimeout", () => {
  /**
   * A tcp port whose listener never accepts: a child Node process listens
   * with backlog 1 and then blocks its event loop, and the test fills the
   * accept queue. Further SYNs are dropped by the kernel, so a connect()
   * hangs (until the OS gives up, minutes later).
   */
  async function blackholePort(): Promise<number> {
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const s = require("net").createServer().listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
           process.stdout.write(s.address().port + "\\n")
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
         })`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    )
    t.cleanup(() => child.kill("SIGKILL"))
    const port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        child.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim())))
        child.once("exit", () => reject(new Error("blackhole child exited")))
      }),
      10_000,
      "the blackhole listener",
    )
    for (let i = 0; i < 20; i++) {
      const s = net.connect({ host: "127.0.0.1", port })
      s.on("error", () => {})
      t.cleanup(() => s.destroy())
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 1000)
        s.once("connect", () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      if (!connected) return port // the accept queue is full
    }
    throw new Error("could not fill the accept queue of the blackhole listener")
  }

  it("abandons a TCP connect that does not complete within connectTimeout (connect:retry, no connect)", async () => {
    const port = await blackholePort()
    const push = t.track(new omq.Push({ ...IO, connectTimeout: 150, reconnectInterval: 60_000 }))
    const events = push.events
    const start = Date.now()
    push.connect(`tcp://127.0.0.1:${port}`)
    const log: Event[] = []
    await nextEvent(events, (e) => e.type === "connect:retry", 150 + SLACK, log)
    const elapsed = Date.now() - start
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(log.map((e) => e.type)).toEqual(["connect:delay", "connect:retry"])
  })

  it("control: without connectTimeout the same connect just hangs (no connect:retry within 1 s)", async () => {
    const port = await blackholePort()
    const push = t.track(new omq.Push({ ...IO, reconnectInterval: 60_000 }))
    const events = push.events
    push.connect(`tcp://127.0.0.1:${port}`)
    const log: Event[] = []
    await nextEvent(events, (e) => e.type === "connect:delay", 2000, log)
    await expect(nextEvent(events, () => true, 1000, log)).rejects.toThrow(/timed out/)
    expect(log.map((e) => e.type)).toEqual(["connect:delay"])
  })
})

describe("handshakeInterval", () => {
  it("drops a peer that connects but sends nothing, after about handshakeInterval (handshake:error:other)", async () => {
    const pull = t.track(new omq.Pull({ ...IO, handshakeInterval: 200 }))
    const events = pull.events
    await pull.bind("tcp://127.0.0.1:*")
    const peer = RawPeer.connect(pull.lastEndpoint!)
    t.cleanup(() => peer.destroy())
    await withTimeout(peer.connectedPromise, 5000, "raw connect")
    await peer.waitClosed(200 + SLACK, "omq to drop the mute peer")
    expect(peer.closedAt - peer.connectedAt).toBeGreaterThanOrEqual(150)
    const log: Event[] = []
    const e = await nextEvent(events, (x) => x.type.startsWith("handshake"), 2000, log)
    expect(e.type).toBe("handshake:error:other")
  })

  it("drops a peer that sends its greeting but never READY", async () => {
    const pull = t.track(new omq.Pull({ ...IO, handshakeInterval: 200 }))
    await pull.bind("tcp://127.0.0.1:*")
    const peer = RawPeer.connect(pull.lastEndpoint!)
    t.cleanup(() => peer.destroy())
    await withTimeout(peer.connectedPromise, 5000, "raw connect")
    peer.write(encodeGreeting("NULL", false))
    await peer.peerReady() // omq got as far as its READY
    await peer.waitClosed(200 + SLACK, "omq to drop the stalled peer")
    expect(peer.closedAt - peer.connectedAt).toBeGreaterThanOrEqual(150)
  })

  it("the connecting side drops a server that accepts but never greets, then retries (handshake:error:other, connect:retry)", async () => {
    const accepted: net.Socket[] = []
    const server = net.createServer((s) => {
      s.on("error", () => {})
      accepted.push(s)
    })
    t.cleanup(() => {
      for (const s of accepted) s.destroy()
      server.close()
    })
    await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, () => r()))
    const port = (server.address() as net.AddressInfo).port
    const push = t.track(new omq.Push({ ...IO, handshakeInterval: 200, reconnectInterval: 50 }))
    const events = push.events
    const start = Date.now()
    push.connect(`tcp://127.0.0.1:${port}`)
    const log: Event[] = []
    const e = await nextEvent(events, (x) => x.type.startsWith("handshake"), 200 + SLACK, log)
    expect(e.type).toBe("handshake:error:other")
    expect(Date.now() - start).toBeGreaterThanOrEqual(150)
    await nextEvent(events, (x) => x.type === "connect:retry", 2000, log)
    expect(log.map((x) => x.type)).not.toContain("handshake")
  })

  it("does not drop a peer that completed the handshake in time", async () => {
    const pull = t.track(new omq.Pull({ ...IO, handshakeInterval: 150 }))
    await pull.bind("tcp://127.0.0.1:*")
    const peer = RawPeer.connect(pull.lastEndpoint!)
    t.cleanup(() => peer.destroy())
    await withTimeout(peer.connectedPromise, 5000, "raw connect")
    peer.handshake("PUSH")
    await peer.peerReady()
    peer.write(encodeFrame(Buffer.from("hello")))
    expect((await pull.receive()).map(String)).toEqual(["hello"])
    // Three handshake intervals later the connection is still there and usable.
    await expect(peer.waitClosed(450)).rejects.toThrow(/timed out/)
    peer.write(encodeFrame(Buffer.from("still")))
    expect((await pull.receive()).map(String)).toEqual(["still"])
  })
})

describe("immediate", () => {
  it("immediate: a PUSH with no completed connection does not queue (sendTimeout 0 → EAGAIN); the default PUSH queues", async () => {
    const ep = t.ipc() // nobody bound yet
    const eager = t.track(new omq.Push({ ...IO, sendTimeout: 0, reconnectInterval: 20 }))
    const strict = t.track(new omq.Push({ ...IO, sendTimeout: 0, reconnectInterval: 20, immediate: true }))
    const strictEvents = strict.events
    eager.connect(ep)
    strict.connect(ep)
    await eager.send("queued-early")
    await expect(strict.send("nowhere")).rejects.toMatchObject({ code: "EAGAIN" })

    const zpull = t.track(new zmq.Pull(ZPULL))
    await zpull.bind(ep)
    expect((await zpull.receive()).map(String)).toEqual(["queued-early"])
    await nextEvent(strictEvents, (e) => e.type === "handshake", 5000)
    await strict.send("after-handshake")
    expect((await zpull.receive()).map(String)).toEqual(["after-handshake"])
  })

  it("immediate: after the connection is lost, sends fail again instead of queueing", async () => {
    const zpull = t.track(new zmq.Pull(ZPULL))
    await zpull.bind("tcp://127.0.0.1:*")
    const strict = t.track(new omq.Push({ ...IO, sendTimeout: 0, reconnectInterval: 60_000, immediate: true }))
    const events = strict.events
    strict.connect(zpull.lastEndpoint!)
    await nextEvent(events, (e) => e.type === "handshake", 5000)
    await strict.send("ok")
    expect((await zpull.receive()).map(String)).toEqual(["ok"])
    zpull.close()
    await nextEvent(events, (e) => e.type === "disconnect", 5000)
    await expect(strict.send("lost")).rejects.toMatchObject({ code: "EAGAIN" })
  })
})

describe("conflate", () => {
  it("inproc: a conflating PULL keeps only the newest message", async () => {
    const ep = uniqueInproc("conflate")
    const pull = t.track(new omq.Pull({ ...IO, conflate: true }))
    await pull.bind(ep)
    const push = t.track(new omq.Push(IO))
    push.connect(ep)
    for (let i = 1; i <= 10; i++) await push.send(String(i))
    expect((await pull.receive()).map(String)).toEqual(["10"])
    expect(await tryReceive(pull, 0)).toBeUndefined()
    await push.send("11")
    expect((await pull.receive()).map(String)).toEqual(["11"])
  })

  it("tcp: a conflating PULL that receives 100 messages in one chunk keeps only the last", async () => {
    const pull = t.track(new omq.Pull({ ...IO, conflate: true }))
    await pull.bind("tcp://127.0.0.1:*")
    const peer = RawPeer.connect(pull.lastEndpoint!)
    t.cleanup(() => peer.destroy())
    await withTimeout(peer.connectedPromise, 5000, "raw connect")
    peer.handshake("PUSH")
    await peer.peerReady()
    const frames = Array.from({ length: 100 }, (_, i) => encodeFrame(Buffer.from(`m${i + 1}`)))
    peer.write(Buffer.concat(frames))
    await waitFor(() => pull.readable, 5000, "the PULL to become readable")
    expect((await pull.receive()).map(String)).toEqual(["m100"])
    expect(await tryReceive(pull, 0)).toBeUndefined()
  })

  it("a conflating PUSH with no peer yet keeps only the newest message for it", async () => {
    const ep = t.ipc()
    const push = t.track(new omq.Push({ ...IO, conflate: true, reconnectInterval: 20 }))
    push.connect(ep)
    for (let i = 1; i <= 5; i++) await push.send(String(i))
    const zpull = t.track(new zmq.Pull(ZPULL))
    await zpull.bind(ep)
    expect((await zpull.receive()).map(String)).toEqual(["5"])
    await push.send("6")
    expect((await zpull.receive()).map(String)).toEqual(["6"]) // nothing older was queued behind "5"
  })
})

describe("maxMessageSize", () => {
  async function pullWithPeer(maxMessageSize: number) {
    const pull = t.track(new omq.Pull({ ...IO, maxMessageSize }))
    const events = pull.events
    await pull.bind("tcp://127.0.0.1:*")
    const peer = RawPeer.connect(pull.lastEndpoint!)
    t.cleanup(() => peer.destroy())
    await withTimeout(peer.connectedPromise, 5000, "raw connect")
    peer.handshake("PUSH")
    await peer.peerReady()
    await nextEvent(events, (e) => e.type === "handshake", 5000)
    return { pull, peer, events }
  }

  it("drops a raw peer announcing a 4 GiB frame without allocating it (rss grows < 100 MB); the socket keeps serving", async () => {
    const { pull, peer, events } = await pullWithPeer(64 * 1024)
    const rssBefore = process.memoryUsage().rss
    const header = Buffer.alloc(9)
    header[0] = FLAG_LONG
    header.writeUInt32BE(1, 1) // size = 2^32
    header.writeUInt32BE(0, 5)
    peer.write(header)
    peer.write(Buffer.alloc(1024 * 1024)) // the start of the "body"
    await peer.waitClosed(5000, "omq to drop the peer")
    const rssAfter = process.memoryUsage().rss
    expect(rssAfter - rssBefore).toBeLessThan(100 * 1024 * 1024)
    await nextEvent(events, (e) => e.type === "disconnect", 2000)
    expect(await tryReceive(pull, 0)).toBeUndefined()

    const good = t.track(new omq.Push(IO))
    good.connect(pull.lastEndpoint!)
    await good.send("fine")
    expect((await pull.receive()).map(String)).toEqual(["fine"])
  })

  it("accepts a message of exactly maxMessageSize bytes and drops the peer at one byte more", async () => {
    const { pull, peer } = await pullWithPeer(1000)
    peer.write(encodeFrame(Buffer.alloc(1000, 1)))
    const m = await pull.receive()
    expect(m[0]!.length).toBe(1000)
    peer.write(encodeFrame(Buffer.alloc(1001, 2)))
    await peer.waitClosed(5000, "omq to drop the peer")
    expect(await tryReceive(pull, 0)).toBeUndefined()
  })

  it("counts the whole multipart message: parts under the limit that add up to more drop the peer", async () => {
    const { pull, peer } = await pullWithPeer(1000)
    peer.write(encodeMessage([Buffer.alloc(600), Buffer.alloc(600)]))
    await peer.waitClosed(5000, "omq to drop the peer")
    expect(await tryReceive(pull, 0)).toBeUndefined()
  })
})

describe("option validation (as zeromq.js 6.8 on libzmq 4.3.5 answers each case)", () => {
  // Values libzmq refuses: ZmqError EINVAL "Invalid argument", the option unchanged.
  const refused: [string, unknown][] = [
    ["sendHighWaterMark", -1],
    ["receiveHighWaterMark", -5],
    ["sendTimeout", -2],
    ["linger", -2],
    ["reconnectInterval", -2],
    ["reconnectMaxInterval", -1],
    ["heartbeatInterval", -1],
    ["heartbeatTimeToLive", 6553600],
    ["tcpKeepalive", 2],
    ["rate", 0],
    ["routingId", ""],
    ["routingId", "x".repeat(256)],
  ]
  // Values of the wrong JavaScript type: TypeError with zeromq.js's message, the option unchanged.
  const mistyped: [string, unknown, string][] = [
    ["linger", "10", "Option value must be a number"],
    ["heartbeatTimeout", "100", "Option value must be a number"],
    ["connectTimeout", null, "Option value must be a number"],
    ["recoveryInterval", "hello", "Option value must be a number"],
    ["immediate", 1, "Option value must be a boolean"],
    ["conflate", "yes", "Option value must be a boolean"],
    ["routingId", 42, "Option value must be a string or buffer"],
    ["zapDomain", 5, "Option value must be a string or buffer"],
  ]
  // Numbers are converted as zeromq.js converts them to the option's C type.
  const converted: [string, number, number][] = [
    ["sendHighWaterMark", 1.5, 1],
    ["receiveTimeout", 1.5, 1],
    ["sendTimeout", 0.1, 0],
    ["linger", Number.NaN, 0],
    ["reconnectInterval", Number.NaN, 0],
    ["handshakeInterval", Number.POSITIVE_INFINITY, 0],
    ["linger", 2 ** 32 + 5, 5],
    ["maxMessageSize", 1.7, 1],
    ["maxMessageSize", -2, -2],
    ["affinity", -1, 0],
  ]
  const label = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v.length > 12 ? `${v.slice(0, 12)}…` : v) : String(v))

  for (const [name, value] of refused) {
    it(`setting ${name} = ${label(value)} throws EINVAL and leaves the option unchanged`, () => {
      const sock = t.track(new omq.Dealer(IO)) as unknown as Record<string, unknown>
      const before = sock[name]
      expect(() => (sock[name] = value)).toThrow(expect.objectContaining({ code: "EINVAL", message: "Invalid argument" }))
      expect(sock[name]).toEqual(before)
    })
  }

  for (const [name, value, message] of mistyped) {
    it(`setting ${name} = ${label(value)} throws TypeError "${message}"`, () => {
      const sock = t.track(new omq.Dealer(IO)) as unknown as Record<string, unknown>
      const before = sock[name]
      let err: unknown
      try {
        sock[name] = value
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(TypeError)
      expect((err as Error).message).toBe(message)
      expect(sock[name]).toEqual(before)
    })
  }

  for (const [name, value, result] of converted) {
    it(`setting ${name} = ${label(value)} sets ${result}`, () => {
      const sock = t.track(new omq.Dealer(IO)) as unknown as Record<string, unknown>
      sock[name] = value
      expect(sock[name]).toBe(result)
    })
  }

  it("a routing id starting with a zero byte is accepted, as libzmq accepts it", () => {
    const sock = t.track(new omq.Dealer(IO))
    sock.routingId = Buffer.from([0, 1, 2])
    expect(Buffer.from(sock.routingId!)).toEqual(Buffer.from([0, 1, 2]))
  })

  it("invalid values in constructor options throw as the setters do", () => {
    expect(() => new omq.Push({ sendHighWaterMark: -1 })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => new omq.Pull({ receiveTimeout: "2" as unknown as number })).toThrow(TypeError)
    expect(() => new omq.Push({ immediate: "true" as unknown as boolean })).toThrow("Option value must be a boolean")
    expect(new omq.Push({ linger: 1.5 }).linger).toBe(1)
  })

  it("valid boundary values are accepted", () => {
    const s = t.track(new omq.Dealer(IO))
    s.sendHighWaterMark = 0
    s.receiveHighWaterMark = 0
    s.sendTimeout = -1
    s.receiveTimeout = 0
    s.linger = -1
    s.reconnectInterval = -1
    s.heartbeatTimeToLive = 6553500
    s.maxMessageSize = -1
    s.routingId = "x".repeat(255)
    expect(s.heartbeatTimeToLive).toBe(6553500)
    expect(s.routingId).toBe("x".repeat(255))
  })
})
