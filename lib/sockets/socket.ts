/**
 * The base socket: options, endpoints (bind/connect), pipes, and the
 * promise-based send/receive of zeromq.js v6. A socket type is a small
 * subclass that plugs routing strategies into `attachPipe`, `detachPipe`,
 * `xsend` and `xrecv`.
 */
import { createDebug } from "../debug.js"
import { ERRNO, MESSAGES, ProtocolError, ZmqError, errAgain, errClosed } from "../errors.js"
import { Engine, type ConnectionEngine, type EngineHost } from "../engine/engine.js"
import { createMechanism, isSecurityServer } from "./security.js"
import { Pending } from "./pending.js"
import { COPY_MAX, copySmall, toMessage } from "../message.js"
import { Pipe, type Message } from "../pipe/pipe.js"
import type { ByteStream } from "../transports/byte-stream.js"
import {
  parseAddress,
  transportOf,
  type BoundEndpoint,
  type Connection,
  type JoinKind,
  type Listener,
  type SocketPort,
} from "../transports/index.js"
import { context as defaultContext, type Context } from "../context.js"
import { Observer, handshakeFailure } from "../observer.js"
import { SocketOptionsBase, defineReadOnly, validRoutingId } from "./options.js"
import { IMMEDIATE_OPTIONS, MECHANISMS, OPTION_IDS, type OptionKind } from "./option-ids.js"
import { Context as ContextClass } from "../context.js"
import { SOCKET_TYPES, SOCKET_TYPE_NUMBER, socketTypeName, type SocketTypeName } from "./socket-types.js"

export { SOCKET_TYPE_NUMBER, type SocketTypeName }

const debug = createDebug("omq:socket")
const RESOLVED: Promise<void> = Promise.resolve()

/** A bound endpoint: its listener once listening, and the connections accepted on it. */
interface Bound extends BoundEndpoint {
  listener: Listener | undefined
  /** libzmq reports no events for this endpoint's transport (inproc). */
  readonly silent: boolean
}

const WARN_LATE_OPTION = "Socket option will not take effect until next connect/bind."
const BLOCKED = "Socket is blocked by a bind or unbind operation"
/**
 * zeromq.js resolves at most 512 send/receive calls in a row at once, then yields to the event
 * loop, so a loop over a busy socket cannot starve timers and I/O. omq looks at the clock every
 * 512 such calls and yields once the streak has lasted YIELD_AFTER_MS: timers get their turn
 * as often, and a fast loop does not pay a loop turn per 512 messages (that cost up to 40 % of
 * PUB/SUB throughput).
 */
const SYNC_CHECK_EVERY = 512
const YIELD_AFTER_MS = 1

/** Resolves in the event loop's next check phase. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** zeromq.js's argument check: `Expected 1 argument but received 2`. */
function expectArgs(received: number, expected: number): void {
  if (received > expected) {
    throw new TypeError(`Expected ${expected} argument${expected === 1 ? "" : "s"} but received ${received}`)
  }
}

function checkAddress(address: unknown): asserts address is string {
  if (typeof address !== "string") throw new TypeError("Address must be a string")
}

/**
 * The socket base, as zeromq.js's `Socket`: `new Socket(type, options)` with libzmq's type
 * number makes a socket of that type (bind, connect, events, options; the type classes such
 * as `Push` add send and receive). Instances are sealed, so an unknown option name throws.
 */
