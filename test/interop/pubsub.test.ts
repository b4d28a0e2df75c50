/**
 * Interop: PUB/SUB between omq and libzmq 4.3.5 (through zeromq.js 6), both
 * directions, over tcp and ipc.
 *
 * Subscriptions travel upstream asynchronously (the "slow joiner"), so every
 * test first synchronises by publishing a probe message in a loop until the
 * subscriber sees it (with a deadline); never with a fixed sleep. A PUB/SUB
 * connection keeps order, so once a probe arrived, every subscription sent
 * before it on that connection is in force at the publisher, and every
 * message published after the probe is either delivered after it or
 * filtered out.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { bindRetry, delay } from "../helpers.js"
import { TRANSPORTS, socketTracker, type Transport } from "./peer-util.js"

/** Bound of a single receive: a failure shows up as EAGAIN, never as a hang. */
const RCV = 5000
/** How long a subscription (or a reconnect) may take to propagate. */
const SYNC_MS = 10_000
const SUB_OPTS = { linger: 0, receiveTimeout: RCV }
const PUB_OPTS = { linger: 0 }

type Frame = string | Buffer
interface Pub {
  send(message: Frame | Frame[]): Promise<void>
  bind(address: string): Promise<void>
  close(): void
  readonly lastEndpoint: string | null
}
interface Sub {
  receive(): Promise<Buffer[]>
  subscribe(...prefixes: Frame[]): void
  unsubscribe(...prefixes: Frame[]): void
  connect(address: string): void
  bind(address: string): Promise<void>
  close(): void
  readonly lastEndpoint: string | null
}

// Closes tracked sockets after each test and removes the ipc files endpoint() handed out
// (libzmq leaves them behind on close).
const { track, endpoint } = socketTracker()

const code = (err: unknown): unknown => (err as { code?: unknown } | null)?.code
const buf = (f: Frame): Buffer => (typeof f === "string" ? Buffer.from(f) : f)
const norm = (m: Frame[]): Buffer[] => m.map(buf)
const show = (m: Buffer[]): string => JSON.stringify(m.map((b) => b.toString("hex")))

function omqPub(extra: object = {}): Pub {
  return track(new omq.Publisher({ ...PUB_OPTS, ...extra })) as unknown as Pub
}
function zmqPub(extra: object = {}): Pub {
  return track(new zmq.Publisher({ ...PUB_OPTS, ...extra })) as unknown as Pub
}
function omqSub(extra: object = {}): Sub {
  return track(new omq.Subscriber({ ...SUB_OPTS, ...extra })) as unknown as Sub
}
function zmqSub(extra: object = {}): Sub {
  return track(new zmq.Subscriber({ ...SUB_OPTS, ...extra })) as unknown as Sub
}

/**
 * Publishes `probe` (a one-frame message) every 20 ms until `sub` receives
 * it. Any other message arriving meanwhile is an error. Throws at the
 * deadline. Later copies of the probe may still arrive: use `recv()`, which
 * skips them.
 */
async function sync(pub: Pub, sub: Sub, probe: Frame, ms = SYNC_MS): Promise<void> {
  const p = buf(probe)
  const end = Date.now() + ms
  let seen = false
  let failure: unknown
  const reader = (async () => {
    while (!seen && failure === undefined && Date.now() < end) {
      try {
        const m = await sub.receive()
        if (m.length === 1 && m[0]!.equals(p)) seen = true
        else failure = new Error(`unexpected message while waiting for probe ${p.toString()}: ${show(m)}`)
      } catch (err) {
        if (code(err) !== "EAGAIN") failure = err
      }
    }
  })()
  while (!seen && failure === undefined) {
    if (Date.now() > end) throw new Error(`probe ${p.toString()} never reached the subscriber within ${ms} ms`)
    await pub.send([p])
    await Promise.race([reader, delay(20)])
  }
  await reader
  if (failure !== undefined) throw failure
}

/** Receives the next message that is not a (late) copy of one of the probes. */
async function recv(sub: Sub, ...probes: Frame[]): Promise<Buffer[]> {
  const ps = probes.map(buf)
  for (;;) {
    const m = await sub.receive()
    if (m.length === 1 && ps.some((p) => p.equals(m[0]!))) continue
    return m
  }
}

/** Receives messages (skipping probes) up to and including one whose first frame is `end`. */
async function recvUntil(sub: Sub, end: Frame, ...probes: Frame[]): Promise<Buffer[][]> {
  const e = buf(end)
  const got: Buffer[][] = []
  for (;;) {
    const m = await recv(sub, ...probes)
    got.push(m)
    if (m[0]!.equals(e)) return got
    if (got.length > 1000) throw new Error("end marker never came")
  }
}

interface Pair {
  pub: Pub
  sub: Sub
}

type Direction = "omq PUB -> libzmq SUB" | "libzmq PUB -> omq SUB"
const DIRECTIONS: Direction[] = ["omq PUB -> libzmq SUB", "libzmq PUB -> omq SUB"]

