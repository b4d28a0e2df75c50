/**
 * The smoke test's page script (test/browser/smoke.test.ts). Two things a browser build of omq
 * depends on:
 * - which ZWS 2.0 subprotocols a page may offer: `new WebSocket(url, protocols)` throws a
 *   SyntaxError for a name that is not an RFC 7230 token, and "/" is not a token character, so
 *   "ZWS2.0/NULL", "ZWS2.0/PLAIN" and "ZWS2.0/CURVE" cannot be offered from a page — only "ZWS2.0";
 * - a native WebSocket with "ZWS2.0" to the test's `ws` server: one binary message out, its echo back.
 */
import { param, report } from "./report.js"

const ZWS = "ZWS2.0"
const ZWS_WITH_MECHANISM = ["ZWS2.0/NULL", "ZWS2.0/PLAIN", "ZWS2.0/CURVE"]

/** The error `new WebSocket` throws for `protocol`, or "accepted" (and the socket is closed again). */
function offer(url: string, protocol: string): string {
  try {
    new WebSocket(url, [protocol]).close()
    return "accepted"
  } catch (err) {
    return (err as Error).name
  }
}

report(async () => {
  const url = param("ws")
  const offered = Object.fromEntries(ZWS_WITH_MECHANISM.map((p) => [p, offer(url, p)]))
  const socket = new WebSocket(url, [ZWS])
  socket.binaryType = "arraybuffer"
  const sent = new Uint8Array([0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0xff])
  const echo = await new Promise<Uint8Array>((resolve, reject) => {
    socket.onopen = () => socket.send(sent)
    socket.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer) resolve(new Uint8Array(e.data))
      else reject(new Error(`expected a binary message, got ${typeof e.data}`))
    }
    socket.onerror = () => reject(new Error("WebSocket error"))
    socket.onclose = (e) => reject(new Error(`WebSocket closed before the echo (code ${e.code})`))
  })
  const protocol = socket.protocol
  socket.onclose = null
  socket.close(1000)
  return { offered, protocol, sent: [...sent], echo: [...echo] }
})
