/**
 * Version negotiation (RFC 23 "Version Negotiation", RFC 15 "Backwards
 * Interoperability"): which ZMTP the peer speaks, found by staging our
 * greeting the way libzmq 4.x does. A pure state machine: fed the peer's
 * bytes in chunks of any size, it says what to write back and, once it is
 * known, the peer's protocol. No I/O.
 *
 *   1. We send the 10-byte signature `ff <identity length + 1 as 8 bytes> 7f`.
 *   2. Peer's first byte is not 0xFF, or its 10th byte has bit 0 clear: an
 *      unversioned ZMTP 1.0 peer. Its bytes so far are 1.0 frames (the first
 *      is its identity); our signature was, to it, the header of our identity
 *      frame, so we finish that frame with our identity's body.
 *   3. Otherwise we send our major version (3) and read the peer's 11th byte,
 *      its revision: 0x00 (a versioned 1.0) or 0x01 (ZMTP 2.0) → we send our
 *      socket type and read theirs (12th byte); then each side sends its
 *      identity as a frame of that protocol. Anything else (2, 3, higher) →
 *      we send the rest of our 3.x greeting and read theirs to 64 bytes;
 *      revision 2 counts as 3.x, as in libzmq.
 */
import { GREETING_SIZE, SIGNATURE_SIZE, decodeGreeting, encodeGreeting, encodeSignature, type Greeting } from "./greeting.js"

/** Bytes of a ZMTP 1.0 (revision 0) or 2.0 greeting: signature, revision, socket type. */
export const LEGACY_GREETING_SIZE = 12

/** What the peer turned out to speak. */
export type PeerProtocol =
  /** ZMTP 3.x (or revision 2): the security handshake follows. */
  | { version: 3; greeting: Greeting }
  /** ZMTP 2.0: 2.0 frames follow, the first being the peer's identity. */
  | { version: 2; socketType: number }
  /**
   * ZMTP 1.0 framing, the first frame being the peer's identity; `socketType`
   * is null for an unversioned peer (no greeting at all).
   */
  | { version: 1; socketType: number | null }

export interface NegotiationStep {
  /** Bytes to write to the peer now, in order (may be empty). */
  send: Buffer[]
  /** Set once the peer's protocol is known. */
  peer?: PeerProtocol
  /**
   * With `peer`: the bytes received after the greeting, frames of that
   * protocol (for an unversioned 1.0 peer, everything it sent), in order.
   * Views of the input, never a copy of a whole chunk.
   */
  rest?: Buffer[]
}

export interface LocalGreeting {
  mechanism: string
  asServer: boolean
  /** Our socket type as a ZMTP 2.0 octet (RFC 15). */
  socketType: number
  /** The identity a ZMTP 1.0/2.0 peer gets from us (0..255 bytes). */
  identity: Buffer
}

const NONE: readonly Buffer[] = []

export class VersionNegotiator {
  private readonly got = Buffer.alloc(GREETING_SIZE)
  private count = 0
  /** How many bytes of the peer's greeting we need before deciding again. */
  private need = SIGNATURE_SIZE
  private done = false
  /** Our 3.x greeting; we send its byte 10 (major), then bytes 11..63. */
  private readonly full: Buffer

  constructor(private readonly local: LocalGreeting) {
    if (local.identity.length > 255) throw new RangeError("identity longer than 255 bytes")
    this.full = encodeGreeting(local.mechanism, local.asServer)
  }

  /** The first bytes to send, before the peer said anything. */
  start(): Buffer {
    return encodeSignature(this.local.identity.length)
  }

  /** Feeds bytes from the peer. After a step with `peer` set, push() must not be called again. */
  push(chunk: Buffer): NegotiationStep {
    if (this.done) throw new Error("negotiation already finished")
    let send: Buffer[] = NONE as Buffer[]
    const before = this.count
    let pos = 0
    while (pos < chunk.length) {
      const take = Math.min(this.need - this.count, chunk.length - pos)
      chunk.copy(this.got, this.count, pos, pos + take)
      this.count += take
      pos += take

      // RFC 15: a first byte other than 0xFF, or a 10th byte with bit 0 clear, is ZMTP 1.0.
      if (this.got[0] !== 0xff || (this.count >= SIGNATURE_SIZE && (this.got[9]! & 1) === 0)) {
        this.done = true
        const body = this.local.identity
        // Its bytes from earlier chunks (at most 9) are in `got`; this chunk is all 1.0 stream.
        return {
          send: body.length > 0 ? [...send, body] : send,
          peer: { version: 1, socketType: null },
          rest: before > 0 ? [this.got.subarray(0, before), chunk] : [chunk],
        }
      }
      if (this.count < this.need) break

      if (this.count === SIGNATURE_SIZE) {
        send = [...send, this.full.subarray(10, 11)]
        this.need = 11
      } else if (this.count === 11) {
        const revision = this.got[10]!
        if (revision === 0 || revision === 1) {
          send = [...send, Buffer.from([this.local.socketType])]
          this.need = LEGACY_GREETING_SIZE
        } else {
          send = [...send, this.full.subarray(11)]
          this.need = GREETING_SIZE
        }
      } else {
        this.done = true
        const rest = [chunk.subarray(pos)]
        if (this.need === LEGACY_GREETING_SIZE) {
          const socketType = this.got[11]!
          const peer: PeerProtocol = this.got[10] === 1 ? { version: 2, socketType } : { version: 1, socketType }
          return { send, peer, rest }
        }
        // Throws a ProtocolError for a malformed mechanism field.
        return { send, peer: { version: 3, greeting: decodeGreeting(this.got) }, rest }
      }
    }
    return { send }
  }
}
