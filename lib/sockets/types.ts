/** Public interfaces shared by socket types (zeromq.js v6 names). */
import type { MessageLike } from "../message.js"

export type { MessageLike }
export type Message = Buffer

/** Sockets that can send. */
export interface Writable<M extends MessageLike | MessageLike[] = MessageLike | MessageLike[]> {
  sendHighWaterMark: number
  sendTimeout: number
  /**
   * Queues a single or multipart message. Resolves at once when it could be
   * queued; otherwise waits for room (up to `sendTimeout`, then EAGAIN).
   * Only one waiting send may be in progress: another call throws EBUSY.
   */
  send(message: M): Promise<void>
}

/** Sockets that can receive. */
export interface Readable<M extends object[] = Message[]> {
  receiveHighWaterMark: number
  receiveTimeout: number
  /**
   * Resolves with the parts of the next message; waits when none is queued
   * (up to `receiveTimeout`, then EAGAIN). Only one waiting receive may be in
   * progress: another call throws EBUSY.
   */
  receive(): Promise<M>
  [Symbol.asyncIterator](): AsyncIterator<M, undefined>
}

/** Options whose setters accept more than their getters return. */
interface WideOptions {
  routingId?: string | Buffer | null
  curvePublicKey?: string | Uint8Array | null
  curveSecretKey?: string | Uint8Array | null
  curveServerKey?: string | Uint8Array | null
  /** The context the socket belongs to (default: the shared one). */
  context?: import("../context.js").Context
}

/**
 * Constructor options of a socket type (zeromq.js `SocketOptions<S>`): any
 * writable option property of the socket.
 */
export type SocketOptions<S> = Partial<Omit<S, keyof WideOptions | FunctionKeys<S>>> & WideOptions

type FunctionKeys<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T]
