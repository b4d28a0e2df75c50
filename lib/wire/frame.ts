/**
 * ZMTP frames (RFC 23, "Framing"): a flags byte, a 1- or 8-byte size, a body.
 *
 *   flags bit 0  MORE     another frame of the same message follows
 *   flags bit 1  LONG     size is 8 bytes (network order) instead of 1
 *   flags bit 2  COMMAND  the frame is a command, not a message part
 *   bits 3-7     reserved, must be zero
 *
 * ZMTP 2.0 frames (RFC 15) are these without COMMAND (bit 2 is reserved there):
 * the engine decodes 2.0 peers with this decoder too, and refuses COMMAND
 * from them. ZMTP 1.0 framing differs: frame-v1.ts.
 *
 * The decoder is a pure, synchronous state machine: feed it chunks split at
 * any byte boundary and it calls back once per complete frame. Bodies that
 * arrive whole inside one chunk are returned as slices of that chunk (no
 * copy); a body split across chunks is copied once into its own buffer.
 */
// kMaxLength, not constants.MAX_LENGTH (the same number): the `buffer` package, Buffer in a browser, has only kMaxLength.
import { kMaxLength } from "node:buffer"
import { ProtocolError } from "../errors.js"

export const FLAG_MORE = 0x01
export const FLAG_LONG = 0x02
export const FLAG_COMMAND = 0x04
const RESERVED = 0xf8

/**
 * Largest body size the decoder ever accepts: the largest Buffer Node can
 * allocate (never above 2^53-1, JS's integer limit). A bigger size would make
 * Buffer.allocUnsafe throw a RangeError instead of a ProtocolError.
 */
const MAX_SAFE = Math.min(Number.MAX_SAFE_INTEGER, kMaxLength)

/** Bodies up to this size get their buffer when the header arrives; larger ones as data comes. */
const PREALLOCATE_MAX = 1024 * 1024
/** Every empty frame received is this one Buffer (it has no bytes to change): an envelope's delimiters and empty headers cost no object each. */
const EMPTY = Buffer.alloc(0)

export type FrameHandler = (flags: number, body: Buffer) => void
/** A whole, non-empty last frame of a message (no MORE, no COMMAND) found inside one chunk: `chunk[start..end)`. */
export type RangeHandler = (chunk: Buffer, start: number, end: number) => void

const enum State {
  Flags,
  Size,
  Body,
}

export class FrameDecoder {
  private state = State.Flags
  private flags = 0
  private sizeBytes = 0
  private sizeGot = 0
  private size = 0
  private sizeBuf = Buffer.alloc(8)
  private body: Buffer | null = null
  /** Pieces of a body too large to allocate before it arrives. */
  private pieces: Buffer[] = []
  private bodyGot = 0
  /** Once an error was raised the decoder refuses further input. */
  private failed = false

