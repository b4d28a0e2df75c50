/**
 * The transports omq serves. A new transport: a file in this folder implementing
 * `Transport` (transport.ts; stream-transport.ts does most of it for byte streams) and one
 * line here.
 */
import { inproc } from "./inproc-transport.js"
import { ipc } from "./ipc.js"
import { registerTransport } from "./registry.js"
import { tcp } from "./tcp.js"
import { ws, wss } from "./ws.js"

registerTransport(tcp)
registerTransport(ipc)
registerTransport(inproc)
registerTransport(ws)
registerTransport(wss)

export { parseAddress, registerTransport, transportOf } from "./registry.js"
export type { BoundEndpoint, Connection, Endpoint, JoinKind, Listener, SocketPort, Transport } from "./transport.js"