export class Socket extends SocketOptionsBase {
  /** @internal Socket type classes defined by omq set this: they apply options after their own fields exist. */
  protected static readonly builtIn: boolean = false
  /** @internal ZMTP socket type name sent in READY (e.g. "PUSH"). */
  readonly socketTypeName: SocketTypeName
  private _closed = false
  private readonly bound: Bound[] = []
  private readonly connecters = new Map<string, Connection[]>()
  private _context: Context = defaultContext
  /** @internal Pipes that have an engine or are owned by a connecter, for close/linger. */
  protected readonly pipes = new Set<Pipe>()
  private readonly pendingSend = new Pending<void, Message>()
  private readonly pendingRecv = new Pending<Message>()
  private eventSink: ((type: string, data: Record<string, unknown>) => void) | undefined
  private observer: Observer | undefined
  /** A bind or unbind is in progress (zeromq.js's Blocked state). */
  private blocked = false
  /** close() was called while blocked: close when the operation ends. */
  private closeRequested = false
  /** bind/connect calls minus unbind/disconnect calls, as zeromq.js counts them (for its late-option warning). */
  private endpointCount = 0
  /** send/receive calls resolved at once since the last clock check (see SYNC_CHECK_EVERY). */
  private syncOperations = 0
  /** When the current streak of calls resolved at once was first seen at a clock check (0: none). */
  private streakStart = 0
  /** A yield to the event loop is scheduled: send/receive wait for it. */
  private yieldPending = false

