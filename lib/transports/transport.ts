/**
 * The transport interface: how a socket binds and connects over one scheme (`tcp://`,
 * `ipc://`, `inproc://`; later `ws://`, `udp://`). A transport parses its own addresses,
 * listens and connects; it never sees socket types or routing. It talks to the socket
 * through a `SocketPort`, the socket's private side (not the public `Socket` class).
 *
 * Stream transports (tcp, ipc) hand each new connection, a `ByteStream`, to the socket,
 * which runs a ZMTP engine over it (`streams.ts` has the shared plumbing); inproc joins
 * pipes of two sockets directly. Transports are registered by scheme in `registry.ts`.
 */
import type { Context } from "../context.js"
import type { ConnectionEngine, EngineHost } from "../engine/engine.js"
import type { Pipe, PipeOwner } from "../pipe/pipe.js"
import type { ByteStream } from "./byte-stream.js"

/** A parsed address; each transport adds its own fields. */
export interface Endpoint {
  /** The scheme (`tcp`, `ipc`, ...). */
  readonly transport: string
  /** The address as given to bind/connect. */
  readonly raw: string
}

/** A bound endpoint, listening. */
export interface Listener {
  /** The endpoint as bound, with wildcards resolved (for `lastEndpoint`). */
  readonly endpoint: string
  close(): void
}

/** A connection of a bound endpoint, closed when the endpoint is unbound. */
export interface BoundConnection {
  close(lingerMs: number): void
}

/** One bound endpoint of a socket: what unbind() and close() end. */
export interface BoundEndpoint {
  /** The address as given to bind(). */
  readonly address: string
  /** The live connections accepted on it. */
  readonly connections: Set<BoundConnection>
}

/** An active connect(): what disconnect() and close() end. */
export interface Connection {
  readonly address: string
  /** The pipe made for this endpoint before any peer exists (null with `immediate`). */
  readonly pipe: Pipe | null
  stop(lingerMs: number): void
}

/** The per-connection options of stream transports. */
export interface StreamOptions {
  readonly reconnectInterval: number
  readonly reconnectMaxInterval: number
  /** ZMQ_CONNECT_TIMEOUT in ms (0: the OS decides). */
  readonly connectTimeout: number
  /** ZMQ_TCP_KEEPALIVE: -1 the OS default, 0 off, 1 on. */
  readonly tcpKeepalive: number
  /** ZMQ_TCP_KEEPALIVE_IDLE in seconds (≤ 0: the OS default). */
  readonly tcpKeepaliveIdle: number
  /** ZMQ_BACKLOG. */
  readonly backlog: number
  /** ZMQ_IMMEDIATE: queue nothing for a connect() until its connection is made. */
  readonly immediate: boolean
  /** The security mechanism the socket's options select (null: NULL), for transports that negotiate it themselves (ws). */
  readonly securityMechanism: null | "plain" | "curve"
  readonly plainServer: boolean
  readonly curveServer: boolean
  /** The socket's routing id as bytes (ZWS 2.0 without a mechanism sends it first). */
  readonly routingIdBytes: Buffer | undefined
  /** ZMQ_MAXMSGSIZE (-1: no limit), for transports that must bound what they buffer before the engine sees it. */
  readonly maxMessageSize: number
  /** wss:// certificates and trust (PEM), as the socket's ZMQ_WSS_* options set them. */
  readonly wssKeyPem: string | null
  readonly wssCertPem: string | null
  readonly wssTrustPem: string | null
  readonly wssHostname: string | null
  readonly wssTrustSystem: boolean
}

/** How a new peer arrived, for the socket's bookkeeping and events. */
export type JoinKind =
  /** A pipe the socket does not route to yet (a connection accepted, a first connect). */
  | "new"
  /** A connect()'s pipe that was routed to before (queued for the peer, or reconnecting). */
  | "existing"

/**
 * What a transport may do with the socket it serves; it is also the owner of the socket's
 * pipes. The socket keeps this object private, so none of it is on the public API.
 */
export interface SocketPort extends PipeOwner {
  /** ZMTP socket type name ("PUSH", ...). */
  readonly typeName: string
  readonly closed: boolean
  readonly context: Context
  readonly options: StreamOptions
  /** Our routing id as a peer learns it (undefined for types that send none). */
  localRoutingId(): Buffer | undefined
  /** Whether this socket type takes a further peer (PAIR takes one). */
  acceptsPeer(): boolean
  /** A new pipe for `endpoint`; `connect` marks one made by connect() (with its ZMQ_CONNECT_ROUTING_ID). */
  newPipe(endpoint: string, connect?: { routingId: Buffer | undefined }): Pipe
  /** Routes to `pipe` before any peer exists (a connect(): messages queue for the peer). */
  attach(pipe: Pipe): void
  /**
   * A peer is connected on `pipe` (its metadata set): the socket routes to it from now on.
   * `silent`: report the events to omq's own listeners only (libzmq reports none for inproc).
   */
  peerJoined(pipe: Pipe, address: string, kind: JoinKind, silent: boolean): void
  /** Stops routing to `pipe` (its peer is gone); with `keepQueued` a lingering connection still writes what it holds. */
  dropPipe(pipe: Pipe, keepQueued?: boolean): void
  /** A connect()'s persistent pipe lost its connection (it stays and will reconnect). */
  peerPaused(pipe: Pipe): void
  /** Reports a socket event (see Socket.emitEvent). */
  emitEvent(type: string, data: Record<string, unknown>, silent?: boolean): void
  /** Reports how a connection ended (handshake failures, protocol errors, disconnect). */
  reportClosed(engine: ConnectionEngine, error: Error | undefined): void
  /** Makes the engine for a new stream connection: ZMTP, or raw bytes for STREAM sockets. */
  createEngine(stream: ByteStream, host: EngineHost, endpoint: string, remoteAddress: string): ConnectionEngine
}

/** One scheme's bind and connect. */
export interface Transport {
  /** The scheme this transport serves, as written before `://`. */
  readonly scheme: string
  /**
   * Parses an address of this scheme; throws ZmqError EINVAL (or the code libzmq gives)
   * for a malformed one. `forBind`: wildcards such as `*` are allowed.
   */
  parse(address: string, forBind: boolean): Endpoint
  /** Listens on `ep`; each new peer joins the socket through `port`. */
  bind(ep: Endpoint, port: SocketPort, bound: BoundEndpoint): Promise<Listener>
  /** bind() done synchronously (zeromq.js's bindSync); throws what bind would reject with. */
  bindSync(ep: Endpoint, port: SocketPort, bound: BoundEndpoint): Listener
  /**
   * Starts connecting to `ep` (and reconnecting after failures) in the background.
   * Errors that can be known at once (a path too long) are thrown here.
   */
  connect(ep: Endpoint, port: SocketPort, routingId: Buffer | undefined): Connection
  /** libzmq reports no socket events for this transport's connections (inproc). */
  readonly silent?: boolean
}
