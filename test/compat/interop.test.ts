/**
 * omq/v5-compat sockets against real libzmq sockets (the `zeromq` package, zeromq.js 6 on
 * libzmq 4.3.5), in both directions, each side binding in turn: PUSH/PULL, REQ/REP, PUB/SUB.
 */
import { describe, expect, it } from "vitest"
import * as libzmq from "zeromq"
import * as zmq from "../../lib/entry/v5-compat.js"
import { bound, compatSockets, messages, nextEvent, sent } from "../helpers/v5-compat.js"
import { BOUNDED, IO_TIMEOUT, socketTracker } from "../interop/peer-util.js"

const socket = compatSockets()
const t = socketTracker()

/** A libzmq socket with bounded I/O, closed after the test. */
function native<S extends { close(): void }>(s: S): S {
  return t.track(s)
}

/** Binds one side and connects the other; returns nothing, the sockets are connected. */
async function link(
  compat: zmq.Socket,
  peer: { bind(a: string): Promise<void>; connect(a: string): void; readonly lastEndpoint: string | null },
  compatBinds: boolean,
): Promise<void> {
  if (compatBinds) {
    peer.connect(await bound(compat))
  } else {
    await peer.bind("tcp://127.0.0.1:*")
    compat.connect(peer.lastEndpoint!)
  }
}

const binders = [true, false] as const
const who = (compatBinds: boolean) => (compatBinds ? "omq/v5-compat binds" : "libzmq binds")

describe("v5-compat ↔ libzmq", () => {
  for (const compatBinds of binders) {
    it(`v5-compat PUSH → libzmq PULL, multipart, in order (${who(compatBinds)})`, async () => {
      const push = socket("push")
      const pull = native(new libzmq.Pull({ linger: 0, receiveTimeout: IO_TIMEOUT }))
      await link(push, pull, compatBinds)
      push.send(["a", Buffer.from([0, 1, 2])], zmq.ZMQ_SNDMORE)
      push.send("end")
      for (let i = 0; i < 100; i++) push.send(`n${i}`)
      const first = await pull.receive()
      expect(first.map((f) => f.toString("hex"))).toEqual(["61", "000102", "656e64"])
      for (let i = 0; i < 100; i++) expect((await pull.receive()).map(String)).toEqual([`n${i}`])
    })

    it(`libzmq PUSH → v5-compat PULL, multipart, in order (${who(compatBinds)})`, async () => {
      const pull = socket("pull")
      const push = native(new libzmq.Push({ linger: 0, sendTimeout: IO_TIMEOUT }))
      await link(pull, push, compatBinds)
      const got = messages(pull, 101)
      await push.send(["a", "b", ""])
      for (let i = 0; i < 100; i++) await push.send(`n${i}`)
      const all = await got
      expect(all[0]).toEqual(["a", "b", ""])
      expect(all.slice(1)).toEqual(Array.from({ length: 100 }, (_, i) => [`n${i}`]))
    })

    it(`v5-compat REQ → libzmq REP, a burst of requests answered in order (${who(compatBinds)})`, async () => {
      const req = socket("req")
      const rep = native(new libzmq.Reply(BOUNDED))
      await link(req, rep, compatBinds)
      const replies = messages(req, 5)
      for (let i = 0; i < 5; i++) req.send(`q${i}`)
      for (let i = 0; i < 5; i++) {
        const [msg] = await rep.receive()
        await rep.send(`re: ${msg!.toString()}`)
      }
      expect(await replies).toEqual([["re: q0"], ["re: q1"], ["re: q2"], ["re: q3"], ["re: q4"]])
    })

    it(`libzmq REQ → v5-compat REP (${who(compatBinds)})`, async () => {
      const rep = socket("rep")
      rep.on("message", (...frames: Buffer[]) => rep.send(["re:", ...frames]))
      const req = native(new libzmq.Request(BOUNDED))
      await link(rep, req, compatBinds)
      for (let i = 0; i < 5; i++) {
        await req.send(["q", String(i)])
        expect((await req.receive()).map(String)).toEqual(["re:", "q", String(i)])
      }
    })
  }

  it("libzmq PUB → v5-compat SUB, filtered by subscribe()", async () => {
    const sub = socket("sub")
    sub.subscribe("news")
    const pub = native(new libzmq.Publisher({ linger: 0, sendTimeout: IO_TIMEOUT }))
    await pub.bind("tcp://127.0.0.1:*")
    sub.connect(pub.lastEndpoint!)
    // The subscription reaches the publisher asynchronously: publish until it arrives.
    const first = nextEvent(sub, "message")
    const timer = setInterval(() => void pub.send("news: first"), 5)
    try {
      await first
    } finally {
      clearInterval(timer)
    }
    const got = messages(sub, 1, (f) => f[0] !== "news: first")
    await pub.send("sports: dropped")
    await pub.send("news: second")
    expect(await got).toEqual([["news: second"]])
  })

  it("v5-compat ROUTER answers a libzmq DEALER by the routing id it announced", async () => {
    const router = socket("router")
    router.on("message", (id: Buffer, ...frames: Buffer[]) => router.send([id, "re:", ...frames]))
    const dealer = native(new libzmq.Dealer({ ...BOUNDED, routingId: "dealer-1" }))
    dealer.connect(await bound(router))
    await dealer.send("hello")
    expect((await dealer.receive()).map(String)).toEqual(["re:", "hello"])
    const ids: string[] = []
    router.on("message", (id: Buffer) => ids.push(id.toString()))
    await dealer.send("again")
    await dealer.receive()
    expect(ids).toEqual(["dealer-1"])
    await expect(sent(router, ["dealer-1", "direct"])).resolves.toBeUndefined()
    expect((await dealer.receive()).map(String)).toEqual(["direct"])
  })
})
