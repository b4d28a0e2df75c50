/** `omq/errors`: the error classes behind the zeromq.js-shaped errors omq raises. */
export { ZmqError, ProtocolError, type FullError } from "../errors.js"
