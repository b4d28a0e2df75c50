/**
 * The base socket: options, endpoints (bind/connect), pipes, and the
 * promise-based send/receive of zeromq.js v6. A socket type is a small
 * subclass that plugs routing strategies into `attachPipe`, `detachPipe`,
 * `xsend` and `xrecv`.
 */
import createDebug from "debug"
import type { Socket as NetSocket } from "node:net"
import { ERRNO, MESSAGES, ProtocolError, ZmqError, errAgain, errClosed } from "../errors.js"
import { Connecter, type ConnecterHost } from "../engine/connecter.js"
import { Engine, type ConnectionEngine, type EngineHost } from "../engine/engine.js"
import { checkSecurity, createMechanism, isSecurityServer } from "./security.js"
import { Pending } from "./pending.js"
import { toMessage } from "../message.js"
import { Pipe, type Message, type PipeOwner } from "../pipe/pipe.js"
import { parseEndpoint, type Endpoint } from "../transports/address.js"
import { checkIpcPath, listen, type Listener } from "../transports/stream.js"
import { InprocLink, type InprocRequest } from "../transports/inproc.js"
import { isCompatible } from "../engine/compat.js"
import { context as defaultContext, type Context } from "../context.js"
import type { Metadata } from "../wire/metadata.js"
import { Observer, handshakeFailure } from "../observer.js"
import { SocketOptionsBase, validRoutingId } from "./options.js"

const debug = createDebug("omq:socket")
const RESOLVED: Promise<void> = Promise.resolve()

interface Bound {
  address: string
  listener: Listener
  engines: Set<ConnectionEngine>
  /** inproc links accepted on this endpoint. */
  links: Set<InprocLink>
}

/** An active connect(): a reconnecting stream connecter or an inproc request. */
interface Connection {
  readonly address: string
  pipe: Pipe | null
  stop(lingerMs: number): void
}

export type SocketTypeName =
  | "PAIR" | "PUB" | "SUB" | "REQ" | "REP" | "DEALER" | "ROUTER" | "PULL" | "PUSH" | "XPUB" | "XSUB" | "STREAM"

export const SOCKET_TYPE_NUMBER: Readonly<Record<SocketTypeName, number>> = {
  PAIR: 0, PUB: 1, SUB: 2, REQ: 3, REP: 4, DEALER: 5, ROUTER: 6, PULL: 7, PUSH: 8, XPUB: 9, XSUB: 10, STREAM: 11,
}

export abstract class Socket extends SocketOptionsBase implements PipeOwner, EngineHost, ConnecterHost {
  /** ZMTP socket type name sent in READY (e.g. "PUSH"). */
  readonly socketTypeName: SocketTypeName
  private _closed = false
  private readonly bound: Bound[] = []
  private readonly connecters = new Map<string, Connection[]>()
  /** inproc links this socket takes part in. */
  private readonly links = new Set<InprocLink>()
  private _context: Context = defaultContext
  /** Pipes that have an engine or are owned by a connecter, for close/linger. */
  protected readonly pipes = new Set<Pipe>()
  private readonly pendingSend = new Pending<void, Message>()
  private readonly pendingRecv = new Pending<Message>()
  private eventSink: ((type: string, data: Record<string, unknown>) => void) | undefined
  private observer: Observer | undefined

  protected constructor(typeName: SocketTypeName) {
    super()
    this.socketTypeName = typeName
  }

  /**
   * Assigns constructor options as properties. Socket types call it at the
   * end of their constructor, after their own option fields are initialised.
   */
  protected applyOptions(options: object | undefined): void {
    this.assignOptions(options)
    // zeromq.js: with `context.blocky = false`, new sockets get linger 0 unless told otherwise.
    if (!this._context.blocky && !(options && "linger" in options)) this.linger = 0
  }

  private assignOptions(options: object | undefined): void {
    if (options !== undefined && options !== null) {
      if (typeof options !== "object") throw new TypeError("Options must be an object")
      for (const [key, value] of Object.entries(options)) {
        if (key === "context") {
          if (value !== undefined) this._context = value as Context
          continue
        }
        ;(this as unknown as Record<string, unknown>)[key] = value
      }
    }
  }

  /** The socket's event Observer (created on first access). */
  get events(): Observer {
    if (this.observer === undefined || this.observer.closed) this.observer = new Observer(this)
    return this.observer
  }

  /** The context this socket belongs to (it scopes inproc:// names). */
  get context(): Context {
    return this._context
  }

  /** ZMQ_TYPE: the socket type as libzmq numbers it. */
  get type(): number {
    return SOCKET_TYPE_NUMBER[this.socketTypeName]
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this._closed
  }

