/** Conversions between what users send (zeromq.js `MessageLike`) and wire frames. */
import type { Message } from "./pipe/pipe.js"

/** What can be sent as a message part (zeromq.js's type): a number is sent as its decimal text. */
export type MessageLike = ArrayBufferView | ArrayBuffer | SharedArrayBuffer | string | number | null

const EMPTY = Buffer.alloc(0)

/**
 * Buffers up to this size are copied on send, larger ones are sent by reference (zeromq.js's
 * zero-copy threshold): a small Buffer is free for reuse, or collection, as soon as send()
 * returns; a large one must not be changed until it has been written.
 */
export const COPY_MAX = 128

/** A copy of a small part in a Buffer of its own (an empty part is the shared empty Buffer). */
export function copySmall(data: Uint8Array): Buffer {
  if (data.length === 0) return EMPTY
  const c = Buffer.allocUnsafe(data.length)
  c.set(data)
  return c
}

/** One frame as a Buffer: small Buffers copied, large ones taken as they are, strings encoded. */
export function toFrame(part: unknown): Buffer {
  if (Buffer.isBuffer(part)) return part.length <= COPY_MAX ? copySmall(part) : part
  if (typeof part === "string") return Buffer.from(part, "utf8")
  if (part === null || part === undefined) return EMPTY
  if (ArrayBuffer.isView(part)) {
    if (part.byteLength <= COPY_MAX) return copySmall(new Uint8Array(part.buffer, part.byteOffset, part.byteLength))
    return Buffer.from(part.buffer, part.byteOffset, part.byteLength)
  }
  if (part instanceof ArrayBuffer) return Buffer.from(part)
  if (typeof SharedArrayBuffer !== "undefined" && part instanceof SharedArrayBuffer) return Buffer.from(part)
  return Buffer.from(String(part), "utf8")
}

export function toMessage(message: unknown): Message {
  if (Array.isArray(message)) {
    const out = new Array<Buffer>(message.length)
    for (let i = 0; i < message.length; i++) out[i] = toFrame(message[i])
    return out
  }
  return [toFrame(message)]
}
