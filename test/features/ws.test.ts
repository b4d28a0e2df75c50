/**
 * ws:// (ZWS 2.0, RFC 45): every pattern over WebSocket, security, several sockets on one
 * HTTP port by path, and bad input at the HTTP and ZWS level (each refused, the server keeps
 * serving). jszmq, the independent ZWS 2.0 implementation, connects to omq.
 */
import * as http from "node:http"
import { createRequire } from "node:module"
import { describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import { Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, curveKeyPair } from "../../lib/index.js"
import { startZapHandler } from "../../lib/security/zap-handler.js"
import { freePort, waitFor, withTimeout } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach({ ignoreErrors: true })
const T = { linger: 0, sendTimeout: 5000, receiveTimeout: 5000 }
const str = (m: Buffer[]): string[] => m.map((b) => b.toString())

/** An HTTP request to a ws endpoint's port; resolves with the status. */
function httpStatus(endpoint: string, headers: Record<string, string> = {}): Promise<number> {
  const url = new URL(endpoint.replace(/^ws:/, "http:"))
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", reject)
    }),
    5000,
    "the HTTP answer",
  )
}

describe("ws:// transport (ZWS 2.0)", () => {
  it("PUSH → PULL, with multipart messages, and the bound endpoint reports its port and path", async () => {
    const pull = track(new Pull(T))
    await pull.bind("ws://127.0.0.1:*/pipeline")
    expect(pull.lastEndpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/pipeline$/)
    const push = track(new Push(T))
    push.connect(pull.lastEndpoint!)
    const big = Buffer.alloc(100_000, 7)
    await push.send(["a", "b"])
    await push.send([big])
    expect(str(await pull.receive())).toEqual(["a", "b"])
    expect((await pull.receive())[0]!.equals(big)).toBe(true)
  })

  it("REQ/REP, DEALER/ROUTER and PAIR", async () => {
    const rep = track(new Reply(T))
    await rep.bind("ws://127.0.0.1:*/rep")
    const req = track(new Request(T))
    req.connect(rep.lastEndpoint!)
    await req.send("hello")
    expect(str(await rep.receive())).toEqual(["hello"])
    await rep.send("world")
    expect(str(await req.receive())).toEqual(["world"])

    const router = track(new Router(T))
    await router.bind("ws://127.0.0.1:*/router")
    const dealer = track(new Dealer({ ...T, routingId: "dealer-1" }))
    dealer.connect(router.lastEndpoint!)
    await dealer.send("ping")
    const [id, body] = await router.receive()
    expect([id!.toString(), body!.toString()]).toEqual(["dealer-1", "ping"])
    await router.send([id!, "pong"])
    expect(str(await dealer.receive())).toEqual(["pong"])

    const a = track(new Pair(T))
    await a.bind("ws://127.0.0.1:*/pair")
    const b = track(new Pair(T))
    b.connect(a.lastEndpoint!)
    await b.send("x")
    expect(str(await a.receive())).toEqual(["x"])
  })

  it("PUB/SUB: subscriptions travel as messages (RFC 45) and filter at the publisher", async () => {
    const pub = track(new Publisher(T))
    await pub.bind("ws://127.0.0.1:*/feed")
    const sub = track(new Subscriber(T))
    sub.connect(pub.lastEndpoint!)
    sub.subscribe("weather")
    // Until the subscription has arrived, what is published is dropped: publish until one lands.
    const timer = setInterval(() => {
      void pub.send(["news", "dropped"])
      void pub.send(["weather", "sunny"])
    }, 10)
    try {
      expect(str(await sub.receive())).toEqual(["weather", "sunny"])
      expect(str(await sub.receive())).toEqual(["weather", "sunny"])
    } finally {
      clearInterval(timer)
    }
  })

  it("Observer events as over tcp: bind, accept and handshake on the server; connect, handshake and disconnect on the client", async () => {
    const server = track(new Pull(T))
    const serverEvents: string[] = []
    void (async () => {
      for await (const e of server.events) serverEvents.push(e.type)
    })()
    await server.bind("ws://127.0.0.1:*/observed")
    const client = track(new Push({ ...T, reconnectInterval: 20 }))
    const clientEvents: string[] = []
    void (async () => {
      for await (const e of client.events) clientEvents.push(e.type)
    })()
    client.connect(server.lastEndpoint!)
    await waitFor(() => clientEvents.includes("handshake") && serverEvents.includes("handshake"), 5000, "both handshakes")
    expect(serverEvents).toEqual(expect.arrayContaining(["bind", "accept", "handshake"]))
    expect(clientEvents).toEqual(expect.arrayContaining(["connect:delay", "connect", "handshake"]))
    server.close()
    await waitFor(() => clientEvents.includes("disconnect"), 5000, "the client's disconnect")
  })

  it("HWM: a PULL that does not read stops its PUSH (EAGAIN once both HWMs and the buffers are full); nothing is lost", async () => {
    const pull = track(new Pull({ ...T, receiveHighWaterMark: 10 }))
    await pull.bind("ws://127.0.0.1:*/hwm")
    const push = track(new Push({ linger: 0, sendTimeout: 0, sendHighWaterMark: 10 }))
    push.connect(pull.lastEndpoint!)
    await waitFor(
      async () =>
        await push.send("first").then(
          () => true,
          () => false,
        ),
      5000,
      "the first send",
    )
    const body = Buffer.alloc(10 * 1024)
    let sent = 1
    let blocked = false
    // Bounded: the OS and WebSocket buffers hold a few MB; 50 MB means back-pressure is missing.
    for (let i = 0; i < 5000 && !blocked; i++) {
      try {
        await push.send(body)
        sent++
      } catch (err) {
        expect((err as { code?: string }).code).toBe("EAGAIN")
        // Once more after the engine has had time to flush: still full means back-pressure holds.
        await new Promise((r) => setTimeout(r, 20))
        try {
          await push.send(body)
          sent++
          blocked = false
        } catch {
          blocked = true
        }
      }
    }
    expect(blocked).toBe(true)
    let received = 0
    while (received < sent) {
      await pull.receive()
      received++
    }
    expect(received).toBe(sent)
  })

  it("several sockets bind one HTTP port on different paths; the same path twice is EADDRINUSE", async () => {
    const one = track(new Pull(T))
    await one.bind("ws://127.0.0.1:*/one")
    const port = new URL(one.lastEndpoint!.replace("ws:", "http:")).port
    const two = track(new Pull(T))
    await two.bind(`ws://127.0.0.1:${port}/two`)
    const again = track(new Pull(T))
    await expect(again.bind(`ws://127.0.0.1:${port}/two`)).rejects.toMatchObject({ code: "EADDRINUSE" })
    const p1 = track(new Push(T))
    p1.connect(`ws://127.0.0.1:${port}/one`)
    const p2 = track(new Push(T))
    p2.connect(`ws://127.0.0.1:${port}/two`)
    await p1.send("to one")
    await p2.send("to two")
    expect(str(await one.receive())).toEqual(["to one"])
    expect(str(await two.receive())).toEqual(["to two"])
    // Unbinding one path leaves the other served.
    await one.unbind(one.lastEndpoint!)
    await p2.send("still two")
    expect(str(await two.receive())).toEqual(["still two"])
  })

  it("PLAIN over ws, checked by the ZAP handler; a wrong password is refused", async () => {
    const context = new Context()
    const zap = await startZapHandler((r) => (r.credentials[1]?.toString() === "secret" ? { status: 200 } : { status: 400 }), { context })
    try {
      const server = track(new Pull({ ...T, context, plainServer: true }))
      await server.bind("ws://127.0.0.1:*/plain")
      const good = track(new Push({ ...T, plainUsername: "ada", plainPassword: "secret" }))
      good.connect(server.lastEndpoint!)
      await good.send("let me in")
      expect(str(await server.receive())).toEqual(["let me in"])

      const bad = track(new Push({ ...T, plainUsername: "eve", plainPassword: "guess" }))
      const events: string[] = []
      void (async () => {
        for await (const e of bad.events) events.push(e.type)
      })()
      bad.connect(server.lastEndpoint!)
      await waitFor(() => events.includes("handshake:error:auth"), 5000, "the auth failure")
    } finally {
      zap.close()
    }
  })

  it("CURVE over ws", async () => {
    const serverKeys = curveKeyPair()
    const clientKeys = curveKeyPair()
    const server = track(new Router({ ...T, curveServer: true, curveSecretKey: serverKeys.secretKey }))
    await server.bind("ws://127.0.0.1:*/curve")
    const client = track(
      new Dealer({ ...T, curveServerKey: serverKeys.publicKey, curvePublicKey: clientKeys.publicKey, curveSecretKey: clientKeys.secretKey }),
    )
    client.connect(server.lastEndpoint!)
    await client.send("boxed")
    const [id, body] = await server.receive()
    expect(body!.toString()).toBe("boxed")
    await server.send([id!, "boxed back"])
    expect(str(await client.receive())).toEqual(["boxed back"])
  })

  it("a connect before the bind reconnects until the endpoint exists", async () => {
    const probe = track(new Pull(T))
    await probe.bind("ws://127.0.0.1:*/probe")
    const port = new URL(probe.lastEndpoint!.replace("ws:", "http:")).port
    const push = track(new Push({ ...T, reconnectInterval: 20 }))
    push.connect(`ws://127.0.0.1:${port}/later`)
    await push.send("queued")
    const later = track(new Pull(T))
    await later.bind(`ws://127.0.0.1:${port}/later`)
    expect(str(await later.receive())).toEqual(["queued"])
  })

  it("bad input: plain HTTP gets 426 (or 404 off the paths), a wrong subprotocol 400, a text frame a dropped connection; the server keeps serving", async () => {
    const pull = track(new Pull(T))
    await pull.bind("ws://127.0.0.1:*/zmq")
    const ep = pull.lastEndpoint!
    expect(await httpStatus(ep)).toBe(426)
    expect(await httpStatus(ep.replace("/zmq", "/nothing-here"))).toBe(404)

    const wrong = new WebSocket(ep, ["chat"])
    const refused = await withTimeout(
      new Promise<string>((resolve) => {
        wrong.on("unexpected-response", (_req, res) => resolve(String(res.statusCode)))
        wrong.on("error", (err) => resolve(err.message))
      }),
      5000,
      "the refusal",
    )
    expect(refused).toMatch(/400/)

    const text = new WebSocket(ep, ["ZWS2.0"])
    await withTimeout(new Promise((resolve, reject) => text.once("open", resolve).once("error", reject)), 5000, "the text client's open")
    const closed = withTimeout(new Promise((resolve) => text.once("close", resolve)), 5000, "the server dropping a text frame")
    text.send("not binary")
    await closed

    const push = track(new Push(T))
    push.connect(ep)
    await push.send("still serving")
    expect(str(await pull.receive())).toEqual(["still serving"])
  })
})

