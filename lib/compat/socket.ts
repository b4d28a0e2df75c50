/**
 * The socket of the zeromq 5.x API, an EventEmitter over one of omq's (zeromq.js v6) sockets:
 * received messages are emitted as `"message"` events with one argument per frame; `send()`
 * queues a message (built up with ZMQ_SNDMORE) and calls back when the core socket took it;
 * bind/unbind call back and emit `"bind"`/`"unbind"`; options go through setsockopt/getsockopt
 * or the 5.x short-name properties (`sock.identity`, `sock.linger`, …).
 *
 * Errors without a callback are emitted as `"error"` (which throws if nobody listens, as any
 * EventEmitter), and an exception thrown by a listener or callback surfaces as an uncaught
 * exception without stopping the delivery of further messages, as in 5.x.
 */
import { EventEmitter } from "node:events"
import { ZmqError, errClosed } from "../errors.js"
import type { Observer } from "../observer.js"
import type { Socket as CoreSocket } from "../sockets/socket.js"
import type { MessageLike } from "../sockets/types.js"
import { ZMQ_RCVTIMEO, ZMQ_SNDMORE } from "./constants.js"
import { pumpEvents, warnMonitorArguments } from "./monitor.js"
import { getOption, options as shortOptions, setOption, type OptionName } from "./options.js"
import { canReceive, canSend, createCoreSocket, socketTypeName, type SocketType } from "./types.js"
import { Alternation, EndpointCalls } from "./waiting.js"

/** Called when an operation finished: with no argument on success, with the error otherwise. */
export type Callback = (err?: Error) => void

/** One frame as 5.x took it: a string, a Buffer (or other binary), a number (sent as its text), null (empty). */
export type Frame = MessageLike | number

interface Receiving {
  receive(): Promise<Buffer[]>
}
interface Sending {
  send(message: Frame[]): Promise<void>
}

interface Outgoing {
  message: Frame[]
  cb: Callback | undefined
}

/**
 * Runs user code (listener, callback) so that a throw neither breaks our loops nor is lost: it
 * is rethrown on the next tick, as an uncaught exception. Returns false if it threw.
 */
function guarded(fn: () => void): boolean {
  try {
    fn()
    return true
  } catch (err) {
    process.nextTick(() => {
      throw err
    })
    return false
  }
}

/** Resolves after the pending ticks (and so after an exception rethrown by guarded()). */
function afterTicks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function isCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code
}

/** The 5.x short-name option properties (`sock.linger = 0`), typed. */
export type ShortOptionProperties = { [K in OptionName]: any }

export interface Socket extends ShortOptionProperties {}

/**
 * A zeromq 5.x socket: `zmq.socket("pull")`, `sock.on("message", (...frames) => …)`,
 * `sock.send(msg, flags, cb)`.
 */
export class Socket extends EventEmitter {
  /** Like zeromq 5.x, a socket takes any property (e.g. createSocket() options). */
  [key: string]: any

  /** The socket type, as given to the constructor (a name; a type number is given its name). */
  readonly type: SocketType
  private readonly core: CoreSocket
  /** Whether the type sends / receives (push and pub only send, pull and sub only receive). */
  private readonly sends: boolean
  private readonly receives: boolean
  /** Frames of a message being built with ZMQ_SNDMORE. */
  private parts: Frame[] = []
  /** Complete messages waiting to be handed to the core socket, in order. */
  private readonly outbox: Outgoing[] = []
  /** Messages taken from the core socket while paused, emitted on resume(). */
  private readonly held: Buffer[][] = []
  private readonly alternation = new Alternation()
  private paused = false
  private receiving = false
  private sending = false
  private readonly endpointCalls = new EndpointCalls()
  /** ZMQ_RCVTIMEO as set: kept for getsockopt only, since messages arrive as events. */
  private receiveTimeout = -1
  private observer: Observer | undefined

  /** Creates a socket of a 5.x type name ("push", "xrep", …) or ZMQ_* type number. */
  constructor(type: SocketType | number) {
    super()
    const name = socketTypeName(type)
    this.type = typeof type === "string" ? type : name
    this.core = createCoreSocket(name)
    this.sends = canSend(name)
    this.receives = canReceive(name)
    if (this.receives) void this.receiveLoop()
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.core.closed
  }

  // ---- endpoints ----

