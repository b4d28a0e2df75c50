/**
 * Observer: the socket monitor of zeromq.js, with the same event names and
 * payloads (`{ type, address?, interval?, error? }`). Events are read with
 * `receive()` / async iteration, or, mutually exclusive, with `on()`.
 * The observer ends (an "end" event, then `closed`) when its socket closes.
 */
import { EventEmitter } from "node:events"
import { ProtocolError, ZmqError, errAgain, errClosed } from "./errors.js"
import { holdLoop, releaseLoop } from "./engine/keepalive.js"
import { Deque } from "./pipe/deque.js"
import type { Socket } from "./sockets/socket.js"

export type EventType =
  | "accept"
  | "accept:error"
  | "bind"
  | "bind:error"
  | "connect"
  | "connect:delay"
  | "connect:retry"
  | "close"
  | "close:error"
  | "disconnect"
  | "end"
  | "handshake"
  | "handshake:error:protocol"
  | "handshake:error:auth"
  | "handshake:error:other"
  | "unknown"

export interface ErrnoError extends Error {
  code: string
  errno?: number
}

/** Error details of "handshake:error:protocol", with zeromq.js's ERR_ZMTP_* codes. */
export interface ProtoError extends Error {
  code: string
}

/** Error details of "handshake:error:auth": the ZAP status code. */
export interface AuthError extends Error {
  status: 300 | 400 | 500
}

export interface Event {
  type: EventType
  address?: string
  interval?: number
  error?: Error
}

export type EventOfType<E extends EventType> = Event & { type: E }

/** Maps omq's internal protocol error codes to zeromq.js's `ERR_ZMTP_*` codes. */
const PROTO_CODES: Record<string, string> = {
  ZMTP_BAD_MECHANISM: "ERR_ZMTP_MECHANISM_MISMATCH",
  ZMTP_UNEXPECTED_COMMAND: "ERR_ZMTP_UNEXPECTED_COMMAND",
  ZMTP_MALFORMED_COMMAND: "ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED",
  ZMTP_INCOMPATIBLE_SOCKET: "ERR_ZMTP_INVALID_METADATA",
  ZMTP_HANDSHAKE: "ERR_ZMTP_INVALID_SEQUENCE",
  ZMTP_SEQUENCE: "ERR_ZMTP_INVALID_SEQUENCE",
  ZMTP_CRYPTOGRAPHIC: "ERR_ZMTP_CRYPTOGRAPHIC",
  ZMTP_KEY_EXCHANGE: "ERR_ZMTP_KEY_EXCHANGE",
  ZAP_MALFORMED_REPLY: "ERR_ZAP_MALFORMED_REPLY",
  ZAP_BAD_REQUEST_ID: "ERR_ZAP_BAD_REQUEST_ID",
  ZAP_BAD_VERSION: "ERR_ZAP_BAD_VERSION",
  ZAP_INVALID_STATUS_CODE: "ERR_ZAP_INVALID_STATUS_CODE",
  ZAP_INVALID_METADATA: "ERR_ZAP_INVALID_METADATA",
}

/** zeromq.js's texts for the ZAP status of "handshake:error:auth". */
const AUTH_MESSAGES: Record<number, string> = {
  300: "Temporary error",
  400: "Authentication failure",
  500: "Internal error",
}

/**
 * The event a failed handshake produces. The error carries zeromq.js's message ("ZMTP protocol
 * error", "ZAP protocol error", "Authentication failure", ...) and code or status; omq's own
 * description of what went wrong is its `cause`.
 */
export function handshakeFailure(error: Error): { type: EventType; error: Error } {
  if (error instanceof ProtocolError) {
    if (error.code === "ZMTP_AUTH") {
      const status = error.status ?? 400
      const e = new Error(AUTH_MESSAGES[status] ?? "Unknown error", { cause: error })
      return { type: "handshake:error:auth", error: Object.assign(e, { status }) }
    }
    const code = PROTO_CODES[error.code]
    if (code !== undefined) {
      const e = new Error(error.code.startsWith("ZAP_") ? "ZAP protocol error" : "ZMTP protocol error", { cause: error })
      return { type: "handshake:error:protocol", error: Object.assign(e, { code }) }
    }
  }
  return { type: "handshake:error:other", error }
}

export class Observer {
  private readonly queue = new Deque<Event>()
  private waiter: { resolve(e: Event): void; reject(err: Error): void } | null = null
  private emitter: EventEmitter | null = null
  private _closed = false

  constructor(private readonly socket: Socket) {
    socket.setEventSink((type, data) => this.push({ type: type as EventType, ...data }))
    if (socket.closed) this.close()
  }

  /** True once the observer (or its socket) was closed. */
  get closed(): boolean {
    return this._closed
  }

  /** Stops observing; a pending receive() rejects with EAGAIN (ending async iteration). */
  close(): void {
    if (this._closed) return
    this.finish()
  }

  private finish(): void {
    this._closed = true
    this.socket.setEventSink(undefined)
    if (this.emitter !== null) releaseLoop()
    const w = this.waiter
    if (w !== null) {
      this.waiter = null
      releaseLoop()
      w.reject(errAgain())
    }
  }

  /** Resolves with the next event; waits if none is queued. */
  receive(): Promise<Event> {
    if (this.emitter !== null) {
      throw new Error("Observer is in event emitter mode. After a call to events.on() it is not possible to read events with events.receive().")
    }
    const e = this.queue.shift()
    if (e !== undefined) return Promise.resolve(e)
    // As zeromq.js: once the observer has ended, receive() fails with EBADF.
    if (this._closed) return Promise.reject(errClosed())
    if (this.waiter !== null) {
      throw new ZmqError("EBUSY", "Observer is busy reading; only one receive operation may be in progress at any time")
    }
    holdLoop()
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  /** Switches to event emitter mode and calls `listener` for each event of `type`. */
  on<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this {
    if (this.emitter === null) {
      this.emitter = new EventEmitter()
      // Like zeromq.js, an observer with listeners keeps the process alive until it ends.
      if (!this._closed) holdLoop()
      // Events already queued are delivered to the first listeners.
      const queued = [...this.queue]
      this.queue.clear()
      queueMicrotask(() => {
        for (const e of queued) this.emitter?.emit(e.type, e)
      })
    }
    this.emitter.on(type, listener as (e: Event) => void)
    return this
  }

  off<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this {
    this.emitter?.off(type, listener as (e: Event) => void)
    return this
  }

  [Symbol.asyncIterator](): AsyncIterator<Event, undefined> {
    return {
      next: async (): Promise<IteratorResult<Event, undefined>> => {
        if (this._closed && this.queue.length === 0) return { done: true, value: undefined }
        try {
          return { value: await this.receive(), done: false }
        } catch (err) {
          if (this._closed && (err as ZmqError).code === "EAGAIN") return { done: true, value: undefined }
          throw err
        }
      },
    }
  }

  private push(e: Event): void {
    if (this._closed) return
    if (this.emitter !== null) {
      const emitter = this.emitter
      queueMicrotask(() => emitter.emit(e.type, e))
    } else {
      const w = this.waiter
      if (w !== null) {
        this.waiter = null
        releaseLoop()
        w.resolve(e)
      } else {
        this.queue.push(e)
      }
    }
    if (e.type === "end") this.finish()
  }
}
