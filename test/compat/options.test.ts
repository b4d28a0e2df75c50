/**
 * omq/v5-compat options: setsockopt/getsockopt by ZMQ_* number and short name, the short-name
 * properties, libzmq's 0/1 booleans, strings given as Buffers, read-only and write-only
 * options, options of other socket types, subscribe/unsubscribe, and CURVE/PLAIN options
 * reaching the connection.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "../../lib/entry/v5-compat.js"
import { z85 } from "../../lib/entry/security.js"
import { bound, compatSockets, messages, nextEvent, until } from "../helpers/v5-compat.js"

const socket = compatSockets()
const einval = expect.objectContaining({ code: "EINVAL" })

describe("v5-compat: setsockopt and getsockopt", () => {
  it("set and read back by number and by short name; setsockopt returns the socket", () => {
    const s = socket("req")
    expect(s.getsockopt(zmq.ZMQ_BACKLOG)).toBe(100)
    expect(s.setsockopt(zmq.ZMQ_BACKLOG, 75)).toBe(s)
    expect(s.getsockopt(zmq.ZMQ_BACKLOG)).toBe(75)
    expect(s.setsockopt("backlog", 50).getsockopt("backlog")).toBe(50)
  })

  it("the integer options reach the socket (libzmq defaults read back, new values kept)", () => {
    const s = socket("dealer")
    const cases: Array<[number, number, number]> = [
      [zmq.ZMQ_SNDHWM, 1000, 5],
      [zmq.ZMQ_RCVHWM, 1000, 6],
      [zmq.ZMQ_LINGER, 0, 7], // compatSockets() creates sockets with linger 0
      [zmq.ZMQ_SNDTIMEO, -1, 8],
      [zmq.ZMQ_RECONNECT_IVL, 100, 9],
      [zmq.ZMQ_RECONNECT_IVL_MAX, 0, 10],
      [zmq.ZMQ_MAXMSGSIZE, -1, 11],
      [zmq.ZMQ_HEARTBEAT_IVL, 0, 12],
      [zmq.ZMQ_HEARTBEAT_TTL, 0, 1300],
      [zmq.ZMQ_HEARTBEAT_TIMEOUT, -1, 14],
      [zmq.ZMQ_CONNECT_TIMEOUT, 0, 15],
      [zmq.ZMQ_TCP_KEEPALIVE, -1, 1],
      [zmq.ZMQ_TCP_KEEPALIVE_IDLE, -1, 16],
      [zmq.ZMQ_AFFINITY, 0, 3],
      [zmq.ZMQ_RATE, 100, 17],
      [zmq.ZMQ_RECOVERY_IVL, 10000, 18],
      [zmq.ZMQ_SNDBUF, -1, 19],
      [zmq.ZMQ_RCVBUF, -1, 20],
      [zmq.ZMQ_MULTICAST_HOPS, 1, 21],
      [zmq.ZMQ_TCP_KEEPALIVE_CNT, -1, 22],
      [zmq.ZMQ_TCP_KEEPALIVE_INTVL, -1, 23],
    ]
    for (const [option, initial, value] of cases) {
      expect([option, s.getsockopt(option)]).toEqual([option, initial])
      s.setsockopt(option, value)
      expect([option, s.getsockopt(option)]).toEqual([option, value])
    }
  })

  it("the short-name properties read and write the options", () => {
    const s = socket("dealer")
    s.linger = 42
    expect(s.getsockopt(zmq.ZMQ_LINGER)).toBe(42)
    s.setsockopt(zmq.ZMQ_RECONNECT_IVL, 250)
    expect(s.reconnect_ivl).toBe(250)
    s.identity = "me"
    expect(s.identity).toBe("me")
    s.identity = Buffer.from("buf-id")
    expect(s.getsockopt(zmq.ZMQ_IDENTITY)).toBe("buf-id")
    s.heartbeat_ivl = 100
    expect(s.heartbeat_ivl).toBe(100)
  })

  it("invalid values throw as the core socket's options do (EINVAL; TypeError for the wrong JS type)", () => {
    const s = socket("dealer")
    expect(() => s.setsockopt(zmq.ZMQ_LINGER, -2)).toThrow(einval)
    expect(() => s.setsockopt(zmq.ZMQ_SNDHWM, "many")).toThrow(TypeError)
    expect(() => (s.identity = "")).toThrow(einval)
    expect(() => s.setsockopt(zmq.ZMQ_RCVTIMEO, 1.5)).toThrow(einval)
  })

  it("booleans are libzmq ints: set with 0/1 (or true/false), read back as 0/1", () => {
    const s = socket("router")
    expect(s.getsockopt(zmq.ZMQ_ROUTER_MANDATORY)).toBe(0)
    s.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1)
    expect(s.getsockopt(zmq.ZMQ_ROUTER_MANDATORY)).toBe(1)
    s.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 0)
    expect(s.getsockopt(zmq.ZMQ_ROUTER_MANDATORY)).toBe(0)
    s.setsockopt(zmq.ZMQ_ROUTER_HANDOVER, true)
    expect(s.getsockopt(zmq.ZMQ_ROUTER_HANDOVER)).toBe(1)
    s.setsockopt(zmq.ZMQ_DELAY_ATTACH_ON_CONNECT, 1)
    expect(s.getsockopt(zmq.ZMQ_DELAY_ATTACH_ON_CONNECT)).toBe(1)
    s.setsockopt(zmq.ZMQ_IPV6, 1)
    expect(s.getsockopt(zmq.ZMQ_IPV6)).toBe(1)
  })

  it("ZMQ_IPV4ONLY is the inverse of ZMQ_IPV6", () => {
    const s = socket("pull")
    expect(s.getsockopt(zmq.ZMQ_IPV4ONLY)).toBe(1)
    s.setsockopt(zmq.ZMQ_IPV4ONLY, 0)
    expect(s.getsockopt(zmq.ZMQ_IPV6)).toBe(1)
    s.setsockopt(zmq.ZMQ_IPV6, 0)
    expect(s.getsockopt(zmq.ZMQ_IPV4ONLY)).toBe(1)
  })

  it("string options take strings or Buffers and read back as strings", () => {
    const s = socket("rep")
    s.zap_domain = Buffer.from("global")
    expect(s.zap_domain).toBe("global")
    s.plain_username = Buffer.from("admin")
    s.setsockopt(zmq.ZMQ_PLAIN_PASSWORD, "secret")
    expect([s.getsockopt("plain_username"), s.plain_password]).toEqual(["admin", "secret"])
    s.setsockopt(zmq.ZMQ_TCP_ACCEPT_FILTER, Buffer.from("127.0.0.1"))
    expect(s.getsockopt(zmq.ZMQ_TCP_ACCEPT_FILTER)).toBe("127.0.0.1")
  })

  it("ZMQ_MECHANISM reads 0 (NULL), 1 (PLAIN), 2 (CURVE) from the security options", () => {
    expect(socket("rep").mechanism).toBe(0)
    const plain = socket("rep")
    plain.plain_server = 1
    expect(plain.mechanism).toBe(1)
    const client = socket("req")
    client.plain_username = "u"
    expect(client.getsockopt(zmq.ZMQ_MECHANISM)).toBe(1)
    const { public: pub, secret } = zmq.curveKeypair()
    const curve = socket("rep")
    curve.curve_server = 1
    curve.curve_secretkey = secret
    expect(curve.mechanism).toBe(2)
    expect(curve.curve_server).toBe(1)
    const curveClient = socket("req")
    curveClient.curve_serverkey = pub
    expect(curveClient.mechanism).toBe(2)
    expect(curveClient.curve_serverkey).toBe(pub)
  })

  it("CURVE keys are taken as 32-byte Buffers or Z85 and read back as Z85", () => {
    const { public: pub } = zmq.curveKeypair()
    const s = socket("req")
    s.setsockopt(zmq.ZMQ_CURVE_PUBLICKEY, Buffer.alloc(32, 1))
    expect(s.curve_publickey).toMatch(/^.{40}$/)
    s.curve_publickey = pub
    expect(s.getsockopt(zmq.ZMQ_CURVE_PUBLICKEY)).toBe(pub)
  })

  it("ZMQ_EVENTS has ZMQ_POLLOUT when a send would not wait, ZMQ_POLLIN when a message waits", async () => {
    const pull = socket("pull")
    const push = socket("push")
    expect(pull.getsockopt(zmq.ZMQ_EVENTS) & zmq.ZMQ_POLLIN).toBe(0)
    push.connect(await bound(pull))
    expect(push.getsockopt(zmq.ZMQ_EVENTS) & zmq.ZMQ_POLLOUT).toBe(zmq.ZMQ_POLLOUT)
    pull.pause()
    push.send("a")
    push.send("b")
    await until(() => (pull._ioevents & zmq.ZMQ_POLLIN) !== 0, "POLLIN on the PULL socket")
  })

  it("ZMQ_RCVTIMEO is kept but messages still arrive as events, however long they take", async () => {
    const pull = socket("pull")
    const push = socket("push")
    pull.setsockopt(zmq.ZMQ_RCVTIMEO, 0)
    expect(pull.getsockopt(zmq.ZMQ_RCVTIMEO)).toBe(0)
    const errors: unknown[] = []
    pull.on("error", (e) => errors.push(e))
    push.connect(await bound(pull))
    const got = messages(pull, 1)
    push.send("late")
    expect(await got).toEqual([["late"]])
    expect(errors).toEqual([])
  })

  it("unknown options throw EINVAL", () => {
    const s = socket("req")
    expect(() => s.setsockopt(9999, 1)).toThrow(einval)
    expect(() => s.getsockopt(9999)).toThrow(einval)
    expect(() => s.getsockopt("nope" as zmq.OptionName)).toThrow(einval)
  })

  it("options of other socket types throw EINVAL, as libzmq's do", () => {
    expect(() => socket("dealer").setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1)).toThrow(einval)
    expect(() => socket("pub").setsockopt(zmq.ZMQ_XPUB_VERBOSE, 1)).toThrow(einval)
    expect(() => socket("pub").setsockopt(zmq.ZMQ_SUBSCRIBE, "")).toThrow(einval)
  })

  it("read-only options cannot be set, write-only ones cannot be read", () => {
    const s = socket("sub")
    expect(() => s.setsockopt(zmq.ZMQ_TYPE, 1)).toThrow(/read-only/)
    expect(() => s.setsockopt(zmq.ZMQ_LAST_ENDPOINT, "x")).toThrow(einval)
    expect(() => s.getsockopt(zmq.ZMQ_SUBSCRIBE)).toThrow(/write-only/)
    expect(() => socket("xpub").getsockopt(zmq.ZMQ_XPUB_VERBOSE)).toThrow(einval)
  })

  it("ZMQ_RCVMORE, ZMQ_FD and ZMQ_ROUTER_RAW are not supported (ENOTSUP)", () => {
    const s = socket("router")
    const notsup = expect.objectContaining({ code: "ENOTSUP" })
    expect(() => s.getsockopt(zmq.ZMQ_RCVMORE)).toThrow(notsup)
    expect(() => s._fd).toThrow(notsup)
    expect(() => s.setsockopt(zmq.ZMQ_ROUTER_RAW, 1)).toThrow(notsup)
  })
})

describe("v5-compat: subscriptions", () => {
  async function pubSub(): Promise<{ pub: zmq.Socket; sub: zmq.Socket }> {
    const pub = socket("pub")
    const sub = socket("sub")
    sub.connect(await bound(pub))
    return { pub, sub }
  }

  /** Publishes `probe` until the SUB gets it (the subscriptions made before have then reached the PUB). */
  async function whenSubscribed(pub: zmq.Socket, sub: zmq.Socket, probe: string): Promise<void> {
    const got = nextEvent(sub, "message")
    const timer = setInterval(() => pub.send(probe), 5)
    try {
      await got
    } finally {
      clearInterval(timer)
    }
  }

  const notProbe = (frames: string[]) => !frames[0]!.startsWith("probe")

  it("subscribe() filters by prefix; unsubscribe() stops a prefix; both return the socket", async () => {
    const { pub, sub } = await pubSub()
    expect(sub.subscribe("js")).toBe(sub)
    sub.subscribe(Buffer.from("luna"))
    sub.subscribe("probe")
    await whenSubscribed(pub, sub, "probe")
    const got = messages(sub, 2, notProbe)
    for (const m of ["js is cool", "ruby is meh", "luna is cool too"]) pub.send(m)
    expect(await got).toEqual([["js is cool"], ["luna is cool too"]])

    expect(sub.unsubscribe("js")).toBe(sub)
    sub.unsubscribe("probe")
    sub.subscribe("probe2")
    await whenSubscribed(pub, sub, "probe2")
    const after = messages(sub, 1, notProbe)
    pub.send("js again")
    pub.send("luna again")
    expect(await after).toEqual([["luna again"]])
  })

  it("setsockopt(ZMQ_SUBSCRIBE) and the _subscribe property subscribe too", async () => {
    const { pub, sub } = await pubSub()
    sub.setsockopt(zmq.ZMQ_SUBSCRIBE, "a")
    sub._subscribe = "probe"
    await whenSubscribed(pub, sub, "probe")
    const got = messages(sub, 1, notProbe)
    pub.send("b: dropped")
    pub.send("a: kept")
    expect(await got).toEqual([["a: kept"]])
  })

  it("subscribe() on a socket that is not a SUB throws EINVAL", () => {
    expect(() => socket("pub").subscribe("x")).toThrow(einval)
    expect(() => socket("xsub").unsubscribe("x")).toThrow(einval)
  })

  it("ZMQ_XPUB_VERBOSE: an XPUB passes on every subscription, not just the first", async () => {
    const xpub = socket("xpub")
    xpub.setsockopt(zmq.ZMQ_XPUB_VERBOSE, 1)
    const endpoint = await bound(xpub)
    const a = socket("sub")
    const b = socket("sub")
    const got = messages(xpub, 2)
    a.connect(endpoint)
    b.connect(endpoint)
    a.subscribe("t")
    b.subscribe("t")
    expect(await got).toEqual([["\u0001t"], ["\u0001t"]])
  })
})