/** READY with Socket-Type `type`, as a ZWS command message (flags 0x02). */
function readyMessage(type: string): Buffer {
  const name = Buffer.from("Socket-Type")
  const value = Buffer.from(type)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(value.length)
  return Buffer.concat([Buffer.from([0x02, 5]), Buffer.from("READY"), Buffer.from([name.length]), name, len, value])
}

/** A raw ZWS client offering `ZWS2.0/NULL` (RFC 45's name, which `ws` refuses as a token: set on the request by hand). */
function rawZwsClient(endpoint: string): Promise<{ ws: WebSocket; messages: Buffer[] }> {
  const ws = new WebSocket(endpoint, ["ZWS2.0"], {
    finishRequest(req) {
      req.setHeader("Sec-WebSocket-Protocol", "ZWS2.0/NULL")
      req.prependListener("upgrade", (res: http.IncomingMessage) => {
        expect(res.headers["sec-websocket-protocol"]).toBe("ZWS2.0/NULL")
        res.headers["sec-websocket-protocol"] = "ZWS2.0"
      })
      req.end()
    },
  })
  const messages: Buffer[] = []
  ws.on("message", (m: Buffer) => messages.push(m))
  return withTimeout(
    new Promise((resolve, reject) => ws.once("open", () => resolve({ ws, messages })).once("error", reject)),
    5000,
    "the raw client's upgrade",
  )
}

