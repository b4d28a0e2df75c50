/**
 * ZMTP 1.0 frames (RFC 13, "The Framing Layer"): a length that counts the
 * flags octet, the flags octet, then length - 1 body octets.
 *
 *   length  1 octet (1..254), or 0xFF then 8 octets (network order)
 *   flags   bit 0 MORE; bits 1-7 reserved ("SHOULD be zero": ignored, as libzmq does)
 *
 * ZMTP 2.0 (RFC 15) needs no codec of its own: its frames are the 3.x frames
 * of frame.ts without the COMMAND bit, and the engine uses FrameDecoder for them.
 *
 * Like FrameDecoder, this decoder is a pure state machine fed chunks split at
 * any byte boundary, calling back once per frame with the same (flags, body)
 * as FrameDecoder (flags is FLAG_MORE or 0). Bodies inside one chunk are
 * slices of it; memory grows only with the bytes received.
 */
// kMaxLength, not constants.MAX_LENGTH (the same number): the `buffer` package, Buffer in a browser, has only kMaxLength.
import { kMaxLength } from "node:buffer"
import { ProtocolError } from "../errors.js"
import { FLAG_MORE, type FrameHandler } from "./frame.js"

/** The largest body a Buffer can hold (never above 2^53-1). */
const MAX_SAFE = Math.min(Number.MAX_SAFE_INTEGER, kMaxLength)
/** Bodies up to this size get their buffer when the header arrives; larger ones as data comes. */
const PREALLOCATE_MAX = 1024 * 1024
/** A length octet of 0xFF announces an 8-octet length. */
const LONG_LENGTH = 0xff

const enum State {
  Length,
  LongLength,
  Flags,
  Body,
}

export class V1FrameDecoder {
  private state = State.Length
  private readonly lenBuf = Buffer.alloc(8)
  private lenGot = 0
  /** Body size of the frame being read (length - 1). */
  private size = 0
  private flags = 0
  private body: Buffer | null = null
  private pieces: Buffer[] = []
  private bodyGot = 0
  private failed = false

  /**
   * @param onFrame called once for every complete frame
   * @param maxSize largest body accepted; -1 means no limit (checked on the length, before the body arrives)
   */
  constructor(
    private readonly onFrame: FrameHandler,
    public maxSize = -1,
  ) {}

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.state === State.Length
  }

  /** Decodes as many frames as `chunk` completes; throws ProtocolError on malformed input (then discard the decoder). */
  push(chunk: Buffer): void {
    if (this.failed) throw new ProtocolError("ZMTP_BAD_FLAGS", "Decoder already failed")
    const len = chunk.length
    let pos = 0
    while (pos < len) {
      switch (this.state) {
        case State.Length: {
          const first = chunk[pos++]!
          if (first === LONG_LENGTH) {
            this.lenGot = 0
            this.state = State.LongLength
            break
          }
          this.sizeKnown(first)
          // Fast path: flags and the whole body are in this chunk.
          if (len - pos > this.size) {
            const flags = chunk[pos++]! & FLAG_MORE
            const body = chunk.subarray(pos, pos + this.size)
            pos += this.size
            this.state = State.Length
            this.onFrame(flags, body)
          }
          break
        }
        case State.LongLength: {
          const take = Math.min(8 - this.lenGot, len - pos)
          chunk.copy(this.lenBuf, this.lenGot, pos, pos + take)
          this.lenGot += take
          pos += take
          if (this.lenGot < 8) break
          const hi = this.lenBuf.readUInt32BE(0)
          if (hi > 0x1fffff) this.fail("ZMTP_OVERSIZE", "Frame length exceeds 2^53")
          this.sizeKnown(hi * 0x100000000 + this.lenBuf.readUInt32BE(4))
          break
        }
        case State.Flags: {
          this.flags = chunk[pos++]! & FLAG_MORE
          this.startBody()
          break
        }
        case State.Body: {
          const take = Math.min(this.size - this.bodyGot, len - pos)
          if (this.body !== null) chunk.copy(this.body, this.bodyGot, pos, pos + take)
          else this.pieces.push(chunk.subarray(pos, pos + take))
          this.bodyGot += take
          pos += take
          if (this.bodyGot === this.size) this.finishBody()
          break
        }
      }
    }
  }

  /** The length (flags octet included) is read: check it, expect the flags octet. */
  private sizeKnown(length: number): void {
    // RFC 13: "a length of 0 is invalid"; libzmq drops the connection (EPROTO), so do we.
    if (length === 0) this.fail("ZMTP_BAD_FLAGS", "ZMTP 1.0 frame of length 0 (no flags octet)")
    const size = length - 1
    const limit = this.maxSize >= 0 ? Math.min(this.maxSize, MAX_SAFE) : MAX_SAFE
    if (size > limit) this.fail("ZMTP_OVERSIZE", `Frame of ${size} bytes exceeds the limit of ${limit}`)
    this.size = size
    this.state = State.Flags
  }

  private startBody(): void {
    if (this.size === 0) {
      this.state = State.Length
      this.onFrame(this.flags, Buffer.alloc(0))
      return
    }
    this.body = this.size <= PREALLOCATE_MAX ? Buffer.allocUnsafe(this.size) : null
    this.pieces = []
    this.bodyGot = 0
    this.state = State.Body
  }

  private finishBody(): void {
    const body = this.body ?? Buffer.concat(this.pieces, this.size)
    this.body = null
    this.pieces = []
    this.state = State.Length
    this.onFrame(this.flags, body)
  }

  private fail(code: "ZMTP_BAD_FLAGS" | "ZMTP_OVERSIZE", message: string): never {
    this.failed = true
    throw new ProtocolError(code, message)
  }
}

/** Size of the ZMTP 1.0 header (length + flags) for a body of `size` bytes. */
export function v1HeaderSize(size: number): number {
  // RFC 13: lengths 1..254 in one octet, 255 and more as 0xFF + 8 octets.
  return size + 1 < LONG_LENGTH ? 2 : 10
}

/** Writes one ZMTP 1.0 header at `offset` of `out`; returns the new offset. `flags` is FLAG_MORE or 0. */
export function writeV1Header(out: Buffer, offset: number, flags: number, size: number): number {
  const length = size + 1
  if (length < LONG_LENGTH) {
    out[offset] = length
    out[offset + 1] = flags
    return offset + 2
  }
  out[offset] = LONG_LENGTH
  out.writeUInt32BE(Math.floor(length / 0x100000000), offset + 1)
  out.writeUInt32BE(length >>> 0, offset + 5)
  out[offset + 9] = flags
  return offset + 10
}

/** Encodes the parts of one message as ZMTP 1.0 frames (MORE on all but the last). */
export function encodeV1Message(parts: readonly Buffer[]): Buffer {
  let total = 0
  for (const p of parts) total += v1HeaderSize(p.length) + p.length
  const out = Buffer.allocUnsafe(total)
  encodeV1Into(out, 0, parts)
  return out
}

/** Writes the frames of one message into `out` at `offset`; returns the new offset. */
export function encodeV1Into(out: Buffer, offset: number, parts: readonly Buffer[]): number {
  const last = parts.length - 1
  for (let i = 0; i <= last; i++) {
    const p = parts[i]!
    offset = writeV1Header(out, offset, i < last ? FLAG_MORE : 0, p.length)
    offset += p.copy(out, offset)
  }
  return offset
}
