/**
 * The transport seam: a transport registered by scheme, over byte streams that are not
 * net.Sockets, carries ZMTP for every socket without any change outside lib/transports/.
 * The test transport `mem://` joins two in-memory Duplex streams.
 */
import { Duplex } from "node:stream"
import { afterEach, describe, expect, it } from "vitest"
import { Dealer, Pull, Push, Router } from "../../lib/index.js"
import { registerTransport, transportOf } from "../../lib/transports/index.js"
import { streamTransport } from "../../lib/transports/stream-transport.js"
import type { Endpoint, Listener } from "../../lib/transports/transport.js"
import type { DialedStream } from "../../lib/transports/connecter.js"
import { waitFor } from "../helpers.js"

interface MemEndpoint extends Endpoint {
  readonly transport: "mem"
  readonly name: string
}

/** Two Duplex streams, each reading what the other writes. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = []
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        other().push(chunk)
        done()
      },
      final(done) {
        other().push(null)
        done()
      },
      destroy(err, done) {
        other().destroy()
        done(err)
      },
    })
  ends.push(
    make(() => ends[1]!),
    make(() => ends[0]!),
  )
  return [ends[0]!, ends[1]!]
}

const listening = new Map<string, (s: DialedStream) => void>()
let dials = 0

function listen(ep: MemEndpoint, onConnection: (s: DialedStream) => void): Listener {
  if (listening.has(ep.name)) throw Object.assign(new Error("Address already in use"), { code: "EADDRINUSE" })
  listening.set(ep.name, onConnection)
  return { endpoint: ep.raw, close: () => listening.delete(ep.name) }
}

registerTransport(
  streamTransport<MemEndpoint, DialedStream>({
    scheme: "mem",
    parse: (address) => ({ transport: "mem", name: address.slice("mem://".length), raw: address }),
    listen: (ep, onConnection) => Promise.resolve(listen(ep, onConnection)),
    listenSync: listen,
    dial(ep) {
      dials++
      const [ours, theirs] = duplexPair()
      process.nextTick(() => {
        const accept = listening.get(ep.name)
        if (accept === undefined) {
          ours.emit("error", Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" }))
          return
        }
        accept(theirs as unknown as DialedStream)
        ours.emit("connect")
      })
      return ours as unknown as DialedStream
    },
    remoteAddress: () => "",
  }),
)

const open: Array<{ close(): void }> = []
function track<T extends { close(): void }>(s: T): T {
  open.push(s)
  return s
}
afterEach(() => {
  for (const s of open.splice(0)) s.close()
})

describe("a transport registered by scheme", () => {
  it("is found for its addresses; other schemes are still refused as libzmq does", () => {
    expect(transportOf("mem://a").scheme).toBe("mem")
    expect(() => transportOf("nope://a")).toThrow(expect.objectContaining({ code: "EPROTONOSUPPORT" }))
    expect(() => transportOf("udp://a")).toThrow(expect.objectContaining({ code: "ENOCOMPATPROTO" }))
  })

  it("carries ZMTP between PUSH and PULL over streams that are not net sockets, with the socket events", async () => {
    const pull = track(new Pull({ linger: 0 }))
    const push = track(new Push({ linger: 0 }))
    const events: string[] = []
    void (async () => {
      for await (const e of pull.events) events.push(e.type)
    })()
    await pull.bind("mem://pushpull")
    expect(pull.lastEndpoint).toBe("mem://pushpull")
    push.connect("mem://pushpull")
    for (let i = 0; i < 100; i++) await push.send(`message ${i}`)
    for (let i = 0; i < 100; i++) expect((await pull.receive())[0]!.toString()).toBe(`message ${i}`)
    await waitFor(() => events.includes("handshake"), 5000, "the handshake event")
    expect(events).toEqual(expect.arrayContaining(["bind", "accept", "handshake"]))
  })

  it("routes by identity: DEALER → ROUTER and back", async () => {
    const router = track(new Router({ linger: 0 }))
    const dealer = track(new Dealer({ routingId: "d1", linger: 0 }))
    await router.bind("mem://routing")
    dealer.connect("mem://routing")
    await dealer.send("ping")
    const [id, body] = await router.receive()
    expect(id!.toString()).toBe("d1")
    expect(body!.toString()).toBe("ping")
    await router.send([id!, "pong"])
    expect((await dealer.receive())[0]!.toString()).toBe("pong")
  })

  it("a connect before the bind is retried by the Connecter until the bind exists; queued messages then arrive", async () => {
    const push = track(new Push({ linger: 0, reconnectInterval: 10 }))
    const before = dials
    push.connect("mem://later")
    await push.send("queued before the bind")
    await waitFor(() => dials - before >= 2, 5000, "a retried dial")
    const pull = track(new Pull({ linger: 0 }))
    await pull.bind("mem://later")
    expect((await pull.receive())[0]!.toString()).toBe("queued before the bind")
  })

  it("unbind ends the accepted connections; a second bind of the name fails while the first holds it", async () => {
    const pull = track(new Pull({ linger: 0 }))
    await pull.bind("mem://once")
    const other = track(new Pull({ linger: 0 }))
    await expect(other.bind("mem://once")).rejects.toMatchObject({ code: "EADDRINUSE" })
    const push = track(new Push({ linger: 0 }))
    const events: string[] = []
    void (async () => {
      for await (const e of push.events) events.push(e.type)
    })()
    push.connect("mem://once")
    await push.send("one")
    expect((await pull.receive())[0]!.toString()).toBe("one")
    await pull.unbind("mem://once")
    await waitFor(() => events.includes("disconnect"), 5000, "the pusher's disconnect event")
  })
})