describe("attachHttpServer: ZeroMQ and a web app on one port", () => {
  it("the app keeps its own requests and upgrades; omq answers the WebSocket upgrades of the paths bound", async () => {
    const { attachHttpServer } = await import("../../lib/entry/ws.js")
    const app = http.createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" })
      res.end(`page ${req.url}`)
    })
    const { WebSocketServer } = await import("ws")
    const chat = new WebSocketServer({ noServer: true })
    app.on("upgrade", (req, socket, head) => {
      if (req.url === "/chat") chat.handleUpgrade(req, socket, head, (ws) => ws.send("the app's own WebSocket"))
    })
    const detach = attachHttpServer(app)
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve))
    const port = (app.address() as { port: number }).port
    try {
      const router = track(new Router(T))
      await router.bind(`ws://127.0.0.1:${port}/zmq`)
      expect(router.lastEndpoint).toBe(`ws://127.0.0.1:${port}/zmq`)
      const dealer = track(new Dealer({ ...T, routingId: "page" }))
      dealer.connect(`ws://127.0.0.1:${port}/zmq`)
      await dealer.send("hi")
      const [id, body] = await router.receive()
      expect([id!.toString(), body!.toString()]).toEqual(["page", "hi"])

      // The app's page and its own WebSocket endpoint still work on the same port.
      const page = await withTimeout(
        new Promise<string>((resolve, reject) => {
          http
            .get(`http://127.0.0.1:${port}/index.html`, (res) => {
              let text = ""
              res.on("data", (d: Buffer) => (text += d))
              res.on("end", () => resolve(text))
            })
            .on("error", reject)
        }),
        5000,
        "the page",
      )
      expect(page).toBe("page /index.html")
      const own = new WebSocket(`ws://127.0.0.1:${port}/chat`)
      const hello = await withTimeout(
        new Promise<string>((resolve, reject) => own.once("message", (m) => resolve(String(m))).once("error", reject)),
        5000,
        "the app's WebSocket",
      )
      expect(hello).toBe("the app's own WebSocket")
      own.close()
      // Closing the omq socket leaves the app's server running.
      router.close()
      expect(app.listening).toBe(true)
    } finally {
      detach()
      chat.close()
      app.closeAllConnections()
      app.close()
    }
  })
})

