/**
 * Interop with ZMTP 1.0 peers (RFC 13, libzmq 2.x), scripted with node:net in
 * both directions: a 1.0 client connects to an omq socket, and an omq socket
 * connects to a 1.0 server. Version detection is RFC 15 "Backwards
 * Interoperability": the 1.0 peer's first octet is not 0xFF, and omq's
 * signature reads to it as the header of omq's identity frame.
 *
 * Covered: PUSH/PULL (multipart, empty and long frames), REQ/REP (the empty
 * delimiter travels as a frame), ROUTER with the 1.0 identity as routing id
 * (and a generated one for an anonymous peer), DEALER's routing id as its
 * identity, PUB/SUB (a 1.0 subscriber sends no subscriptions and filters
 * itself, so omq's PUB sends it everything, as libzmq does), the exact bytes omq
 * answers versioned old peers with (a ZMTP 2.0 and a revision-0 greeting,
 * scripted here so they run without a JDK; jeromq.test.ts has a real 2.0
 * stack), and the refusals:
 * a 1.0 peer against CURVE/PLAIN/ZAP sockets, malformed 1.0 framing, an
 * oversized identity, all without disturbing other connections.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { Zmtp1Peer, Zmtp1Server, zmtp1Frame } from "../helpers/zmtp1-peer.js"
import { BOUNDED, withTimeout } from "./peer-util.js"

const open: { close(): void; destroy?: never }[] = []
const peers: Array<{ destroy(): void } | { close(): void }> = []
function track<T extends { close(): void }>(s: T): T {
  open.push(s as never)
  return s
}
function peer<T extends Zmtp1Peer | Zmtp1Server>(p: T): T {
  peers.push(p)
  return p
}
afterEach(() => {
  for (const s of open.splice(0)) s.close()
  for (const p of peers.splice(0)) {
    if ("destroy" in p) p.destroy()
    else p.close()
  }
})

const strs = (m: Buffer[]): string[] => m.map(String)
const big = Buffer.alloc(100 * 1024, 0x5a)

/** Waits for the first event of `type` on `sock` (bounded). */
function nextEvent(sock: omq.Socket, type: omq.EventType, ms = 5000): Promise<omq.Event> {
  return withTimeout(new Promise<omq.Event>((resolve) => sock.events.on(type, resolve)), ms, `a ${type} event`)
}

