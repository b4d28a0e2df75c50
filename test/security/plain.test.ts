/**
 * PLAIN (RFC 24) and NULL with ZAP (RFC 27) between omq and libzmq 4.3.5
 * (zeromq.js 6), both directions, over tcp and ipc.
 *
 * omq ZAP handlers run in a context of their own per test (startZapHandler
 * with {context}), so one test's handler never answers for another. libzmq
 * handlers are zeromq.js Reply sockets on inproc://zeromq.zap.01 in
 * zeromq.js's default context, closed after each test.
 *
 * Waits are bounded (receiveTimeout, deadlines); "nothing arrives" is checked
 * only after the event proving the peer was refused, with a short receive.
 */
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import {
  SIDES,
  TRANSPORTS,
  libzmqZapHandler,
  recordEvents,
  securityTracker,
  text,
  transferNumbered,
  tryReceive,
  waitEvent,
  type AnySocket,
  type SecEvent,
  type Side,
  type Transport,
} from "./sec-util.js"
import { type ZapRequest, startZapHandler } from "../../lib/entry/security.js"

const t = securityTracker()
const HANDSHAKE_ERRORS = ["handshake:error:protocol", "handshake:error:auth", "handshake:error:other"]
const USERS: Record<string, string> = { admin: "secret", bob: "p@ss w0rd ünïcode" }

function checkPassword(credentials: Buffer[]): boolean {
  const [user, pass] = credentials.map((c) => c.toString())
  return user !== undefined && Object.hasOwn(USERS, user) && USERS[user] === pass
}

interface PlainServer {
  sock: AnySocket
  addr: string
  events: SecEvent[]
  /** ZAP requests as [domain, address, mechanism, ...credentials] strings. */
  requests: string[][]
}

/** A PLAIN server of `side` (kind Pull / Router / Reply...) whose ZAP handler checks USERS. */
async function plainServer(side: Side, kind: "Pull" | "Router" | "Reply", transport: Transport): Promise<PlainServer> {
  const requests: string[][] = []
  let sock: AnySocket
  if (side === "omq") {
    const context = new omq.Context()
    t.track(
      await startZapHandler(
        (req) => {
          requests.push([req.domain, req.address, req.mechanism, ...req.credentials.map(String)])
          return checkPassword(req.credentials) ? { status: 200, userId: req.credentials[0]!.toString() } : { status: 400 }
        },
        { context },
      ),
    )
    sock = t.socket("omq", kind, { plainServer: true, zapDomain: "plain-domain", context })
  } else {
    const handler = await libzmqZapHandler((req) => {
      requests.push([req.domain, req.address, req.mechanism, ...req.credentials.map(String)])
      return checkPassword(req.credentials) ? { status: 200, userId: req.credentials[0]!.toString() } : { status: 400 }
    }, t.track)
    void handler
    sock = t.socket("libzmq", kind, { plainServer: true, zapDomain: "plain-domain" })
  }
  const events = recordEvents(sock, HANDSHAKE_ERRORS)
  const addr = await t.bind(sock, transport)
  return { sock, addr, events, requests }
}

function expectRequest(req: string[] | undefined, transport: Transport, user: string, pass: string): void {
  expect(req).toBeDefined()
  const [domain, address, mechanism, ...credentials] = req!
  expect(domain).toBe("plain-domain")
  expect(mechanism).toBe("PLAIN")
  expect(credentials).toEqual([user, pass])
  if (transport === "tcp") expect(address).toBe("127.0.0.1")
}

const PAIRS: ReadonlyArray<readonly [Side, Side]> = [
  ["omq", "libzmq"],
  ["libzmq", "omq"],
  ["omq", "omq"],
]

