/** `ipc://path`: Unix domain sockets over node:net (node-net.ts); `ipc://*` and `ipc://@name` as libzmq. */
import type * as net from "node:net"
import { parseIpc, type IpcEndpoint } from "./address.js"
import { checkIpcPath, dial, listen, listenSync } from "./node-net.js"
import { streamTransport } from "./stream-transport.js"

export const ipc = streamTransport<IpcEndpoint, net.Socket>({
  scheme: "ipc",
  parse: (address) => parseIpc(address),
  listen: (ep, onConnection) => listen(ep, onConnection),
  listenSync: (ep, onConnection, o) => listenSync(ep, onConnection, o.backlog),
  dial,
  checkConnect: checkIpcPath,
  // A Unix socket peer has no address; libzmq's ZAP requests carry "" for it as well.
  remoteAddress: () => "",
})