  /** True if a message can be received right now without waiting. */
  get readable(): boolean {
    return !this._closed && this.xreadable()
  }

  /** True if a message can be queued right now without waiting. */
  get writable(): boolean {
    return !this._closed && this.xwritable()
  }

  // ---- routing hooks for socket types ----

  /** A pipe became usable (handshake done, or created by connect). */
  protected abstract attachPipe(pipe: Pipe): void
  /** A pipe is gone for sending (its messages already received stay readable). */
  protected abstract detachPipe(pipe: Pipe): void
  /** Queues one message; false when it would block. May throw a ZmqError (EFSM, EHOSTUNREACH...). */
  protected xsend(_msg: Message): boolean {
    throw new ZmqError("ENOTSUP", "Operation not supported")
  }
  /** Takes the next message, or undefined when none is ready. */
  protected xrecv(): Message | undefined {
    throw new ZmqError("ENOTSUP", "Operation not supported")
  }
  protected xreadable(): boolean {
    return false
  }
  protected xwritable(): boolean {
    return false
  }
  /** The READY metadata identity: libzmq sends one (maybe empty) for REQ, DEALER and ROUTER. */
  protected localRoutingId(): Buffer | undefined {
    const t = this.socketTypeName
    if (t === "REQ" || t === "DEALER" || t === "ROUTER") return this.routingIdBuffer ?? Buffer.alloc(0)
    return undefined
  }
  /** Whether this socket type accepts a further peer (PAIR takes one). */
  protected acceptsPeer(): boolean {
    return true
  }

  // ---- endpoints ----

  /**
   * Binds to an endpoint (`tcp://host:port`, `tcp://*:*`, `ipc://path`).
   * Rejects with EADDRINUSE, EINVAL, EPROTONOSUPPORT, ENAMETOOLONG, ...
   */
  async bind(address: string): Promise<void> {
    if (this._closed) throw errClosed()
    checkSecurity(this.securitySettings())
    const ep = parseEndpoint(address, true)
    const bound: Bound = { address, listener: undefined as unknown as Listener, engines: new Set(), links: new Set() }
    if (ep.transport === "inproc") {
      const registry = this._context.inproc
      const binder = { join: (req: InprocRequest) => this.inprocJoin(req, bound) }
      registry.bind(ep.name, address, binder)
      bound.listener = { endpoint: address, close: () => registry.unbind(ep.name, binder) }
    } else {
      try {
        bound.listener = await listen(ep, (stream) => this.accept(bound, stream))
      } catch (err) {
        this.emitEvent("bind:error", { address, error: err })
        throw err
      }
    }
    if (this._closed) {
      bound.listener.close()
      throw errClosed()
    }
    this.bound.push(bound)
    this._lastEndpoint = bound.listener.endpoint
    this.emitEvent("bind", { address: bound.listener.endpoint })
    debug("%s bound to %s", this.socketTypeName, bound.listener.endpoint)
  }

  /** Stops listening on an endpoint (as given to bind, or as resolved) and drops its connections. */
  async unbind(address: string): Promise<void> {
    if (this._closed) throw errClosed()
    parseEndpoint(address, true)
    const i = this.bound.findIndex((b) => b.address === address || b.listener.endpoint === address)
    if (i < 0) throw new ZmqError("ENOENT", "No such endpoint", address)
    const [b] = this.bound.splice(i, 1)
    b!.listener.close()
    for (const e of b!.engines) e.close(0)
    for (const l of b!.links) l.close(0)
    this.emitEvent("close", { address: b!.listener.endpoint })
  }

  /**
   * Connects to an endpoint. Returns at once; the connection is made (and
   * remade after failures) in the background. Messages may be queued before
   * the peer exists, up to the high water mark.
   */
  connect(address: string, options?: { routingId?: string | Buffer | undefined }): void {
    if (this._closed) throw errClosed()
    checkSecurity(this.securitySettings())
    const ep: Endpoint = parseEndpoint(address, false)
    const connectRoutingId = options?.routingId !== undefined ? validRoutingId(options.routingId) : undefined
    let conn: Connection
    if (ep.transport === "inproc") {
      conn = this.inprocConnect(ep.name, address, connectRoutingId)
    } else {
      checkIpcPath(ep)
      const c = new Connecter(ep, this)
      c.connectRoutingId = connectRoutingId
      if (!this.immediate) {
        c.pipe = this.newConnecterPipe(c)
        this.attachPipe(c.pipe)
      }
      conn = c
      c.start()
    }
    const list = this.connecters.get(address)
    if (list) list.push(conn)
    else this.connecters.set(address, [conn])
  }