describe("ws:// bad input, continued", () => {
  it("a message over maxMessageSize ends that connection as it arrives; others go on", async () => {
    const pull = track(new Pull({ ...T, maxMessageSize: 1000 }))
    await pull.bind("ws://127.0.0.1:*/limited")
    const raw = new WebSocket(pull.lastEndpoint!, ["ZWS2.0"])
    await withTimeout(new Promise((resolve, reject) => raw.once("open", resolve).once("error", reject)), 5000, "the raw client's open")
    const closed = withTimeout(new Promise<number>((resolve) => raw.once("close", (code: number) => resolve(code))), 5000, "the close")
    raw.send(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(50_000)]))
    expect(await closed).toBe(1009) // "message too big", before the engine saw any of it
    const push = track(new Push(T))
    push.connect(pull.lastEndpoint!)
    await push.send("small enough")
    expect(str(await pull.receive())).toEqual(["small enough"])
  })

  it("an upgrade request that never ends (slow loris) holds no one else up", async () => {
    const pull = track(new Pull(T))
    await pull.bind("ws://127.0.0.1:*/patient")
    const url = new URL(pull.lastEndpoint!.replace("ws:", "http:"))
    const { connect } = await import("node:net")
    const slow = connect(Number(url.port), "127.0.0.1")
    slow.on("error", () => {})
    slow.write("GET /patient HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n") // and nothing more
    try {
      const push = track(new Push(T))
      push.connect(pull.lastEndpoint!)
      await push.send("served meanwhile")
      expect(str(await pull.receive())).toEqual(["served meanwhile"])
    } finally {
      slow.destroy()
    }
  })
})

