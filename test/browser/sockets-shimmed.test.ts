/**
 * How far omq's own entry (lib/index.ts, unchanged) gets in a browser with shims alone: bundled
 * by esbuild for the browser with the `buffer` and `events` packages for node:buffer and
 * node:events, Web Crypto for randomBytes, and the globals of pages/node-runtime-shims.ts
 * (setImmediate, unref-able timers, process.emitWarning); node:net, node:fs, node:path,
 * node:util, node:http and node:https are empty. Sockets over inproc:// work in Chromium; a tcp:// bind fails when it runs.
 * This pins the shim set docs/browser-build.md proposes for `omq/browser` — not that build itself,
 * which registers only ws:// and inproc:// (a tcp:// bind is then EPROTONOSUPPORT).
 */
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  bundleForBrowser,
  chromiumAvailable,
  closeChromium,
  type FileServer,
  launchChromium,
  modulePage,
  openPage,
  serveFiles,
} from "../helpers/browser.js"

const hasChromium = chromiumAvailable()
const page = (name: string) => fileURLToPath(new URL(`./pages/${name}`, import.meta.url))
// Node's Buffer and EventEmitter for browsers, in node_modules as jszmq's dependencies.
const resolve = createRequire(import.meta.url).resolve

describe.skipIf(!hasChromium)("lib/index.ts in headless Chromium with Node shims only", () => {
  let browser: Browser | undefined
  let files: FileServer | undefined

  beforeAll(async () => {
    const unavailable = page("node-unavailable.ts")
    const script = await bundleForBrowser(page("sockets-shimmed.page.ts"), {
      alias: {
        "node:buffer": resolve("buffer/"),
        "node:events": resolve("events/"),
        "node:crypto": page("node-shims.ts"),
        "node:os": page("node-os.ts"),
        "node:net": unavailable,
        "node:fs": unavailable,
        "node:path": unavailable,
        "node:util": unavailable,
        // The Node side of ws:// (transports/ws.ts): a page dials with its own WebSocket instead.
        "node:http": unavailable,
        "node:https": unavailable,
        "node:tls": unavailable,
      },
      inject: [page("node-shims.ts"), page("node-runtime-shims.ts")],
    })
    files = await serveFiles({ "index.html": modulePage("sockets.js"), "sockets.js": script })
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await closeChromium(browser)
    await files?.close()
  }, 30_000)

  it("PUSH/PULL, REQ/REP, ROUTER/DEALER and PUB/SUB over inproc://, and curveKeyPair, run in the page", async () => {
    const opened = await openPage(browser!, files!.url)
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
      // No node:net: the tcp transport fails when it runs (an omq/browser entry would not register it).
      expect(r.tcpBind).toMatch(/^TypeError/)
      expect(opened.errors).toEqual([])
    } finally {
      await opened.close()
    }
  }, 45_000)
})
