/**
 * How the durable devices (streamer, forwarder) keep a ZeroMQ message in the store: as the
 * body of a queue message, with no options and no user headers.
 *
 * - A single-frame message (the common case) is stored as that frame itself, with the empty
 *   CBOR map (one byte, 0xa0) as headers: nothing to encode or decode per message.
 * - A multipart message is stored as the CBOR array of its frames (byte strings), with empty
 *   headers. This is also how the first durable streamer stored every message, so its stores
 *   are still read.
 */
import type { NewMessage } from "./backend.js"
import { decodeCbor, EMPTY_MAP, encodeCbor } from "./cbor.js"

const NO_OPTIONS = { priority: 0, delay: 0, ttr: undefined, ttl: 0, id: undefined, retry: undefined }
const EMPTY = Buffer.alloc(0)

/**
 * A message to put. With `copy`, a single frame is copied, so the store does not hold on to
 * the whole network read it is a slice of (what a device that stores only some of what it
 * reads wants).
 */
export function storedMessage(frames: readonly Buffer[], copy: boolean): NewMessage {
  if (frames.length === 1) return { options: NO_OPTIONS, headers: EMPTY_MAP, body: copy ? Buffer.from(frames[0]!) : frames[0]! }
  return { options: NO_OPTIONS, headers: EMPTY, body: encodeCbor(frames) }
}

/** The frames of a stored message (given its headers and body), as Buffers that stay valid. */
export function storedFrames(headers: Buffer, body: Buffer): Buffer[] {
  if (headers.length === 1 && headers[0] === 0xa0) return [body]
  return (decodeCbor(body) as Uint8Array[]).map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))
}
