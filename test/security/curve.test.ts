/**
 * CURVE (RFC 25/26) between omq and libzmq 4.3.5 (zeromq.js 6), both
 * directions, over tcp and ipc; omq ↔ omq; rejection of bad keys; ZAP on
 * either side.
 *
 * No fixed sleeps synchronise anything: a handshake is awaited by receiving
 * (bounded by receiveTimeout) or by polling an event list with a deadline.
 * "Nothing arrives" is checked, after the event proving the attempt was made
 * and refused, by a short bounded receive.
 */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import {
  HANDSHAKE_MS,
  SIDES,
  TRANSPORTS,
  all,
  curveClientOpts,
  curveServerOpts,
  keyPair,
  libzmqZapHandler,
  other,
  recordEvents,
  securityTracker,
  text,
  transferNumbered,
  tryReceive,
  waitEvent,
  waitFor,
  type AnySocket,
  type SecEvent,
  type Side,
  type Transport,
} from "./sec-util.js"
import { type ZapRequest, startZapHandler, z85 } from "../../lib/entry/security.js"

const t = securityTracker()

const HANDSHAKE_ERRORS = ["handshake:error:protocol", "handshake:error:auth", "handshake:error:other"]

/** Publishes `probe` until `sub` receives something (bounded), returning it. */
async function syncSubscription(pub: AnySocket, sub: AnySocket, probe: string | Buffer): Promise<Buffer[]> {
  const end = Date.now() + HANDSHAKE_MS
  for (;;) {
    await pub.send(probe)
    const msg = await tryReceive(sub, 50)
    if (msg !== undefined) return msg
    if (Date.now() > end) throw new Error("subscription never took effect")
  }
}

/** Receives, skipping left-over probes (messages equal to `probe`). */
async function receiveSkipping(sock: AnySocket, probe: string): Promise<string[]> {
  for (;;) {
    const msg = text(await sock.receive())!
    if (!(msg.length === 1 && msg[0] === probe)) return msg
  }
}

const PAIRS: ReadonlyArray<readonly [Side, Side]> = [
  ["omq", "libzmq"],
  ["libzmq", "omq"],
  ["omq", "omq"],
]

