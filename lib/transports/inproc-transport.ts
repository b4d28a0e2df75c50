/**
 * `inproc://name`: the transport side of inproc.ts. bind() registers the name in the
 * socket's context; connect() makes the connecting pipe at once (messages queue before the
 * bind, up to the HWM) and joins it to a pipe of the bound socket when the name is bound,
 * in this thread or another (inproc-threads.ts). No engine and no handshake: the socket
 * types are checked here, and each side's metadata is what the other declares.
 * libzmq reports no socket events for inproc, so every event goes out `silent`.
 */
import { isCompatible } from "../sockets/socket-types.js"
import type { Pipe } from "../pipe/pipe.js"
import { invalid } from "./address.js"
import { InprocLink, type InprocBinder, type InprocLinkLike, type InprocRequest } from "./inproc.js"
import type { RemoteLink, RemotePeer } from "./inproc-threads.js"
import { metadataOf } from "./inproc-link.js"
import { type BoundEndpoint, type Connection, type Endpoint, type Listener, type SocketPort, type Transport } from "./transport.js"

export interface InprocEndpoint extends Endpoint {
  readonly transport: "inproc"
  readonly name: string
}

function describe(port: SocketPort): RemotePeer {
  return { socketType: port.typeName, identity: port.localRoutingId() }
}

/** The bound side's share of a new connection: a pipe, or null (refused: wrong type, or PAIR taken). */
function acceptPeer(port: SocketPort, bound: BoundEndpoint, peer: RemotePeer): Pipe | null {
  if (port.closed) return null
  if (!isCompatible(port.typeName, peer.socketType) || !port.acceptsPeer()) {
    port.emitEvent("handshake:error:protocol", { address: bound.address }, true)
    return null
  }
  const pipe = port.newPipe(bound.address)
  pipe.peerMetadata = metadataOf(peer)
  return pipe
}

/** The peer of `pipe` is gone: inproc links do not reconnect, so the pipe goes. */
function leave(port: SocketPort, pipe: Pipe): void {
  port.emitEvent("disconnect", { address: pipe.endpoint }, true)
  port.dropPipe(pipe)
}

/** Counts the accepted connection on its endpoint and routes to it; returns what to do when it ends. */
function joinBound(port: SocketPort, bound: BoundEndpoint, link: InprocLinkLike, pipe: Pipe): (p: Pipe) => void {
  const connection = { close: (lingerMs: number) => link.close(lingerMs, link.bindEnd) }
  bound.connections.add(connection)
  port.emitEvent("accept", { address: bound.address }, true)
  port.peerJoined(pipe, bound.address, "new", true)
  return (p) => {
    bound.connections.delete(connection)
    leave(port, p)
  }
}

function bindNow(ep: Endpoint, port: SocketPort, bound: BoundEndpoint): Listener {
  const { name } = ep as InprocEndpoint
  const registry = port.context.inproc
  const binder: InprocBinder = {
    join(req: InprocRequest): InprocLink | null {
      if (!req.live) return null
      const pipe = acceptPeer(port, bound, req.peer)
      if (pipe === null) return null
      req.pipe.peerMetadata = metadataOf(describe(port))
      let boundLeft: (p: Pipe) => void = () => {}
      const link = new InprocLink(req.pipe, pipe, (l, p) => (p === pipe ? boundLeft(p) : req.left(l, p)))
      boundLeft = joinBound(port, bound, link, pipe)
      return link
    },
    joinRemote(peer: RemotePeer, makeLink: (pipe: Pipe) => RemoteLink): RemoteLink | null {
      const pipe = acceptPeer(port, bound, peer)
      if (pipe === null) return null
      const link = makeLink(pipe)
      link.onClose = joinBound(port, bound, link, pipe)
      return link
    },
    describe: () => describe(port),
  }
  registry.bind(name, bound.address, binder)
  return { endpoint: bound.address, close: () => registry.unbind(name, binder) }
}

export const inproc: Transport = {
  scheme: "inproc",
  silent: true,

  parse(address: string): InprocEndpoint {
    const name = address.slice("inproc://".length)
    if (name.length === 0) throw invalid(address)
    return { transport: "inproc", name, raw: address }
  },

  bind: (ep, port, bound) => Promise.resolve(bindNow(ep, port, bound)),
  bindSync: bindNow,

  connect(ep: Endpoint, port: SocketPort, routingId: Buffer | undefined): Connection {
    const { name, raw: address } = ep as InprocEndpoint
    const registry = port.context.inproc
    const pipe = port.newPipe(address, { routingId })
    // Routed to at once: messages queue for the peer until the name is bound.
    port.attach(pipe)
    let link: InprocLinkLike | null = null
    let stopped = false
    const req: InprocRequest = {
      address,
      pipe,
      peer: describe(port),
      get live() {
        return !stopped && !port.closed && pipe.attached
      },
      joined(l) {
        link = l
        // A link to another thread reports its end through onClose (an InprocLink calls left()).
        if (!(l instanceof InprocLink)) (l as RemoteLink).onClose = (p) => req.left(l, p)
        port.emitEvent("connect", { address }, true)
        if (pipe.attached) port.peerJoined(pipe, address, "existing", true)
        l.start()
      },
      left(_l, p) {
        leave(port, p)
      },
    }
    registry.connect(name, req)
    return {
      address,
      pipe,
      stop(lingerMs) {
        stopped = true
        registry.cancel(name, req)
        if (link !== null) link.close(lingerMs, link.connectEnd)
      },
    }
  },
}