describe("ZWS 2.0 on the wire, seen by a hand-written client", () => {
  it("the NULL handshake is READY commands (flags 0x02); heartbeats are PING commands; silence past the timeout ends the connection", async () => {
    const router = track(new Router({ ...T, heartbeatInterval: 50, heartbeatTimeout: 300 }))
    await router.bind("ws://127.0.0.1:*/hb")
    const { ws, messages } = await rawZwsClient(router.lastEndpoint!)
    const closed = withTimeout(new Promise((resolve) => ws.once("close", resolve)), 5000, "the server ending a silent connection")
    ws.send(readyMessage("DEALER"))
    await waitFor(() => messages.length >= 1, 5000, "the server's READY")
    expect(messages[0]![0]).toBe(0x02)
    expect(messages[0]!.subarray(1, 7).toString("latin1")).toBe("\x05READY")
    await waitFor(() => messages.some((m) => m[0] === 0x02 && m.subarray(1, 6).toString("latin1") === "\x04PING"), 5000, "a PING")
    // We never answer the PINGs (nor send anything else): the server gives up on us.
    await closed
  })

  it("without a mechanism (ZWS2.0) omq sends its routing id first, without waiting for the peer's", async () => {
    const router = track(new Router({ ...T, routingId: "srv" }))
    await router.bind("ws://127.0.0.1:*/bare")
    const raw = new WebSocket(router.lastEndpoint!, ["ZWS2.0"])
    const first = await withTimeout(
      new Promise<Buffer>((resolve, reject) => raw.once("message", (m: Buffer) => resolve(m)).once("error", reject)),
      5000,
      "omq's routing id",
    )
    expect(first.toString("latin1")).toBe("\x00srv")
    raw.send(Buffer.from("\x00client", "latin1"))
    raw.send(Buffer.from("\x00hello", "latin1"))
    const [id, body] = await router.receive()
    expect([id!.toString(), body!.toString()]).toEqual(["client", "hello"])
    raw.close()
  })

  it("a SUB's subscription goes out as a message, 0x01 and the topic (RFC 45), not a SUBSCRIBE command", async () => {
    // The hand-written side is the server here. RFC 45's subprotocol name is not a token `ws`
    // parses, so the request header is replaced before `ws` sees it, as omq's server does.
    const { WebSocketServer } = await import("ws")
    const wss = new WebSocketServer({ noServer: true, handleProtocols: () => "ZWS2.0/NULL" })
    const httpServer = http.createServer()
    const got: Buffer[] = []
    httpServer.on("upgrade", (req, socket, head) => {
      expect(req.headers["sec-websocket-protocol"]).toBe("ZWS2.0/NULL,ZWS2.0")
      req.headers["sec-websocket-protocol"] = "ZWS2.0"
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("message", (m: Buffer) => got.push(m))
        ws.send(readyMessage("PUB"))
      })
    })
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve))
    try {
      const sub = track(new Subscriber(T))
      sub.subscribe("weather")
      sub.connect(`ws://127.0.0.1:${(httpServer.address() as { port: number }).port}/`)
      await waitFor(() => got.some((m) => m[0] === 0x00 && m[1] === 0x01), 5000, "the subscription message")
      const m = got.find((x) => x[0] === 0x00 && x[1] === 0x01)!
      expect(m.subarray(2).toString()).toBe("weather")
      expect(got.some((x) => x[0] === 0x02 && x.subarray(1).includes(Buffer.from("SUBSCRIBE")))).toBe(false)
    } finally {
      wss.close()
      httpServer.closeAllConnections()
      httpServer.close()
    }
  })
})

describe("a server that answers ZWS2.0/NULL but speaks without a mechanism", () => {
  it("is recognised by its first message (a routing id, not a READY command), and spoken to without one", async () => {
    const { WebSocketServer } = await import("ws")
    const wss = new WebSocketServer({ noServer: true, handleProtocols: () => "ZWS2.0/NULL" })
    const httpServer = http.createServer()
    const got: Buffer[] = []
    httpServer.on("upgrade", (req, socket, head) => {
      req.headers["sec-websocket-protocol"] = "ZWS2.0"
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("message", (m: Buffer) => got.push(m))
        ws.send(Buffer.from("\x00server-id", "latin1"))
      })
    })
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve))
    try {
      const push = track(new Push(T))
      push.connect(`ws://127.0.0.1:${(httpServer.address() as { port: number }).port}/`)
      await push.send(["part 1", "part 2"])
      await waitFor(() => got.length >= 3, 5000, "our routing id and the message")
      // Our (empty) routing id first, then the message as ZWS frames: 0x01 more, 0x00 last.
      expect(got.map((m) => m.toString("latin1"))).toEqual(["\x00", "\x01part 1", "\x00part 2"])
    } finally {
      wss.close()
      httpServer.closeAllConnections()
      httpServer.close()
    }
  })
})

