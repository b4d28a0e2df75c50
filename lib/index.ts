/**
 * omq: ZeroMQ in pure TypeScript. The root module exports exactly zeromq.js v6's names, so
 * `import * as zmq from "omq"` replaces `import * as zmq from "zeromq"` one for one. What omq
 * adds lives in subpath exports, out of a plain socket user's bundle:
 * `omq/queue` (durable queue device and client), `omq/devices` (classic devices),
 * `omq/security` (z85, ZAP handler), `omq/errors` (error classes).
 */
export { version, capability } from "./capability.js"
export { curveKeyPair } from "./security/keys.js"
export { Context, context, type ContextOptions } from "./context.js"
export { Socket } from "./sockets/socket.js"
export { Observer, type Event, type EventType, type EventOfType, type ProtoError, type AuthError } from "./observer.js"
export { Proxy, type ProxyOptions } from "./devices/proxy.js"
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