  private inprocConnect(name: string, address: string, connectRoutingId: Buffer | undefined): Connection {
    const registry = this._context.inproc
    const pipe = this.newPipe(address)
    pipe.locallyInitiated = true
    pipe.connectRoutingId = connectRoutingId
    this.attachPipe(pipe)
    let link: InprocLink | null = null
    const req: InprocRequest = {
      address,
      pipe,
      joined: (l) => {
        link = l
        this.links.add(l)
        this.emitEvent("connect", { address })
        if (pipe.attached) {
          this.pipeReconnected(pipe)
          this.emitEvent("handshake", { address })
          this.pipeConnected(pipe)
          this.pipeWritable(pipe)
        }
        l.start()
      },
    }
    registry.connect(name, req)
    return {
      address,
      pipe,
      stop: (lingerMs) => {
        registry.cancel(name, req)
        if (link !== null) link.close(lingerMs, link.connectEnd)
      },
    }
  }

  /** The bound side of an inproc connection. */
  private inprocJoin(req: InprocRequest, bound: Bound): InprocLink | null {
    const peer = req.pipe.owner as Socket
    if (this._closed || peer._closed || !req.pipe.attached) return null
    if (!isCompatible(this.socketTypeName, peer.socketTypeName) || !this.acceptsPeer()) {
      this.emitEvent("handshake:error:protocol", { address: bound.address })
      return null
    }
    const pipe = this.newPipe(bound.address)
    pipe.peerMetadata = peer.inprocMetadata()
    req.pipe.peerMetadata = this.inprocMetadata()
    const link = new InprocLink(req.pipe, pipe, (p) => (p.owner as Socket).inprocClosed(link, p))
    bound.links.add(link)
    this.links.add(link)
    this.emitEvent("accept", { address: bound.address })
    this.attachPipe(pipe)
    this.emitEvent("handshake", { address: bound.address })
    this.pipeConnected(pipe)
    this.pipeWritable(pipe)
    return link
  }

  private inprocMetadata(): Metadata {
    const m: Metadata = new Map([["socket-type", Buffer.from(this.socketTypeName)]])
    const id = this.localRoutingId()
    if (id !== undefined) m.set("identity", id)
    return m
  }

  private inprocClosed(link: InprocLink, pipe: Pipe): void {
    this.links.delete(link)
    for (const b of this.bound) b.links.delete(link)
    this.emitEvent("disconnect", { address: pipe.endpoint })
    this.dropPipe(pipe)
  }

  /** Disconnects from an endpoint given to connect(). */
  disconnect(address: string): void {
    if (this._closed) throw errClosed()
    const list = this.connecters.get(address)
    const c = list?.shift()
    if (!c) throw new ZmqError("ENOENT", "No such endpoint", address)
    if (list!.length === 0) this.connecters.delete(address)
    c.stop(0)
    if (c.pipe) this.dropPipe(c.pipe)
  }

  /**
   * Closes the socket. Queued outbound messages on live connections are
   * still written for up to `linger` ms (-1: until done); pending send and
   * receive calls are rejected with EAGAIN, which ends async iteration.
   */
  close(): void {
    if (this._closed) return
    this._closed = true
    this.failWaiters(errAgain())
    for (const b of this.bound) {
      b.listener.close()
      for (const e of b.engines) e.close(this.linger)
      this.emitEvent("close", { address: b.listener.endpoint })
    }
    this.bound.length = 0
    for (const list of this.connecters.values()) for (const c of list) c.stop(this.linger)
    this.connecters.clear()
    for (const l of [...this.links]) l.close(this.linger, l.connectEnd.own.owner === this ? l.connectEnd : l.bindEnd)
    this.emitEvent("end", {})
  }

  // ---- engines ----

  createEngine(stream: NetSocket, host: EngineHost, endpoint: string): ConnectionEngine {
    return new Engine(stream, host, {
      socketType: this.socketTypeName,
      mechanism: createMechanism(
        this.securitySettings(),
        { socketType: this.socketTypeName, routingId: this.localRoutingId() },
        stream.remoteAddress ?? "",
        this.context.zap,
      ),
      asServer: isSecurityServer(this.securitySettings()),
      maxMessageSize: this.maxMessageSize,
      handshakeInterval: this.handshakeInterval,
      heartbeatInterval: this.heartbeatInterval,
      heartbeatTimeout: this.heartbeatTimeout,
      heartbeatTimeToLive: this.heartbeatTimeToLive,
      endpoint,
      // libzmq sends its routing id (maybe empty) to every ZMTP 1.0/2.0 peer, whatever the socket type.
      identity: this.routingIdBuffer,
    })
  }

