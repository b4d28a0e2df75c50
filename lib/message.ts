/** Conversions between what users send (zeromq.js `MessageLike`) and wire frames. */
import type { Message } from "./pipe/pipe.js"

export type MessageLike = ArrayBufferView | ArrayBuffer | SharedArrayBuffer | string | null

const EMPTY = Buffer.alloc(0)

/** One frame as a Buffer; Buffers are taken as they are (not copied). */
export function toFrame(part: unknown): Buffer {
  if (Buffer.isBuffer(part)) return part
  if (typeof part === "string") return Buffer.from(part, "utf8")
  if (part === null || part === undefined) return EMPTY
  if (ArrayBuffer.isView(part)) return Buffer.from(part.buffer, part.byteOffset, part.byteLength)
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