describe.each(TRANSPORTS)("PLAIN over %s", (transport: Transport) => {
  describe.each(PAIRS)("%s client → %s server", (clientSide, serverSide) => {
    it("good credentials: DEALER ↔ ROUTER both ways", async () => {
      const srv = await plainServer(serverSide, "Router", transport)
      const dealer = t.socket(clientSide, "Dealer", { plainUsername: "bob", plainPassword: USERS.bob })
      dealer.connect(srv.addr)
      await dealer.send(["hello", "from", "bob"])
      const [id, ...rest] = await srv.sock.receive()
      expect(rest.map(String)).toEqual(["hello", "from", "bob"])
      await srv.sock.send([id!, "welcome", "bob"])
      expect(text(await dealer.receive())).toEqual(["welcome", "bob"])
      expectRequest(srv.requests[0], transport, "bob", USERS.bob!)
      expect(srv.requests.length).toBe(1)
    })

    it("good credentials: PUSH → PULL, 500 messages in order", async () => {
      const pull = await plainServer(serverSide, "Pull", transport)
      const push = t.socket(clientSide, "Push", { plainUsername: "admin", plainPassword: "secret" })
      push.connect(pull.addr)
      await transferNumbered(push, pull.sock, 500)
    })

    it("REQ ↔ REP round trips", async () => {
      const srv = await plainServer(serverSide, "Reply", transport)
      const req = t.socket(clientSide, "Request", { plainUsername: "admin", plainPassword: "secret" })
      req.connect(srv.addr)
      for (let i = 0; i < 50; i++) {
        await req.send(`q${i}`)
        expect(text(await srv.sock.receive())).toEqual([`q${i}`])
        await srv.sock.send(`a${i}`)
        expect(text(await req.receive())).toEqual([`a${i}`])
      }
    })

    // libzmq refuses empty PLAIN credentials (EINVAL), so only omq clients try them.
    const denials = clientSide === "omq" ? ["wrong password", "unknown user", "empty credentials"] : ["wrong password", "unknown user"]
    it.each(denials)("%s: denied with 400, nothing delivered, good clients still served", async (what) => {
      const [user, pass] = what === "wrong password" ? ["admin", "guess"] : what === "unknown user" ? ["mallory", "secret"] : ["", ""]
      const srv = await plainServer(serverSide, "Pull", transport)
      const bad = t.socket(clientSide, "Push", { plainUsername: user, plainPassword: pass })
      const badEvents = recordEvents(bad, HANDSHAKE_ERRORS)
      bad.sendTimeout = 0
      bad.connect(srv.addr)
      void bad.send("must not arrive").catch(() => undefined)

      const sev = await waitEvent(srv.events, (e) => e.type === "handshake:error:auth", "server denies the client")
      expect(sev.error?.status).toBe(400)
      // The client is told with ERROR "400". libzmq 4.3.5's PLAIN code spells the command
      // "\x05ERROR" in C, which the compiler reads as "^RROR": it sends that, and its PLAIN
      // client only recognises that. omq accepts both; a libzmq PLAIN client refused by an omq
      // server (which sends the RFC 23 form) therefore reports an unexpected command instead.
      if (clientSide === "libzmq" && serverSide === "omq") {
        const cev = await waitEvent(badEvents, (e) => e.type.startsWith("handshake:error"), "client sees the refusal")
        const ok =
          (cev.type === "handshake:error:auth" && cev.error?.status === 400) ||
          (cev.type === "handshake:error:protocol" && cev.error?.code === "ERR_ZMTP_UNEXPECTED_COMMAND")
        expect(ok, `${cev.type} ${cev.error?.code ?? cev.error?.status}`).toBe(true)
      } else {
        const cev = await waitEvent(badEvents, (e) => e.type === "handshake:error:auth", "client learns it was denied")
        expect(cev.error?.status).toBe(400)
      }
      expectRequest(srv.requests[0], transport, user, pass)

      const good = t.socket(clientSide, "Push", { plainUsername: "admin", plainPassword: "secret" })
      good.connect(srv.addr)
      await good.send("good")
      expect(text(await srv.sock.receive())).toEqual(["good"])
      expect(await tryReceive(srv.sock, 300)).toBeUndefined()
    })
  })

  describe("PLAIN server without a ZAP handler", () => {
    it.each(SIDES)("an omq PLAIN server refuses a %s client (as libzmq does)", async (clientSide) => {
      const context = new omq.Context() // no handler bound in it
      const pull = t.socket("omq", "Pull", { plainServer: true, context })
      const events = recordEvents(pull, HANDSHAKE_ERRORS)
      const addr = await t.bind(pull, transport)
      const push = t.socket(clientSide, "Push", { plainUsername: "admin", plainPassword: "secret" })
      push.sendTimeout = 0
      push.connect(addr)
      void push.send("must not arrive").catch(() => undefined)
      // libzmq reports a missing handler as handshake:error:other (EFAULT).
      const ev = await waitEvent(events, (e) => e.type.startsWith("handshake:error"), "server refuses without ZAP")
      expect(ev.type).toBe("handshake:error:other")
      expect(await tryReceive(pull, 300)).toBeUndefined()
    })

    it("a libzmq PLAIN server refuses an omq client (reference behaviour)", async () => {
      const pull = t.socket("libzmq", "Pull", { plainServer: true })
      const events = recordEvents(pull, HANDSHAKE_ERRORS)
      const addr = await t.bind(pull, transport)
      const push = t.socket("omq", "Push", { plainUsername: "admin", plainPassword: "secret" })
      push.sendTimeout = 0
      push.connect(addr)
      void push.send("must not arrive").catch(() => undefined)
      const ev = await waitEvent(events, (e) => e.type.startsWith("handshake:error"), "server refuses without ZAP")
      expect(ev.type).toBe("handshake:error:other")
      expect(await tryReceive(pull, 300)).toBeUndefined()
    })
  })

  describe("mechanism mismatch", () => {
    it.each(SIDES)("a %s NULL client gets nothing into an omq PLAIN server", async (clientSide) => {
      const srv = await plainServer("omq", "Pull", transport)
      const push = t.socket(clientSide, "Push", {})
      const clientEvents = recordEvents(push, HANDSHAKE_ERRORS)
      push.sendTimeout = 0
      push.connect(srv.addr)
      void push.send("must not arrive").catch(() => undefined)
      const mismatch = (e: SecEvent) => e.error?.code === "ERR_ZMTP_MECHANISM_MISMATCH"
      await waitEvent(clientEvents, mismatch, "client reports the mismatch")
      if (clientSide === "omq") await waitEvent(srv.events, mismatch, "omq server reports the mismatch")
      expect(srv.requests).toEqual([])
      expect(await tryReceive(srv.sock, 300)).toBeUndefined()
    })
  })
})

