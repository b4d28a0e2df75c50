/**
 * Majordomo (MDP/0.2, ZeroMQ RFC 18; RFC 7 is 0.1) and MMI (RFC 8): omq's broker, worker and
 * client with each other, with peers that speak the raw frames over libzmq (the zeromq
 * package), and with peers that break the protocol.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { Dealer } from "../../lib/index.js"
import { MajordomoBroker, MajordomoClient, MajordomoWorker } from "../../lib/entry/devices.js"
import * as mdp from "../../lib/patterns/majordomo/protocol.js"
import { MDPC, MDPW, parseBrokerInbound, parseClientInbound, parseWorkerInbound } from "../../lib/patterns/majordomo/protocol.js"
import { closeAfterEach } from "../helpers/close-after-each.js"
import { bindRetry, tryReceive, waitFor } from "../helpers.js"

const track = closeAfterEach()
/** Fast heartbeats: a silent worker is dropped after 5 × 100 ms (generous enough for a loaded machine). */
const HB = { heartbeatInterval: 100, liveness: 5 }
const strings = (frames: Buffer[]) => frames.map(String)
const cmd = (n: number) => Buffer.from([n])

async function startBroker(options = {}): Promise<{ broker: MajordomoBroker; endpoint: string }> {
  const broker = track(new MajordomoBroker({ ...HB, ...options }))
  await broker.bind("tcp://127.0.0.1:*")
  return { broker, endpoint: broker.lastEndpoint! }
}

const echoWorker = (endpoint: string, tag = "") =>
  track(new MajordomoWorker(endpoint, "echo", (body) => body.map((f) => `${tag}${f}`), { ...HB, reconnectInterval: 50 }))

/** A raw DEALER "worker" that registered (waits until the broker has it), sending HEARTBEATs until it is closed. */
async function rawWorker(broker: MajordomoBroker, endpoint: string, service = "echo"): Promise<Dealer> {
  const before = broker.stats()[service]?.workers ?? 0
  const w = track(new Dealer({ linger: 0, receiveTimeout: 5000 }))
  w.connect(endpoint)
  await w.send([MDPW, cmd(1), service])
  const beat = setInterval(() => (w.closed ? clearInterval(beat) : void w.send([MDPW, cmd(5)]).catch(() => undefined)), HB.heartbeatInterval)
  await waitFor(() => (broker.stats()[service]?.workers ?? 0) === before + 1, 5000, "the raw worker registered")
  return w
}

/** Receives until a message that is not a HEARTBEAT. */
async function receiveCommand(sock: { receive(): Promise<Buffer[]> }): Promise<Buffer[]> {
  for (;;) {
    const frames = await sock.receive()
    if (!(frames.length === 2 && frames[1]![0] === 0x05)) return frames
  }
}

