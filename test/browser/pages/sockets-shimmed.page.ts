/**
 * omq's own entry (lib/index.ts), unchanged, in a page with only the shims of node-shims.ts and
 * node-runtime-shims.ts (test/browser/sockets-shimmed.test.ts): sockets over inproc://, and what a
 * tcp:// bind does where there is no node:net.
 */
import { Dealer, Publisher, Pull, Push, Reply, Request, Router, Subscriber, curveKeyPair } from "../../../lib/index.js"
import { report } from "./report.js"

const text = (frames: Buffer[]) => frames.map((f) => f.toString())

report(async () => {
  const sockets: { close(): void }[] = []
  const track = <T extends { close(): void }>(s: T): T => (sockets.push(s), s)
  try {
    const push = track(new Push({ linger: 0 }))
    await push.bind("inproc://push-pull")
    const pull = track(new Pull({ linger: 0, receiveTimeout: 5000 }))
    pull.connect("inproc://push-pull")
    await push.send(["hello", "world"])
    const pushPull = text(await pull.receive())

    const rep = track(new Reply({ linger: 0, receiveTimeout: 5000 }))
    await rep.bind("inproc://req-rep")
    const req = track(new Request({ linger: 0, receiveTimeout: 5000 }))
    req.connect("inproc://req-rep")
    await req.send("ping")
    const [question] = await rep.receive()
    await rep.send(`pong to ${question}`)
    const reqRep = text(await req.receive())

    const router = track(new Router({ linger: 0, receiveTimeout: 5000 }))
    await router.bind("inproc://router-dealer")
    const dealer = track(new Dealer({ linger: 0, receiveTimeout: 5000 }))
    dealer.connect("inproc://router-dealer")
    await dealer.send("from the dealer")
    const [routingId, body] = await router.receive()
    await router.send([routingId!, `echo: ${body}`])
    const routerDealer = text(await dealer.receive())

    const pub = track(new Publisher({ linger: 0 }))
    await pub.bind("inproc://pub-sub")
    const sub = track(new Subscriber({ linger: 0, receiveTimeout: 5000 }))
    sub.connect("inproc://pub-sub")
    sub.subscribe("news")
    // A subscription reaches the publisher asynchronously: publish until the first one arrives.
    const received = sub.receive()
    let sent = 0
    let got: Buffer[] | undefined
    void received.then((m) => (got = m))
    while (got === undefined && sent < 200) {
      await pub.send(["news", `#${sent++}`])
      await new Promise((r) => setTimeout(r, 10))
    }
    const pubSub = text(await received)

    const keys = curveKeyPair()
    let tcpBind: string
    try {
      await track(new Push({ linger: 0 })).bind("tcp://127.0.0.1:*")
      tcpBind = "bound"
    } catch (err) {
      tcpBind = `${(err as Error).name}: ${(err as Error).message}`
    }
    return {
      pushPull,
      reqRep,
      routerDealer,
      routingIdLength: routingId!.length,
      pubSub: pubSub[0],
      keyLengths: [keys.publicKey.length, keys.secretKey.length],
      tcpBind,
    }
  } finally {
    for (const s of sockets) s.close()
  }
})
