/**
 * Interop with JeroMQ 0.3.6 (Debian's libjeromq-java), a ZMTP 2.0 peer (RFC
 * 15), over tcp in both directions: omq binds and JeroMQ connects, and the
 * other way round. JeroMQ sends its signature, waits for ours, then revision
 * 0x01 and its socket type: omq must downgrade to 2.0 as libzmq 4.x does.
 *
 * Covered: PUSH/PULL (multipart, empty frames, a 100 KiB frame for the long
 * length), REQ/REP, DEALER/ROUTER with identities both ways, PUB/SUB prefix
 * filters both ways (and XPUB/XSUB, whose subscriptions travel as 0x01
 * messages), and the refusals: a CURVE socket and an incompatible socket type.
 *
 * The JeroMQ side is test/interop/java/JeromqPeer.java (test/helpers/jeromq.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { JeromqPeer, compileJeromqPeer, jeromqAvailable, removeClasses, type JeromqType } from "../helpers/jeromq.js"
import { BOUNDED, withTimeout } from "./peer-util.js"

// Without a JDK or the JeroMQ jar these tests cannot run: jeromqAvailable() prints why and how to
// install them, and the whole file is skipped on such a machine (under CI=true it fails instead:
// .ci/run installs both).
const hasJeromq = jeromqAvailable()

const strs = (m: Buffer[]): string[] => m.map(String)
const big = Buffer.alloc(100 * 1024)
for (let i = 0; i < big.length; i++) big[i] = i % 251

// Each test starts a JVM (about 0.3 s here, much more on a loaded machine): a roomier bound than the 20 s default.
// Skipped where libjeromq-java or a JDK is missing (the reason is printed); under CI=true that fails instead.
describe.skipIf(!hasJeromq)("JeroMQ 0.3.6 (ZMTP 2.0) and omq", { timeout: 60_000 }, () => {
  let classes: string | undefined
  beforeAll(async () => {
    classes = await compileJeromqPeer()
  }, 60_000)
  afterAll(() => removeClasses(classes))

  const sockets: { close(): void }[] = []
  const peers: JeromqPeer[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close()
    await Promise.all(peers.splice(0).map((p) => p.close()))
  })
  function track<T extends { close(): void }>(s: T): T {
    sockets.push(s)
    return s
  }

  /** A JeroMQ socket binding to a free port. */
  async function jeromqBinds(type: JeromqType, identity?: string): Promise<JeromqPeer> {
    const p = await JeromqPeer.start(classes!, "bind", type, "tcp://127.0.0.1:*", identity === undefined ? {} : { identity })
    peers.push(p)
    return p
  }

  /** A JeroMQ socket connecting to an omq socket's endpoint. */
  async function jeromqConnects(type: JeromqType, endpoint: string, identity?: string): Promise<JeromqPeer> {
    const p = await JeromqPeer.start(classes!, "connect", type, endpoint, identity === undefined ? {} : { identity })
    peers.push(p)
    return p
  }

  async function omqBound<T extends omq.Socket>(sock: T): Promise<T> {
    track(sock)
    await sock.bind("tcp://127.0.0.1:*")
    return sock
  }

  function nextEvent(sock: omq.Socket, type: omq.EventType, ms = 10_000): Promise<omq.Event> {
    return withTimeout(new Promise<omq.Event>((resolve) => sock.events.on(type, resolve)), ms, `a ${type} event`)
  }

  const MESSAGES: Array<Array<Buffer | string>> = [["one"], ["a", "", "c"], [""], [big], ["tail"]]

  function expectMessages(got: Buffer[][]): void {
    expect(got.length).toBe(MESSAGES.length)
    got.forEach((m, i) => {
      const want = MESSAGES[i]!.map((p) => (typeof p === "string" ? Buffer.from(p) : p))
      expect(m.length).toBe(want.length)
      m.forEach((f, j) => expect(f.equals(want[j]!), `message ${i} frame ${j}`).toBe(true))
    })
  }

  describe("PUSH/PULL: multipart, empty frames, a 100 KiB frame", () => {
    it("JeroMQ PUSH → omq PULL (omq binds)", async () => {
      const pull = await omqBound(new omq.Pull(BOUNDED))
      const push = await jeromqConnects("PUSH", pull.lastEndpoint!)
      for (const m of MESSAGES) await push.send(m)
      const got: Buffer[][] = []
      for (const _ of MESSAGES) got.push(await pull.receive())
      expectMessages(got)
    })

    it("JeroMQ PUSH → omq PULL (JeroMQ binds)", async () => {
      const push = await jeromqBinds("PUSH")
      const pull = track(new omq.Pull(BOUNDED))
      pull.connect(push.endpoint)
      for (const m of MESSAGES) await push.send(m)
      const got: Buffer[][] = []
      for (const _ of MESSAGES) got.push(await pull.receive())
      expectMessages(got)
    })

    it("omq PUSH → JeroMQ PULL (JeroMQ binds)", async () => {
      const pull = await jeromqBinds("PULL")
      const push = track(new omq.Push(BOUNDED))
      push.connect(pull.endpoint)
      for (const m of MESSAGES) await push.send(m)
      const got: Buffer[][] = []
      for (const _ of MESSAGES) got.push(await pull.receive())
      expectMessages(got)
    })

    it("omq PUSH → JeroMQ PULL (omq binds)", async () => {
      const push = await omqBound(new omq.Push(BOUNDED))
      const pull = await jeromqConnects("PULL", push.lastEndpoint!)
      for (const m of MESSAGES) await push.send(m)
      const got: Buffer[][] = []
      for (const _ of MESSAGES) got.push(await pull.receive())
      expectMessages(got)
    })
  })

  describe("REQ/REP", () => {
    it("JeroMQ REQ → omq REP (omq binds): round trips, multipart requests", async () => {
      const rep = await omqBound(new omq.Reply(BOUNDED))
      const req = await jeromqConnects("REQ", rep.lastEndpoint!)
      for (let i = 0; i < 3; i++) {
        await req.send([`hello ${i}`, "part"])
        expect(strs(await rep.receive())).toEqual([`hello ${i}`, "part"])
        await rep.send([`world ${i}`])
        expect(strs(await req.receive())).toEqual([`world ${i}`])
      }
    })

    it("omq REQ → JeroMQ REP (JeroMQ binds)", async () => {
      const rep = await jeromqBinds("REP")
      const req = track(new omq.Request(BOUNDED))
      req.connect(rep.endpoint)
      for (let i = 0; i < 3; i++) {
        await req.send(`ping ${i}`)
        expect(strs(await rep.receive())).toEqual([`ping ${i}`])
        await rep.send([`pong ${i}`, ""])
        expect(strs(await req.receive())).toEqual([`pong ${i}`, ""])
      }
    })
  })

  describe("DEALER/ROUTER with identities", () => {
    it("JeroMQ DEALER with setIdentity → omq ROUTER sees that routing id and routes back (omq binds)", async () => {
      const router = await omqBound(new omq.Router(BOUNDED))
      const dealer = await jeromqConnects("DEALER", router.lastEndpoint!, "jeromq-dealer")
      await dealer.send(["hello", "", "world"])
      expect(strs(await router.receive())).toEqual(["jeromq-dealer", "hello", "", "world"])
      await router.send(["jeromq-dealer", "reply", big])
      const reply = await dealer.receive()
      expect(String(reply[0])).toBe("reply")
      expect(reply[1]!.equals(big)).toBe(true)
    })

    it("JeroMQ DEALER with setIdentity → omq ROUTER (JeroMQ binds, omq connects)", async () => {
      const dealer = await jeromqBinds("DEALER", "bound-dealer")
      const router = track(new omq.Router(BOUNDED))
      router.connect(dealer.endpoint)
      await dealer.send(["hi"])
      expect(strs(await router.receive())).toEqual(["bound-dealer", "hi"])
      await router.send(["bound-dealer", "hi back"])
      expect(strs(await dealer.receive())).toEqual(["hi back"])
    })

    it("omq DEALER with routingId → JeroMQ ROUTER sees it and routes back (JeroMQ binds)", async () => {
      const router = await jeromqBinds("ROUTER")
      const dealer = track(new omq.Dealer({ ...BOUNDED, routingId: "omq-dealer" }))
      dealer.connect(router.endpoint)
      await dealer.send(["job", ""])
      expect(strs(await router.receive())).toEqual(["omq-dealer", "job", ""])
      await router.send(["omq-dealer", "done"])
      expect(strs(await dealer.receive())).toEqual(["done"])
    })

    it("omq DEALER with routingId → JeroMQ ROUTER (omq binds, JeroMQ connects)", async () => {
      const dealer = await omqBound(new omq.Dealer({ ...BOUNDED, routingId: "bound-omq" }))
      const router = await jeromqConnects("ROUTER", dealer.lastEndpoint!)
      await dealer.send("knock")
      expect(strs(await router.receive())).toEqual(["bound-omq", "knock"])
      await router.send(["bound-omq", "who is there"])
      expect(strs(await dealer.receive())).toEqual(["who is there"])
    })

    it("an anonymous JeroMQ DEALER gets a generated routing id from omq ROUTER", async () => {
      const router = await omqBound(new omq.Router(BOUNDED))
      const dealer = await jeromqConnects("DEALER", router.lastEndpoint!)
      await dealer.send("anon")
      const [id, body] = await router.receive()
      expect(String(body)).toBe("anon")
      expect(id!.length).toBe(5)
      expect(id![0]).toBe(0)
      await router.send([id!, "ok"])
      expect(strs(await dealer.receive())).toEqual(["ok"])
    })
  })

  describe("PUB/SUB prefix filters (subscriptions travel as 0x01 messages)", () => {
    /** Publishes probes until the subscriber gets one: the subscription has then reached the publisher. */
    async function untilSubscribed(
      publish: (m: string) => Promise<void>,
      receive: (ms: number) => Promise<Buffer[] | undefined>,
    ): Promise<void> {
      const end = Date.now() + 10_000
      for (let i = 0; Date.now() < end; i++) {
        await publish(`a-probe-${i}`)
        const got = await receive(100)
        if (got !== undefined) {
          expect(String(got[0])).toMatch(/^a-probe-/)
          return
        }
      }
      throw new Error("the subscription never took effect")
    }

    /** After the probes: only the a-* messages may arrive, up to a-end. */
    async function onlyMatching(receive: () => Promise<Buffer[]>): Promise<string[][]> {
      const got: string[][] = []
      for (;;) {
        const m = strs(await receive())
        if (m[0]!.startsWith("a-probe-")) continue
        got.push(m)
        if (m[0] === "a-end") return got
      }
    }

    const publishAll = async (send: (m: string[]) => Promise<void>): Promise<void> => {
      for (const m of [["b-1"], ["a-1", "x"], ["bb"], [""], ["a-2"], ["b-end"], ["a-end"]]) await send(m)
    }
    const EXPECTED = [["a-1", "x"], ["a-2"], ["a-end"]]

    it("omq SUB subscribed to 'a' ← JeroMQ PUB (JeroMQ binds)", async () => {
      const pub = await jeromqBinds("PUB")
      const sub = track(new omq.Subscriber(BOUNDED))
      sub.subscribe("a")
      sub.connect(pub.endpoint)
      await untilSubscribed(
        (m) => pub.send(m),
        async (ms) => {
          try {
            return await withTimeout(sub.receive(), ms + 50, "probe")
          } catch {
            return undefined
          }
        },
      )
      await publishAll((m) => pub.send(m))
      expect(await onlyMatching(() => sub.receive())).toEqual(EXPECTED)
    })

    it("JeroMQ SUB subscribed to 'a' ← omq PUB (omq binds)", async () => {
      const pub = await omqBound(new omq.Publisher(BOUNDED))
      const sub = await jeromqConnects("SUB", pub.lastEndpoint!)
      await sub.subscribe("a")
      await untilSubscribed(
        (m) => pub.send(m),
        (ms) => sub.tryReceive(ms),
      )
      await publishAll((m) => pub.send(m))
      expect(await onlyMatching(() => sub.receive())).toEqual(EXPECTED)
    })

    it("omq XPUB receives JeroMQ SUB's subscription as the message 0x01 'a', and filters for it (omq binds)", async () => {
      const xpub = await omqBound(new omq.XPublisher(BOUNDED))
      const sub = await jeromqConnects("SUB", xpub.lastEndpoint!)
      await sub.subscribe("a")
      expect((await xpub.receive()).map((b) => b.toString("latin1"))).toEqual(["\x01a"])
      await publishAll((m) => xpub.send(m))
      expect(await onlyMatching(() => sub.receive())).toEqual(EXPECTED)
    })

    it("JeroMQ XPUB receives omq SUB's subscription as the message 0x01 'a' (JeroMQ binds; its socket-type octet is XPUB's 9)", async () => {
      const xpub = await jeromqBinds("XPUB")
      const sub = track(new omq.Subscriber(BOUNDED))
      sub.subscribe("a")
      sub.connect(xpub.endpoint)
      expect((await xpub.receive(10_000)).map((b) => b.toString("latin1"))).toEqual(["\x01a"])
      await publishAll((m) => xpub.send(m))
      expect(await onlyMatching(() => sub.receive())).toEqual(EXPECTED)
    })
  })

  describe("refused: clean drop and a handshake:error:protocol event", () => {
    it("an omq CURVE server drops a JeroMQ 0.3.6 peer (ZMTP 2.0 has no security handshake): ERR_ZMTP_MECHANISM_MISMATCH", async () => {
      const server = omq.curveKeyPair()
      const pull = await omqBound(
        new omq.Pull({ ...BOUNDED, curveServer: true, curvePublicKey: server.publicKey, curveSecretKey: server.secretKey }),
      )
      const failed = nextEvent(pull, "handshake:error:protocol")
      const push = await jeromqConnects("PUSH", pull.lastEndpoint!)
      await push.send("secret?")
      expect(((await failed).error as { code?: string }).code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
      // Nothing got through, and a good peer is still served.
      const good = track(new omq.Push({ ...BOUNDED, curveServerKey: server.publicKey, ...clientKeys() }))
      good.connect(pull.lastEndpoint!)
      await good.send("through CURVE")
      expect(strs(await pull.receive())).toEqual(["through CURVE"])
    })

    it("omq PULL drops a JeroMQ PUB (incompatible socket type, RFC 15): ERR_ZMTP_INVALID_METADATA", async () => {
      const pull = await omqBound(new omq.Pull(BOUNDED))
      const failed = nextEvent(pull, "handshake:error:protocol")
      await jeromqConnects("PUB", pull.lastEndpoint!)
      expect(((await failed).error as { code?: string }).code).toBe("ERR_ZMTP_INVALID_METADATA")
      const good = await jeromqConnects("PUSH", pull.lastEndpoint!)
      await good.send("compatible")
      expect(strs(await pull.receive())).toEqual(["compatible"])
    })
  })
})

function clientKeys(): { curvePublicKey: string; curveSecretKey: string } {
  const kp = omq.curveKeyPair()
  return { curvePublicKey: kp.publicKey, curveSecretKey: kp.secretKey }
}