describe("MDP/0.2 frames (protocol.ts)", () => {
  it("parses each command and refuses the malformed", () => {
    const f = (...parts: (string | number[])[]) => parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p)))
    expect(parseBrokerInbound(f("MDPC02", [1], "echo", "x"))).toMatchObject({ kind: "request", service: "echo" })
    expect(parseBrokerInbound(f("MDPC02", [1], "echo"))).toBeUndefined() // no body
    expect(parseBrokerInbound(f("MDPC01", [1], "echo", "x"))).toBeUndefined() // MDP/0.1
    expect(parseBrokerInbound(f("MDPC02", [2], "echo", "x"))).toBeUndefined() // PARTIAL is the broker's
    expect(parseBrokerInbound(f("MDPC02", [1], [0x01, 0x02], "x"))).toBeUndefined() // not printable
    expect(parseBrokerInbound(f("MDPW02", [1], "echo"))).toEqual({ kind: "ready", service: "echo" })
    expect(parseBrokerInbound(f("MDPW02", [1]))).toEqual({ kind: "invalid-worker" })
    expect(parseBrokerInbound(f("MDPW02", [4], "client", "", "r"))).toMatchObject({ kind: "final" })
    expect(parseBrokerInbound(f("MDPW02", [3], "client", "", "r"))).toMatchObject({ kind: "partial" })
    expect(parseBrokerInbound(f("MDPW02", [4], "client", "x", "r"))).toEqual({ kind: "invalid-worker" })
    expect(parseBrokerInbound(f("MDPW02", [5]))).toEqual({ kind: "heartbeat" })
    expect(parseBrokerInbound(f("MDPW02", [6]))).toEqual({ kind: "disconnect" })
    expect(parseBrokerInbound(f("MDPW02", [9]))).toEqual({ kind: "invalid-worker" })
    expect(parseBrokerInbound(f("MDPW02", [5, 5]))).toEqual({ kind: "invalid-worker" })
    expect(parseBrokerInbound([])).toBeUndefined()
    expect(parseWorkerInbound(f("MDPW02", [2], "c", "", "b"))).toMatchObject({ kind: "request" })
    expect(parseWorkerInbound(f("MDPW02", [2], "c", ""))).toBeUndefined()
    expect(parseClientInbound(f("MDPC02", [3], "echo", "b"))).toMatchObject({ kind: "final", service: "echo" })
    expect(parseClientInbound(f("MDPC02", [1], "echo", "b"))).toBeUndefined()
  })

  it("property: any frames parse without throwing; what the builders make parses back to what was built", () => {
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      fc.constantFrom(MDPC, MDPW, Buffer.alloc(0), ...[1, 2, 3, 4, 5, 6, 9].map((n) => Buffer.from([n]))),
    )
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 7 }), (frames) => {
        parseBrokerInbound(frames)
        parseWorkerInbound(frames)
        parseClientInbound(frames)
      }),
    )
    const service = fc.stringMatching(/^[a-z.]{1,20}$/)
    const body = fc.array(
      fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      { maxLength: 4 },
    )
    const client = fc.uint8Array({ minLength: 1, maxLength: 5 }).map((a) => Buffer.from(a))
    // An empty body travels as one empty frame (MDP: every body has a frame).
    const sent = (b: Buffer[]) => (b.length === 0 ? [Buffer.alloc(0)] : b)
    fc.assert(
      fc.property(service, body, client, fc.boolean(), (s, b, c, final) => {
        expect(parseBrokerInbound(mdp.clientRequest(s, b))).toMatchObject({ kind: "request", service: s, body: sent(b) })
        expect(parseClientInbound(mdp.clientReply(final, Buffer.from(s), b))).toEqual({
          kind: final ? "final" : "partial",
          service: s,
          body: sent(b),
        })
        expect(parseWorkerInbound(mdp.workerRequest(c, b))).toEqual({ kind: "request", client: c, body: sent(b) })
        expect(parseBrokerInbound(mdp.workerReply(final, c, b))).toEqual({ kind: final ? "final" : "partial", client: c, body: sent(b) })
        expect(parseBrokerInbound(mdp.ready(s))).toEqual({ kind: "ready", service: s })
      }),
    )
    expect(parseBrokerInbound(mdp.heartbeat())).toEqual({ kind: "heartbeat" })
    expect(parseWorkerInbound(mdp.disconnect())).toEqual({ kind: "disconnect" })
  })
})

