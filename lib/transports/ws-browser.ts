/**
 * ws:// and wss:// in the browser build: connect only (a page cannot listen), over the page's
 * own WebSocket offering the bare "ZWS2.0", the only ZWS name a page may offer ("/" is not
 * allowed in a subprotocol): so no mechanism, each side sends its routing id first (RFC 45).
 * The page's WebSocket is wrapped in an adapter with the few members of the `ws` library's
 * WebSocket that ws-stream.ts's WsStream uses, and run by the same stream-transport machinery
 * as tcp (engine, reconnect, heartbeats where a mechanism allows them).
 */
import type { WebSocket as NodeWs } from "ws"
import { ZmqError } from "../errors.js"
import { streamTransport } from "./stream-transport.js"
import type { Endpoint } from "./transport.js"
import { WsStream, asServer, impliedMechanism } from "./ws-stream.js"

/** Bytes the page's WebSocket may hold unsent before what is written waits (back-pressure for the engine). */
const BUFFERED_MAX = 1024 * 1024

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
  /** Completions waiting for the page's WebSocket to send what it holds. */
  private waiting: Array<() => void> = []
  private polling: ReturnType<typeof setInterval> | undefined

  /**
   * A page's send() has no completion callback, only `bufferedAmount`: a send counts as done
   * at once while that is small, else when it has fallen again (checked every 10 ms), so the
   * engine stops writing to a slow connection as it does over tcp.
   */
  send(data: Uint8Array, _options: unknown, done?: () => void): void {
    this.ws.send(data)
    if (done === undefined) return
    if (this.ws.bufferedAmount < BUFFERED_MAX && this.waiting.length === 0) {
      queueMicrotask(done)
      return
    }
    this.waiting.push(done)
    this.polling ??= setInterval(() => {
      if (this.ws.bufferedAmount >= BUFFERED_MAX && this.ws.readyState === this.OPEN) return
      clearInterval(this.polling)
      this.polling = undefined
      for (const d of this.waiting.splice(0)) d()
    }, 10)
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

function pageTransport(scheme: "ws" | "wss") {
  return streamTransport<NativeWsEndpoint, WsStream>({
    scheme,
    parse(address) {
      return { transport: scheme, raw: address, url: address }
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
      // Offering the bare ZWS2.0: without a mechanism for a NULL socket; a PLAIN or CURVE socket
      // runs its own over it (an omq server configured alike does the same, see ws.ts).
      const implied = impliedMechanism(options)
      return new WsStream(adapter, asServer(options), ep.url, implied, () => native.protocol, true, options.routingIdBytes, implied)
    },
    remoteAddress: (s) => s.remoteAddress,
  })
}

export const pageWs = pageTransport("ws")
export const pageWss = pageTransport("wss")