  /**
   * Binds to an endpoint (`tcp://127.0.0.1:5555`, `tcp://*:*`, `ipc://…`, `inproc://…`).
   * On success emits `"bind"` (with the address as given), then calls `cb()`; on failure calls
   * `cb(err)`, or emits `"error"` when there is no callback.
   */
  bind(address: string, cb?: Callback): this {
    this.endpointCalls.track(this.core.bind(address)).then(
      () => {
        this.emitGuarded("bind", address)
        if (cb) guarded(() => cb())
      },
      (err: Error) => this.fail(err, cb),
    )
    return this
  }

  /**
   * Stops listening on an endpoint. On success emits `"unbind"` (with the address as given),
   * then calls `cb()`; on failure calls `cb(err)`, or emits `"error"` without a callback.
   */
  unbind(address: string, cb?: Callback): this {
    this.endpointCalls.track(this.core.unbind(address)).then(
      () => {
        this.emitGuarded("unbind", address)
        if (cb) guarded(() => cb())
      },
      (err: Error) => this.fail(err, cb),
    )
    return this
  }

  /** Binds at once, without a callback or a "bind" event; errors (EADDRINUSE, …) are thrown. */
  bindSync(address: string): this {
    this.core.bindSync(address)
    return this
  }

  /** Unbinds at once, without a callback or an "unbind" event; errors (ENOENT, …) are thrown. */
  unbindSync(address: string): this {
    this.core.unbindSync(address)
    return this
  }

  /** Connects to an endpoint (in the background, reconnecting). Invalid addresses throw. */
  connect(address: string): this {
    this.core.connect(address)
    return this
  }

  /** Disconnects from an endpoint given to connect(); throws ENOENT for one that was not. */
  disconnect(address: string): this {
    this.core.disconnect(address)
    return this
  }

  /**
   * Closes the socket at once (queued outbound messages are still written for up to `linger`
   * ms). Messages still waiting here for the core socket are dropped without their callbacks.
   */
  close(): this {
    this.core.close()
    this.outbox.length = 0
    this.parts = []
    this.alternation.wakeAll()
    return this
  }

  // ---- sending ----

  /**
   * Sends a message: one frame, or an array of frames (strings, Buffers, numbers, …). With
   * `flags` ZMQ_SNDMORE the frames are kept and more follow in the next call; the message is
   * sent with the call without ZMQ_SNDMORE, whose `cb` is called once the core socket took it
   * (`cb(err)` if it failed; without a callback the error is emitted as `"error"`).
   * Messages are sent in order, one at a time; while paused they wait.
   */
  send(message: Frame | Frame[], flags?: number | null, cb?: Callback): this {
    if (Array.isArray(message)) for (const part of message) this.parts.push(part)
    else this.parts.push(message)
    if (((flags ?? 0) & ZMQ_SNDMORE) !== 0) return this
    const outgoing = { message: this.parts, cb }
    this.parts = []
    if (this.closed) {
      // A send on a closed socket is reported to its callback; closing is no error event.
      if (cb) process.nextTick(() => guarded(() => cb(errClosed())))
    } else if (!this.sends) {
      const err = new ZmqError("ENOTSUP", "Operation not supported")
      process.nextTick(() => this.fail(err, cb))
    } else {
      this.outbox.push(outgoing)
      void this.drain()
    }
    return this
  }

  /** Hands queued messages to the core socket, one at a time, in order. */
  private async drain(): Promise<void> {
    if (this.sending) return
    this.sending = true
    const core = this.core as CoreSocket & Sending
    try {
      while (!this.paused && !core.closed && this.outbox.length > 0) {
        const next = this.outbox[0]!
        let error: Error | undefined
        try {
          await core.send(next.message)
        } catch (err) {
          error = err as Error
        }
        // REQ waiting for its reply, REP before a request: 5.x waited for its turn (up to
        // ZMQ_SNDTIMEO) instead of failing.
        if (isCode(error, "EFSM") && !core.closed && (await this.alternation.afterReceive(core.sendTimeout))) continue
        if (await this.endpointCalls.blocked(error)) continue
        this.outbox.shift()
        if (error === undefined) {
          this.alternation.sent()
          if (next.cb) guarded(next.cb)
        } else {
          this.fail(error, next.cb)
        }
      }
    } finally {
      this.sending = false
    }
  }

  // ---- receiving ----

