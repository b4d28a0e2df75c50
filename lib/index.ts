/**
 * omq: ZeroMQ in pure TypeScript. The root module exports exactly zeromq.js v6's names, so
 * `import * as zmq from "omq"` replaces `import * as zmq from "zeromq"` one for one. What omq
 * adds lives in subpath exports, out of a plain socket user's bundle:
 * `omq/queue` (durable queue device and client), `omq/devices` (classic devices),
 * `omq/security` (z85, ZAP handler), `omq/errors` (error classes).
 */
export { version, capability } from "./capability.js"
export { curveKeyPair } from "./security/keys.js"
import { Context as ContextClass } from "./context.js"
export { context, type ContextOptions } from "./context.js"
import { Socket as SocketClass } from "./sockets/socket.js"
import { Proxy as ProxyClass } from "./devices/proxy.js"
import { requireNew } from "./require-new.js"
export { Observer, type Event, type EventType, type EventOfType, type ProtoError, type AuthError } from "./observer.js"
export type { ProxyOptions } from "./devices/proxy.js"
export { Pair } from "./sockets/pair.js"
export { Publisher, XPublisher, type XPublisherVerbosity } from "./sockets/xpub.js"
export { Subscriber, XSubscriber } from "./sockets/xsub.js"
export { Request } from "./sockets/request.js"
export { Reply } from "./sockets/reply.js"
export { Dealer } from "./sockets/dealer.js"
export { Router, type RouterConnectOptions } from "./sockets/router.js"
export { Pull } from "./sockets/pull.js"
export { Push } from "./sockets/push.js"
export { Stream, type StreamConnectOptions } from "./sockets/stream.js"
export type { Writable, Readable, Message, MessageLike, SocketOptions } from "./sockets/types.js"
export type { FullError } from "./errors.js"

/** The socket base class: `new Socket(type, options)` with libzmq's type number, or extend it. */
export const Socket = requireNew(SocketClass)
export type Socket = SocketClass
/** Moves messages between a front-end and a back-end socket until terminated. */
export const Proxy = requireNew(ProxyClass)
export type Proxy<F extends SocketClass = SocketClass, B extends SocketClass = SocketClass> = ProxyClass<F, B>
/** A scope for sockets (its inproc:// names); `context` is the default one. */
export const Context = requireNew(ContextClass)
export type Context = ContextClass
