/**
 * A page's native WebSocket and libzmq (zeromq.js 6, whose libzmq 4.3.5 has ws://) agree on ZWS
 * 2.0 without a mechanism — the only variant a page can offer (smoke.test.ts): the page, by hand
 * (pages/zws-raw.page.ts), sends a two-part message to a libzmq PULL and receives one from a
 * libzmq PUSH. This is the interop ground truth for omq's browser ws:// client.
 */
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { chromiumAvailable, pageFixture } from "../helpers/browser.js"

const hasChromium = chromiumAvailable()

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!hasChromium)("a page speaks ZWS2.0 (no mechanism) to libzmq's ws:// sockets", () => {
  const sockets: zmq.Socket[] = []
  const track = <T extends zmq.Socket>(s: T): T => (sockets.push(s), s)

  const fixture = pageFixture(fileURLToPath(new URL("./pages/zws-raw.page.ts", import.meta.url)))

  afterEach(() => {
    for (const s of sockets.splice(0)) s.close()
  })

  it("sends a two-part message to a libzmq PULL and receives one from a libzmq PUSH", async () => {
    const pull = track(new zmq.Pull({ linger: 0, receiveTimeout: 10_000 }))
    await pull.bind("ws://127.0.0.1:*")
    const push = track(new zmq.Push({ linger: 0, sendTimeout: 10_000 }))
    await push.bind("ws://127.0.0.1:*")
    // Queued before the page connects: a PUSH holds it until a peer is there.
    const pushed = push.send(["x", "y"])
    const query = new URLSearchParams({ pull: pull.lastEndpoint!, push: push.lastEndpoint! })
    const page = await fixture.open(`${query}`)
    try {
      const received = pull.receive()
      const r = await page.result<{ protocols: string[]; fromPull: [number, string][]; pushed: [number, string][] }>()
      expect(r.protocols).toEqual(["ZWS2.0", "ZWS2.0"])
      // libzmq's first message on each connection is its routing id (empty for PULL/PUSH).
      expect(r.fromPull).toEqual([[0, ""]])
      expect((await received).map(String)).toEqual(["a", "b"])
      await pushed
      expect(r.pushed).toEqual([
        [0, ""],
        [1, "x"],
        [0, "y"],
      ])
      expect(page.errors).toEqual([])
    } finally {
      await page.close()
    }
  }, 45_000)
})