  configureStream(stream: NetSocket): void {
    if (this.tcpKeepalive === 1) {
      stream.setKeepAlive(true, this.tcpKeepaliveIdle > 0 ? this.tcpKeepaliveIdle * 1000 : 0)
    } else if (this.tcpKeepalive === 0) {
      stream.setKeepAlive(false)
    }
  }

  private accept(bound: Bound, stream: NetSocket): void {
    if (this._closed) {
      stream.destroy()
      return
    }
    this.configureStream(stream)
    const engine = this.createEngine(stream, this, bound.listener.endpoint)
    bound.engines.add(engine)
    this.emitEvent("accept", { address: bound.listener.endpoint })
    engine.start()
  }

  /** EngineHost for accepted connections. */
  engineReady(engine: ConnectionEngine): void {
    if (this._closed || !this.acceptsPeer()) {
      engine.close(0)
      return
    }
    const pipe = this.newPipe(engine.endpoint)
    pipe.peerMetadata = engine.peerMetadata
    engine.attach(pipe)
    this.emitEvent("handshake", { address: engine.endpoint })
    this.attachPipe(pipe)
    this.pipeConnected(pipe)
    this.pipeWritable(pipe)
  }

  engineClosed(engine: ConnectionEngine, error: Error | undefined): void {
    for (const b of this.bound) b.engines.delete(engine)
    this.reportClosed(engine, error)
    const pipe = engine.pipe
    if (pipe !== null) this.dropPipe(pipe)
  }

  connecterReady(connecter: Connecter, engine: ConnectionEngine): boolean {
    if (this._closed) return false
    let pipe = connecter.pipe
    if (pipe === null) {
      if (!this.acceptsPeer()) return false
      pipe = this.newConnecterPipe(connecter)
      pipe.peerMetadata = engine.peerMetadata
      connecter.pipe = pipe
      engine.attach(pipe)
      this.attachPipe(pipe)
    } else {
      pipe.peerMetadata = engine.peerMetadata
      engine.attach(pipe)
      this.pipeReconnected(pipe)
    }
    this.emitEvent("handshake", { address: connecter.address })
    this.pipeConnected(pipe)
    this.pipeWritable(pipe)
    return true
  }

  connecterDisconnected(connecter: Connecter, engine: ConnectionEngine, error: Error | undefined): void {
    this.reportClosed(engine, error)
    if (connecter.pipe !== null && engine.pipe === connecter.pipe && connecter.pipe.attached) {
      this.pipeDisconnected(connecter.pipe)
    }
    if (this.immediate && connecter.pipe) {
      this.dropPipe(connecter.pipe)
      connecter.pipe = null
    }
  }

  /** A connecter's persistent pipe got a new connection (ROUTER re-reads the routing id). */
  protected pipeReconnected(_pipe: Pipe): void {}

  /** A connecter's persistent pipe lost its connection (it stays, and will reconnect). */
  protected pipeDisconnected(_pipe: Pipe): void {}

  /** A pipe has a live, handshaken connection (SUB sends its subscriptions here). */
  protected pipeConnected(_pipe: Pipe): void {}

  /** A SUBSCRIBE or CANCEL command arrived on a pipe (publisher-side sockets). */
  protected onSubscriptionCommand(_pipe: Pipe, _subscribe: boolean, _topic: Buffer): void {}

  private reportClosed(engine: ConnectionEngine, error: Error | undefined): void {
    if (!engine.handshaken) {
      if (error !== undefined) {
        const f = handshakeFailure(error)
        this.emitEvent(f.type, { address: engine.endpoint, error: f.error })
      }
      return
    }
    // A protocol violation after the handshake (e.g. a forged CURVE box) is reported as libzmq does.
    if (error instanceof ProtocolError) {
      const f = handshakeFailure(error)
      if (f.type === "handshake:error:protocol") this.emitEvent(f.type, { address: engine.endpoint, error: f.error })
    }
    this.emitEvent("disconnect", { address: engine.endpoint })
  }

  protected newPipe(endpoint: string): Pipe {
    const pipe = new Pipe(this, this.sendHighWaterMark, this.receiveHighWaterMark)
    pipe.endpoint = endpoint
    pipe.conflate = this.conflate
    this.pipes.add(pipe)
    return pipe
  }

  private newConnecterPipe(c: Connecter): Pipe {
    const pipe = this.newPipe(c.address)
    pipe.locallyInitiated = true
    pipe.connectRoutingId = c.connectRoutingId
    return pipe
  }

