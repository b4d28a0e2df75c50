/**
 * The durable forwarder between unmodified ZeroMQ peers (libzmq through the zeromq package on
 * both sides): a durable subscriber (named in its handshake) gets what it missed while away,
 * in order, and only it; anonymous subscribers get live messages only; a slow subscriber loses
 * nothing; the backlog survives a restart and a kill -9 of the device.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { DurableForwarder, type DurableForwarderOptions } from "../../lib/devices/queue/durable-forwarder.js"
import { Publisher, Subscriber } from "../../lib/index.js"
import { dataMessages, RawPeer } from "../features/feature-util.js"
import { bindRetry, freePort, waitFor } from "../helpers.js"

/** libzmq's ZMQ_METADATA (draft API, in the zeromq package's build): a property sent in the handshake. */
const ZMQ_METADATA = 95

/** Names a libzmq socket in its handshake: `X-Routing-Id: <id>` (zeromq.js types the low-level setter as protected). */
function announce(s: zmq.Socket, id: string | Buffer): void {
  const raw = s as unknown as { setStringOption(option: number, value: Buffer): void }
  raw.setStringOption(ZMQ_METADATA, Buffer.concat([Buffer.from("X-Routing-Id:"), Buffer.from(id)]))
}

const dirs: string[] = []
const closers: Array<() => unknown> = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-forwarder-"))
  dirs.push(dir)
  return dir
}

async function startDevice(options: Partial<DurableForwarderOptions> & { dir: string }): Promise<DurableForwarder> {
  const d = await DurableForwarder.start({
    fsync: { intervalMs: 50 },
    frontEnd: { bind: ["tcp://127.0.0.1:*"] },
    backEnd: { bind: ["tcp://127.0.0.1:*"] },
    ...options,
  })
  closers.push(() => d.close())
  return d
}

const frontOf = (d: DurableForwarder) => d.xsub.lastEndpoint!
const backOf = (d: DurableForwarder) => d.xpub.lastEndpoint!

function publisher(endpoint: string): zmq.Publisher {
  // A large HWM: the publisher never drops (the tests count every message).
  const p = new zmq.Publisher({ linger: 0, sendHighWaterMark: 100_000 })
  p.connect(endpoint)
  closers.push(() => p.close())
  return p
}

/** A libzmq SUB; with `id`, durable (the id goes in its handshake as X-Routing-Id). */
function subscriber(endpoint: string, id?: string | Buffer, topic = "t"): zmq.Subscriber {
  const s = new zmq.Subscriber({ linger: 0, receiveTimeout: 5000 })
  if (id !== undefined) announce(s, id)
  s.subscribe(topic)
  s.connect(endpoint)
  closers.push(() => s.close())
  return s
}

interface Receiver {
  receive(): Promise<Buffer[]>
}

/** The next message that is not a "warm" probe, as "topic:body". */
async function next(sub: Receiver): Promise<string> {
  for (;;) {
    const [topic, body] = await sub.receive()
    if (body?.toString() !== "warm") return `${topic!.toString()}:${body?.toString()}`
  }
}

/**
 * Waits until `sub` gets messages from `pub` through the device: subscriptions travel
 * upstream asynchronously, and a PUB drops what no subscription matches. One probe at a time,
 * a new one only if none arrived: probes still in flight are skipped by next().
 */
async function primed(pub: { send(m: string[]): Promise<void> }, sub: zmq.Subscriber | Subscriber, topic = "t"): Promise<void> {
  const end = Date.now() + 10_000
  const saved = sub.receiveTimeout
  sub.receiveTimeout = 50
  try {
    for (;;) {
      if (Date.now() > end) throw new Error("timed out waiting for the subscription to reach the publisher")
      await pub.send([topic, "warm"])
      try {
        await sub.receive()
        return
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") throw err
      }
    }
  } finally {
    sub.receiveTimeout = saved
  }
}

/** Like primed, for a subscriber that is away: until a probe is stored for it. */
async function primedStore(pub: { send(m: string[]): Promise<void> }, device: DurableForwarder, id: string | Buffer): Promise<void> {
  const before = device.subscriber(id)!.stored
  await waitFor(
    async () => {
      await pub.send(["t", "warm"])
      return device.subscriber(id)!.stored > before
    },
    10_000,
    "a probe stored for the absent subscriber",
  )
}

