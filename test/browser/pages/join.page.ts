/**
 * A page joins a ZeroMQ topology over ws:// (test/browser/join.test.ts): lib/entry/browser.ts,
 * bundled as omq/browser is (scripts/browser-bundle.mjs). A DEALER sends to the test's ROUTER
 * and gets its reply; a SUB subscribes to "news" at the test's PUB and gets the first such message.
 */
import { Dealer, Subscriber } from "../../../lib/entry/browser.js"
import { param, report } from "./report.js"

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
