/**
 * A page speaks ZWS 2.0 "no mechanism" (the bare "ZWS2.0" subprotocol, the only one a page can
 * offer) by hand over a native WebSocket, to libzmq's ws:// sockets (test/browser/zws-libzmq.test.ts):
 * every ZeroMQ frame is one binary WebSocket message, a flags byte (0x01 MORE, else 0x00) then
 * the body; each side's first message is its routing id (RFC 45; libzmq ws_engine.cpp).
 */
import { param, report } from "./report.js"

const MORE = 0x01

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["ZWS2.0"])
    ws.binaryType = "arraybuffer"
    ws.onopen = () => resolve(ws)
    ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`))
  })
}

/** One ZeroMQ frame as a WebSocket message. */
function frame(body: string, more: boolean): Uint8Array {
  const bytes = new TextEncoder().encode(body)
  const out = new Uint8Array(1 + bytes.length)
  out[0] = more ? MORE : 0
  out.set(bytes, 1)
  return out
}

/** The first `count` messages `ws` receives, as [flags, body text]. */
function receive(ws: WebSocket, count: number): Promise<[number, string][]> {
  const got: [number, string][] = []
  return new Promise((resolve, reject) => {
    ws.onmessage = (e) => {
      const b = new Uint8Array(e.data as ArrayBuffer)
      got.push([b[0]!, new TextDecoder().decode(b.subarray(1))])
      if (got.length === count) resolve(got)
    }
    ws.onclose = (e) => reject(new Error(`closed (code ${e.code}) after ${got.length} of ${count} messages`))
  })
}

report(async () => {
  // To libzmq's PULL: our routing id (empty), then the two-part message "a", "b".
  const toPull = await open(param("pull"))
  const pullGreeting = receive(toPull, 1)
  toPull.send(frame("", false))
  toPull.send(frame("a", true))
  toPull.send(frame("b", false))
  const fromPull = await pullGreeting

  // From libzmq's PUSH: its routing id, then "x", "y".
  const toPush = await open(param("push"))
  const fromPush = receive(toPush, 3)
  toPush.send(frame("", false))
  const pushed = await fromPush
  const protocols = [toPull.protocol, toPush.protocol]
  toPull.close()
  toPush.close()
  return { protocols, fromPull, pushed }
})
