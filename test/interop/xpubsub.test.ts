/**
 * Interop: XPUB/XSUB between omq and libzmq 4.3.5 (through zeromq.js 6),
 * over tcp and ipc. Subscriptions are messages here: 0x01 + topic to
 * subscribe, 0x00 + topic to unsubscribe, whichever way they travel on the
 * wire (ZMTP 3.1 SUBSCRIBE/CANCEL commands or 3.0 messages).
 *
 * No fixed sleeps: a subscription sent on a connection is known to be
 * processed once the XPUB hands over a later one from the same connection
 * (connections keep order), and every receive is bounded by receiveTimeout.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { TRANSPORTS, socketTracker } from "./peer-util.js"

const RCV = 5000
const OPTS = { linger: 0, receiveTimeout: RCV }
const SUB_OPTS = { linger: 0, receiveTimeout: RCV }

type Frame = string | Buffer
interface XPub {
  send(message: Frame | Frame[]): Promise<void>
  receive(): Promise<Buffer[]>
  bind(address: string): Promise<void>
  close(): void
  readonly lastEndpoint: string | null
}
interface XSub {
  send(message: Frame | Frame[]): Promise<void>
  receive(): Promise<Buffer[]>
  connect(address: string): void
  close(): void
}
interface Sub {
  receive(): Promise<Buffer[]>
  subscribe(...prefixes: Frame[]): void
  unsubscribe(...prefixes: Frame[]): void
  connect(address: string): void
  close(): void
}

// Closes tracked sockets after each test and removes the ipc files endpoint() handed out
// (libzmq leaves them behind on close).
const { track, endpoint } = socketTracker()

const buf = (f: Frame): Buffer => (typeof f === "string" ? Buffer.from(f) : f)
const show = (m: Buffer[]): string => JSON.stringify(m.map((b) => b.toString("hex")))
const showAll = (ms: Frame[][]): string[] => ms.map((m) => show(m.map(buf)))
const sub1 = (topic: Frame): Buffer => Buffer.concat([Buffer.from([1]), buf(topic)])
const unsub0 = (topic: Frame): Buffer => Buffer.concat([Buffer.from([0]), buf(topic)])

/** Receives `n` messages. */
async function take(s: { receive(): Promise<Buffer[]> }, n: number): Promise<string[]> {
  const got: string[] = []
  for (let i = 0; i < n; i++) got.push(show(await s.receive()))
  return got
}

/** Receives messages up to and including one whose first frame is `end`. */
async function takeUntil(s: { receive(): Promise<Buffer[]> }, end: Frame): Promise<string[]> {
  const e = buf(end)
  const got: string[] = []
  for (;;) {
    const m = await s.receive()
    got.push(show(m))
    if (m[0]!.equals(e)) return got
    if (got.length > 1000) throw new Error("end marker never came")
  }
}

const BIN = Buffer.from([0, 1, 2])