describe("Majordomo broker, worker and client", () => {
  it("echo: client → broker → worker → client, PARTIALs before the FINAL", async () => {
    const { endpoint } = await startBroker()
    track(
      new MajordomoWorker(
        endpoint,
        "count",
        (body, ctx) => {
          const n = Number(String(body[0]))
          for (let i = 1; i < n; i++) ctx.partial(String(i))
          return [String(n), "done"]
        },
        HB,
      ),
    )
    echoWorker(endpoint)
    const client = track(new MajordomoClient(endpoint, { timeout: 5000, retries: 0 }))
    expect(strings(await client.request("echo", "hello", "world"))).toEqual(["hello", "world"])
    const replies: string[][] = []
    for await (const r of client.replies("count", "3")) replies.push(strings(r))
    expect(replies).toEqual([["1"], ["2"], ["3", "done"]])
    expect(strings(await client.request("count", "1"))).toEqual(["1", "done"])
  })

  it("a request waits in the broker until a worker for its service appears", async () => {
    const { broker, endpoint } = await startBroker()
    const client = track(new MajordomoClient(endpoint, { timeout: 10_000, retries: 0 }))
    const reply = client.request("echo", "early")
    await waitFor(() => broker.stats().echo?.queued === 1, 5000, "the request queued")
    echoWorker(endpoint, "late:")
    expect(strings(await reply)).toEqual(["late:early"])
    expect(broker.stats().echo).toMatchObject({ workers: 1, idle: 1, queued: 0 })
  })

  it("a worker that dies holding a request: after its heartbeats stop, the request goes to another worker", async () => {
    const { broker, endpoint } = await startBroker()
    const doomed = await rawWorker(broker, endpoint)
    const client = track(new MajordomoClient(endpoint, { timeout: 10_000, retries: 0 }))
    const reply = client.request("echo", "job")
    const request = await receiveCommand(doomed)
    expect(strings(request.slice(0, 2))).toEqual(["MDPW02", "\x02"])
    expect(String(request[4])).toBe("job")
    doomed.close() // no DISCONNECT, no reply, no more heartbeats: as a crash
    echoWorker(endpoint, "second:")
    expect(strings(await reply)).toEqual(["second:job"])
    expect(broker.stats().echo?.workers).toBe(1)
  })

  it("mmi.service (RFC 8): 200 with a worker, 404 without, 501 for other mmi. names", async () => {
    const { endpoint } = await startBroker()
    const worker = echoWorker(endpoint)
    const client = track(new MajordomoClient(endpoint, { timeout: 5000, retries: 0 }))
    await waitFor(async () => strings(await client.request("mmi.service", "echo"))[0] === "200", 5000, "echo registered")
    expect(strings(await client.request("mmi.service", "nothing"))).toEqual(["404"])
    expect(strings(await client.request("mmi.other", "x"))).toEqual(["501"])
    await worker.close()
    expect(strings(await client.request("mmi.service", "echo"))).toEqual(["404"])
  })

  it("a worker registers again with a broker that restarted on the same endpoint", async () => {
    const first = await startBroker()
    const worker = echoWorker(first.endpoint)
    await waitFor(() => first.broker.stats().echo?.workers === 1, 5000, "registered")
    first.broker.close()
    const second = track(new MajordomoBroker(HB))
    await bindRetry(second, first.endpoint)
    await waitFor(() => second.stats().echo?.workers === 1, 10_000, "registered with the new broker")
    expect(worker.registrations).toBeGreaterThanOrEqual(2)
    const client = track(new MajordomoClient(first.endpoint, { timeout: 5000, retries: 0 }))
    expect(strings(await client.request("echo", "again"))).toEqual(["again"])
  })

  it("a handler that throws: no reply, the worker registers anew and serves the next request", async () => {
    const { broker, endpoint } = await startBroker()
    const errors: unknown[] = []
    const worker = track(
      new MajordomoWorker(
        endpoint,
        "fragile",
        (body) => {
          if (String(body[0]) === "boom") throw new Error("boom")
          return body
        },
        { ...HB, reconnectInterval: 20, onError: (e) => errors.push(e) },
      ),
    )
    await waitFor(() => broker.stats().fragile?.workers === 1, 5000, "registered")
    const client = track(new MajordomoClient(endpoint, { timeout: 300, retries: 0 }))
    await expect(client.request("fragile", "boom")).rejects.toMatchObject({ code: "EHOSTUNREACH" })
    expect(errors).toHaveLength(1)
    await waitFor(() => worker.registrations === 2 && broker.stats().fragile?.workers === 1, 5000, "registered again")
    expect(strings(await client.request("fragile", "fine"))).toEqual(["fine"])
  })

  it("the client gives up with EHOSTUNREACH; its retries replace its queued request, they do not add copies", async () => {
    const { broker, endpoint } = await startBroker()
    const client = track(new MajordomoClient(endpoint, { timeout: 60, retries: 3 }))
    const t0 = Date.now()
    await expect(client.request("nobody", "x")).rejects.toMatchObject({ code: "EHOSTUNREACH" })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4 * 60 - 10)
    expect(broker.stats().nobody?.queued).toBe(1)
  })

  it("a queued request expires after requestExpiry", async () => {
    const { broker, endpoint } = await startBroker({ requestExpiry: 100 })
    const client = track(new MajordomoClient(endpoint, { timeout: 50, retries: 0 }))
    await expect(client.request("nobody", "x")).rejects.toMatchObject({ code: "EHOSTUNREACH" })
    await waitFor(() => broker.stats().nobody === undefined, 5000, "the request expired")
  })

  it("malformed messages are dropped, misbehaving workers disconnected; the broker serves everyone else", async () => {
    // Raw workers here send no heartbeats: a liveness long enough that none expires, however slow the machine.
    const { broker, endpoint } = await startBroker({ liveness: 100 })
    echoWorker(endpoint)
    const client = track(new MajordomoClient(endpoint, { timeout: 5000, retries: 0 }))
    expect(strings(await client.request("echo", "before"))).toEqual(["before"])

    const junk = track(new zmq.Dealer({ linger: 0 }))
    junk.connect(endpoint)
    const garbage: (string | Buffer)[][] = [
      [""],
      ["MDPC02"],
      ["MDPC02", cmd(1)],
      ["MDPC02", cmd(1), "echo"],
      ["MDPC02", Buffer.from([1, 1]), "echo", "x"],
      ["MDPC02", cmd(7), "echo", "x"],
      ["MDPC01", cmd(1), "echo", "x"],
      ["", "MDPC01", "echo", "x"],
      ["", "MDPW01", cmd(1), "echo"],
      [Buffer.alloc(70_000, 1)],
    ]
    for (const m of garbage) await junk.send(m)

    // A worker that is not registered is told to go away, whatever it sends (but DISCONNECT).
    const stranger = track(new Dealer({ linger: 0, receiveTimeout: 5000 }))
    stranger.connect(endpoint)
    await stranger.send([MDPW, cmd(6)])
    for (const m of [[MDPW, cmd(5)], [MDPW, cmd(4), "nobody", "", "forged reply"], [MDPW], [MDPW, cmd(2), "x", "", "y"]]) {
      await stranger.send(m)
      expect(strings(await stranger.receive())).toEqual(["MDPW02", "\x06"])
    }

    // A registered worker that sends an invalid command, or READY again, is disconnected and dropped.
    for (const bad of [
      [MDPW, cmd(9)],
      [MDPW, cmd(1), "echo"],
      [MDPW, cmd(1)],
    ]) {
      const w = await rawWorker(broker, endpoint, "bad")
      await w.send(bad)
      expect(strings(await receiveCommand(w))).toEqual(["MDPW02", "\x06"])
      await waitFor(() => broker.stats().bad?.workers === 0, 5000, "dropped")
    }
    // Workers may not register mmi. services.
    const mmi = track(new Dealer({ linger: 0, receiveTimeout: 5000 }))
    mmi.connect(endpoint)
    await mmi.send([MDPW, cmd(1), "mmi.service"])
    expect(strings(await mmi.receive())).toEqual(["MDPW02", "\x06"])

    expect(await tryReceive(junk, 100)).toBeUndefined()
    expect(strings(await client.request("echo", "after"))).toEqual(["after"])
    expect(broker.stats().echo).toMatchObject({ workers: 1, queued: 0 })
  })
})

