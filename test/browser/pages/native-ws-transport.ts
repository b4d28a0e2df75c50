/**
 * A prototype of the browser's ws:// transport, as test scaffolding (test/browser/join.test.ts),
 * not lib/: connect-only (a page cannot listen), a native WebSocket offering the bare "ZWS2.0"
 * (the only ZWS name a page may offer), wrapped in an adapter with the few members of the `ws`
 * library's WebSocket that lib/transports/ws-stream.ts's WsStream uses, and run by the same
 * stream-transport machinery as tcp (engine, reconnect).
 */
import type { WebSocket as NodeWs } from "ws"
import { ZmqError } from "../../../lib/errors.js"
import { streamTransport } from "../../../lib/transports/stream-transport.js"
import type { Endpoint } from "../../../lib/transports/transport.js"
import { WsStream } from "../../../lib/transports/ws-stream.js"

type Listener = (...args: unknown[]) => void

/** The `ws` WebSocket members WsStream calls, over a page's WebSocket. */
class NativeWebSocket {
  readonly OPEN = 1
  constructor(private readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer"
  }
  get readyState(): number {
    return this.ws.readyState
  }
  /** WsStream asks for "nodebuffer"; messages are turned into Buffers here instead. */
  set binaryType(_: string) {}
  on(event: string, listener: Listener, once = false): this {
    const options = { once }
    if (event === "message") {
      this.ws.addEventListener(
        "message",
        (e) => listener(typeof e.data === "string" ? Buffer.from(e.data) : Buffer.from(e.data as ArrayBuffer), typeof e.data !== "string"),
        options,
      )
    } else if (event === "error") this.ws.addEventListener("error", () => listener(new Error("WebSocket error")), options)
    else if (event === "close" || event === "open") this.ws.addEventListener(event, () => listener(), options)
    return this
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener, true)
  }
  /** A page's send() has no completion callback: the bytes are the browser's at once (bufferedAmount counts them). */
  send(data: Uint8Array, _options: unknown, done?: () => void): void {
    this.ws.send(data)
    if (done !== undefined) queueMicrotask(done)
  }
  /** A page cannot stop reading a WebSocket: no backpressure towards the server. */
  pause(): void {}
  resume(): void {}
  close(code?: number): void {
    this.ws.close(code)
  }
  terminate(): void {
    this.ws.close()
  }
}

interface NativeWsEndpoint extends Endpoint {
  readonly url: string
}

export const nativeWs = streamTransport<NativeWsEndpoint, WsStream>({
  scheme: "ws",
  parse(address) {
    return { transport: "ws", raw: address, url: address }
  },
  listen() {
    return Promise.reject(new ZmqError("ENOTSUP", "A page cannot listen"))
  },
  listenSync() {
    throw new ZmqError("ENOTSUP", "A page cannot listen")
  },
  dial(ep, options) {
    const native = new WebSocket(ep.url, ["ZWS2.0"])
    const adapter = new NativeWebSocket(native) as unknown as NodeWs
    return new WsStream(adapter, false, ep.url, null, () => native.protocol, true, options.routingIdBytes)
  },
  remoteAddress: (s) => s.remoteAddress,
})
