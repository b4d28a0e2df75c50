/**
 * `version` and `capability`, as zeromq.js exports them. omq has no libzmq
 * inside; `version` is the libzmq release whose wire behaviour omq follows
 * (code that checks `semver.satisfies(zmq.version, ">=4.3")` keeps working),
 * and `capability` says which transports and mechanisms omq provides.
 */
export const version = "4.3.5"

export const capability: Readonly<{
  ipc: boolean
  pgm: boolean
  tipc: boolean
  norm: boolean
  curve: boolean
  gssapi: boolean
  draft: boolean
}> = Object.freeze({ ipc: true, pgm: false, tipc: false, norm: false, curve: true, gssapi: false, draft: false })