  /** Removes a pipe from routing; messages it already received stay readable. */
  protected dropPipe(pipe: Pipe): void {
    if (!pipe.attached) return
    pipe.attached = false
    pipe.out.clear()
    this.pipes.delete(pipe)
    this.detachPipe(pipe)
  }

  // ---- PipeOwner ----

  pipeReadable(pipe: Pipe): void {
    this.onPipeReadable(pipe)
    this.notifyReadable()
  }

  pipeCommand(pipe: Pipe, name: string, data: Buffer): void {
    this.onSubscriptionCommand(pipe, name === "SUBSCRIBE", data)
    this.notifyReadable()
  }

  /** Something may have become receivable: hand it to a waiting receive(). */
  protected notifyReadable(): void {
    if (!this.pendingRecv.busy) return
    const msg = this.xrecv()
    if (msg !== undefined) this.pendingRecv.resolve(msg)
  }

  /** Lets the socket type register a readable pipe with its fair queue. */
  protected abstract onPipeReadable(pipe: Pipe): void

  pipeWritable(_pipe: Pipe): void {
    const pending = this.pendingSend
    if (!pending.busy) return
    let ok: boolean
    try {
      ok = this.xsend(pending.data)
    } catch (err) {
      pending.reject(err as Error)
      return
    }
    if (ok) pending.resolve()
  }

  // ---- send / receive ----

  /** Shared implementation of `send()` for socket types that can send. */
  protected sendMessage(message: unknown): Promise<void> {
    if (this._closed) throw errClosed()
    if (this.pendingSend.busy) throw new ZmqError("EBUSY", MESSAGES.EBUSY_SEND)
    if (message === undefined) throw new TypeError("Message must be present")
    const msg = toMessage(message)
    try {
      if (this.xsend(msg)) return RESOLVED
    } catch (err) {
      return Promise.reject(err)
    }
    if (this.sendTimeout === 0) return Promise.reject(errAgain())
    return this.pendingSend.wait(this.sendTimeout, msg)
  }

  /**
   * @internal The next message if one is queued right now, else undefined
   * (used by async iteration; throws as receive() would, e.g. EFSM).
   */
  receiveNow(): Message | undefined {
    if (this._closed) throw errClosed()
    if (this.pendingRecv.busy) throw new ZmqError("EBUSY", MESSAGES.EBUSY_RECV)
    return this.xrecv()
  }

  /** Shared implementation of `receive()` for socket types that can receive. */
  protected receiveMessage(): Promise<Message> {
    if (this._closed) throw errClosed()
    if (this.pendingRecv.busy) throw new ZmqError("EBUSY", MESSAGES.EBUSY_RECV)
    let msg: Message | undefined
    try {
      msg = this.xrecv()
    } catch (err) {
      return Promise.reject(err)
    }
    if (msg !== undefined) return Promise.resolve(msg)
    if (this.receiveTimeout === 0) return Promise.reject(errAgain())
    return this.pendingRecv.wait(this.receiveTimeout, undefined)
  }

  private failWaiters(err: ZmqError): void {
    this.pendingSend.reject(err)
    this.pendingRecv.reject(err)
  }

  // ---- events ----

  /** @internal Observer hook. */
  setEventSink(sink: ((type: string, data: Record<string, unknown>) => void) | undefined): void {
    this.eventSink = sink
  }

  emitEvent(type: string, data: Record<string, unknown>): void {
    this.eventSink?.(type, data)
  }
}

/** Async iteration as zeromq.js: `next()` receives; it ends when the socket is closed. */
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/**
 * Async iteration as zeromq.js: `next()` receives; it ends when the socket
 * is closed. A message that is already queued is handed over without going
 * through receive()'s promise (one promise per message instead of three).
 */
export function iterate<T>(sock: {
  readonly closed: boolean
  receive(): Promise<T>
  receiveNow?(): T | undefined
}): AsyncIterator<T, undefined> {
  const ended = (err: unknown): IteratorResult<T, undefined> => {
    if (sock.closed && (err as ZmqError).code === "EAGAIN") return DONE
    throw err
  }
  const wrap = (value: T): IteratorResult<T, undefined> => ({ value, done: false })
  return {
    next(): Promise<IteratorResult<T, undefined>> {
      if (sock.closed) return Promise.resolve(DONE)
      try {
        const ready = sock.receiveNow?.()
        if (ready !== undefined) return Promise.resolve({ value: ready, done: false })
        return sock.receive().then(wrap, ended)
      } catch (err) {
        return Promise.reject(err)
      }
    },
  }
}

export { ERRNO }