describe.each(TRANSPORTS)("XPUB/XSUB over %s", (t) => {
  it(`libzmq XSUB -> omq XPUB over ${t}: XPUB sees 0x01/0x00 subscription messages, XSUB gets only matching data`, async () => {
    const xpub = track(new omq.XPublisher(OPTS)) as unknown as XPub
    await xpub.bind(endpoint(t))
    const xsub = track(new zmq.XSubscriber(OPTS)) as unknown as XSub
    xsub.connect(xpub.lastEndpoint!)

    await xsub.send(sub1("topic"))
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("topic")]]))
    await xsub.send(sub1(BIN))
    expect(await take(xpub, 1)).toEqual(showAll([[sub1(BIN)]]))

    // Both subscriptions are in force at the XPUB: it filters.
    await xpub.send(["other", "x"])
    await xpub.send(["topic.1", "a", "b"])
    await xpub.send([Buffer.from([0, 1, 3]), "no"])
    await xpub.send([Buffer.from([0, 1, 2, 3]), "bin"])
    await xpub.send(["topic.end"])
    expect(await takeUntil(xsub, "topic.end")).toEqual(showAll([["topic.1", "a", "b"], [Buffer.from([0, 1, 2, 3]), "bin"], ["topic.end"]]))

    await xsub.send(unsub0("topic"))
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("topic")]]))
    await xpub.send(["topic.2", "unsubscribed"])
    await xpub.send([BIN, "end"])
    expect(await takeUntil(xsub, BIN)).toEqual(showAll([[BIN, "end"]]))

    // The empty topic (everything) is a lone 0x01 byte.
    await xsub.send(sub1(""))
    expect(await take(xpub, 1)).toEqual(showAll([[Buffer.from([1])]]))
    await xsub.send(unsub0(BIN))
    await xsub.send(unsub0(""))
    expect(await take(xpub, 2)).toEqual(showAll([[unsub0(BIN)], [Buffer.from([0])]]))
  })

  it(`omq XSUB -> libzmq XPUB over ${t}: XPUB sees 0x01/0x00 subscription messages, XSUB gets only matching data`, async () => {
    const xpub = track(new zmq.XPublisher(OPTS)) as unknown as XPub
    await xpub.bind(endpoint(t))
    const xsub = track(new omq.XSubscriber(OPTS)) as unknown as XSub
    xsub.connect(xpub.lastEndpoint!)

    await xsub.send([sub1("topic")])
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("topic")]]))
    await xsub.send([sub1(BIN)])
    expect(await take(xpub, 1)).toEqual(showAll([[sub1(BIN)]]))

    await xpub.send(["other", "x"])
    await xpub.send(["topic.1", "a", "b"])
    await xpub.send([Buffer.from([0, 1, 3]), "no"])
    await xpub.send([Buffer.from([0, 1, 2, 3]), "bin"])
    await xpub.send(["topic.end"])
    expect(await takeUntil(xsub, "topic.end")).toEqual(showAll([["topic.1", "a", "b"], [Buffer.from([0, 1, 2, 3]), "bin"], ["topic.end"]]))

    await xsub.send([unsub0("topic")])
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("topic")]]))
    await xpub.send(["topic.2", "unsubscribed"])
    await xpub.send([BIN, "end"])
    expect(await takeUntil(xsub, BIN)).toEqual(showAll([[BIN, "end"]]))

    await xsub.send([sub1("")])
    expect(await take(xpub, 1)).toEqual(showAll([[Buffer.from([1])]]))
    await xsub.send([unsub0(BIN)])
    await xsub.send([unsub0("")])
    expect(await take(xpub, 2)).toEqual(showAll([[unsub0(BIN)], [Buffer.from([0])]]))
  })

  it(`omq XSUB -> libzmq XPUB (verbosity allSubsUnsubs) over ${t}: every subscribe goes upstream, an unsubscribe only when the count drops to zero`, async () => {
    // The reference is libzmq's own XSUB (checked against libzmq XPUB):
    // sub a, sub a, unsub a, unsub a, unsub a -> [01 61], [01 61], [00 61].
    const xpub = track(new zmq.XPublisher({ ...OPTS, verbosity: "allSubsUnsubs" })) as unknown as XPub
    await xpub.bind(endpoint(t))
    const xsub = track(new omq.XSubscriber(OPTS)) as unknown as XSub
    xsub.connect(xpub.lastEndpoint!)
    // Connected first: subscriptions made before the connection are sent
    // once per topic (as libzmq's XSUB does), so the counting shows only on a live one.
    await xsub.send([sub1("w")])
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("w")]]))

    await xsub.send([sub1("a")])
    await xsub.send([sub1("a")])
    await xsub.send([unsub0("a")])
    await xsub.send([sub1("sync")])
    expect(await take(xpub, 3)).toEqual(showAll([[sub1("a")], [sub1("a")], [sub1("sync")]]))
    // Still subscribed to "a" after one of two unsubscribes.
    await xpub.send(["a.1"])
    await xpub.send(["sync.1"])
    expect(await takeUntil(xsub, "sync.1")).toEqual(showAll([["a.1"], ["sync.1"]]))

    await xsub.send([unsub0("a")])
    await xsub.send([unsub0("a")]) // not subscribed any more: nothing goes upstream
    await xsub.send([sub1("sync2")])
    expect(await take(xpub, 2)).toEqual(showAll([[unsub0("a")], [sub1("sync2")]]))
    await xpub.send(["a.2"])
    await xpub.send(["sync2.1"])
    expect(await takeUntil(xsub, "sync2.1")).toEqual(showAll([["sync2.1"]]))
  })

  it(`two libzmq SUBs -> omq XPUB (verbosity allSubs) over ${t}: the same topic gives two subscription messages`, async () => {
    const xpub = track(new omq.XPublisher({ ...OPTS, verbosity: "allSubs" })) as unknown as XPub
    await xpub.bind(endpoint(t))
    const a = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    const b = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    a.connect(xpub.lastEndpoint!)
    b.connect(xpub.lastEndpoint!)
    a.subscribe("t")
    b.subscribe("t")
    expect(await take(xpub, 2)).toEqual(showAll([[sub1("t")], [sub1("t")]]))

    // Both get data on "t" (the XPUB really holds both subscriptions).
    await xpub.send(["t.1", "x"])
    expect(show(await a.receive())).toBe(show([Buffer.from("t.1"), Buffer.from("x")]))
    expect(show(await b.receive())).toBe(show([Buffer.from("t.1"), Buffer.from("x")]))

    // allSubs does not pass every unsubscribe: only the last one for "t".
    a.unsubscribe("t")
    a.subscribe("sync-a")
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("sync-a")]]))
    b.unsubscribe("t")
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("t")]]))
  })

  it(`two libzmq SUBs -> omq XPUB (default verbosity) over ${t}: the same topic gives one subscription message`, async () => {
    const xpub = track(new omq.XPublisher(OPTS)) as unknown as XPub
    await xpub.bind(endpoint(t))
    const a = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    const b = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    a.connect(xpub.lastEndpoint!)
    b.connect(xpub.lastEndpoint!)
    a.subscribe("t")
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("t")]]))
    b.subscribe("t")
    b.subscribe("u") // after "t" on the same connection
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("u")]]))
  })

  it(`two libzmq SUBs -> omq XPUB (verbosity allSubsUnsubs) over ${t}: every subscribe and unsubscribe is passed`, async () => {
    const xpub = track(new omq.XPublisher({ ...OPTS, verbosity: "allSubsUnsubs" })) as unknown as XPub
    await xpub.bind(endpoint(t))
    const a = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    const b = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    a.connect(xpub.lastEndpoint!)
    b.connect(xpub.lastEndpoint!)
    a.subscribe("t")
    b.subscribe("t")
    expect(await take(xpub, 2)).toEqual(showAll([[sub1("t")], [sub1("t")]]))
    a.unsubscribe("t")
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("t")]]))
    b.unsubscribe("t")
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("t")]]))
  })

  it(`libzmq SUB -> omq XPUB over ${t}: closing the only SUB for a topic gives an unsubscribe message`, async () => {
    const xpub = track(new omq.XPublisher(OPTS)) as unknown as XPub
    await xpub.bind(endpoint(t))
    const a = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    a.connect(xpub.lastEndpoint!)
    a.subscribe("t")
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("t")]]))
    a.close()
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("t")]]))
  })

  it(`two libzmq SUBs -> omq XPUB over ${t}: closing one SUB keeps the shared topic, closing the last unsubscribes it`, async () => {
    const xpub = track(new omq.XPublisher(OPTS)) as unknown as XPub
    await xpub.bind(endpoint(t))
    const a = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    const b = track(new zmq.Subscriber(SUB_OPTS)) as unknown as Sub
    a.connect(xpub.lastEndpoint!)
    a.subscribe("t")
    a.subscribe("onlyA")
    expect((await take(xpub, 2)).sort()).toEqual(showAll([[sub1("onlyA")], [sub1("t")]]).sort())
    b.connect(xpub.lastEndpoint!)
    b.subscribe("sync0") // b connected: what follows is sent in this order
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("sync0")]]))
    b.subscribe("t")
    b.subscribe("sync1") // after "t" on b's connection
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("sync1")]]))

    // a goes away: "onlyA" has no subscriber left, "t" still has b.
    a.close()
    expect(await take(xpub, 1)).toEqual(showAll([[unsub0("onlyA")]]))
    b.subscribe("sync2")
    expect(await take(xpub, 1)).toEqual(showAll([[sub1("sync2")]]))
    await xpub.send(["t.1", "still"])
    expect(show(await b.receive())).toBe(show([Buffer.from("t.1"), Buffer.from("still")]))

    b.close()
    expect((await take(xpub, 4)).sort()).toEqual(showAll([[unsub0("t")], [unsub0("sync0")], [unsub0("sync1")], [unsub0("sync2")]]).sort())
  })
})
