/**
 * The 64-byte ZMTP 3.x greeting (RFC 23 / RFC 37, "Greeting").
 *
 *   signature  0xFF, 8 bytes padding, 0x7F        (10 bytes)
 *   version    major, minor                        (2 bytes)
 *   mechanism  ASCII name, NUL padded              (20 bytes)
 *   as-server  0x00 or 0x01                        (1 byte)
 *   filler     zeros                               (31 bytes)
 */
import { ProtocolError } from "../errors.js"

export const GREETING_SIZE = 64
/** Bytes that identify a ZMTP 2.0+ peer: signature plus the major version. */
export const SIGNATURE_SIZE = 10

export interface Greeting {
  major: number
  minor: number
  mechanism: string
  asServer: boolean
}

export function encodeGreeting(mechanism: string, asServer: boolean, minor = 1): Buffer {
  if (mechanism.length === 0 || mechanism.length > 20 || !/^[A-Z0-9_-]+$/.test(mechanism)) {
    throw new TypeError(`Invalid mechanism name: ${mechanism}`)
  }
  const buf = Buffer.alloc(GREETING_SIZE)
  buf[0] = 0xff
  buf[9] = 0x7f
  buf[10] = 3
  buf[11] = minor
  buf.write(mechanism, 12, "ascii")
  buf[32] = asServer ? 1 : 0
  return buf
}

/**
 * Checks the first 10 bytes. libzmq treats a stream that does not start with
 * 0xFF .. 0x7F as a ZMTP 1.0 peer; omq does not speak 1.0/2.0, so such a
 * stream is refused.
 */
export function checkSignature(buf: Buffer): void {
  if (buf[0] !== 0xff || ((buf[9] ?? 0) & 1) !== 1) {
    throw new ProtocolError("ZMTP_BAD_SIGNATURE", "Peer did not send a ZMTP 3.x signature")
  }
}

export function decodeGreeting(buf: Buffer): Greeting {
  if (buf.length < GREETING_SIZE) {
    throw new ProtocolError("ZMTP_BAD_SIGNATURE", "Greeting is truncated")
  }
  checkSignature(buf)
  const major = buf[10]!
  const minor = buf[11]!
  if (major < 3) {
    throw new ProtocolError("ZMTP_BAD_VERSION", `Unsupported ZMTP version ${major}.${minor}`)
  }
  let end = 12
  while (end < 32 && buf[end] !== 0) end++
  for (let i = end; i < 32; i++) {
    if (buf[i] !== 0) throw new ProtocolError("ZMTP_BAD_MECHANISM", "Mechanism name is not NUL padded")
  }
  const mechanism = buf.toString("ascii", 12, end)
  if (mechanism.length === 0) throw new ProtocolError("ZMTP_BAD_MECHANISM", "Empty mechanism name")
  return { major, minor, mechanism, asServer: buf[32] === 1 }
}