/** A bound publisher and a connected subscriber of the given direction (nothing subscribed yet). */
async function pair(dir: Direction, t: Transport, pubOpts: object = {}, subOpts: object = {}): Promise<Pair> {
  const pub = dir === "omq PUB -> libzmq SUB" ? omqPub(pubOpts) : zmqPub(pubOpts)
  const sub = dir === "omq PUB -> libzmq SUB" ? zmqSub(subOpts) : omqSub(subOpts)
  await pub.bind(endpoint(t))
  sub.connect(pub.lastEndpoint!)
  return { pub, sub }
}

const BIN = Buffer.from([0, 1, 2])

describe.each(DIRECTIONS)("%s", (dir) => {
  describe.each(TRANSPORTS)("over %s", (t) => {
    it(`${dir} over ${t}: several prefixes (incl. binary), non-matching topics filtered, multipart kept`, async () => {
      const { pub, sub } = await pair(dir, t)
      sub.subscribe("news.", "x", BIN)
      await sync(pub, sub, "x.probe")

      const matching: Frame[][] = [
        ["news.sports", "goal"],
        ["news."],
        ["news.weather", "", "sunny", Buffer.alloc(0)],
        ["x"],
        ["xyz", "a", "b", "c", "d"],
        [BIN, "bin"],
        [Buffer.from([0, 1, 2, 255, 0]), Buffer.alloc(3000, 9)],
      ]
      const nonMatching: Frame[][] = [
        ["news"], // shorter than the prefix
        ["new.sports", "goal"],
        ["NEWS.sports"],
        ["y", "x"], // only the first frame counts
        [""], // empty topic
        ["", "news."],
        [Buffer.from([0, 1])],
        [Buffer.from([0, 1, 3])],
        [Buffer.from([1, 0, 1, 2])],
        ["X"],
      ]
      for (let i = 0; i < Math.max(matching.length, nonMatching.length); i++) {
        if (nonMatching[i]) await pub.send(nonMatching[i]!)
        if (matching[i]) await pub.send(matching[i]!)
      }
      await pub.send(["x.end"])

      const got = await recvUntil(sub, "x.end", "x.probe")
      expect(got.map(show)).toEqual([...matching, ["x.end"]].map((m) => show(norm(m))))
    })

    it(`${dir} over ${t}: the empty prefix receives everything, multipart intact`, async () => {
      const { pub, sub } = await pair(dir, t)
      sub.subscribe()
      await sync(pub, sub, "probe")

      const all: Frame[][] = [
        ["anything"],
        [""],
        ["", "second", ""],
        [Buffer.from([0])],
        [Buffer.from([1, 2, 3]), "tail"],
        [Buffer.from([0, 1, 2]), "a", "b"],
        ["multi", "part", "message", "with", "six", "frames"],
        [Buffer.alloc(70_000, 0xab), Buffer.alloc(300, 1)], // large frame
      ]
      for (const m of all) await pub.send(m)
      await pub.send(["end"])

      const got = await recvUntil(sub, "end", "probe")
      expect(got.map(show)).toEqual([...all, ["end"]].map((m) => show(norm(m))))
    })

    it(`${dir} over ${t}: subscribe twice + unsubscribe once = still subscribed`, async () => {
      const { pub, sub } = await pair(dir, t)
      sub.subscribe("a")
      sub.subscribe("a")
      sub.unsubscribe("a")
      // A subscription sent after the unsubscribe: once "m1" passes the
      // publisher's filter, the unsubscribe was processed there too.
      sub.subscribe("m1")
      await sync(pub, sub, "m1.probe")

      await pub.send(["b", "not subscribed"])
      await pub.send(["a.1", "still subscribed"])
      await pub.send(["m1.end"])
      expect((await recvUntil(sub, "m1.end", "m1.probe")).map(show)).toEqual(
        [["a.1", "still subscribed"], ["m1.end"]].map((m) => show(norm(m))),
      )

      // Control: the second unsubscribe does end it.
      sub.unsubscribe("a")
      sub.subscribe("m2")
      await sync(pub, sub, "m2.probe")
      await pub.send(["a.2", "unsubscribed now"])
      await pub.send(["m2.end"])
      expect((await recvUntil(sub, "m2.end", "m1.probe", "m2.probe")).map(show)).toEqual([show([Buffer.from("m2.end")])])
    })
  })
})