describe.each(TRANSPORTS)("NULL with a ZAP domain over %s", (transport: Transport) => {
  describe.each(SIDES)('%s client → omq NULL server with zapDomain "test"', (clientSide) => {
    async function nullServer(status: 200 | 400) {
      const context = new omq.Context()
      const requests: ZapRequest[] = []
      t.track(
        await startZapHandler(
          (req) => {
            requests.push(req)
            return { status }
          },
          { context },
        ),
      )
      const pull = t.socket("omq", "Pull", { zapDomain: "test", context })
      const events = recordEvents(pull, HANDSHAKE_ERRORS)
      const addr = await t.bind(pull, transport)
      return { pull, addr, events, requests }
    }

    it("asks the handler (domain, address, mechanism NULL) and delivers on 200", async () => {
      const srv = await nullServer(200)
      const push = t.socket(clientSide, "Push", {})
      push.connect(srv.addr)
      await push.send(["admitted", "2"])
      expect(text(await srv.pull.receive())).toEqual(["admitted", "2"])
      expect(srv.requests.length).toBe(1)
      const req = srv.requests[0]!
      expect(req.domain).toBe("test")
      expect(req.mechanism).toBe("NULL")
      expect(req.credentials).toEqual([])
      expect(req.address).toBe(transport === "tcp" ? "127.0.0.1" : "")
    })

    it("a 400 denies: nothing delivered, auth events on both ends", async () => {
      const srv = await nullServer(400)
      const push = t.socket(clientSide, "Push", {})
      const clientEvents = recordEvents(push, HANDSHAKE_ERRORS)
      push.sendTimeout = 0
      push.connect(srv.addr)
      void push.send("must not arrive").catch(() => undefined)
      const sev = await waitEvent(srv.events, (e) => e.type === "handshake:error:auth", "server denies")
      expect(sev.error?.status).toBe(400)
      const cev = await waitEvent(clientEvents, (e) => e.type === "handshake:error:auth", "client learns it was denied")
      expect(cev.error?.status).toBe(400)
      expect(srv.requests[0]?.domain).toBe("test")
      expect(await tryReceive(srv.pull, 300)).toBeUndefined()
    })
  })

  describe('omq NULL client → libzmq NULL server with zapDomain "test" (zeromq.js handler)', () => {
    it.each([200, 400] as const)("status %i", async (status) => {
      const handler = await libzmqZapHandler(() => ({ status }), t.track)
      const pull = t.socket("libzmq", "Pull", { zapDomain: "test" })
      const addr = await t.bind(pull, transport)
      const push = t.socket("omq", "Push", {})
      const clientEvents = recordEvents(push, HANDSHAKE_ERRORS)
      push.sendTimeout = 0
      push.connect(addr)
      void push.send("hello").catch(() => undefined)
      if (status === 200) {
        expect(text(await pull.receive())).toEqual(["hello"])
      } else {
        const cev = await waitEvent(clientEvents, (e) => e.type === "handshake:error:auth", "omq client learns it was denied")
        expect(cev.error?.status).toBe(400)
        expect(await tryReceive(pull, 300)).toBeUndefined()
      }
      const req = handler.requests[0]!
      expect(req[2]!.toString()).toBe("test")
      expect(req[5]!.toString()).toBe("NULL")
      if (transport === "tcp") expect(req[3]!.toString()).toBe("127.0.0.1")
    })
  })
})
