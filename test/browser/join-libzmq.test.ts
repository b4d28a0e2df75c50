/**
 * A browser joins a topology whose services are libzmq's: a page's REQ reaches a libzmq REP
 * (zeromq.js) through an omq queue device (ROUTER on ws:// for the page, DEALER on tcp), and a
 * page's SUB hears a libzmq PUB through an omq forwarder (XSUB on tcp, XPUB on ws://).
 */
// @ts-expect-error a plain-JavaScript build script, without declarations
import { browserAlias, browserInject, browserTransports } from "../../scripts/browser-bundle.mjs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { forwarderDevice, queueDevice } from "../../lib/entry/devices.js"
import { delay } from "../helpers.js"
import { chromiumAvailable, pageFixture } from "../helpers/browser.js"

const hasChromium = chromiumAvailable()
const page = (name: string) => fileURLToPath(new URL(`./pages/${name}`, import.meta.url))

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!hasChromium)("a page, omq devices and libzmq services", () => {
  const fixture = pageFixture(page("join-libzmq.page.ts"), { alias: browserAlias, inject: browserInject, plugins: [browserTransports] })

  it("the page's REQ gets a libzmq REP's answer through a queue device; its SUB hears a libzmq PUB through a forwarder", async () => {
    const rep = new zmq.Reply({ linger: 0 })
    const pub = new zmq.Publisher({ linger: 0 })
    await rep.bind("tcp://127.0.0.1:*")
    await pub.bind("tcp://127.0.0.1:*")
    const queue = await queueDevice({ frontEnd: { bind: ["ws://127.0.0.1:*/queue"] }, backEnd: { connect: [rep.lastEndpoint!] } })
    const feed = await forwarderDevice({ frontEnd: { connect: [pub.lastEndpoint!] }, backEnd: { bind: ["ws://127.0.0.1:*/feed"] } })
    const running = [queue.run(), feed.run()]
    const answering = (async () => {
      const [q] = await rep.receive()
      await rep.send(q!.toString() === "what is 6 x 7?" ? "42" : "?")
    })()
    try {
      const query = new URLSearchParams({ queue: queue.frontEnd.lastEndpoint!, feed: feed.backEnd.lastEndpoint! })
      const opened = await fixture.open(`${query}`)
      try {
        const result = opened.result<{ answer: string; price: string[] }>()
        let done = false
        void result.finally(() => (done = true)).catch(() => {})
        // The page's subscription travels page → forwarder → libzmq: publish (paced) until it has arrived.
        for (let n = 0; !done && n < 400; n++) {
          await pub.send(["weather", "not for the page"])
          await pub.send(["prices", `ZMQ ${100 + n}`])
          await delay(20)
        }
        const r = await result
        await answering
        expect(r.answer).toBe("42")
        expect(r.price[0]).toBe("prices")
        expect(r.price[1]).toMatch(/^ZMQ \d+$/)
        expect(opened.errors).toEqual([])
      } finally {
        await opened.close()
      }
    } finally {
      queue.terminate()
      feed.terminate()
      await Promise.allSettled(running)
      rep.close()
      pub.close()
    }
  }, 45_000)
})
