/**
 * `omq/v5-compat`: the zeromq 5.x API (`zmq.socket("push")`, `sock.on("message", …)`,
 * `sock.send(msg, flags, cb)`, `zmq.ZMQ_*`), as zeromq.js's `zeromq/v5-compat`, on omq's sockets.
 */
export * from "../compat/v5.js"