  /**
   * @param onFrame called once for every complete frame
   * @param maxSize largest body accepted; -1 means no limit (checked on the header, before the body arrives)
   * @param onRange if given, called instead of onFrame for a short final message frame that lies
   *   whole in the chunk, so that no view of it is made here (the handler may make one)
   */
  constructor(
    private readonly onFrame: FrameHandler,
    public maxSize = -1,
    private readonly onRange?: RangeHandler,
  ) {}

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.state === State.Flags
  }

  /**
   * Decodes as many frames as `chunk` completes. Throws ProtocolError on
   * malformed input; after that the decoder must be discarded.
   */
  push(chunk: Buffer): void {
    if (this.failed) throw new ProtocolError("ZMTP_BAD_FLAGS", "Decoder already failed")
    const len = chunk.length
    let pos = 0
    while (pos < len) {
      switch (this.state) {
        case State.Flags: {
          const flags = chunk[pos]!
          if ((flags & RESERVED) !== 0) {
            this.failed = true
            throw new ProtocolError("ZMTP_BAD_FLAGS", `Reserved frame flag bits set: 0x${flags.toString(16)}`)
          }
          this.flags = flags
          pos++
          if ((flags & FLAG_LONG) === 0) {
            // Fast path: short frame whose size byte and body are in this chunk.
            if (pos < len) {
              const size = chunk[pos]!
              pos++
              this.checkSize(size)
              if (len - pos >= size) {
                if (size === 0) this.onFrame(flags, EMPTY)
                else if (flags === 0 && this.onRange !== undefined) this.onRange(chunk, pos, pos + size)
                else this.onFrame(flags, chunk.subarray(pos, pos + size))
                pos += size
                continue
              }
              this.startBody(size)
              continue
            }
            this.sizeBytes = 1
          } else {
            this.sizeBytes = 8
          }
          this.sizeGot = 0
          this.state = State.Size
          break
        }
        case State.Size: {
          const need = this.sizeBytes - this.sizeGot
          const take = Math.min(need, len - pos)
          chunk.copy(this.sizeBuf, this.sizeGot, pos, pos + take)
          this.sizeGot += take
          pos += take
          if (this.sizeGot < this.sizeBytes) break
          let size: number
          if (this.sizeBytes === 1) {
            size = this.sizeBuf[0]!
          } else {
            const hi = this.sizeBuf.readUInt32BE(0)
            const lo = this.sizeBuf.readUInt32BE(4)
            if (hi > 0x1fffff) {
              this.failed = true
              throw new ProtocolError("ZMTP_OVERSIZE", "Frame size exceeds 2^53")
            }
            size = hi * 0x100000000 + lo
          }
          this.checkSize(size)
          if (len - pos >= size) {
            this.onFrame(this.flags, chunk.subarray(pos, pos + size))
            pos += size
            this.state = State.Flags
          } else {
            this.startBody(size)
          }
          break
        }
        case State.Body: {
          const take = Math.min(this.size - this.bodyGot, len - pos)
          if (this.body !== null) {
            chunk.copy(this.body, this.bodyGot, pos, pos + take)
          } else {
            // Large body: keep the pieces as they arrive (memory follows the
            // bytes received, not the size the peer claims) and join them once.
            this.pieces.push(chunk.subarray(pos, pos + take))
          }
          this.bodyGot += take
          pos += take
          if (this.bodyGot === this.size) {
            const body = this.body ?? Buffer.concat(this.pieces, this.size)
            this.body = null
            this.pieces = []
            this.state = State.Flags
            this.onFrame(this.flags, body)
          }
          break
        }
      }
    }
  }

  private checkSize(size: number): void {
    const limit = this.maxSize >= 0 ? Math.min(this.maxSize, MAX_SAFE) : MAX_SAFE
    if (size > limit) {
      this.failed = true
      throw new ProtocolError("ZMTP_OVERSIZE", `Frame of ${size} bytes exceeds the limit of ${limit}`)
    }
  }

  private startBody(size: number): void {
    this.size = size
    this.body = size <= PREALLOCATE_MAX ? Buffer.allocUnsafe(size) : null
    this.pieces = []
    this.bodyGot = 0
    this.state = State.Body
    if (size === 0) {
      this.body = null
      this.state = State.Flags
      this.onFrame(this.flags, EMPTY)
    }
  }
}

/** Size of the header (flags + size) for a body of `size` bytes. */
export function headerSize(size: number): number {
  return size > 255 ? 9 : 2
}

/**
 * Writes one frame header at `offset` of `out`; returns the new offset.
 * `flags` holds MORE/COMMAND; LONG is added when needed.
 */
export function writeHeader(out: Buffer, offset: number, flags: number, size: number): number {
  if (size > 255) {
    out[offset] = flags | FLAG_LONG
    // Sizes above 2^32 are written as two 32-bit halves.
    out.writeUInt32BE(Math.floor(size / 0x100000000), offset + 1)
    out.writeUInt32BE(size >>> 0, offset + 5)
    return offset + 9
  }
  out[offset] = flags
  out[offset + 1] = size
  return offset + 2
}

/** Encodes one frame into a new buffer (commands, single frames; messages are batched by encoder.ts). */
export function encodeFrame(body: Buffer, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(headerSize(body.length) + body.length)
  const off = writeHeader(out, 0, flags, body.length)
  body.copy(out, off)
  return out
}
