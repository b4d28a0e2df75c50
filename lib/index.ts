/**
 * omq: ZeroMQ in pure TypeScript. The exports mirror zeromq.js v6, so
 * `import * as zmq from "omq"` can replace `import * as zmq from "zeromq"`.
 */
export { Push } from "./sockets/push.js"
export { Pull } from "./sockets/pull.js"
export { Pair } from "./sockets/pair.js"
export { Socket } from "./sockets/socket.js"
export type { Writable, Readable, Message, MessageLike } from "./sockets/types.js"
export { ZmqError, ProtocolError, type FullError } from "./errors.js"
export { Request } from "./sockets/request.js"
export { Reply } from "./sockets/reply.js"
export { Dealer } from "./sockets/dealer.js"
export { Router, type RouterConnectOptions } from "./sockets/router.js"
export { Publisher, XPublisher, type XPublisherVerbosity } from "./sockets/xpub.js"
export { Subscriber, XSubscriber } from "./sockets/xsub.js"
export { Context, context, type ContextOptions } from "./context.js"
export { Observer, type Event, type EventType, type EventOfType, type ProtoError, type AuthError } from "./observer.js"
export { Proxy, type ProxyOptions } from "./devices/proxy.js"
export { queueDevice, forwarderDevice, streamerDevice, type DeviceOptions, type DeviceEndpoints } from "./devices/devices.js"
export { Stream, type StreamConnectOptions } from "./sockets/stream.js"
export { curveKeyPair, z85 } from "./security/keys.js"
export { startZapHandler, type ZapRequest, type ZapDecision, type ZapHandlerHandle } from "./security/zap-handler.js"
export type { SocketOptions } from "./sockets/types.js"