  /**
   * @param type libzmq's socket type number (`0` PAIR … `11` STREAM).
   * @param options option values to set, and `context` (default: the shared context).
   */
  constructor(type: number, options?: object) {
    super()
    if (typeof type !== "number") throw new TypeError("Socket type must be a number")
    if ((new.target as typeof Socket).builtIn) {
      this.socketTypeName = socketTypeName(type)!
      return
    }
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError("Options must be an object")
    }
    expectArgs(arguments.length, 2)
    const name = socketTypeName(type)
    if (name === undefined) throw new ZmqError("EINVAL", "Invalid argument")
    this.socketTypeName = name
    this.applyOptions(options)
  }

  /**
   * Sets the context and the options given to the constructor, then seals the socket. Socket
   * types call it at the end of their constructor, after their own option fields exist.
   * @internal
   */
  protected applyOptions(options: object | undefined): void {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError("Options must be an object")
    }
    const ctx = (options as { context?: unknown } | undefined)?.context
    if (ctx !== undefined) {
      // zeromq.js's native check gives a plain Error (no code) for an object that is not a Context.
      if (!(ctx instanceof ContextClass)) throw new Error("Invalid argument")
      this._context = ctx
    }
    // zeromq.js seals sockets: setting an unknown option throws instead of doing nothing.
    Object.seal(this)
    if (options !== undefined) {
      const self = this as unknown as Record<string, unknown>
      for (const [key, value] of Object.entries(options)) {
        if (key === "context") continue
        if (!(key in this)) throw new TypeError(`Cannot add property ${key}, object is not extensible`)
        const current = self[key]
        // Plain option fields (relaxed, mandatory, ...) are checked by their default's type.
        if (typeof current === "boolean" && typeof value !== "boolean") throw new TypeError("Option value must be a boolean")
        if (typeof current === "number" && typeof value !== "number") throw new TypeError("Option value must be a number")
        self[key] = value
      }
    }
    // zeromq.js: with `context.blocky = false`, new sockets get linger 0 unless told otherwise.
    if (!this._context.blocky && !(options && "linger" in options)) this.linger = 0
  }

  /** @internal */
  protected override optionChanged(name: string): void {
    // As libzmq (4.2 on): a new HWM also applies to the pipes that exist.
    if (name === "sendHighWaterMark" || name === "receiveHighWaterMark") this.applyHighWaterMarks(name)
    if (IMMEDIATE_OPTIONS.has(name) || (this.endpointCount === 0 && !this.blocked)) return
    process.emitWarning(WARN_LATE_OPTION)
  }

  private applyHighWaterMarks(name: string): void {
    if (this.pipes === undefined) return // options set by a field initialiser, before the pipes exist
    for (const pipe of this.pipes) {
      if (name === "sendHighWaterMark") pipe.sendHwm = this.sendHighWaterMark
      else {
        pipe.recvHwm = this.receiveHighWaterMark
        if (pipe.readPaused && (pipe.recvHwm === 0 || pipe.in.length < pipe.recvHwm)) {
          pipe.readPaused = false
          pipe.engine?.resumeReading()
        }
      }
    }
    if (name === "sendHighWaterMark") this.pipeWritable(null)
  }

  /** Throws as zeromq.js does for an operation on a closed or blocked socket. */
  private checkOpen(): void {
    if (this.blocked) throw new ZmqError("EBUSY", BLOCKED)
    if (this._closed) throw errClosed()
  }

  // ---- low-level option access by libzmq option number, as zeromq.js ----

  private optionName(id: unknown, kind: OptionKind): string {
    if (typeof id !== "number") throw new TypeError("Identifier must be a number")
    const entry = OPTION_IDS.get(id)
    if (entry === undefined || !(entry[0] in this)) throw new ZmqError("EINVAL", "Invalid argument")
    void kind
    return entry[0]
  }

  private getOption(id: unknown, kind: OptionKind): unknown {
    const name = this.optionName(id, kind)
    const v = (this as unknown as Record<string, unknown>)[name]
    if (name === "securityMechanism") return MECHANISMS.indexOf(v as string | null)
    if (kind === "Bool") return Boolean(v)
    if (kind === "String") return v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString() : String(v)
    return v
  }

  private setOption(id: unknown, kind: OptionKind, value: unknown): void {
    const name = this.optionName(id, kind)
    if (kind === "Bool") {
      if (typeof value !== "boolean") throw new TypeError("Option value must be a boolean")
    } else if (kind === "String") {
      if (value !== null && typeof value !== "string" && !Buffer.isBuffer(value)) {
        throw new TypeError("Option value must be a string or buffer")
      }
    } else if (typeof value !== "number") {
      throw new TypeError("Option value must be a number")
    } else if (kind === "Uint64" && value > Number.MAX_SAFE_INTEGER) {
      process.emitWarning("Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately.")
    }
    ;(this as unknown as Record<string, unknown>)[name] = value
  }

  /** ZMQ option `id` (libzmq's number) as a boolean. */
  getBoolOption(id: number): boolean {
    return this.getOption(id, "Bool") as boolean
  }
  setBoolOption(id: number, value: boolean): void {
    this.setOption(id, "Bool", value)
  }
  getInt32Option(id: number): number {
    return this.getOption(id, "Int32") as number
  }
  setInt32Option(id: number, value: number): void {
    this.setOption(id, "Int32", value)
  }
  getUint32Option(id: number): number {
    return this.getOption(id, "Uint32") as number
  }
  setUint32Option(id: number, value: number): void {
    this.setOption(id, "Uint32", value)
  }
  getInt64Option(id: number): number {
    return this.getOption(id, "Int64") as number
  }
  setInt64Option(id: number, value: number): void {
    this.setOption(id, "Int64", value)
  }
  getUint64Option(id: number): number {
    return this.getOption(id, "Uint64") as number
  }
  setUint64Option(id: number, value: number): void {
    this.setOption(id, "Uint64", value)
  }
  /** ZMQ option `id` as a string (null when unset). */
  getStringOption(id: number): string | null {
    return this.getOption(id, "String") as string | null
  }
  setStringOption(id: number, value: string | Buffer | null): void {
    this.setOption(id, "String", value)
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

  /** @internal bind/connect calls minus unbind/disconnect calls (Proxy requires one of each end). */
  get endpoints(): number {
    return this._closed ? 0 : this.endpointCount
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

  // The hooks' defaults are those of a socket made with `new Socket(type)`, which has no
  // routing of its own: it connects and handshakes but neither sends nor receives.

  /** @internal A pipe became usable (handshake done, or created by connect). */
  protected attachPipe(_pipe: Pipe): void {}
  /** @internal A pipe is gone for sending (its messages already received stay readable). */
  protected detachPipe(_pipe: Pipe): void {}
  /**
   * Queues one message; false when it would block. May throw a ZmqError (EFSM, EHOSTUNREACH...).
   * A type that cannot send is never writable: its send() waits, as zeromq.js's does.
   * @internal
   */
  protected xsend(_msg: Message): boolean {
    return false
  }
  /**
   * xsend() of a small one-frame message (1 to COPY_MAX bytes, not yet copied), for socket types
   * with `sendsRanges`; false when it would block.
   * @internal
   */
  protected xsendSmall(data: Uint8Array): boolean {
    return this.xsend([copySmall(data)])
  }
  /** @internal Takes the next message, or undefined when none is ready (always, for a type that cannot receive). */
  protected xrecv(): Message | undefined {
    return undefined
  }
  /** @internal */
  protected xreadable(): boolean {
    return false
  }
  /** @internal */
  protected xwritable(): boolean {
    return false
  }
  /** @internal The READY metadata identity: libzmq sends one (maybe empty) for REQ, DEALER and ROUTER. */
  protected localRoutingId(): Buffer | undefined {
    if (SOCKET_TYPES[this.socketTypeName].announcesRoutingId) return this.routingIdBuffer ?? Buffer.alloc(0)
    return undefined
  }
  /** @internal Whether this socket type accepts a further peer (PAIR takes one). */
  protected acceptsPeer(): boolean {
    return true
  }

  // ---- endpoints ----

  /**
   * Binds to an endpoint (`tcp://host:port`, `tcp://*:*`, `tcp://eth0:5555`, `ipc://path`,
   * `inproc://name`). Rejects with EADDRINUSE, EINVAL, ENODEV, EPROTONOSUPPORT, ... While it
   * runs the socket is blocked: another bind, unbind, connect, send or receive throws EBUSY,
   * and close() takes effect when the bind has finished.
   */
  bind(address: string): Promise<void> {
    checkAddress(address)
    expectArgs(arguments.length, 1)
    this.checkOpen()
    this.blocked = true
    return this.bindBlocked(address)
  }

  private async bindBlocked(address: string): Promise<void> {
    try {
      // Like zeromq.js's (run on its thread pool), a bind takes at least a turn of the event
      // loop, even one that fails at once: calls meanwhile see EBUSY, close() waits for it.
      await nextTurn()
      const { transport, endpoint } = parseAddress(address, true)
      const bound: Bound = { address, connections: new Set(), listener: undefined, silent: transport.silent === true }
      try {
        bound.listener = await transport.bind(endpoint, this.port, bound)
      } catch (err) {
        this.bindFailed(bound, err)
      }
      this.addBound(bound)
    } finally {
      this.unblock(1)
    }
  }

  /** bind() done synchronously, as zeromq.js's `bindSync` (throws what bind would reject with). */
  bindSync(address: string): void {
    checkAddress(address)
    expectArgs(arguments.length, 1)
    this.checkOpen()
    this.blocked = true
    try {
      const { transport, endpoint } = parseAddress(address, true)
      const bound: Bound = { address, connections: new Set(), listener: undefined, silent: transport.silent === true }
      try {
        bound.listener = transport.bindSync(endpoint, this.port, bound)
      } catch (err) {
        this.bindFailed(bound, err)
      }
      this.addBound(bound)
    } finally {
      this.unblock(1)
    }
  }

  private bindFailed(bound: Bound, err: unknown): never {
    const address = bound.address
    if (!bound.silent) this.emitEvent("bind:error", { address: address.slice(address.indexOf("://") + 3), error: err })
    throw err
  }

  private addBound(bound: Bound): void {
    this.bound.push(bound)
    this._lastEndpoint = bound.listener!.endpoint
    this.emitEvent("bind", { address: bound.listener!.endpoint }, bound.silent)
    debug("%s bound to %s", this.socketTypeName, bound.listener!.endpoint)
  }

  /** Ends a blocking bind/unbind: counts the endpoint and carries out a close() requested meanwhile. */
  private unblock(endpointDelta: number): void {
    this.blocked = false
    this.endpointCount += endpointDelta
    if (this.closeRequested) {
      this.closeRequested = false
      this.close()
    }
  }

  /**
   * Stops listening on an endpoint (as given to bind, or as resolved) and drops its
   * connections. Blocks the socket like bind() while it runs.
   */
  unbind(address: string): Promise<void> {
    checkAddress(address)
    expectArgs(arguments.length, 1)
    this.checkOpen()
    this.blocked = true
    return this.unbindBlocked(address)
  }

  private async unbindBlocked(address: string): Promise<void> {
    try {
      await nextTurn()
      this.unbindNow(address)
    } finally {
      this.unblock(-1)
    }
  }

  /** unbind() done synchronously, as zeromq.js's `unbindSync`. */
  unbindSync(address: string): void {
    checkAddress(address)
    expectArgs(arguments.length, 1)
    this.checkOpen()
    this.blocked = true
    try {
      this.unbindNow(address)
    } finally {
      this.unblock(-1)
    }
  }

  private unbindNow(address: string): void {
    parseAddress(address, true)
    const i = this.bound.findIndex((b) => b.address === address || b.listener!.endpoint === address)
    if (i < 0) throw new ZmqError("ENOENT", "No such endpoint", address)
    const [b] = this.bound.splice(i, 1)
    this.closeBound(b!)
  }

  /**
   * Closes a bound endpoint. As zeromq.js: what send() already accepted for its peers is
   * still delivered, for up to linger ms.
   */
  private closeBound(b: Bound): void {
    b.listener!.close()
    for (const c of [...b.connections]) c.close(this.linger)
    this.emitEvent("close", { address: b.listener!.endpoint }, b.silent)
  }

  /**
   * Connects to an endpoint. Returns at once; the connection is made (and
   * remade after failures) in the background. Messages may be queued before
   * the peer exists, up to the high water mark.
   */
  connect(address: string, options?: { routingId?: string | Buffer | undefined }): void {
    checkAddress(address)
    this.checkOpen()
    const { transport, endpoint } = parseAddress(address, false)
    const connectRoutingId = options?.routingId !== undefined ? validRoutingId(options.routingId) : undefined
    const conn = transport.connect(endpoint, this.port, connectRoutingId)
    this.endpointCount++
    const list = this.connecters.get(address)
    if (list) list.push(conn)
    else this.connecters.set(address, [conn])
  }

  /** Disconnects from an endpoint given to connect(). */
  disconnect(address: string): void {
    checkAddress(address)
    expectArgs(arguments.length, 1)
    this.checkOpen()
    transportOf(address)
    const list = this.connecters.get(address)
    const c = list?.shift()
    if (!c) throw new ZmqError("ENOENT", "No such endpoint", address)
    if (list!.length === 0) this.connecters.delete(address)
    // As close(): what send() already accepted for this peer is still delivered within linger.
    c.stop(this.linger)
    if (c.pipe) this.dropPipe(c.pipe, true)
    this.endpointCount--
  }

  /**
   * Closes the socket. Queued outbound messages on live connections are
   * still written for up to `linger` ms (-1: until done); pending send and
   * receive calls are rejected with EAGAIN, which ends async iteration.
   */
  close(): void {
    expectArgs(arguments.length, 0)
    if (this.blocked) {
      // As zeromq.js: a socket blocked by bind/unbind closes when that operation ends.
      this.closeRequested = true
      return
    }
    if (this._closed) return
    this._closed = true
    this.failWaiters(errAgain())
    for (const b of this.bound) this.closeBound(b)
    this.bound.length = 0
    for (const list of this.connecters.values()) for (const c of list) c.stop(this.linger)
    this.connecters.clear()
    this.emitEvent("end", {})
  }

  // ---- what transports see of the socket (SocketPort), kept off the public API ----

  /**
   * The SocketPort class: one small object per socket whose methods (on its prototype, not
   * closures per socket) reach the socket's private side; defined in the class body for that.
   */
  private static readonly Port = class implements SocketPort {
    constructor(private readonly socket: Socket) {}
    get typeName(): string {
      return this.socket.socketTypeName
    }
    get closed(): boolean {
      return this.socket._closed
    }
    get context(): Context {
      return this.socket._context
    }
    get options(): Socket {
      return this.socket
    }
    localRoutingId(): Buffer | undefined {
      return this.socket.localRoutingId()
    }
    acceptsPeer(): boolean {
      return this.socket.acceptsPeer()
    }
    newPipe(endpoint: string, connect?: { routingId: Buffer | undefined }): Pipe {
      const pipe = this.socket.newPipe(endpoint)
      if (connect !== undefined) {
        pipe.locallyInitiated = true
        pipe.connectRoutingId = connect.routingId
      }
      return pipe
    }
    attach(pipe: Pipe): void {
      this.socket.attachPipe(pipe)
    }
    peerJoined(pipe: Pipe, address: string, kind: JoinKind, silent: boolean): void {
      const socket = this.socket
      if (kind === "new") socket.attachPipe(pipe)
      else socket.pipeReconnected(pipe)
      socket.emitEvent("handshake", { address }, silent)
      socket.pipeConnected(pipe)
      socket.pipeWritable(pipe)
    }
    peerPaused(pipe: Pipe): void {
      this.socket.pipeDisconnected(pipe)
    }
    dropPipe(pipe: Pipe, keepQueued?: boolean): void {
      this.socket.dropPipe(pipe, keepQueued)
    }
    emitEvent(type: string, data: Record<string, unknown>, silent?: boolean): void {
      this.socket.emitEvent(type, data, silent)
    }
    reportClosed(engine: ConnectionEngine, error: Error | undefined): void {
      this.socket.reportClosed(engine, error)
    }
    createEngine(stream: ByteStream, host: EngineHost, endpoint: string, remoteAddress: string): ConnectionEngine {
      return this.socket.createEngine(stream, host, endpoint, remoteAddress)
    }
    pipeReadable(pipe: Pipe): void {
      this.socket.onPipeReadable(pipe)
      this.socket.notifyReadable()
    }
    pipeWritable(pipe: Pipe): void {
      this.socket.pipeWritable(pipe)
    }
    pipeCommand(pipe: Pipe, name: string, data: Buffer): void {
      this.socket.onSubscriptionCommand(pipe, name === "SUBSCRIBE", data)
      this.socket.notifyReadable()
    }
  }

  /** What transports see of this socket (and the owner of its pipes); not on the public API. */
  private readonly port: SocketPort = new Socket.Port(this)

  // ---- engines ----

  /** @internal The engine for a new stream connection: ZMTP (STREAM sockets use raw bytes). */
  protected createEngine(stream: ByteStream, host: EngineHost, endpoint: string, remoteAddress: string): ConnectionEngine {
    return new Engine(stream, host, {
      socketType: this.socketTypeName,
      mechanism: createMechanism(
        this.securitySettings(),
        { socketType: this.socketTypeName, routingId: this.localRoutingId() },
        remoteAddress,
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

  /** @internal A connect()'s persistent pipe got a new connection (ROUTER re-reads the routing id). */
  protected pipeReconnected(_pipe: Pipe): void {}

  /** @internal A connect()'s persistent pipe lost its connection (it stays, and will reconnect). */
  protected pipeDisconnected(_pipe: Pipe): void {}

  /** @internal A pipe has a live, handshaken connection (SUB sends its subscriptions here). */
  protected pipeConnected(_pipe: Pipe): void {}

  /** @internal A SUBSCRIBE or CANCEL command arrived on a pipe (publisher-side sockets). */
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

  /** @internal A pipe for a peer at `endpoint`, with the socket's HWMs. */
  protected newPipe(endpoint: string): Pipe {
    const pipe = new Pipe(this.port, this.sendHighWaterMark, this.receiveHighWaterMark)
    pipe.endpoint = endpoint
    pipe.conflate = this.conflate
    this.pipes.add(pipe)
    return pipe
  }

  /** @internal Removes a pipe from routing; messages it already received stay readable. */
  protected dropPipe(pipe: Pipe, keepQueued = false): void {
    if (!pipe.attached) return
    pipe.attached = false
    // A lingering connection still writes what is queued (disconnect); otherwise it goes.
    if (!keepQueued) pipe.out.clear()
    this.pipes.delete(pipe)
    this.detachPipe(pipe)
  }

  // ---- pipes ----

  /** @internal Something may have become receivable: hand it to a waiting receive(). */
  protected notifyReadable(): void {
    if (!this.pendingRecv.busy) return
    let msg: Message | undefined
    try {
      msg = this.xrecv()
    } catch (err) {
      this.pendingRecv.reject(err as Error)
      return
    }
    if (msg !== undefined) {
      this.endStreak()
      this.pendingRecv.resolve(msg)
    }
  }

  /** @internal Lets the socket type register a readable pipe with its fair queue. */
  protected onPipeReadable(pipe: Pipe): void {
    pipe.in.clear()
  }

  /**
   * @internal A pipe has room again, or (with `pipe.watchDrain`) its engine took messages from
   * it. For a socket type that writes to one pipe itself (the durable forwarder's XPUB).
   */
  protected onPipeWritable(_pipe: Pipe): void {}

  /** A pipe has room again (or the HWM changed: null): hand a waiting send() to routing. */
  private pipeWritable(pipe: Pipe | null): void {
    if (pipe !== null) this.onPipeWritable(pipe)
    const pending = this.pendingSend
    if (!pending.busy) return
    let ok: boolean
    try {
      ok = this.xsend(pending.data)
    } catch (err) {
      pending.reject(err as Error)
      return
    }
    if (ok) {
      this.endStreak()
      pending.resolve()
    }
  }

  private watchingTurn = false
  private readonly loopTurned = (): void => {
    this.watchingTurn = false
    this.streakStart = 0
  }

  /** An operation had to wait, so the event loop turned: the streak is over. */
  private endStreak(): void {
    this.syncOperations = 0
    this.streakStart = 0
  }

  /**
   * Counts a send/receive that could complete at once; true when it must wait for one turn of
   * the event loop instead (see SYNC_CHECK_EVERY), which this then schedules.
   */
  private mustYield(): boolean {
    if (this.yieldPending) return true
    if (++this.syncOperations < SYNC_CHECK_EVERY) return false
    this.syncOperations = 0
    const now = performance.now()
    if (this.streakStart === 0) {
      // A streak starts; if the event loop turns before it has lasted long enough, it is over.
      this.streakStart = now
      if (!this.watchingTurn) {
        this.watchingTurn = true
        setImmediate(this.loopTurned)
      }
      return false
    }
    if (now - this.streakStart < YIELD_AFTER_MS) return false
    this.yieldPending = true
    setImmediate(() => {
      this.yieldPending = false
      this.endStreak()
      if (this._closed) return
      this.pipeWritable(null)
      this.notifyReadable()
    })
    return true
  }

  // ---- send / receive ----

  /** @internal This socket type may drop a message for every peer at once (PUB, XPUB: it overrides dropsAll), so send() asks dropsAll(). */
  protected readonly mayDropAll: boolean = this.dropsAll !== Socket.prototype.dropsAll

  /** @internal A socket type that would drop the next message whatever it is (PUB at HWM on every peer). */
  protected dropsAll(): boolean {
    return false
  }

  /**
   * @internal This socket type has its pipes copy a small one-frame message into a send slab and
   * queue it as a range instead of as a Buffer of its own: it overrides xsendSmall (PUSH, DEALER).
   * A field, so that send() reads it instead of comparing methods each time.
   */
  protected readonly sendsRanges: boolean = this.xsendSmall !== Socket.prototype.xsendSmall

  /** @internal What send() returns for a message dropsAll() dropped. */
  protected dropped(): Promise<void> {
    return RESOLVED
  }

  /** @internal Shared implementation of `send()` for socket types that can send. */
  protected sendMessage(message: unknown, mayYield = true, owned = false): Promise<void> {
    if (message === undefined) throw new TypeError("Message must be present")
    this.checkOpen()
    if (this.pendingSend.busy) throw new ZmqError("EBUSY", MESSAGES.EBUSY_SEND)
    const timeout = this.sendTimeout
    if (mayYield && timeout !== 0 && this.mustYield()) return this.pendingSend.wait(timeout, owned ? (message as Message) : toMessage(message))
    // A PUB whose peers are all at their HWM drops it: nothing to copy or route (the common
    // frame types only, so that anything else is still checked as send() checks it). After the
    // yield check: a loop of such sends still lets the event loop turn, and the pipes drain.
    if (this.mayDropAll && (typeof message === "string" || message instanceof Uint8Array) && this.dropsAll()) return this.dropped()
    // A small one-frame message: the pipe that takes it copies it into the socket's send slab
    // and queues its range (no Buffer or array per message on the JS heap while it waits;
    // lib/pipe/message-queue.ts).
    if (this.sendsRanges && message instanceof Uint8Array && message.byteLength > 0 && message.byteLength <= COPY_MAX && !owned) {
      try {
        if (this.xsendSmall(message)) return RESOLVED
      } catch (err) {
        return Promise.reject(err)
      }
      if (timeout === 0) return Promise.reject(errAgain())
      return this.pendingSend.wait(timeout, [copySmall(message)])
    }
    const msg = owned ? (message as Message) : toMessage(message)
    try {
      if (this.xsend(msg)) return RESOLVED
    } catch (err) {
      return Promise.reject(err)
    }
    if (timeout === 0) return Promise.reject(errAgain())
    return this.pendingSend.wait(timeout, msg)
  }

  /**
   * @internal send() that never waits for a turn of the event loop (see mustYield): for omq's
   * own senders that keep many sends in flight without awaiting each, on sockets that do not
   * block (HWM 0, or a ROUTER that drops). A send that must wait for room still waits.
   */
  sendPipelined(message: Message): Promise<void> {
    return this.sendMessage(message, false)
  }

  /**
   * @internal sendPipelined() of frames the caller will never change (nor reuse) once sent: they
   * are queued as they are, without the copy send() makes of each Buffer up to COPY_MAX bytes.
   * For omq's own senders whose frames are immutable, such as the queue device's stored bodies.
   */
  sendOwned(message: Message): Promise<void> {
    return this.sendMessage(message, false, true)
  }

  /**
   * @internal The next message if one is queued right now, else undefined
   * (used by async iteration; throws as receive() would, e.g. EFSM).
   */
  receiveNow(): Message | undefined {
    this.checkOpen()
    if (this.pendingRecv.busy) throw new ZmqError("EBUSY", MESSAGES.EBUSY_RECV)
    if (this.receiveTimeout !== 0 && this.mustYield()) return undefined
    return this.xrecv()
  }

  /** @internal Shared implementation of `receive()` for socket types that can receive. */
  protected receiveMessage(): Promise<Message> {
    this.checkOpen()
    if (this.pendingRecv.busy) throw new ZmqError("EBUSY", MESSAGES.EBUSY_RECV)
    if (this.receiveTimeout !== 0 && this.mustYield()) return this.pendingRecv.wait(this.receiveTimeout, undefined)
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

  /**
   * Reports a socket event. libzmq reports none for inproc connections, so those reach only
   * omq's own listeners (see onConnectionEvent), not the Observer.
   */
  emitEvent(type: string, data: Record<string, unknown>, inproc = false): void {
    if (!inproc) this.eventSink?.(type, data)
    if (this.connectionListeners !== undefined) for (const l of this.connectionListeners) l(type)
  }

  private connectionListeners: Array<(type: string) => void> | undefined

  /**
   * @internal Calls `listener` with the type of every event of this socket, inproc ones
   * included (omq's devices use it where the Observer, as libzmq's, is silent).
   */
  onConnectionEvent(listener: (type: string) => void): void {
    ;(this.connectionListeners ??= []).push(listener)
  }
}

// As on zeromq.js's native Socket, every socket has send() and receive() at run time (the
// types declare them only where they work); where the type cannot send or receive they wait.
Object.defineProperties(Socket.prototype, {
  send: {
    configurable: true,
    writable: true,
    value: function send(this: { sendMessage(m: unknown): Promise<void> }, message: unknown) {
      return this.sendMessage(message)
    },
  },
  receive: {
    configurable: true,
    writable: true,
    value: function receive(this: { receiveMessage(): Promise<Message> }) {
      return this.receiveMessage()
    },
  },
})
defineReadOnly(Socket.prototype, ["type", "closed", "readable", "writable", "context", "events"])

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
