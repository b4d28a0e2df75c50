/**
 * Errors raised by omq. They carry the same `code` (and `errno`, where one
 * exists) as the errors zeromq.js raises, so code that inspects `err.code`
 * keeps working after switching the import.
 */

/** errno values as libzmq reports them on Linux (EFSM etc. are ZMQ_HAUSNUMERO based). */
export const ERRNO: Readonly<Record<string, number>> = {
  EAGAIN: 11,
  EBADF: 9,
  EBUSY: 16,
  EINVAL: 22,
  ENOENT: 2,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  ENAMETOOLONG: 36,
  EPROTONOSUPPORT: 93,
  ENOTSUP: 95,
  EMSGSIZE: 90,
  EACCES: 13,
  ENOTSOCK: 88,
  ETERM: 156384765,
  EFSM: 156384763,
  ENOCOMPATPROTO: 156384764,
  EMTHREAD: 156384766,
  EPROTO: 71,
}

/** The error shape of zeromq.js: an `Error` with `code`, `errno` and, for endpoint errors, `address`. */
export interface FullError extends Error {
  code?: string
  errno?: number
  address?: string
}

/** An error with a zeromq.js-compatible `code` and `errno`. */
export class ZmqError extends Error implements FullError {
  readonly code: string
  readonly errno: number
  address?: string

  constructor(code: string, message: string, address?: string) {
    super(message)
    this.name = "Error"
    this.code = code
    this.errno = ERRNO[code] ?? 0
    if (address !== undefined) this.address = address
  }
}

export const MESSAGES = {
  EAGAIN: "Operation was not possible or timed out",
  EBADF: "Socket is closed",
  EBUSY_SEND: "Socket is busy writing; only one send operation may be in progress at any time",
  EBUSY_RECV: "Socket is busy reading; only one receive operation may be in progress at any time",
  EFSM: "Operation cannot be accomplished in current state",
  EHOSTUNREACH: "Host unreachable",
} as const

export function errAgain(): ZmqError {
  return new ZmqError("EAGAIN", MESSAGES.EAGAIN)
}

export function errClosed(): ZmqError {
  return new ZmqError("EBADF", MESSAGES.EBADF)
}

/**
 * A violation of ZMTP by the peer (malformed frame, bad greeting, oversized
 * message, handshake failure). It never escapes to the user's code: the
 * connection that produced it is dropped and an event is emitted.
 */
export class ProtocolError extends Error {
  readonly code: string
  /** ZAP status code (300, 400, 500) for authentication failures. */
  status?: number
  /** What to put in the ERROR command sent to the peer (default: the message). */
  reason?: string
  constructor(code: ProtocolErrorCode, message: string) {
    super(message)
    this.name = "ProtocolError"
    this.code = code
  }
}

/** An authentication failure (ZAP denied, or the peer sent ERROR with a status code). */
export function authError(status: number, text: string): ProtocolError {
  const err = new ProtocolError("ZMTP_AUTH", `Authentication failed (${status}): ${text}`)
  err.status = status
  err.reason = String(status)
  return err
}

export type ProtocolErrorCode =
  | "ZMTP_BAD_SIGNATURE"
  | "ZMTP_BAD_VERSION"
  | "ZMTP_BAD_MECHANISM"
  | "ZMTP_BAD_FLAGS"
  | "ZMTP_OVERSIZE"
  | "ZMTP_MALFORMED_COMMAND"
  | "ZMTP_UNEXPECTED_COMMAND"
  | "ZMTP_INCOMPATIBLE_SOCKET"
  | "ZMTP_HANDSHAKE"
  | "ZMTP_PEER_ERROR"
  | "ZMTP_TIMEOUT"
  | "ZMTP_AUTH"
  | "ZMTP_NO_ZAP"
  | "ZMTP_SEQUENCE"
  | "ZMTP_CRYPTOGRAPHIC"
  | "ZMTP_KEY_EXCHANGE"
  | "ZAP_MALFORMED_REPLY"
  | "ZAP_BAD_REQUEST_ID"
  | "ZAP_BAD_VERSION"
  | "ZAP_INVALID_STATUS_CODE"
  | "ZAP_INVALID_METADATA"