describe("Majordomo interop with raw MDP peers on libzmq (the zeromq package)", () => {
  it("libzmq client (DEALER, raw MDPC02 frames) → omq broker → omq worker", async () => {
    const { endpoint } = await startBroker()
    echoWorker(endpoint, "omq:")
    const client = track(new zmq.Dealer({ linger: 0, receiveTimeout: 5000 }))
    client.connect(endpoint)
    await client.send([MDPC, cmd(1), "echo", "from libzmq", "2nd"])
    expect(strings(await client.receive())).toEqual(["MDPC02", "\x03", "echo", "omq:from libzmq", "omq:2nd"])
    await client.send([MDPC, cmd(1), "mmi.service", "echo"])
    expect(strings(await client.receive())).toEqual(["MDPC02", "\x03", "mmi.service", "200"])
  })

  it("omq client → omq broker → libzmq worker (DEALER, raw MDPW02 frames, heartbeats both ways)", async () => {
    const { broker, endpoint } = await startBroker()
    // One loop does all the sending (zeromq.js allows one send at a time): a HEARTBEAT every 50 ms, FINAL for each REQUEST.
    const worker = track(new zmq.Dealer({ linger: 0, receiveTimeout: 20 }))
    worker.connect(endpoint)
    await worker.send([MDPW, cmd(1), "upper"])
    let heartbeats = 0
    let stop = false
    const serving = (async () => {
      let lastBeat = Date.now()
      while (!stop) {
        if (Date.now() - lastBeat >= 50) {
          lastBeat = Date.now()
          await worker.send([MDPW, cmd(5)])
        }
        let frames: Buffer[]
        try {
          frames = await worker.receive()
        } catch {
          continue // receiveTimeout: time for a heartbeat, or to look at `stop`
        }
        if (frames[1]![0] === 0x05) heartbeats++
        if (frames[1]![0] !== 0x02) continue
        const [, , clientAddr, empty, ...body] = frames
        await worker.send([MDPW, cmd(4), clientAddr!, empty!, ...body.map((b) => String(b).toUpperCase())])
      }
    })()
    try {
      await waitFor(() => broker.stats().upper?.workers === 1, 5000, "the libzmq worker registered")
      const client = track(new MajordomoClient(endpoint, { timeout: 5000, retries: 0 }))
      expect(strings(await client.request("upper", "hello", "libzmq"))).toEqual(["HELLO", "LIBZMQ"])
      // Idle for several heartbeat intervals: the broker's heartbeats arrive, the worker stays registered.
      await waitFor(() => heartbeats >= 3, 5000, "heartbeats from the broker")
      expect(broker.stats().upper?.workers).toBe(1)
      expect(strings(await client.request("upper", "still"))).toEqual(["STILL"])
    } finally {
      stop = true
      await serving
      worker.close()
    }
  })
})
