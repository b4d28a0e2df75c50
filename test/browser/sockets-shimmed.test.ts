/**
 * How far omq's own entry (lib/index.ts, unchanged) gets in a browser with shims alone: bundled
 * by esbuild for the browser with the `buffer` and `events` packages for node:buffer and
 * node:events, Web Crypto for randomBytes, and the globals of pages/node-runtime-shims.ts
 * (setImmediate, unref-able timers, process.emitWarning); node:net, node:fs, node:path,
 * node:util, node:http and node:https are empty. Sockets over inproc:// work in Chromium; a tcp:// bind fails when it runs.
 * This pins the shim set docs/browser-build.md proposes for `omq/browser` — not that build itself,
 * which registers only ws:// and inproc:// (a tcp:// bind is then EPROTONOSUPPORT).
 */
// @ts-expect-error a plain-JavaScript build script, without declarations
import { browserAlias, browserInject, browserTransports } from "../../scripts/browser-bundle.mjs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { chromiumAvailable, pageFixture } from "../helpers/browser.js"

const hasChromium = chromiumAvailable()
const page = (name: string) => fileURLToPath(new URL(`./pages/${name}`, import.meta.url))
// Node's Buffer and EventEmitter for browsers, in node_modules as jszmq's dependencies.

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!hasChromium)("lib/index.ts in headless Chromium, bundled as omq/browser is", () => {
  // The browser build's own shims and transports (scripts/browser-bundle.mjs).
  const fixture = pageFixture(page("sockets-shimmed.page.ts"), {
    alias: browserAlias,
    inject: browserInject,
    plugins: [browserTransports],
  })

  it("PUSH/PULL, REQ/REP, ROUTER/DEALER and PUB/SUB over inproc://, and curveKeyPair, run in the page", async () => {
    const opened = await fixture.open()
    try {
      const r = await opened.result<Record<string, unknown>>()
      expect(r).toMatchObject({
        pushPull: ["hello", "world"],
        reqRep: ["pong to ping"],
        routerDealer: ["echo: from the dealer"],
        routingIdLength: 5,
        pubSub: "news",
        keyLengths: [40, 40],
      })
      // The browser build registers no tcp transport: tcp:// is refused as libzmq refuses an unknown protocol.
      expect(r.tcpBind).toBe("Error: Protocol not supported")
      expect(opened.errors).toEqual([])
    } finally {
      await opened.close()
    }
  }, 45_000)
})
