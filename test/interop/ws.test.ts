/**
 * ws:// against libzmq's own ws engine (the `zeromq` package's libzmq is built with it), in
 * both directions: who binds and who connects, per pattern, and with PLAIN and CURVE.
 */
import * as zmq from "zeromq"
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { startZapHandler } from "../../lib/security/zap-handler.js"
import { closeAfterEach } from "../helpers/close-after-each.js"
import { BOUNDED } from "./peer-util.js"

const track = closeAfterEach({ ignoreErrors: true })
const str = (m: Buffer[]): string[] => m.map((b) => b.toString())

type Side = "omq" | "libzmq"
const SIDES: Array<[Side, Side]> = [
  ["omq", "libzmq"],
  ["libzmq", "omq"],
]

function make<K extends "Dealer" | "Router" | "Publisher" | "Subscriber" | "Push" | "Pull">(side: Side, kind: K, options: object = {}) {
  const lib = (side === "omq" ? omq : zmq) as unknown as Record<K, new (o: object) => omq.Socket>
  // Only the timeouts the type has (sockets are sealed): PUSH and PUB do not receive, PULL and SUB do not send.
  const sends = kind !== "Pull" && kind !== "Subscriber"
  const receives = kind !== "Push" && kind !== "Publisher"
  const bounds = {
    linger: 0,
    ...(sends ? { sendTimeout: BOUNDED.sendTimeout } : {}),
    ...(receives ? { receiveTimeout: BOUNDED.receiveTimeout } : {}),
  }
  return track(new lib[kind]({ ...bounds, ...options })) as unknown as InstanceType<(typeof omq)[K]>
}

describe.each(SIDES)("ws:// %s binds, %s connects", (binder, connecter) => {
  it("DEALER → ROUTER and back", async () => {
    const router = make(binder, "Router")
    await router.bind("ws://127.0.0.1:*/rpc")
    const dealer = make(connecter, "Dealer", { routingId: "d" })
    dealer.connect(router.lastEndpoint!)
    await dealer.send(["hello", "there"])
    const [id, ...body] = await router.receive()
    expect([id!.toString(), ...str(body)]).toEqual(["d", "hello", "there"])
    await router.send([id!, "back"])
    expect(str(await dealer.receive())).toEqual(["back"])
  })

  it("PUSH → PULL, large and small", async () => {
    const pull = make(binder, "Pull")
    await pull.bind("ws://127.0.0.1:*/pipe")
    const push = make(connecter, "Push")
    push.connect(pull.lastEndpoint!)
    const big = Buffer.alloc(200_000)
    for (let i = 0; i < big.length; i++) big[i] = i % 251
    // libzmq's ws engine masks a large message in the sender's own Buffer (zero-copy send): compare with a copy.
    const expected = Buffer.from(big)
    await push.send("small")
    await push.send(big)
    expect(str(await pull.receive())).toEqual(["small"])
    expect((await pull.receive())[0]!.equals(expected)).toBe(true)
  })

  it("PUB → SUB with a subscription filter", async () => {
    const pub = make(binder, "Publisher")
    await pub.bind("ws://127.0.0.1:*/feed")
    const sub = make(connecter, "Subscriber")
    sub.connect(pub.lastEndpoint!)
    sub.subscribe("a")
    const timer = setInterval(() => {
      void pub.send(["b", "filtered"]).catch(() => {})
      void pub.send(["a", "wanted"]).catch(() => {})
    }, 10)
    try {
      expect(str(await sub.receive())).toEqual(["a", "wanted"])
    } finally {
      clearInterval(timer)
    }
  })

  it("CURVE", async () => {
    const server = omq.curveKeyPair()
    const client = omq.curveKeyPair()
    const router = make(binder, "Router", { curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey })
    await router.bind("ws://127.0.0.1:*/curve")
    const dealer = make(connecter, "Dealer", {
      curveServerKey: server.publicKey,
      curveSecretKey: client.secretKey,
      curvePublicKey: client.publicKey,
    })
    dealer.connect(router.lastEndpoint!)
    await dealer.send("secret")
    const [id, body] = await router.receive()
    expect(body!.toString()).toBe("secret")
    await router.send([id!, "reply"])
    expect(str(await dealer.receive())).toEqual(["reply"])
  })
})

describe("ws:// PLAIN between omq and libzmq", () => {
  it("an omq PLAIN server with a ZAP handler accepts a libzmq client", async () => {
    const context = new omq.Context()
    const zap = await startZapHandler((r) => ({ status: r.credentials[1]?.toString() === "pw" ? 200 : 400 }), { context })
    try {
      const pull = track(new omq.Pull({ linger: 0, receiveTimeout: BOUNDED.receiveTimeout, context, plainServer: true }))
      await pull.bind("ws://127.0.0.1:*/plain")
      const push = track(new zmq.Push({ linger: 0, sendTimeout: BOUNDED.sendTimeout, plainUsername: "u", plainPassword: "pw" }))
      push.connect(pull.lastEndpoint!)
      await push.send("plain over ws")
      expect(str(await pull.receive())).toEqual(["plain over ws"])
    } finally {
      zap.close()
    }
  })
})
