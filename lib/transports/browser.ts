/**
 * The transports of omq's browser build (scripts/browser-bundle.mjs puts this file in place of
 * index.ts): inproc:// inside the page, and ws:// / wss:// over the page's own WebSocket.
 */
import { inproc } from "./inproc-transport.js"
import { registerTransport } from "./registry.js"
import { pageWs, pageWss } from "./ws-browser.js"

registerTransport(inproc)
registerTransport(pageWs)
registerTransport(pageWss)

export { parseAddress, registerTransport, transportOf } from "./registry.js"
export type { BoundEndpoint, Connection, Endpoint, JoinKind, Listener, SocketPort, Transport } from "./transport.js"
