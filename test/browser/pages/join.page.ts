/**
 * A page joins a ZeroMQ topology over ws:// (test/browser/join.test.ts): lib/index.ts's sockets
 * with the prototype transport of native-ws-transport.ts registered for ws://. A DEALER sends to
 * the test's ROUTER and gets its reply; a SUB subscribes to "news" at the test's PUB and gets
 * the first such message.
 */
import { Dealer, Subscriber } from "../../../lib/index.js"
import { registerTransport } from "../../../lib/transports/registry.js"
import { nativeWs } from "./native-ws-transport.js"
import { param, report } from "./report.js"

registerTransport(nativeWs)

report(async () => {
  const dealer = new Dealer({ linger: 0, receiveTimeout: 8000, routingId: "page" })
  const sub = new Subscriber({ linger: 0, receiveTimeout: 8000 })
  try {
    dealer.connect(param("router"))
    await dealer.send("hello from the page")
    const reply = await dealer.receive()
    sub.connect(param("pub"))
    sub.subscribe("news")
    const news = await sub.receive()
    return { reply: reply.map((f) => f.toString()), news: news.map((f) => f.toString()) }
  } finally {
    dealer.close()
    sub.close()
  }
})