describe("ZMTP 1.0 client → omq (omq binds)", () => {
  it("PULL receives a 1.0 PUSH's messages: multipart, empty frames, a 100 KiB frame (long length); omq's identity reaches the peer", async () => {
    const pull = track(new omq.Pull(BOUNDED))
    await pull.bind("tcp://127.0.0.1:*")
    const p = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    p.sendIdentity()
    p.send(["one"])
    p.send(["a", "", "c"])
    p.send([Buffer.alloc(0)])
    p.send([big])
    expect(strs(await pull.receive())).toEqual(["one"])
    expect(strs(await pull.receive())).toEqual(["a", "", "c"])
    expect(strs(await pull.receive())).toEqual([""])
    expect((await pull.receive())[0]!.equals(big)).toBe(true)
    // omq's signature was the 10-octet header of an empty identity frame (flags 0x7F).
    const id = await p.readFrame()
    expect(id.body.length).toBe(0)
    expect(id.flags).toBe(0x7f)
  })

  it("REP answers a 1.0 REQ: the request arrives as [empty delimiter, body], the reply goes back behind the delimiter", async () => {
    const rep = track(new omq.Reply(BOUNDED))
    await rep.bind("tcp://127.0.0.1:*")
    const p = peer(await Zmtp1Peer.connect(rep.lastEndpoint!))
    p.sendIdentity("req-1")
    await p.readIdentity()
    for (const n of [1, 2]) {
      p.send(["", `hello ${n}`])
      expect(strs(await rep.receive())).toEqual([`hello ${n}`])
      await rep.send(`world ${n}`)
      expect(strs(await p.readMessage())).toEqual(["", `world ${n}`])
    }
  })

  it("ROUTER routes by the 1.0 identity, and gives an anonymous 1.0 peer a generated routing id", async () => {
    const router = track(new omq.Router(BOUNDED))
    await router.bind("tcp://127.0.0.1:*")
    const named = peer(await Zmtp1Peer.connect(router.lastEndpoint!))
    named.sendIdentity("client-1")
    named.send(["hi"])
    expect(strs(await router.receive())).toEqual(["client-1", "hi"])
    await router.send(["client-1", "back", ""])
    await named.readIdentity()
    expect(strs(await named.readMessage())).toEqual(["back", ""])

    const anon = peer(await Zmtp1Peer.connect(router.lastEndpoint!))
    anon.sendIdentity()
    anon.send(["who am i"])
    const [id, body] = await router.receive()
    expect(String(body)).toBe("who am i")
    expect(id!.length).toBe(5) // generated: a zero octet and 4 more, as libzmq
    expect(id![0]).toBe(0)
    await router.send([id!, "you are anonymous"])
    await anon.readIdentity()
    expect(strs(await anon.readMessage())).toEqual(["you are anonymous"])
  })

  it("PUB sends a 1.0 SUB everything (it sends no subscriptions and filters on its side, as libzmq treats it)", async () => {
    const pub = track(new omq.Publisher(BOUNDED))
    await pub.bind("tcp://127.0.0.1:*")
    const handshake = nextEvent(pub, "handshake")
    const p = peer(await Zmtp1Peer.connect(pub.lastEndpoint!))
    p.sendIdentity()
    await handshake
    await pub.send(["alpha", "1"])
    await pub.send("beta")
    await p.readIdentity()
    expect(strs(await p.readMessage())).toEqual(["alpha", "1"])
    expect(strs(await p.readMessage())).toEqual(["beta"])
  })

  it("XPUB sees the implied subscribe-to-all (0x01) of a 1.0 subscriber, as libzmq injects it", async () => {
    const xpub = track(new omq.XPublisher(BOUNDED))
    await xpub.bind("tcp://127.0.0.1:*")
    const p = peer(await Zmtp1Peer.connect(xpub.lastEndpoint!))
    p.sendIdentity()
    expect((await xpub.receive()).map((b) => [...b])).toEqual([[0x01]])
    await xpub.send("news")
    await p.readIdentity()
    expect(strs(await p.readMessage())).toEqual(["news"])
  })
})

