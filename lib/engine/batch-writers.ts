/**
 * The engine's batch writers for connections off the ZMTP 3.x fast path
 * (Engine.flush keeps that one inline): CURVE, where every frame is boxed,
 * and ZMTP 1.0 peers, whose framing differs. Each takes queued messages from
 * `out` until about `budget` bytes are written and returns false when the
 * stream asks us to wait for 'drain'.
 */
import type { ByteStream } from "../transports/byte-stream.js"
import type { FrameCodec } from "../mechanisms/mechanism.js"
import type { Deque } from "../pipe/deque.js"
import type { Message } from "../pipe/pipe.js"
import { headerSize, writeHeader } from "../wire/frame.js"
import { encodeV1Into, v1HeaderSize } from "../wire/frame-v1.js"

/** CURVE: each frame becomes a MESSAGE box in a frame of its own. */
export function writeEncrypted(s: ByteStream, codec: FrameCodec, out: Deque<Message>, budget: number): boolean {
  let total = 0
  s.cork()
  while (out.length > 0 && total < budget) {
    const msg = out.shift()!
    const last = msg.length - 1
    for (let i = 0; i <= last; i++) {
      const boxed = codec.encode(i < last ? 1 : 0, msg[i]!)
      const head = Buffer.allocUnsafe(headerSize(boxed.length))
      writeHeader(head, 0, 0, boxed.length)
      s.write(head)
      s.write(boxed)
      total += head.length + boxed.length
    }
  }
  s.uncork()
  return s.writableLength < s.writableHighWaterMark
}

/**
 * ZMTP 1.0 peers (2.0 peers take the 3.x path: same frames). Old peers are
 * rare, so it is simple: one buffer, every body copied, no zero-copy.
 */
export function writeV1(s: ByteStream, out: Deque<Message>, budget: number): boolean {
  let count = 0
  let total = 0
  const queued = out.length
  while (count < queued && total < budget) {
    for (const part of out.at(count)!) total += v1HeaderSize(part.length) + part.length
    count++
  }
  const buf = Buffer.allocUnsafe(total)
  let off = 0
  for (let i = 0; i < count; i++) off = encodeV1Into(buf, off, out.shift()!)
  return s.write(buf)
}
