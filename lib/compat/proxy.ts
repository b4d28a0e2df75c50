/**
 * `zmq.proxy(frontend, backend, capture)` of the zeromq 5.x API: forwards messages between two
 * 5.x sockets through their "message" events, for the pairs 5.x supported. Like 5.x, the
 * capture socket gets the messages going from the backend to the frontend; for router/dealer
 * without their two envelope frames (routing id, delimiter).
 */
import { ZmqError } from "../errors.js"
import type { Socket } from "./socket.js"

/** xrep/xreq are router/dealer under their old names. */
function canonical(type: string): string {
  return type === "xrep" ? "router" : type === "xreq" ? "dealer" : type
}

/** How many leading frames of a backend message the capture socket does not get. */
const CAPTURE_SKIP: Readonly<Record<string, number>> = {
  "push/pull": 0,
  "pull/push": 0,
  "xpub/xsub": 0,
  "router/dealer": 2,
}

/**
 * Starts forwarding: frontend messages go to the backend, backend messages to the frontend
 * (and, without their envelope, to `capture`). Supported (frontend/backend): push/pull,
 * pull/push, xpub/xsub, router/dealer (also as xrep/xreq). Any other pair throws. It runs until
 * the sockets are closed.
 */
export function proxy(frontend: Socket, backend: Socket, capture?: Socket): void {
  const skip = CAPTURE_SKIP[`${canonical(frontend.type)}/${canonical(backend.type)}`]
  if (skip === undefined) {
    throw new ZmqError("EINVAL", "This socket type order is not supported in compatibility mode")
  }
  frontend.on("message", (...frames: Buffer[]) => {
    backend.send(frames)
  })
  backend.on("message", (...frames: Buffer[]) => {
    frontend.send(frames)
    if (capture) capture.send(skip === 0 ? frames : frames.slice(skip))
  })
}