describe("omq → ZMTP 1.0 server (omq connects)", () => {
  it("PUSH sends to a 1.0 PULL: identity (its routing id) first, then multipart, empty and 100 KiB frames in 1.0 framing", async () => {
    const srv = peer(await Zmtp1Server.listen())
    const push = track(new omq.Push({ ...BOUNDED, routingId: "pusher" }))
    push.connect(srv.endpoint)
    const p = await srv.accept()
    p.sendIdentity()
    await push.send(["x", "", "z"])
    await push.send(big)
    await push.send("")
    expect(String(await p.readIdentity())).toBe("pusher")
    expect(strs(await p.readMessage())).toEqual(["x", "", "z"])
    const long = await p.readMessage()
    expect(long.length).toBe(1)
    expect(long[0]!.equals(big)).toBe(true)
    expect(strs(await p.readMessage())).toEqual([""])
  })

  it("PULL receives from a 1.0 PUSH server", async () => {
    const srv = peer(await Zmtp1Server.listen())
    const pull = track(new omq.Pull(BOUNDED))
    pull.connect(srv.endpoint)
    const p = await srv.accept()
    p.sendIdentity("pusher")
    p.send(["from", "1.0"])
    p.send([big])
    expect(strs(await pull.receive())).toEqual(["from", "1.0"])
    expect((await pull.receive())[0]!.equals(big)).toBe(true)
  })

  it("REQ gets its reply from a 1.0 REP: the delimiter is sent as an empty frame and must come back", async () => {
    const srv = peer(await Zmtp1Server.listen())
    const req = track(new omq.Request(BOUNDED))
    req.connect(srv.endpoint)
    const p = await srv.accept()
    p.sendIdentity()
    await req.send("ping")
    await p.readIdentity()
    expect(strs(await p.readMessage())).toEqual(["", "ping"])
    p.send(["", "pong"])
    expect(strs(await req.receive())).toEqual(["pong"])
  })

  it("DEALER's routing id is its 1.0 identity; a 1.0 ROUTER's replies reach it", async () => {
    const srv = peer(await Zmtp1Server.listen())
    const dealer = track(new omq.Dealer({ ...BOUNDED, routingId: "omq-dealer" }))
    dealer.connect(srv.endpoint)
    const p = await srv.accept()
    p.sendIdentity("router")
    await dealer.send(["", "job"])
    expect(String(await p.readIdentity())).toBe("omq-dealer")
    expect(strs(await p.readMessage())).toEqual(["", "job"])
    p.send(["", "done"])
    expect(strs(await dealer.receive())).toEqual(["", "done"])
  })

  it("SUB sends its subscription as a 0x01 message and keeps only matching messages from a 1.0 PUB (which does not filter)", async () => {
    const srv = peer(await Zmtp1Server.listen())
    const sub = track(new omq.Subscriber(BOUNDED))
    sub.subscribe("a")
    sub.connect(srv.endpoint)
    const p = await srv.accept()
    p.sendIdentity()
    await p.readIdentity()
    // The subscription, as a message (RFC 15 "Publish-Subscribe"), tells us omq is ready.
    expect((await p.readMessage()).map((b) => b.toString("latin1"))).toEqual(["\x01a"])
    p.send(["b-1"])
    p.send(["a-1", "more"])
    p.send(["bb"])
    p.send(["a-2"])
    expect(strs(await sub.receive())).toEqual(["a-1", "more"])
    expect(strs(await sub.receive())).toEqual(["a-2"])
  })
})

describe("the greeting omq answers old versioned peers with (RFC 15; scripted, no JDK needed)", () => {
  /** A versioned peer's greeting: signature (padding not significant), revision, socket type. */
  const oldGreeting = (revision: number, socketType: number): Buffer =>
    Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f]), Buffer.from([revision, socketType])])

  it("a ZMTP 2.0 PUSH (revision 1): omq answers signature, major 3, its socket type (PULL = 7), its identity as a 2.0 frame, then takes 2.0 frames", async () => {
    const pull = track(new omq.Pull({ ...BOUNDED, routingId: "me" }))
    await pull.bind("tcp://127.0.0.1:*")
    const p = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    p.write(oldGreeting(1, 8))
    // RFC 15 frames: identity (final-short), then a 2-part message and a long final frame.
    const long = Buffer.alloc(9)
    long[0] = 0x02
    long.writeBigUInt64BE(BigInt(big.length), 1)
    p.write(Buffer.from([0x00, 0x00, 0x01, 0x02, 0x68, 0x69, 0x00, 0x00]), long, big)
    expect(strs(await pull.receive())).toEqual(["hi", ""])
    expect((await pull.receive())[0]!.equals(big)).toBe(true)
    const raw = await p.readRaw(10 + 2 + 4)
    expect([...raw]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 0, 3, 0x7f, 3, 7, 0x00, 2, 0x6d, 0x65])
  })

  it("a versioned ZMTP 1.0 PUSH (revision 0): same greeting from omq, then 1.0 frames both ways", async () => {
    const pull = track(new omq.Pull(BOUNDED))
    await pull.bind("tcp://127.0.0.1:*")
    const p = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    p.write(oldGreeting(0, 8))
    p.sendIdentity("old")
    p.send(["v1", "frames"])
    expect(strs(await pull.receive())).toEqual(["v1", "frames"])
    const raw = await p.readRaw(10 + 2 + 2)
    expect([...raw]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 7, 0x01, 0x00])
  })

  it("an omq PUSH connecting to a ZMTP 2.0 server sends its messages as 2.0 frames", async () => {
    const srv = peer(await Zmtp1Server.listen())
    const push = track(new omq.Push(BOUNDED))
    push.connect(srv.endpoint)
    const p = await srv.accept()
    p.write(oldGreeting(1, 7), Buffer.from([0x00, 0x00]))
    await push.send(["a", "bc"])
    const raw = await p.readRaw(12 + 2 + 3 + 4)
    expect([...raw.subarray(10)]).toEqual([3, 8, 0x00, 0x00, 0x01, 0x01, 0x61, 0x00, 0x02, 0x62, 0x63])
  })
})