describe.each(TRANSPORTS)("CURVE over %s", (transport: Transport) => {
  describe.each(PAIRS)("%s client → %s server", (clientSide, serverSide) => {
    // gen: who generates the server's keys; the client's keys come from the other library.
    it.each(SIDES)("PUSH → PULL: multipart, a 100 KB frame, 1000 messages in order (server keys by %s)", async (gen) => {
      const skp = keyPair(gen)
      const ckp = keyPair(other(gen))
      const pull = t.socket(serverSide, "Pull", curveServerOpts(skp))
      const addr = await t.bind(pull, transport)
      const push = t.socket(clientSide, "Push", curveClientOpts(skp.publicKey, ckp))
      push.connect(addr)

      await push.send(["one", "two", Buffer.alloc(0), "four"])
      expect(text(await pull.receive())).toEqual(["one", "two", "", "four"])

      const big = randomBytes(100 * 1024)
      await push.send(["big", big])
      const got = await pull.receive()
      expect(got.length).toBe(2)
      expect(got[0]!.toString()).toBe("big")
      expect(got[1]!.equals(big)).toBe(true)

      await transferNumbered(push, pull, 1000)
    })

    it.each(SIDES)("DEALER ↔ ROUTER: multipart and 100 KB frames both ways (server keys by %s)", async (gen) => {
      const skp = keyPair(gen)
      const ckp = keyPair(other(gen))
      const router = t.socket(serverSide, "Router", curveServerOpts(skp))
      const addr = await t.bind(router, transport)
      const dealer = t.socket(clientSide, "Dealer", curveClientOpts(skp.publicKey, ckp))
      dealer.connect(addr)

      for (let i = 0; i < 20; i++) {
        const up = randomBytes(100 * 1024)
        await dealer.send([`req${i}`, up])
        const [id, head, body, ...rest] = await router.receive()
        expect(rest.length).toBe(0)
        expect(head!.toString()).toBe(`req${i}`)
        expect(body!.equals(up)).toBe(true)
        const down = randomBytes(100 * 1024)
        await router.send([id!, `rep${i}`, "", down])
        const reply = await dealer.receive()
        expect(reply.length).toBe(3)
        expect(reply[0]!.toString()).toBe(`rep${i}`)
        expect(reply[1]!.length).toBe(0)
        expect(reply[2]!.equals(down)).toBe(true)
      }
    })

    it("REQ ↔ REP: 200 round trips", async () => {
      const skp = keyPair(serverSide)
      const ckp = keyPair(clientSide)
      const rep = t.socket(serverSide, "Reply", curveServerOpts(skp))
      const addr = await t.bind(rep, transport)
      const req = t.socket(clientSide, "Request", curveClientOpts(skp.publicKey, ckp))
      req.connect(addr)
      for (let i = 0; i < 200; i++) {
        await req.send([`q${i}`, "part"])
        expect(text(await rep.receive())).toEqual([`q${i}`, "part"])
        await rep.send(`a${i}`)
        expect(text(await req.receive())).toEqual([`a${i}`])
      }
    })

    it("PUB (server) → SUB (client): the subscription travels encrypted and filters", async () => {
      const skp = keyPair(serverSide)
      const ckp = keyPair(clientSide)
      const pub = t.socket(serverSide, "Publisher", curveServerOpts(skp))
      const addr = await t.bind(pub, transport)
      const sub = t.socket(clientSide, "Subscriber", curveClientOpts(skp.publicKey, ckp))
      sub.subscribe("a")
      sub.connect(addr)
      expect(text(await syncSubscription(pub, sub, "a-probe"))).toEqual(["a-probe"])
      for (let i = 0; i < 20; i++) {
        await pub.send([`b${i}`, "x"])
        await pub.send([`a${i}`, "y"])
      }
      await pub.send("a-end")
      for (let i = 0; i < 20; i++) expect(await receiveSkipping(sub, "a-probe")).toEqual([`a${i}`, "y"])
      expect(await receiveSkipping(sub, "a-probe")).toEqual(["a-end"])
    })

    it("PUB (server) → XSUB (client): the publisher filters on the encrypted subscription", async () => {
      // XSUB does not filter locally, so only the publisher can have dropped the "b" messages.
      const skp = keyPair(serverSide)
      const ckp = keyPair(clientSide)
      const pub = t.socket(serverSide, "Publisher", curveServerOpts(skp))
      const addr = await t.bind(pub, transport)
      const xsub = t.socket(clientSide, "XSubscriber", curveClientOpts(skp.publicKey, ckp))
      xsub.connect(addr)
      await xsub.send(Buffer.from("\x01a"))
      expect(text(await syncSubscription(pub, xsub, "a-probe"))).toEqual(["a-probe"])
      for (let i = 0; i < 20; i++) {
        await pub.send(`b${i}`)
        await pub.send(`a${i}`)
      }
      await pub.send("a-end")
      for (let i = 0; i < 20; i++) expect(await receiveSkipping(xsub, "a-probe")).toEqual([`a${i}`])
      expect(await receiveSkipping(xsub, "a-probe")).toEqual(["a-end"])
    })

    it("XPUB (server) sees the client's subscribe and unsubscribe", async () => {
      const skp = keyPair(serverSide)
      const ckp = keyPair(clientSide)
      const xpub = t.socket(serverSide, "XPublisher", curveServerOpts(skp))
      const addr = await t.bind(xpub, transport)
      const sub = t.socket(clientSide, "Subscriber", curveClientOpts(skp.publicKey, ckp))
      sub.subscribe("topic")
      sub.connect(addr)
      expect((await xpub.receive())[0]!.equals(Buffer.from("\x01topic"))).toBe(true)
      await xpub.send(["topic", "payload"])
      expect(text(await sub.receive())).toEqual(["topic", "payload"])
      sub.unsubscribe("topic")
      expect((await xpub.receive())[0]!.equals(Buffer.from("\x00topic"))).toBe(true)
    })
  })

  describe.each([
    ["omq", "libzmq"],
    ["libzmq", "omq"],
  ] as const)("roles independent of bind/connect: %s CURVE server connects to a binding %s CURVE client", (serverSide, clientSide) => {
    it("delivers both ways", async () => {
      const skp = keyPair(serverSide)
      const ckp = keyPair(clientSide)
      const client = t.socket(clientSide, "Dealer", curveClientOpts(skp.publicKey, ckp))
      const addr = await t.bind(client, transport)
      const server = t.socket(serverSide, "Dealer", curveServerOpts(skp))
      server.connect(addr)
      await server.send(["from-server", "x"])
      expect(text(await client.receive())).toEqual(["from-server", "x"])
      await client.send("from-client")
      expect(text(await server.receive())).toEqual(["from-client"])
    })
  })

  describe("rejection", () => {
    const REJECT_CASES: ReadonlyArray<readonly [Side, Side]> = [
      ["omq", "libzmq"],
      ["libzmq", "omq"],
      ["omq", "omq"],
    ]

    it.each(REJECT_CASES)(
      "%s client with the wrong server key never delivers; the %s server keeps serving good clients",
      async (badSide, serverSide) => {
        const skp = keyPair(serverSide)
        const pull = t.socket(serverSide, "Pull", curveServerOpts(skp))
        const serverEvents = recordEvents(pull, HANDSHAKE_ERRORS)
        const addr = await t.bind(pull, transport)

        const good1 = t.socket(other(badSide), "Push", curveClientOpts(skp.publicKey, keyPair("omq")))
        good1.connect(addr)
        await good1.send("good-before")
        expect(text(await pull.receive())).toEqual(["good-before"])

        const wrongServerKey = keyPair("libzmq").publicKey
        const bad = t.socket(badSide, "Push", curveClientOpts(wrongServerKey, keyPair(badSide)))
        bad.sendTimeout = 0
        bad.connect(addr)
        void bad.send("evil").catch(() => undefined)
        const ev = await waitEvent(serverEvents, (e) => e.type === "handshake:error:protocol", "server refuses the bad HELLO")
        expect(ev.error?.code).toBe("ERR_ZMTP_CRYPTOGRAPHIC")

        // A good client arriving after the refusal is served, and so is the first one.
        const good2 = t.socket(badSide, "Push", curveClientOpts(skp.publicKey, keyPair(badSide)))
        good2.connect(addr)
        await good2.send("good-after")
        expect(text(await pull.receive())).toEqual(["good-after"])
        await good1.send("good-again")
        expect(text(await pull.receive())).toEqual(["good-again"])
        expect(await tryReceive(pull, 300)).toBeUndefined()
      },
    )

    it.each([
      ["omq", "libzmq"],
      ["libzmq", "omq"],
      ["omq", "omq"],
    ] as const)(
      "%s client whose public key does not match its secret key is refused by the %s server (bad vouch)",
      async (badSide, serverSide) => {
        const skp = keyPair(serverSide)
        const pull = t.socket(serverSide, "Pull", curveServerOpts(skp))
        const serverEvents = recordEvents(pull, HANDSHAKE_ERRORS)
        const addr = await t.bind(pull, transport)
        const mine = keyPair(badSide)
        const someoneElse = keyPair(other(badSide))
        const bad = t.socket(badSide, "Push", {
          curveServerKey: skp.publicKey,
          curvePublicKey: someoneElse.publicKey,
          curveSecretKey: mine.secretKey,
        })
        bad.sendTimeout = 0
        bad.connect(addr)
        void bad.send("evil").catch(() => undefined)
        const ev = await waitEvent(serverEvents, (e) => e.type === "handshake:error:protocol", "server refuses the INITIATE with a bad vouch")
        expect(ev.error?.code).toMatch(/^ERR_ZMTP_(CRYPTOGRAPHIC|KEY_EXCHANGE)$/)

        const good = t.socket(badSide, "Push", curveClientOpts(skp.publicKey, keyPair(badSide)))
        good.connect(addr)
        await good.send("good")
        expect(text(await pull.receive())).toEqual(["good"])
        expect(await tryReceive(pull, 300)).toBeUndefined()
      },
    )

    it.each(SIDES)("%s NULL client never talks to an omq CURVE server (mechanism mismatch)", async (clientSide) => {
      const skp = keyPair("omq")
      const pull = t.socket("omq", "Pull", curveServerOpts(skp))
      const serverEvents = recordEvents(pull, HANDSHAKE_ERRORS)
      const addr = await t.bind(pull, transport)
      const plain = t.socket(clientSide, "Push", {})
      const clientEvents = recordEvents(plain, HANDSHAKE_ERRORS)
      plain.sendTimeout = 0
      plain.connect(addr)
      void plain.send("clear text").catch(() => undefined)
      // omq writes its whole greeting at once, so a libzmq client sees "CURVE", reports the
      // mismatch and hangs up before its own mechanism name went out: look at both ends.
      const mismatch = (e: SecEvent) => e.type === "handshake:error:protocol" && e.error?.code === "ERR_ZMTP_MECHANISM_MISMATCH"
      await waitFor(() => serverEvents.some(mismatch) || clientEvents.some(mismatch), HANDSHAKE_MS, "mechanism mismatch")
      if (clientSide === "omq") {
        await waitEvent(serverEvents, mismatch, "omq server reports the mismatch")
        await waitEvent(clientEvents, mismatch, "omq client reports the mismatch")
      }
      const good = t.socket(clientSide, "Push", curveClientOpts(skp.publicKey, keyPair(clientSide)))
      good.connect(addr)
      await good.send("good")
      expect(text(await pull.receive())).toEqual(["good"])
    })
  })

  describe("ZAP with an omq server (startZapHandler)", () => {
    it.each(SIDES)("admits only the allowed client public key (%s clients)", async (clientSide) => {
      const skp = keyPair("omq")
      const allowed = keyPair(clientSide)
      const denied = keyPair(clientSide)
      const allowedRaw = z85.decode(allowed.publicKey)
      const requests: ZapRequest[] = []
      // A context of its own: the handler's lifetime is this test's.
      const context = new omq.Context()
      t.track(
        await startZapHandler(
          (req) => {
            requests.push(req)
            return req.credentials[0]?.equals(allowedRaw) ? { status: 200, userId: "alice" } : { status: 400 }
          },
          { context },
        ),
      )
      const pull = t.socket("omq", "Pull", { ...curveServerOpts(skp), zapDomain: "curve-domain", context })
      const serverEvents = recordEvents(pull, HANDSHAKE_ERRORS)
      const addr = await t.bind(pull, transport)

      const bad = t.socket(clientSide, "Push", curveClientOpts(skp.publicKey, denied))
      const badEvents = recordEvents(bad, HANDSHAKE_ERRORS)
      bad.sendTimeout = 0
      bad.connect(addr)
      void bad.send("evil").catch(() => undefined)
      const ev = await waitEvent(serverEvents, (e) => e.type === "handshake:error:auth", "server denies the client")
      expect(ev.error?.status).toBe(400)
      // The denied client is told so (ERROR "400"), as a libzmq server would.
      const cev = await waitEvent(badEvents, (e) => e.type === "handshake:error:auth", "client learns it was denied")
      expect(cev.error?.status).toBe(400)

      const good = t.socket(clientSide, "Push", curveClientOpts(skp.publicKey, allowed))
      good.connect(addr)
      await good.send(["hello", "alice"])
      expect(text(await pull.receive())).toEqual(["hello", "alice"])
      expect(await tryReceive(pull, 300)).toBeUndefined()

      const deniedReq = requests.find((r) => r.credentials[0]!.equals(z85.decode(denied.publicKey)))!
      const allowedReq = requests.find((r) => r.credentials[0]!.equals(allowedRaw))!
      for (const r of [deniedReq, allowedReq]) {
        expect(r).toBeDefined()
        expect(r.mechanism).toBe("CURVE")
        expect(r.domain).toBe("curve-domain")
        expect(r.credentials.length).toBe(1)
        expect(r.credentials[0]!.length).toBe(32)
        if (transport === "tcp") expect(r.address).toBe("127.0.0.1")
      }
    })
  })

  describe("ZAP with a libzmq server (zeromq.js Reply on inproc://zeromq.zap.01)", () => {
    it("authorises the allowed omq CURVE client and denies another", async () => {
      const skp = keyPair("libzmq")
      const allowed = keyPair("omq")
      const denied = keyPair("omq")
      const allowedRaw = z85.decode(allowed.publicKey)
      const handler = await libzmqZapHandler(
        (req) => (req.mechanism === "CURVE" && req.credentials[0]?.equals(allowedRaw) ? { status: 200, userId: "ok" } : { status: 400 }),
        t.track,
      )
      const pull = t.socket("libzmq", "Pull", { ...curveServerOpts(skp), zapDomain: "zd" })
      const serverEvents = recordEvents(pull, HANDSHAKE_ERRORS)
      const addr = await t.bind(pull, transport)

      const bad = t.socket("omq", "Push", curveClientOpts(skp.publicKey, denied))
      const badEvents: SecEvent[] = recordEvents(bad, HANDSHAKE_ERRORS)
      bad.sendTimeout = 0
      bad.connect(addr)
      void bad.send("evil").catch(() => undefined)
      const sev = await waitEvent(serverEvents, (e) => e.type === "handshake:error:auth", "libzmq denies the omq client")
      expect(sev.error?.status).toBe(400)
      const cev = await waitEvent(badEvents, (e) => e.type === "handshake:error:auth", "omq client learns it was denied")
      expect(cev.error?.status).toBe(400)

      const good = t.socket("omq", "Push", curveClientOpts(skp.publicKey, allowed))
      good.connect(addr)
      await good.send(["authorised", "frame"])
      expect(text(await pull.receive())).toEqual(["authorised", "frame"])
      expect(await tryReceive(pull, 300)).toBeUndefined()

      const keys = handler.requests.map((r) => r[6]!)
      expect(keys.some((k) => k.equals(allowedRaw))).toBe(true)
      expect(keys.some((k) => k.equals(z85.decode(denied.publicKey)))).toBe(true)
      for (const r of handler.requests) {
        expect(r[0]!.toString()).toBe("1.0")
        expect(r[2]!.toString()).toBe("zd")
        expect(r[5]!.toString()).toBe("CURVE")
      }
    })
  })
})