describe.each(TRANSPORTS)("slow subscriber over %s", (t) => {
  const COUNT = 20_000
  const SIZE = 2048
  /**
   * Messages per round. The publisher runs ahead of the fast subscriber by
   * at most one round (< its HWM of 1000), so the fast one never loses a
   * message however the machine schedules the libzmq I/O thread; the slow
   * one stops reading and is more than COUNT messages behind by the end.
   */
  const ROUND = 500

  for (const fastKind of ["libzmq", "omq"] as const) {
    it(`omq PUB -> slow libzmq SUB + fast ${fastKind} SUB over ${t}: the slow one does not block or slow the publisher`, async () => {
      // sendTimeout: a send that blocked would fail with EAGAIN instead of hanging.
      const pub = omqPub({ sendHighWaterMark: 1000, sendTimeout: 2000 })
      await pub.bind(endpoint(t))
      // The slow subscriber reads only the probe, then never again until the end.
      const slow = zmqSub({ receiveHighWaterMark: 10, receiveTimeout: 1000 })
      slow.subscribe()
      slow.connect(pub.lastEndpoint!)
      await sync(pub, slow, "probe-slow")

      const fast = fastKind === "libzmq" ? zmqSub({ receiveHighWaterMark: 100_000 }) : omqSub({ receiveHighWaterMark: 100_000 })
      fast.subscribe()
      fast.connect(pub.lastEndpoint!)
      await sync(pub, fast, "probe-fast")

      // Reads every data message; sequence numbers must be 0..COUNT-1 in order.
      let got = 0
      let outOfOrder = 0
      let readError: unknown
      const reader = (async () => {
        try {
          while (got < COUNT) {
            const m = await recv(fast, "probe-slow", "probe-fast")
            const seq = m[0]!.readUInt32BE(0)
            if (seq !== got) outOfOrder++
            got++
          }
        } catch (err) {
          readError = err // EAGAIN: nothing for RCV ms; `got` tells how many arrived
        }
      })()

      const payload = Buffer.alloc(SIZE, 0x5a)
      let maxSendMs = 0
      const t0 = Date.now()
      for (let i = 0; i < COUNT; i++) {
        const head = Buffer.alloc(4)
        head.writeUInt32BE(i)
        const s0 = performance.now()
        await pub.send([head, payload])
        maxSendMs = Math.max(maxSendMs, performance.now() - s0)
        if ((i + 1) % ROUND === 0) {
          // Paced by the fast subscriber (poll with a deadline), never by the slow one.
          const end = Date.now() + RCV
          while (got <= i && readError === undefined && Date.now() < end) await delay(1)
          if (got <= i) break
        }
      }
      const totalMs = Date.now() - t0

      await reader
      expect({ got, readError }).toEqual({ got: COUNT, readError: undefined })
      expect(outOfOrder).toBe(0)
      // PUB never blocks: each send() settles at once; the whole run is quick.
      expect(maxSendMs).toBeLessThan(1000)
      expect(totalMs).toBeLessThan(12_000)

      // The slow subscriber really was slow: it lost messages (PUB dropped them for it alone).
      let slowGot = 0
      try {
        for (;;) {
          const m = await slow.receive()
          if (m.length === 2) slowGot++
        }
      } catch (err) {
        expect(code(err)).toBe("EAGAIN")
      }
      expect(slowGot).toBeLessThan(COUNT)
    })
  }
})

describe.each(TRANSPORTS)("restart over %s", (t) => {
  it(`libzmq PUB restarted -> omq SUB over ${t}: subscriptions restored without subscribe() again`, async () => {
    const sub = omqSub({ reconnectInterval: 20 })
    let pub = zmqPub()
    await pub.bind(endpoint(t))
    const address = pub.lastEndpoint!
    sub.subscribe("keep.")
    sub.connect(address)
    await sync(pub, sub, "keep.probe1")
    await pub.send(["other", "x"])
    await pub.send(["keep.data1", "x"])
    expect(show(await recv(sub, "keep.probe1"))).toBe(show(norm(["keep.data1", "x"])))

    pub.close()
    pub = zmqPub()
    await bindRetry(pub, address, SYNC_MS)
    // No subscribe() call: the omq SUB must resend "keep." on reconnect.
    await sync(pub, sub, "keep.probe2")
    await pub.send(["other", "y"])
    await pub.send(["keep.data2", "y"])
    expect(show(await recv(sub, "keep.probe1", "keep.probe2"))).toBe(show(norm(["keep.data2", "y"])))
  })

  it(`omq PUB restarted -> libzmq SUB over ${t}: the libzmq SUB resubscribes and omq PUB accepts it`, async () => {
    const sub = zmqSub({ reconnectInterval: 20 })
    let pub = omqPub()
    await pub.bind(endpoint(t))
    const address = pub.lastEndpoint!
    sub.subscribe("keep.")
    sub.connect(address)
    await sync(pub, sub, "keep.probe1")
    await pub.send(["other", "x"])
    await pub.send(["keep.data1", "x"])
    expect(show(await recv(sub, "keep.probe1"))).toBe(show(norm(["keep.data1", "x"])))

    pub.close()
    pub = omqPub()
    await bindRetry(pub, address, SYNC_MS)
    await sync(pub, sub, "keep.probe2")
    await pub.send(["other", "y"])
    await pub.send(["keep.data2", "y"])
    expect(show(await recv(sub, "keep.probe1", "keep.probe2"))).toBe(show(norm(["keep.data2", "y"])))
  })
})