describe("v5-compat: security options reach the connection", () => {
  it("a CURVE request/reply set up with the 5.x properties (keys as Z85 and as Buffers) goes through", async () => {
    const server = zmq.curveKeypair()
    const client = zmq.curveKeypair()
    const rep = socket("rep")
    rep.curve_server = 1
    rep.curve_secretkey = server.secret
    rep.on("message", (msg: Buffer) => rep.send(`secret ${msg.toString()}`))
    const req = socket("req")
    req.curve_serverkey = z85.decode(server.public)
    req.curve_publickey = client.public
    req.curve_secretkey = z85.decode(client.secret)
    req.connect(await bound(rep))
    const reply = messages(req, 1)
    req.send("hello")
    expect(await reply).toEqual([["secret hello"]])
  })

  it("PLAIN credentials set with the 5.x properties reach a ZAP handler (a compat ROUTER); a refused client gets nothing through", async () => {
    const zap = socket("router")
    const seen: string[] = []
    zap.on("message", (...frames: Buffer[]) => {
      // [routing id, "", version, request id, domain, address, identity, mechanism, user, password]
      const [id, , version, requestId, domain, , , mechanism, user, password] = frames
      seen.push(`${domain} ${mechanism} ${user} ${password}`)
      const ok = password!.toString() === "secret"
      zap.send([id!, "", version!, requestId!, ok ? "200" : "400", ok ? "OK" : "no", "", ""])
    })
    zap.bindSync("inproc://zeromq.zap.01")
    const rep = socket("rep")
    rep.plain_server = 1
    rep.zap_domain = Buffer.from("test")
    const requests: string[] = []
    rep.on("message", (msg: Buffer) => {
      requests.push(msg.toString())
      rep.send(`hi ${msg.toString()}`)
    })
    const endpoint = await bound(rep)

    const bad = socket("req")
    bad.plain_username = "eve"
    bad.plain_password = "wrong"
    bad.connect(endpoint)
    bad.send("intruder")
    await until(() => seen.length === 1, "the ZAP request of the refused client")

    const good = socket("req")
    good.plain_username = Buffer.from("admin")
    good.plain_password = Buffer.from("secret")
    good.connect(endpoint)
    const reply = messages(good, 1)
    good.send("admin")
    expect(await reply).toEqual([["hi admin"]])
    // (The refused client may have retried meanwhile.)
    expect(seen).toContain("test PLAIN eve wrong")
    expect(seen).toContain("test PLAIN admin secret")
    expect(requests).toEqual(["admin"])
  })
})
