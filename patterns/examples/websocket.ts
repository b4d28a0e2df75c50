/**
 * ws:// (ZeroMQ over WebSocket, ZWS 2.0): a ROUTER and a PUB share one HTTP port by path, a
 * DEALER and a SUB reach them over WebSocket, as a web page or jszmq would.
 */
import { Dealer, Publisher, Router, Subscriber } from "../../lib/index.js"

export async function websocket(): Promise<string> {
  const router = new Router({ linger: 0 })
  await router.bind("ws://127.0.0.1:*/rpc")
  const port = new URL(router.lastEndpoint!.replace("ws:", "http:")).port
  const pub = new Publisher({ linger: 0 })
  await pub.bind(`ws://127.0.0.1:${port}/events`) // the same HTTP port, another path

  const dealer = new Dealer({ routingId: "tab-1", linger: 0 })
  dealer.connect(`ws://127.0.0.1:${port}/rpc`)
  await dealer.send("what time is it?")
  const [id, question] = await router.receive()
  await router.send([id!, `it is ${new Date().toISOString().slice(11, 19)}`])
  const [answer] = await dealer.receive()

  const sub = new Subscriber({ linger: 0 })
  sub.connect(`ws://127.0.0.1:${port}/events`)
  sub.subscribe("tick")
  const ticker = setInterval(() => void pub.send(["tick", "1"]), 10) // until the subscription has arrived
  const [topic] = await sub.receive()
  clearInterval(ticker)

  for (const s of [dealer, router, sub, pub]) s.close()
  return `${id} asked "${question}", got "${answer}"; SUB got "${topic}" over ws://127.0.0.1:${port}/events`
}
