/**
 * A browser joins a ZeroMQ topology: a page's DEALER and SUB (lib/entry/browser.ts bundled as
 * omq/browser is, scripts/browser-bundle.mjs) connect to an omq ROUTER and an omq PUB bound on
 * ws:// here. The page can only offer the bare ZWS2.0 (smoke.test.ts), so this is omq's
 * no-mechanism path at both ends.
 */
// @ts-expect-error a plain-JavaScript build script, without declarations
import { browserAlias, browserInject, browserTransports } from "../../scripts/browser-bundle.mjs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Publisher, Router } from "../../lib/index.js"
import { delay } from "../helpers.js"
import { chromiumAvailable, pageFixture } from "../helpers/browser.js"

const hasChromium = chromiumAvailable()
const page = (name: string) => fileURLToPath(new URL(`./pages/${name}`, import.meta.url))

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!hasChromium)("a page joins a topology over ws:// (omq/browser's build)", () => {
  const fixture = pageFixture(page("join.page.ts"), { alias: browserAlias, inject: browserInject, plugins: [browserTransports] })

  it("a page DEALER sends to a Node omq ROUTER and gets the reply; a page SUB gets what a Node PUB publishes", async () => {
    const router = new Router({ linger: 0, receiveTimeout: 10_000 })
    const pub = new Publisher({ linger: 0 })
    try {
      await router.bind("ws://127.0.0.1:*")
      await pub.bind("ws://127.0.0.1:*/pub")
      const query = new URLSearchParams({ router: router.lastEndpoint!, pub: pub.lastEndpoint! })
      const opened = await fixture.open(`${query}`)
      try {
        const [id, body] = await router.receive()
        expect(id!.toString()).toBe("page")
        await router.send([id!, `echo: ${body}`])
        // The page's subscription arrives when it arrives: publish (paced) until the page has its message.
        let published = 0
        const result = opened.result<{ reply: string[]; news: string[] }>()
        let done = false
        void result.finally(() => (done = true)).catch(() => {})
        while (!done && published < 400) {
          await pub.send(["other", "not for the page"])
          await pub.send(["news", `#${published++}`])
          await delay(20)
        }
        const r = await result
        expect(r.reply).toEqual(["echo: hello from the page"])
        expect(r.news[0]).toBe("news")
        expect(r.news[1]).toMatch(/^#\d+$/)
        expect(opened.errors).toEqual([])
      } finally {
        await opened.close()
      }
    } finally {
      router.close()
      pub.close()
    }
  }, 45_000)
})
