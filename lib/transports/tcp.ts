/** `tcp://host:port`: TCP over node:net (node-net.ts), with libzmq's address forms and keepalive options. */
import type * as net from "node:net"
import { parseTcp, type TcpEndpoint } from "./address.js"
import { dial, listen, listenSync } from "./node-net.js"
import { streamTransport } from "./stream-transport.js"
import type { StreamOptions } from "./transport.js"

function keepalive(s: net.Socket, o: StreamOptions): void {
  // ZMQ_TCP_KEEPALIVE: -1 leaves the OS default.
  if (o.tcpKeepalive === 1) s.setKeepAlive(true, o.tcpKeepaliveIdle > 0 ? o.tcpKeepaliveIdle * 1000 : 0)
  else if (o.tcpKeepalive === 0) s.setKeepAlive(false)
}

export const tcp = streamTransport<TcpEndpoint, net.Socket>({
  scheme: "tcp",
  parse: parseTcp,
  listen: (ep, onConnection) => listen(ep, onConnection),
  listenSync: (ep, onConnection, o) => listenSync(ep, onConnection, o.backlog),
  dial,
  configure: keepalive,
  remoteAddress: (s) => s.remoteAddress ?? "",
})