  /** Emits each message as `"message"` (one argument per frame) until closed or paused. */
  private async receiveLoop(): Promise<void> {
    if (this.receiving) return
    this.receiving = true
    const core = this.core as CoreSocket & Receiving
    try {
      while (!this.paused && !core.closed) {
        const kept = this.held.shift()
        if (kept !== undefined) {
          if (!this.emitGuarded("message", ...kept)) await afterTicks()
          continue
        }
        let msg: Buffer[] | undefined
        try {
          msg = core.receiveNow() ?? (await core.receive())
        } catch (err) {
          if (core.closed) break
          if (isCode(err, "EFSM")) {
            // REQ before its request went out, REP before its reply did: wait for that send.
            await this.alternation.afterSend()
            continue
          }
          if (await this.endpointCalls.blocked(err)) continue
          this.emitGuarded("error", err)
          await afterTicks()
          continue
        }
        this.alternation.received()
        if (this.paused) this.held.push(msg)
        // A listener that threw: its exception surfaces before the next message, as in 5.x.
        else if (!this.emitGuarded("message", ...msg)) await afterTicks()
      }
    } finally {
      this.receiving = false
    }
  }

  /** Stops emitting messages and sending queued ones until resume(); incoming messages wait. */
  pause(): void {
    this.paused = true
  }

  /** Emits the messages that waited, then carries on receiving and sending. */
  resume(): void {
    this.paused = false
    if (this.receives) void this.receiveLoop()
    void this.drain()
  }

  /** Removed in zeromq.js's compatibility mode too: messages arrive as `"message"` events. */
  read(): never {
    throw new Error("read() has been removed from compatibility mode; use on('message', ...) instead.")
  }

  // ---- subscriptions ----

  /** SUB: receive messages starting with `filter` ("" for all). Other types throw EINVAL. */
  subscribe(filter: string | Buffer): this {
    setOption(this.core, "_subscribe", filter)
    return this
  }

  /** SUB: undo one subscribe(filter). Other types throw EINVAL. */
  unsubscribe(filter: string | Buffer): this {
    setOption(this.core, "_unsubscribe", filter)
    return this
  }

  // ---- options ----

  /**
   * zmq_setsockopt: sets an option by ZMQ_* number or short name (`"linger"`). libzmq booleans
   * may be given as 0/1. Unknown options, options of other socket types and invalid values
   * throw EINVAL.
   */
  setsockopt(option: number | OptionName, value: unknown): this {
    if (option === ZMQ_RCVTIMEO) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < -1) {
        throw new ZmqError("EINVAL", `Invalid value for option ZMQ_RCVTIMEO: ${String(value)}`)
      }
      this.receiveTimeout = value
    } else {
      setOption(this.core, option, value)
    }
    return this
  }

  /** zmq_getsockopt: reads an option by ZMQ_* number or short name; booleans read as 0/1. */
  getsockopt(option: number | OptionName): any {
    if (option === ZMQ_RCVTIMEO) return this.receiveTimeout
    return getOption(this.core, option)
  }

  // ---- monitor ----

  /**
   * Emits the socket's monitor events under their 5.x names, each as `(value, endpoint,
   * error)`: connect, connect_delay, connect_retry (value: interval), listen, bind_error
   * (value: errno), accept, accept_error, close, close_error, disconnect. The 5.x polling
   * arguments are accepted and ignored: events are emitted as they happen.
   */
  monitor(interval?: number, numEvents?: number): this {
    warnMonitorArguments(interval, numEvents)
    if (this.observer !== undefined && !this.observer.closed) return this
    const events = this.core.events
    this.observer = events
    void pumpEvents(
      events,
      (e) => this.emitGuarded(e.name, e.value, e.endpoint, e.error),
      (err) => {
        if (!this.closed) this.emitGuarded("error", err)
      },
    )
    return this
  }

  /** Stops emitting monitor events. */
  unmonitor(): this {
    this.observer?.close()
    this.observer = undefined
    return this
  }

  // ---- helpers ----

  private emitGuarded(event: string, ...args: unknown[]): boolean {
    return guarded(() => this.emit(event, ...args))
  }

  /** Reports a failed operation to its callback, else as an `"error"` event (not after close). */
  private fail(err: Error, cb: Callback | undefined): void {
    if (cb) guarded(() => cb(err))
    else if (!this.closed) this.emitGuarded("error", err)
  }
}

// The 5.x short-name options as properties: `sock.linger = 0`, `sock.identity`.
for (const [name, option] of Object.entries(shortOptions)) {
  Object.defineProperty(Socket.prototype, name, {
    get(this: Socket) {
      return this.getsockopt(option)
    },
    set(this: Socket, value: unknown) {
      this.setsockopt(option, value)
    },
    configurable: true,
  })
}