describe("CURVE options on a live omq socket", () => {
  it("Buffer keys work like Z85 keys against libzmq", async () => {
    const skp = keyPair("libzmq")
    const ckp = keyPair("omq")
    const pull = t.socket("libzmq", "Pull", curveServerOpts(skp))
    const addr = await t.bind(pull, "tcp")
    const push = t.socket("omq", "Push", {
      curveServerKey: z85.decode(skp.publicKey),
      curvePublicKey: z85.decode(ckp.publicKey),
      curveSecretKey: z85.decode(ckp.secretKey),
    })
    push.connect(addr)
    await push.send("buffer keys")
    expect(text(await pull.receive())).toEqual(["buffer keys"])
  })

  it("an omq CURVE server derives its public key from the secret key when none is set", async () => {
    const skp = keyPair("libzmq")
    const pull = t.socket("omq", "Pull", { curveServer: true, curveSecretKey: skp.secretKey })
    const addr = await t.bind(pull, "tcp")
    const push = t.socket("libzmq", "Push", curveClientOpts(skp.publicKey, keyPair("libzmq")))
    push.connect(addr)
    await push.send("derived")
    expect(text(await pull.receive())).toEqual(["derived"])
  })

  it("an omq CURVE server without a ZAP handler accepts any client with valid keys (as libzmq)", async () => {
    const skp = keyPair("omq")
    const pull = t.socket("omq", "Pull", { ...curveServerOpts(skp), zapDomain: "nobody-listens" })
    const addr = await t.bind(pull, "tcp")
    const clients = await all(
      [0, 1, 2].map(async (i) => {
        const c = t.socket(i % 2 ? "omq" : "libzmq", "Push", curveClientOpts(skp.publicKey, keyPair("omq")))
        c.connect(addr)
        await c.send(`client${i}`)
        return c
      }),
    )
    expect(clients.length).toBe(3)
    const got = new Set<string>()
    for (let i = 0; i < 3; i++) got.add((await pull.receive())[0]!.toString())
    expect([...got].sort()).toEqual(["client0", "client1", "client2"])
  })
})

describe("ZAP handler lifecycle (default context)", () => {
  it("a handler started after an earlier one was closed is consulted", async () => {
    const skp = keyPair("omq")
    for (let round = 0; round < 3; round++) {
      const seen: string[] = []
      const handler = t.track(
        await startZapHandler((req) => {
          seen.push(req.domain)
          return { status: 200 }
        }),
      )
      const pull = t.socket("omq", "Pull", { ...curveServerOpts(skp), zapDomain: `round${round}`, handshakeInterval: 3000 })
      const addr = await t.bind(pull, "tcp")
      const push = t.socket("omq", "Push", curveClientOpts(skp.publicKey, keyPair("omq")))
      push.connect(addr)
      await push.send(`round ${round}`)
      const got = await tryReceive(pull, 3000)
      expect(text(got), `round ${round}: message through a server asking handler #${round + 1}`).toEqual([`round ${round}`])
      expect(seen).toEqual([`round${round}`])
      push.close()
      pull.close()
      handler.close()
    }
  })
})
