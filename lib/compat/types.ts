/**
 * The socket types of the zeromq 5.x API: their names (with the old aliases xreq/xrep), their
 * ZMQ_* numbers, and the omq socket class behind each.
 */
import { ZmqError } from "../errors.js"
import { Dealer } from "../sockets/dealer.js"
import { Pair } from "../sockets/pair.js"
import { Pull } from "../sockets/pull.js"
import { Push } from "../sockets/push.js"
import { Reply } from "../sockets/reply.js"
import { Request } from "../sockets/request.js"
import { Router } from "../sockets/router.js"
import type { Socket as CoreSocket } from "../sockets/socket.js"
import { SOCKET_TYPES, socketTypeName as typeOfNumber, type SocketTypeName } from "../sockets/socket-types.js"
import { Stream } from "../sockets/stream.js"
import { Publisher, XPublisher } from "../sockets/xpub.js"
import { Subscriber, XSubscriber } from "../sockets/xsub.js"

/** A socket type name of the 5.x API. `xreq` and `xrep` are the old names of dealer and router. */
export type SocketType =
  "pair" | "req" | "rep" | "pub" | "sub" | "dealer" | "xreq" | "router" | "xrep" | "pull" | "push" | "xpub" | "xsub" | "stream"

/** The omq type of each 5.x name. */
const CORE_NAME = (type: SocketType): SocketTypeName =>
  type === "xreq" ? "DEALER" : type === "xrep" ? "ROUTER" : (type.toUpperCase() as SocketTypeName)

const FACTORIES: Readonly<Record<SocketType, () => CoreSocket>> = {
  pair: () => new Pair(),
  req: () => new Request(),
  rep: () => new Reply(),
  pub: () => new Publisher(),
  sub: () => new Subscriber(),
  dealer: () => new Dealer(),
  xreq: () => new Dealer(),
  router: () => new Router(),
  xrep: () => new Router(),
  pull: () => new Pull(),
  push: () => new Push(),
  xpub: () => new XPublisher(),
  xsub: () => new XSubscriber(),
  stream: () => new Stream(),
}

/** The type name for a 5.x type name or ZMQ_* number; anything else throws. */
export function socketTypeName(type: SocketType | number): SocketType {
  const name = typeof type === "number" ? (typeOfNumber(type)?.toLowerCase() as SocketType | undefined) : type
  if (name === undefined || !Object.prototype.hasOwnProperty.call(FACTORIES, name)) {
    throw new ZmqError("EINVAL", `Invalid socket type: ${String(type)}`)
  }
  return name
}

/** A new omq socket of that type, with its defaults (the default context). */
export function createCoreSocket(type: SocketType): CoreSocket {
  return FACTORIES[type]()
}

/** Whether sockets of this type can send (omq's sockets, like zeromq.js's, have send() at run time: it waits forever). */
export function canSend(type: SocketType): boolean {
  return SOCKET_TYPES[CORE_NAME(type)].sends
}

/** Whether sockets of this type can receive. */
export function canReceive(type: SocketType): boolean {
  return SOCKET_TYPES[CORE_NAME(type)].receives
}
