/**
 * The zeromq 5.x API on omq, as zeromq.js offers it in `zeromq/v5-compat`: `zmq.socket(type)`,
 * evented sockets, the `ZMQ_*` constants, `zmq.proxy`, `zmq.curveKeypair`, `zmq.Context`.
 */
import { version as libzmqVersion } from "../capability.js"
import { context } from "../context.js"
import { curveKeyPair } from "../security/keys.js"
import { Socket } from "./socket.js"
import type { SocketType } from "./types.js"

/**
 * The process-wide context of the 5.x API, as static methods (it cannot be instantiated).
 * omq runs on Node's event loop: the thread count is kept for compatibility only.
 */
export class Context {
  /** ZMQ_IO_THREADS of the default context (kept; omq has no I/O threads). */
  static setMaxThreads(value: number): void {
    context.ioThreads = value
  }

  static getMaxThreads(): number {
    return context.ioThreads
  }

  /** ZMQ_MAX_SOCKETS of the default context. */
  static setMaxSockets(value: number): void {
    context.maxSockets = value
  }

  static getMaxSockets(): number {
    return context.maxSockets
  }

  /** Always throws: the 5.x API has one context, used through the static methods. */
  constructor() {
    throw new Error("Context cannot be instantiated in compatibility mode")
  }
}

/**
 * Creates a socket of a 5.x type name ("pub", "sub", "req", "rep", "push", "pull", "dealer",
 * "router", "pair", "xpub", "xsub", "stream", "xreq", "xrep") or ZMQ_* type number, and
 * assigns `options` as properties (`{ identity: "a", linger: 0 }`).
 */
export function createSocket(type: SocketType | number, options: Record<string, unknown> = {}): Socket {
  const sock = new Socket(type)
  for (const key of Object.keys(options)) sock[key] = options[key]
  return sock
}

/** A new CURVE key pair as 40-character Z85 strings. */
export function curveKeypair(): { public: string; secret: string } {
  const { publicKey, secretKey } = curveKeyPair()
  return { public: publicKey, secret: secretKey }
}

/** The libzmq version whose behaviour omq follows ("4.3.5"). */
export const version: string = libzmqVersion

export { createSocket as socket, Socket, type SocketType }
export { type Callback, type Frame } from "./socket.js"
export { options, type OptionName } from "./options.js"
export { proxy } from "./proxy.js"
export * from "./constants.js"
