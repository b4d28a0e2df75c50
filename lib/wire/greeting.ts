/**
 * The 64-byte ZMTP 3.x greeting (RFC 23 / RFC 37, "Greeting").
 *
 *   signature  0xFF, 8 bytes padding, 0x7F        (10 bytes)
 *   version    major, minor                        (2 bytes)
 *   mechanism  ASCII name, NUL padded              (20 bytes)
 *   as-server  0x00 or 0x01                        (1 byte)
 *   filler     zeros                               (31 bytes)
 *
 * The engine does not send it in one piece: negotiation.ts stages it so that
 * ZMTP 2.0 and 1.0 peers can be recognised and served.
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
 * The 10-byte signature alone, as sent before anything else (RFC 15,
 * "Backwards Interoperability"): the padding holds our identity's length + 1,
 * so that a ZMTP 1.0 peer reads these bytes as the header of our identity
 * frame (0xFF: 8-byte length follows; 0x7F: its flags octet). RFC 23 says the
 * padding is not significant, so 3.x peers do not mind.
 */
export function encodeSignature(identityLength = 0): Buffer {
  const buf = Buffer.alloc(SIGNATURE_SIZE)
  buf[0] = 0xff
  // An identity is at most 255 bytes, so the low 32 bits hold the length.
  buf.writeUInt32BE(identityLength + 1, 5)
  buf[9] = 0x7f
  return buf
}

/**
 * Checks the first 10 bytes are a versioned (ZMTP 2.0 or later) signature.
 * A stream that does not start so is an unversioned ZMTP 1.0 peer, which the
 * negotiation (negotiation.ts) sends to the 1.0 framing before any greeting
 * is decoded; here such bytes are simply not a greeting.
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
  // Revisions 0 and 1 (ZMTP 1.0 and 2.0) have no 64-byte greeting. Revision 2
  // was never used; libzmq reads it as a 3.x greeting, and so do we.
  if (major < 2) {
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