describe("jszmq (ZWS 2.0 without a mechanism) against omq", () => {
  const jszmq = createRequire(import.meta.url)("jszmq") as {
    Dealer: new () => {
      connect(a: string): void
      send(m: unknown): void
      on(e: "message", f: (...frames: Buffer[]) => void): void
      close(): void
    }
    Push: new () => { connect(a: string): void; send(m: unknown): void; close(): void }
    Router: new () => { bind(a: string): void; send(m: unknown): void; on(e: "message", f: (...frames: Buffer[]) => void): void; close(): void }
    Pull: new () => { bind(a: string): void; on(e: "message", f: (...frames: Buffer[]) => void): void; close(): void }
    Sub: new () => {
      connect(a: string): void
      subscribe(t: string): void
      on(e: "message", f: (...frames: Buffer[]) => void): void
      close(): void
    }
  }

  it("a jszmq DEALER talks to an omq ROUTER, both ways", async () => {
    const router = track(new Router(T))
    await router.bind("ws://127.0.0.1:*/jszmq")
    const dealer = new jszmq.Dealer()
    try {
      const replies: string[][] = []
      dealer.on("message", (...frames) => replies.push(frames.map(String)))
      dealer.connect(router.lastEndpoint!)
      dealer.send(["hello", "from jszmq"])
      const [id, ...body] = await router.receive()
      expect(str(body)).toEqual(["hello", "from jszmq"])
      await router.send([id!, "hello", "from omq"])
      await waitFor(() => replies.length > 0, 5000, "jszmq's reply")
      expect(replies[0]).toEqual(["hello", "from omq"])
    } finally {
      dealer.close()
    }
  })

  it("a jszmq PUSH feeds an omq PULL", async () => {
    const pull = track(new Pull(T))
    await pull.bind("ws://127.0.0.1:*/jszmq-push")
    const push = new jszmq.Push()
    try {
      push.connect(pull.lastEndpoint!)
      for (let i = 0; i < 10; i++) push.send(`item ${i}`)
      for (let i = 0; i < 10; i++) expect(str(await pull.receive())).toEqual([`item ${i}`])
    } finally {
      push.close()
    }
  })

  it("a jszmq SUB receives from an omq PUB (its subscription arrives as a message)", async () => {
    const pub = track(new Publisher(T))
    await pub.bind("ws://127.0.0.1:*/jszmq-pub")
    const sub = new jszmq.Sub()
    try {
      const got: string[][] = []
      sub.on("message", (...frames) => got.push(frames.map(String)))
      sub.subscribe("t")
      sub.connect(pub.lastEndpoint!)
      const timer = setInterval(() => {
        void pub.send(["x", "filtered out"])
        void pub.send(["t", "wanted"])
      }, 10)
      try {
        await waitFor(() => got.length > 0, 5000, "jszmq's first message")
      } finally {
        clearInterval(timer)
      }
      expect(got.every((m) => m[0] === "t")).toBe(true)
    } finally {
      sub.close()
    }
  })

  it("an omq DEALER talks to a jszmq ROUTER (jszmq binds; its server refuses RFC 45's names with 400, so omq asks again with ZWS2.0 alone)", async () => {
    const port = await freePort()
    const router = new jszmq.Router()
    try {
      router.on("message", (id, ...body) => router.send([id, ...body.map((b) => Buffer.concat([Buffer.from("echo: "), b]))]))
      router.bind(`ws://127.0.0.1:${port}/jszmq-router`)
      const dealer = track(new Dealer({ ...T, reconnectInterval: 20 }))
      dealer.connect(`ws://127.0.0.1:${port}/jszmq-router`)
      await dealer.send("hi")
      expect(str(await dealer.receive())).toEqual(["echo: hi"])
    } finally {
      router.close()
    }
  })

  it("an omq PUSH feeds a jszmq PULL", async () => {
    const port = await freePort()
    const pull = new jszmq.Pull()
    try {
      const got: string[] = []
      pull.on("message", (m) => got.push(m.toString()))
      pull.bind(`ws://127.0.0.1:${port}/jszmq-pull`)
      const push = track(new Push({ ...T, reconnectInterval: 20 }))
      push.connect(`ws://127.0.0.1:${port}/jszmq-pull`)
      for (let i = 0; i < 5; i++) await push.send(`n${i}`)
      await waitFor(() => got.length === 5, 5000, "jszmq receiving all five")
      expect(got).toEqual(["n0", "n1", "n2", "n3", "n4"])
    } finally {
      pull.close()
    }
  })
})