describe("ZMTP 1.0 peers that must be refused (dropped, an event, other connections unharmed)", () => {
  it.each([
    ["CURVE server", () => ({ curveServer: true, curveSecretKey: omq.curveKeyPair().secretKey })],
    ["PLAIN server", () => ({ plainServer: true })],
    ["NULL with a ZAP domain", () => ({ zapDomain: "global" })],
  ])("a %s drops a 1.0 peer (no security handshake to run) with handshake:error:protocol ERR_ZMTP_MECHANISM_MISMATCH", async (_what, opts) => {
    const pull = track(new omq.Pull({ ...BOUNDED, ...opts() }))
    await pull.bind("tcp://127.0.0.1:*")
    const failed = nextEvent(pull, "handshake:error:protocol")
    const p = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    p.sendIdentity()
    p.send(["must not arrive"])
    const e = await failed
    expect((e.error as { code?: string }).code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
    await p.waitClosed()
  })

  it("drops a 1.0 peer sending a frame of length 0 after its identity; the next peer is served", async () => {
    const pull = track(new omq.Pull(BOUNDED))
    await pull.bind("tcp://127.0.0.1:*")
    const bad = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    bad.sendIdentity()
    bad.write(zmtp1Frame("ok"), Buffer.from([0x00, 0x00]))
    expect(strs(await pull.receive())).toEqual(["ok"])
    await bad.waitClosed()
    const good = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    good.sendIdentity()
    good.send(["after"])
    expect(strs(await pull.receive())).toEqual(["after"])
  })

  it("maxMessageSize bounds 1.0 peers: an identity or a frame claiming more is dropped at its length, before the body", async () => {
    const pull = track(new omq.Pull({ ...BOUNDED, maxMessageSize: 1000 }))
    await pull.bind("tcp://127.0.0.1:*")
    // 0xFF, a 1 TiB length, flags 0x00 and no body. The flags octet is needed for the identity: until a
    // 10th octet shows bit 0 clear, 0xFF + 8 octets could still be a signature (libzmq waits for it too).
    const claim = Buffer.alloc(10)
    claim[0] = 0xff
    claim.writeBigUInt64BE(2n ** 40n, 1)
    const bigId = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    bigId.write(claim)
    await bigId.waitClosed()
    const bigFrame = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    bigFrame.sendIdentity()
    bigFrame.write(claim)
    await bigFrame.waitClosed()
    const good = peer(await Zmtp1Peer.connect(pull.lastEndpoint!))
    good.sendIdentity()
    good.send(["fine"])
    expect(strs(await pull.receive())).toEqual(["fine"])
  })

  it("drops a 1.0 peer whose identity is longer than 255 octets (RFC 13: 1 to 255)", async () => {
    const router = track(new omq.Router(BOUNDED))
    await router.bind("tcp://127.0.0.1:*")
    const p = peer(await Zmtp1Peer.connect(router.lastEndpoint!))
    p.sendIdentity(Buffer.alloc(256, 0x41))
    p.send(["x"])
    await p.waitClosed()
    const good = peer(await Zmtp1Peer.connect(router.lastEndpoint!))
    good.sendIdentity("ok")
    good.send(["y"])
    expect(strs(await router.receive())).toEqual(["ok", "y"])
  })
})
