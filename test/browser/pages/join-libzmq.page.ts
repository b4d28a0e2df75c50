/**
 * A page in a ZeroMQ topology with libzmq behind omq (test/browser/join-libzmq.test.ts): its REQ
 * asks a libzmq REP through an omq ROUTER/DEALER queue device, its SUB hears a libzmq PUB through
 * an omq XSUB/XPUB forwarder; the page reaches both over ws://, the devices reach libzmq over tcp.
 */
import { Request, Subscriber } from "../../../lib/entry/browser.js"
import { param, report } from "./report.js"

report(async () => {
  const req = new Request({ linger: 0, receiveTimeout: 8000, routingId: "tab" })
  const sub = new Subscriber({ linger: 0, receiveTimeout: 8000 })
  try {
    req.connect(param("queue"))
    await req.send("what is 6 x 7?")
    const [answer] = await req.receive()
    sub.connect(param("feed"))
    sub.subscribe("prices")
    const price = await sub.receive()
    return { answer: answer!.toString(), price: price.map((f) => f.toString()) }
  } finally {
    req.close()
    sub.close()
  }
})