async function publish(pub: { send(m: string[]): Promise<void> }, from: number, to: number, topic = "t"): Promise<void> {
  for (let i = from; i < to; i++) await pub.send([topic, String(i)])
}

async function expectRun(sub: Receiver, from: number, to: number, topic = "t"): Promise<void> {
  for (let i = from; i < to; i++) expect(await next(sub)).toBe(`${topic}:${i}`)
}

async function disconnected(device: DurableForwarder, id: string | Buffer, sub: zmq.Subscriber): Promise<void> {
  sub.close()
  await waitFor(() => device.subscriber(id)?.connected === false, 5000, "the device to see the subscriber leave")
}

describe("durable forwarder (XSUB in, XPUB out, a backlog per durable subscriber)", () => {
  it("libzmq PUB → device → durable libzmq SUB: what it missed while away comes in order on reconnect, then live messages", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice")
    await primed(pub, alice)
    await publish(pub, 0, 10)
    await expectRun(alice, 0, 10)
    await disconnected(device, "alice", alice)

    await publish(pub, 10, 110)
    await waitFor(() => device.subscriber("alice")?.backlog === 100, 5000, "100 messages kept for alice")
    alice = subscriber(backOf(device), "alice")
    await expectRun(alice, 10, 110)
    await publish(pub, 110, 120)
    await expectRun(alice, 110, 120)
    await waitFor(() => device.subscriber("alice")?.backlog === 0, 5000, "alice's backlog emptied")
  })

  it("an anonymous SUB gets live messages only, as from a plain XPUB", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    const alice = subscriber(backOf(device), "alice")
    let anon = subscriber(backOf(device))
    await primed(pub, alice)
    await primed(pub, anon)
    anon.close()
    await publish(pub, 0, 50)
    await expectRun(alice, 0, 50)
    anon = subscriber(backOf(device))
    await primed(pub, anon)
    await publish(pub, 50, 60)
    // Nothing of 0..49: the first message after the probes is 50.
    await expectRun(anon, 50, 60)
    expect(device.subscribers().map((s) => s.id.toString())).toEqual(["alice"])
  })

  it("a second durable SUB is unaffected by the first's replay: no duplicates, no gap", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice")
    const bob = subscriber(backOf(device), "bob")
    await primed(pub, alice)
    await primed(pub, bob)
    await disconnected(device, "alice", alice)
    await publish(pub, 0, 200)
    await expectRun(bob, 0, 200)
    alice = subscriber(backOf(device), "alice")
    await expectRun(alice, 0, 200)
    await publish(pub, 200, 201)
    // Bob's next message is the new one: the replay to alice sent him nothing.
    expect(await next(bob)).toBe("t:200")
    expect(await next(alice)).toBe("t:200")
  })

  it("only what matches a durable subscriber's last subscriptions is kept for it", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice", "a")
    await primed(pub, alice, "a")
    await disconnected(device, "alice", alice)
    for (let i = 0; i < 20; i++) await pub.send([i % 2 === 0 ? "a" : "b", String(i)])
    await waitFor(() => device.subscriber("alice")?.backlog === 10, 5000, "the 10 matching messages kept")
    alice = subscriber(backOf(device), "alice", "a")
    for (let i = 0; i < 20; i += 2) expect(await next(alice)).toBe(`a:${i}`)
    expect(device.subscriber("alice")?.topics.map(String)).toEqual(["a"])
  })

  it("an unsubscribe from a durable subscriber ends what is kept for it on that topic, and is remembered", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice", "a")
    alice.subscribe("b")
    await primed(pub, alice, "b")
    alice.unsubscribe("b")
    await waitFor(() => device.subscriber("alice")?.topics.map(String).join() === "a", 5000, "the unsubscribe")
    await primed(pub, alice, "a")
    await disconnected(device, "alice", alice)
    for (let i = 0; i < 10; i++) await pub.send([i % 2 === 0 ? "a" : "b", String(i)])
    await pub.send(["a", "end"])
    alice = subscriber(backOf(device), "alice", "a")
    for (let i = 0; i < 10; i += 2) expect(await next(alice)).toBe(`a:${i}`)
    expect(await next(alice)).toBe("a:end")
  })

  it("a slow durable subscriber loses nothing: the device holds back at the store, not at the HWM", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    const alice = new zmq.Subscriber({ linger: 0, receiveTimeout: 5000, receiveHighWaterMark: 10 })
    announce(alice, "alice")
    alice.subscribe("t")
    alice.connect(backOf(device))
    closers.push(() => alice.close())
    await primed(pub, alice)
    const before = device.subscriber("alice")!.stored
    const N = 20_000 // many times every HWM on the way (pipes of 1,000 and 10, TCP buffers)
    await publish(pub, 0, N)
    await waitFor(() => device.subscriber("alice")!.stored === before + N, 10_000, "all stored")
    await expectRun(alice, 0, N)
    await waitFor(() => device.subscriber("alice")?.backlog === 0, 5000, "alice's backlog emptied")
    expect(device.subscriber("alice")?.dropped).toBe(0)
  }, 60_000)

  it("the backlog and the subscriptions survive a restart: publishers keep sending what matches while the subscriber is away", async () => {
    const dir = tempDir()
    const inPort = await freePort()
    const outPort = await freePort()
    const opts = { dir, frontEnd: { bind: [`tcp://127.0.0.1:${inPort}`] }, backEnd: { bind: [`tcp://127.0.0.1:${outPort}`] } }
    let device = await startDevice(opts)
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice")
    await primed(pub, alice)
    await disconnected(device, "alice", alice)
    await publish(pub, 0, 100)
    // Single-frame messages too (stored as the frame itself; multipart ones as a CBOR array).
    for (let i = 0; i < 5; i++) await pub.send(`t/single-${i}`)
    await waitFor(() => device.subscriber("alice")?.backlog === 105, 5000, "105 kept")
    await device.close()

    device = await startDevice(opts)
    expect(device.subscriber("alice")).toMatchObject({ connected: false, backlog: 105 })
    expect(device.subscriber("alice")?.topics.map(String)).toEqual(["t"])
    // No subscriber is connected, yet the device subscribed upstream for alice.
    await waitFor(
      async () => {
        await pub.send(["t", "warm"])
        return (device.subscriber("alice")?.stored ?? 0) > 0
      },
      10_000,
      "the restarted device's subscription to reach the publisher",
    )
    await publish(pub, 100, 150)
    alice = subscriber(backOf(device), "alice")
    await expectRun(alice, 0, 100)
    for (let i = 0; i < 5; i++) expect((await alice.receive()).map(String)).toEqual([`t/single-${i}`])
    await expectRun(alice, 100, 150)
  }, 30_000)

  it("the device may connect to both ends: a durable SUB that binds gets its backlog when it binds again", async () => {
    const pubPort = await freePort()
    const subPort = await freePort()
    const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 100_000 })
    await pub.bind(`tcp://127.0.0.1:${pubPort}`)
    closers.push(() => pub.close())
    const bound = async (): Promise<zmq.Subscriber> => {
      const s = new zmq.Subscriber({ linger: 0, receiveTimeout: 5000 })
      announce(s, "alice")
      s.subscribe("t")
      await bindRetry(s, `tcp://127.0.0.1:${subPort}`)
      closers.push(() => s.close())
      return s
    }
    let alice = await bound()
    const device = await startDevice({
      dir: tempDir(),
      frontEnd: { connect: [`tcp://127.0.0.1:${pubPort}`] },
      backEnd: { connect: [`tcp://127.0.0.1:${subPort}`] },
    })
    await primed(pub, alice)
    await disconnected(device, "alice", alice)
    await publish(pub, 0, 50)
    await waitFor(() => device.subscriber("alice")?.backlog === 50, 5000, "50 kept")
    alice = await bound()
    await expectRun(alice, 0, 50)
  })

  it("maxBacklog: the oldest messages are dropped and counted", async () => {
    const device = await startDevice({ dir: tempDir(), maxBacklog: 50 })
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice")
    await primed(pub, alice)
    await disconnected(device, "alice", alice)
    const before = device.subscriber("alice")!.stored
    await publish(pub, 0, 120)
    await waitFor(() => device.subscriber("alice")?.stored === before + 120, 5000, "120 stored")
    expect(device.subscriber("alice")).toMatchObject({ backlog: 50, dropped: 70 })
    alice = subscriber(backOf(device), "alice")
    await expectRun(alice, 70, 120)
  })

  it("subscriberTtlMs: a subscriber absent that long is forgotten with its backlog", async () => {
    const device = await startDevice({ dir: tempDir(), subscriberTtlMs: 200 })
    const pub = publisher(frontOf(device))
    let alice = subscriber(backOf(device), "alice")
    await primed(pub, alice)
    await disconnected(device, "alice", alice)
    await publish(pub, 0, 10)
    await waitFor(() => device.subscriber("alice") === undefined, 5000, "alice forgotten")
    alice = subscriber(backOf(device), "alice")
    await primed(pub, alice)
    await publish(pub, 10, 12)
    await expectRun(alice, 10, 12)
  })

  it("a second connection with the same id takes over from the first", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    const first = subscriber(backOf(device), "alice")
    await primed(pub, first)
    const second = subscriber(backOf(device), "alice")
    await primed(pub, second)
    await publish(pub, 0, 10)
    await expectRun(second, 0, 10)
  })

  it("a routing id of 255 binary bytes works (libzmq's ZMQ_METADATA: any byte but NUL)", async () => {
    // libzmq copies a metadata value as a C string: a NUL would end it.
    const id = Buffer.from(Array.from({ length: 255 }, (_, i) => 1 + ((i * 37) % 255)))
    id[1] = 0x3a // ':'
    id[254] = 0xff
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    let odd = subscriber(backOf(device), id)
    await primed(pub, odd)
    expect(device.subscriber(id)?.id.equals(id)).toBe(true)
    expect(device.subscriber(id)?.queue).toMatch(/^fwd\/h-[0-9a-f]{32}$/)
    await disconnected(device, id, odd)
    await publish(pub, 0, 30)
    await waitFor(() => device.subscriber(id)?.backlog === 30, 5000, "30 kept")
    odd = subscriber(backOf(device), id)
    await expectRun(odd, 0, 30)
  })

  it("a routing id of any 255 bytes, NUL included, in the READY Identity property (a raw ZMTP peer)", async () => {
    const id = Buffer.from(Array.from({ length: 255 }, (_, i) => (i * 101) & 0xff))
    id[0] = 0
    const device = await startDevice({ dir: tempDir() })
    const pub = publisher(frontOf(device))
    const connect = (): RawPeer => {
      const peer = RawPeer.connect(backOf(device))
      closers.push(() => peer.destroy())
      peer.handshake("SUB", [["Identity", id]])
      // A ZMTP 3.0 subscription: a message 0x01 + topic (short frame: flags 0, size, body).
      peer.write(Buffer.from([0x00, 2, 0x01, 0x74]))
      return peer
    }
    let peer = connect()
    await waitFor(() => device.subscriber(id)?.topics.length === 1, 5000, "the raw peer's subscription")
    peer.destroy()
    await waitFor(() => device.subscriber(id)?.connected === false, 5000, "the raw peer gone")
    await primedStore(pub, device, id)
    const before = device.subscriber(id)!.stored
    await publish(pub, 0, 20)
    // Probes still in flight may be stored too (they come first, and are skipped).
    await waitFor(() => device.subscriber(id)!.stored >= before + 20, 5000, "20 kept")
    peer = connect()
    await peer.until(() => dataMessages(peer.frames).filter((m) => m[1]!.toString() !== "warm").length === 20, 5000, "the replay")
    const got = dataMessages(peer.frames)
      .filter((m) => m[1]!.toString() !== "warm")
      .map((m) => m[1]!.toString())
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => String(i)))
  })

  it("omq PUB → device → omq SUB (anonymous) and a libzmq durable SUB side by side", async () => {
    const device = await startDevice({ dir: tempDir() })
    const pub = new Publisher({ linger: 0, sendHighWaterMark: 100_000 })
    pub.connect(frontOf(device))
    closers.push(() => pub.close())
    const sub = new Subscriber({ linger: 0, receiveTimeout: 5000 })
    sub.subscribe("t")
    sub.connect(backOf(device))
    closers.push(() => sub.close())
    let alice = subscriber(backOf(device), "alice")
    await primed(pub, sub)
    await primed(pub, alice)
    await disconnected(device, "alice", alice)
    await publish(pub, 0, 100)
    await expectRun(sub, 0, 100)
    alice = subscriber(backOf(device), "alice")
    await expectRun(alice, 0, 100)
  })

  it("kill -9 of the device while a durable subscriber receives: after a restart it gets every stored message, in order, nothing lost", async () => {
    const dir = tempDir()
    const inPort = await freePort()
    const outPort = await freePort()
    const CHILD = fileURLToPath(new URL("./fixtures/forwarder-device.ts", import.meta.url))
    interface Report {
      connected: boolean
      backlog: number
      stored: number
    }
    /** Starts the device process; resolves on its first report, and `report` follows the latest. */
    const start = async (): Promise<{ child: ChildProcess; report: () => Report | undefined }> => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(inPort), String(outPort), "alice"], {
        stdio: ["ignore", "pipe", "pipe"],
      })
      let latest: Report | undefined
      let stderr = ""
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
      createInterface({ input: child.stdout! }).on("line", (line) => (latest = JSON.parse(line) as Report))
      await waitFor(() => latest !== undefined, 20_000, `the device process to start (${stderr})`)
      return { child, report: () => latest }
    }
    let device = await start()
    closers.push(() => device.child.kill("SIGKILL"))
    const pub = publisher(`tcp://127.0.0.1:${inPort}`)
    let alice = subscriber(`tcp://127.0.0.1:${outPort}`, "alice")
    await primed(pub, alice)
    const received: number[] = []
    const receiving = (async () => {
      for (;;) {
        const m = await next(alice).catch(() => undefined)
        if (m === undefined) return
        received.push(Number(m.slice(2)))
      }
    })()
    // Published faster than fsync "always" stores, so the device is killed in the middle of it.
    const N = 5000
    const publishing = publish(pub, 0, N)
    await waitFor(() => (device.report()?.stored ?? 0) >= 500, 20_000, "500 stored")
    device.child.kill("SIGKILL")
    await new Promise((resolve) => device.child.once("exit", resolve))
    await publishing
    alice.close()
    await receiving
    // What the device reported stored (a lower bound of what was): 0..storedBefore-1, in order.
    const storedBefore = device.report()!.stored
    expect(received).toEqual(received.map((_, i) => i))

    device = await start()
    // Before alice connects: once she does, her connection takes from the backlog and the reported figure drops.
    const backlog = device.report()!.backlog
    alice = subscriber(`tcp://127.0.0.1:${outPort}`, "alice")
    // The restarted device has what alice had not taken: the rest of the stored messages, in order.
    // Duplicates: at most what had been taken but whose removal was not on disk at the kill.
    const first = Number((await next(alice)).slice(2))
    expect(first).toBeLessThanOrEqual(received.length)
    for (let i = first + 1; i < first + backlog; i++) expect(await next(alice)).toBe(`t:${i}`)
    // Seen once under CI load, not reproduced since: print what the next failure needs for a diagnosis.
    if (first + backlog < storedBefore) {
      // Seen again (2026-12-01, under a full run): {first 1018, backlog 517, storedBefore 1536,
      // received 1535, last 1534}. Is the missing one lost, or only missing from the restarted
      // device's first report of its backlog? What alice gets next tells.
      const after = await Promise.race([next(alice), new Promise<string>((r) => setTimeout(() => r("nothing in 2 s"), 2000))])
      console.log(
        "durable-forwarder kill -9:",
        JSON.stringify({ first, backlog, storedBefore, received: received.length, last: received.at(-1), after, reportNow: device.report() }),
      )
    }
    expect(first + backlog).toBeGreaterThanOrEqual(storedBefore)
    // Then live messages.
    await primed(pub, alice)
    await publish(pub, N, N + 5)
    await expectRun(alice, N, N + 5)
  }, 90_000)
})
