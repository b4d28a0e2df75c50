/**
 * CURVE over ws:// from a page: the page's DEALER (omq/browser's build, with omq's SIMD
 * WebAssembly cipher: the browser build has no libsodium) and a Node ROUTER, both configured
 * for CURVE, run the CURVE handshake over the bare ZWS2.0, the one subprotocol a page can offer;
 * the ZAP handler sees the page's public key.
 */
// @ts-expect-error a plain-JavaScript build script, without declarations
import { browserAlias, browserInject, browserTransports } from "../../scripts/browser-bundle.mjs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Context, Router, curveKeyPair } from "../../lib/index.js"
import { startZapHandler } from "../../lib/security/zap-handler.js"
import { z85 } from "../../lib/security/keys.js"
import { chromiumAvailable, pageFixture } from "../helpers/browser.js"

const hasChromium = chromiumAvailable()
const page = (name: string) => fileURLToPath(new URL(`./pages/${name}`, import.meta.url))

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!hasChromium)("CURVE over ws:// from a page", () => {
  const fixture = pageFixture(page("curve-ws.page.ts"), { alias: browserAlias, inject: browserInject, plugins: [browserTransports] })

  it("a page's CURVE DEALER and a Node CURVE ROUTER exchange boxed messages; ZAP sees the page's key", async () => {
    const context = new Context()
    const seen: string[] = []
    const zap = await startZapHandler(
      (r) => {
        seen.push(z85.encode(r.credentials[0]!))
        return { status: 200 }
      },
      { context },
    )
    const server = curveKeyPair()
    const router = new Router({ linger: 0, receiveTimeout: 10_000, context, curveServer: true, curveSecretKey: server.secretKey })
    try {
      await router.bind("ws://127.0.0.1:*/secure")
      const opened = await fixture.open(`${new URLSearchParams({ router: router.lastEndpoint!, serverKey: server.publicKey })}`)
      try {
        const [id, body] = await router.receive()
        expect([id!.toString(), body!.toString()]).toEqual(["secure-tab", "boxed in the page"])
        await router.send([id!, "boxed in Node"])
        const r = await opened.result<{ reply: string; publicKey: string; cipher: string }>()
        expect(r.reply).toBe("boxed in Node")
        expect(r.cipher).toBe("simd") // omq's WebAssembly cipher runs in the page
        expect(seen).toEqual([r.publicKey])
        expect(opened.errors).toEqual([])
      } finally {
        await opened.close()
      }
    } finally {
      router.close()
      zap.close()
    }
  }, 45_000)
})
