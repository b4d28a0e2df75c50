/** Errors of the durable queue: what the device replies with ERR, and client-side failures. */

/**
 * Error codes. Sent by the device in ERR replies:
 * - `BAD_REQUEST`: malformed frames, a request id that is not 1-32 bytes, args that are not a CBOR map
 * - `UNKNOWN_COMMAND`: the command frame names no command
 * - `BAD_OPTION`: an argument of the wrong type, out of range, or unknown
 * - `TOO_LARGE`: a body or batch over the device's limits
 * - `NOT_FOUND`: no such message or subscription
 * - `LEASE_LOST`: ack/nack/touch/bury of a delivery this client no longer holds (lease expired,
 *   released on disconnect, or another attempt)
 * - `STORE_FAILED`: the device could not write to its data directory; it refuses writes until restarted
 * - `SHUTTING_DOWN`: the device is closing
 * - `UNAUTHENTICATED`: the device has an access list and the connection's identity (its PLAIN user or
 *   CURVE key, through ZAP) names no user of it
 * - `FORBIDDEN`: the user has no right to do this to this queue (nothing was changed)
 *
 * Raised by the client only: `DISCONNECTED` (the connection dropped while the request was in
 * flight: it may or may not have been carried out), `TIMEOUT`, `CLOSED`.
 */
export type QueueErrorCode =
  | "BAD_REQUEST"
  | "UNKNOWN_COMMAND"
  | "BAD_OPTION"
  | "TOO_LARGE"
  | "NOT_FOUND"
  | "LEASE_LOST"
  | "STORE_FAILED"
  | "SHUTTING_DOWN"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "DISCONNECTED"
  | "TIMEOUT"
  | "CLOSED"

/** A failed queue operation; `code` says why (see QueueErrorCode). */
export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode | (string & {}),
    message: string,
  ) {
    super(message)
    this.name = "QueueError"
  }
}

/** The data directory cannot be used: locked by another device, or its log is corrupt. */
export class QueueStoreError extends Error {
  constructor(
    /** `LOCKED`, `CORRUPT`, `BAD_DIR`. */
    readonly code: "LOCKED" | "CORRUPT" | "BAD_DIR",
    message: string,
    /** The file concerned, if any. */
    readonly file?: string,
    /** Byte offset in `file` of the problem, if any. */
    readonly offset?: number,
  ) {
    super(message)
    this.name = "QueueStoreError"
  }
}
