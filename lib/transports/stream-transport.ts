/**
 * What every transport of byte streams (tcp, ipc; later ws) shares: each accepted or dialled
 * connection gets an engine from the socket (ZMTP, or raw for STREAM sockets); once its
 * handshake is done the socket routes to its pipe. A connect() dials through a Connecter,
 * which reconnects after failures and keeps the endpoint's pipe across connections.
 * A transport built on this gives only parse, listen and dial (see tcp.ts).
 */
import type { ConnectionEngine, EngineHost } from "../engine/engine.js"
import { Connecter, type ConnecterHost, type DialedStream } from "./connecter.js"
import type { BoundEndpoint, Connection, Endpoint, Listener, SocketPort, StreamOptions, Transport } from "./transport.js"

export interface StreamTransportSpec<E extends Endpoint, S extends DialedStream> {
  readonly scheme: string
  parse(address: string, forBind: boolean): E
  /** Listens; `onConnection` gets every accepted connection. */
  listen(ep: E, onConnection: (s: S) => void, options: StreamOptions): Promise<Listener>
  /** listen() done synchronously (bindSync). */
  listenSync(ep: E, onConnection: (s: S) => void, options: StreamOptions): Listener
  /** Starts one connection attempt (`options`: the socket's, for transports that negotiate security themselves). */
  dial(ep: E, options: StreamOptions): S
  /** Checks an endpoint given to connect() before any attempt (throws a ZmqError). */
  checkConnect?(ep: E): void
  /** Applies per-connection options (TCP keepalive) to a new connection. */
  configure?(s: S, options: StreamOptions): void
  /** The peer's address, as ZAP requests carry it ("" when there is none). */
  remoteAddress(s: S): string
}

export function streamTransport<E extends Endpoint, S extends DialedStream>(spec: StreamTransportSpec<E, S>): Transport {
  const bind = (ep: Endpoint, port: SocketPort, bound: BoundEndpoint, sync: boolean): Listener | Promise<Listener> => {
    // Connections accepted before listen() has returned are named by the bind address.
    let listener: Listener | undefined
    const onConnection = (stream: S): void => accept(spec, port, bound, stream, listener?.endpoint ?? bound.address)
    if (sync) return (listener = spec.listenSync(ep as E, onConnection, port.options))
    return spec.listen(ep as E, onConnection, port.options).then((l) => (listener = l))
  }
  return {
    scheme: spec.scheme,
    parse: (address, forBind) => spec.parse(address, forBind),
    bind: (ep, port, bound) => bind(ep, port, bound, false) as Promise<Listener>,
    bindSync: (ep, port, bound) => bind(ep, port, bound, true) as Listener,
    connect: (ep, port, routingId) => connect(spec, ep as E, port, routingId),
  }
}

/**
 * The EngineHost of one accepted connection. A class, not closures: a listener with many
 * peers holds one small object per connection.
 */
class AcceptedConnection implements EngineHost {
  constructor(
    private readonly port: SocketPort,
    private readonly bound: BoundEndpoint,
  ) {}

  engineReady(engine: ConnectionEngine): void {
    const port = this.port
    if (port.closed || !port.acceptsPeer()) {
      engine.close(0)
      return
    }
    const pipe = port.newPipe(engine.endpoint)
    pipe.peerMetadata = engine.peerMetadata
    pipe.userId = engine.userId
    engine.attach(pipe)
    port.peerJoined(pipe, engine.endpoint, "new", false)
  }

  engineClosed(engine: ConnectionEngine, error: Error | undefined): void {
    this.bound.connections.delete(engine)
    this.port.reportClosed(engine, error)
    if (engine.pipe !== null) this.port.dropPipe(engine.pipe)
  }
}

function accept<E extends Endpoint, S extends DialedStream>(
  spec: StreamTransportSpec<E, S>,
  port: SocketPort,
  bound: BoundEndpoint,
  stream: S,
  endpoint: string,
): void {
  if (port.closed) {
    stream.destroy()
    return
  }
  spec.configure?.(stream, port.options)
  const engine = port.createEngine(stream, new AcceptedConnection(port, bound), endpoint, spec.remoteAddress(stream))
  bound.connections.add(engine)
  port.emitEvent("accept", { address: endpoint })
  engine.start()
}

/** The ConnecterHost of one connect(): dials with the transport, routes to the socket. */
class DialingConnection<E extends Endpoint, S extends DialedStream> implements ConnecterHost {
  constructor(
    private readonly spec: StreamTransportSpec<E, S>,
    private readonly ep: E,
    private readonly port: SocketPort,
  ) {}

  dial(): S {
    return this.spec.dial(this.ep, this.port.options)
  }

  createEngine(stream: DialedStream, host: EngineHost, endpoint: string): ConnectionEngine {
    return this.port.createEngine(stream, host, endpoint, this.spec.remoteAddress(stream as S))
  }

  connecterReady(connecter: Connecter, engine: ConnectionEngine): boolean {
    const port = this.port
    if (port.closed) return false
    let pipe = connecter.pipe
    if (pipe === null) {
      if (!port.acceptsPeer()) return false
      pipe = port.newPipe(connecter.address, { routingId: connecter.connectRoutingId })
      pipe.peerMetadata = engine.peerMetadata
      pipe.userId = engine.userId
      connecter.pipe = pipe
      engine.attach(pipe)
      port.peerJoined(pipe, connecter.address, "new", false)
    } else {
      pipe.peerMetadata = engine.peerMetadata
      pipe.userId = engine.userId
      engine.attach(pipe)
      port.peerJoined(pipe, connecter.address, "existing", false)
    }
    return true
  }

  connecterDisconnected(connecter: Connecter, engine: ConnectionEngine, error: Error | undefined): void {
    const port = this.port
    port.reportClosed(engine, error)
    const pipe = connecter.pipe
    if (pipe !== null && engine.pipe === pipe && pipe.attached) port.peerPaused(pipe)
    if (port.options.immediate && pipe !== null) {
      port.dropPipe(pipe)
      connecter.pipe = null
    }
  }

  get reconnectInterval(): number {
    return this.port.options.reconnectInterval
  }

  get reconnectMaxInterval(): number {
    return this.port.options.reconnectMaxInterval
  }

  get connectTimeout(): number {
    return this.port.options.connectTimeout
  }

  configureStream(stream: DialedStream): void {
    this.spec.configure?.(stream as S, this.port.options)
  }

  emitEvent(type: string, data: Record<string, unknown>): void {
    this.port.emitEvent(type, data)
  }
}

function connect<E extends Endpoint, S extends DialedStream>(
  spec: StreamTransportSpec<E, S>,
  ep: E,
  port: SocketPort,
  routingId: Buffer | undefined,
): Connection {
  spec.checkConnect?.(ep)
  const c = new Connecter(ep, new DialingConnection(spec, ep, port))
  c.connectRoutingId = routingId
  if (!port.options.immediate) {
    // Routed to at once: messages queue for the peer until it is connected.
    c.pipe = port.newPipe(c.address, { routingId })
    port.attach(c.pipe)
  }
  c.start()
  return c
}
