/**
 * The encoders the engine writes with: batches of queued messages in the
 * peer's framing (ZMTP 3.x/2.0 frames of frame.ts, ZMTP 1.0 frames of
 * frame-v1.ts, CURVE MESSAGE boxes), and the subscription a SUB/XSUB sends.
 * (Commands, PING/PONG included, are command.ts's commandFrame & co.)
 * Pure: they return buffers (the chunks to write, in order) and never touch
 * a stream; the engine writes them (corked when there are several).
 *
 * A batch takes messages from the front of a queue (shifts them off) until
 * about `budget` bytes are encoded, so one busy pipe cannot hog the event
 * loop, and says how many it took.
 */
import type { FrameCodec } from "./frame-codec.js"
import { cancelFrame, subscribeFrame } from "./command.js"
import { FLAG_MORE, encodeFrame, headerSize, writeHeader } from "./frame.js"
import { encodeV1Into, encodeV1Message, v1HeaderSize } from "./frame-v1.js"

/** Bodies at least this large are handed to the stream by reference instead of copied. */
export const ZERO_COPY_MIN = 16 * 1024

/** Messages waiting to be sent, oldest first: the pipe's MessageQueue (or an array, in tests). */
export interface MessageQueue {
  readonly length: number
  at(i: number): readonly Buffer[] | undefined
  shift(): readonly Buffer[] | undefined
  /** A queue that holds one-frame messages as byte ranges: item `i`'s length if it is one, else -1. */
  rangeLength?(i: number): number
  /** Takes the front item, a range, copying its bytes to `out[off..]`; returns how many. */
  shiftRangeInto?(out: Buffer, off: number): number
}

/** What a batch encoder produced: the buffers to write, in order, and how many messages they hold. */
export interface EncodedBatch {
  chunks: Buffer[]
  count: number
}

/** What the encoders need to know of the peer: its framing (3.x/2.0 or 1.0), whether it has SUBSCRIBE (3.1), CURVE. */
export interface PeerFraming {
  /** ZMTP major version of the peer: 3, 2 or 1. */
  zmtp: 1 | 2 | 3
  /** The 3.x peer's minor version (3.1 has SUBSCRIBE/CANCEL commands; 3.0 does not). */
  minor: number
  /** CURVE's frame codec once the handshake is done. */
  codec?: FrameCodec | undefined
}

/**
 * ZMTP 3.x / 2.0 frames (RFC 23, RFC 15), the fast path. Pass 1 counts the
 * messages that fit the budget and the header and small-body bytes to copy;
 * pass 2 encodes them into one buffer, with bodies of ZERO_COPY_MIN bytes and
 * more written by reference between its segments (a large body is never copied).
 */
export function encodeMessages(queue: MessageQueue, budget: number): EncodedBatch {
  // Pass 1: how many messages fit the budget, and how many bytes get copied.
  let count = 0
  let copyBytes = 0
  let total = 0
  const queued = queue.length
  const ranges = queue.rangeLength !== undefined
  for (let m = 0; m < queued; m++) {
    // A range (a small one-frame message, see lib/pipe/message-queue.ts) is copied whole.
    const rl = ranges ? queue.rangeLength!(m) : -1
    if (rl >= 0) {
      copyBytes += headerSize(rl) + rl
      total += headerSize(rl) + rl
      count++
      if (total >= budget) break
      continue
    }
    const msg = queue.at(m)!
    for (let i = 0; i < msg.length; i++) {
      const len = msg[i]!.length
      const head = headerSize(len)
      copyBytes += len < ZERO_COPY_MIN ? head + len : head
      total += head + len
    }
    count++
    if (total >= budget) break
  }

  // Pass 2: encode.
  const buf = Buffer.allocUnsafe(copyBytes)
  const chunks: Buffer[] = []
  let off = 0
  let segStart = 0
  for (let m = 0; m < count; m++) {
    const rl = ranges ? queue.rangeLength!(0) : -1
    if (rl >= 0) {
      off = writeHeader(buf, off, 0, rl)
      off += queue.shiftRangeInto!(buf, off)
      continue
    }
    const msg = queue.shift()!
    const last = msg.length - 1
    for (let i = 0; i <= last; i++) {
      const part = msg[i]!
      off = writeHeader(buf, off, i < last ? FLAG_MORE : 0, part.length)
      if (part.length < ZERO_COPY_MIN) {
        off += part.copy(buf, off)
      } else {
        chunks.push(buf.subarray(segStart, off), part)
        segStart = off
      }
    }
  }
  if (off > segStart) chunks.push(buf.subarray(segStart, off))
  return { chunks, count }
}

/**
 * CURVE (RFC 26): each part becomes a MESSAGE box, carrying MORE inside it,
 * in a frame of its own; the box is a new buffer anyway, so it is written by
 * reference after its header.
 */
export function encodeMessagesCurve(codec: FrameCodec, queue: MessageQueue, budget: number): EncodedBatch {
  if (codec.encodeInto !== undefined && codec.overhead !== undefined) return encodeMessagesCurveInto(codec, codec.overhead, queue, budget)
  const chunks: Buffer[] = []
  let total = 0
  let count = 0
  const queued = queue.length
  while (count < queued && total < budget) {
    const msg = queue.shift()!
    const last = msg.length - 1
    for (let i = 0; i <= last; i++) {
      const boxed = codec.encode(i < last ? 1 : 0, msg[i]!)
      const head = Buffer.allocUnsafe(headerSize(boxed.length))
      writeHeader(head, 0, 0, boxed.length)
      chunks.push(head, boxed)
      total += head.length + boxed.length
    }
    count++
  }
  return { chunks, count }
}

/**
 * The same, with a codec that seals in place: pass 1 counts what fits the budget, pass 2 writes
 * each frame's header and box straight into one buffer (no buffer per box or header, one chunk
 * per write).
 */
function encodeMessagesCurveInto(codec: FrameCodec, overhead: number, queue: MessageQueue, budget: number): EncodedBatch {
  let count = 0
  let total = 0
  const queued = queue.length
  const ranges = queue.rangeLength !== undefined
  while (count < queued && total < budget) {
    const rl = ranges ? queue.rangeLength!(count) : -1
    if (rl >= 0) {
      total += headerSize(overhead + rl) + overhead + rl
      count++
      continue
    }
    const msg = queue.at(count)!
    for (let i = 0; i < msg.length; i++) {
      const n = overhead + msg[i]!.length
      total += headerSize(n) + n
    }
    count++
  }
  const buf = Buffer.allocUnsafe(total)
  let off = 0
  for (let m = 0; m < count; m++) {
    const msg = queue.shift()!
    const last = msg.length - 1
    for (let i = 0; i <= last; i++) {
      const part = msg[i]!
      off = writeHeader(buf, off, 0, overhead + part.length)
      off += codec.encodeInto!(i < last ? 1 : 0, part, buf, off)
    }
  }
  return { chunks: [buf], count }
}

/**
 * ZMTP 1.0 frames (RFC 13); 2.0 peers take encodeMessages (same frames as 3.x).
 * Old peers are rare, so it is simple: one buffer, every body copied.
 */
export function encodeMessagesV1(queue: MessageQueue, budget: number): EncodedBatch {
  let count = 0
  let total = 0
  const queued = queue.length
  while (count < queued && total < budget) {
    for (const part of queue.at(count)!) total += v1HeaderSize(part.length) + part.length
    count++
  }
  const buf = Buffer.allocUnsafe(total)
  let off = 0
  for (let i = 0; i < count; i++) off = encodeV1Into(buf, off, queue.shift()!)
  return { chunks: [buf], count }
}

/** The batch encoder for this peer's framing. */
export function encodeBatch(peer: PeerFraming, queue: MessageQueue, budget: number): EncodedBatch {
  if (peer.codec !== undefined) return encodeMessagesCurve(peer.codec, queue, budget)
  return peer.zmtp === 1 ? encodeMessagesV1(queue, budget) : encodeMessages(queue, budget)
}

/**
 * The parts of one message as ZMTP 3.x frames in one buffer (MORE on all but
 * the last): the batch encoder with a single message, joined.
 */
export function encodeMessage(parts: readonly Buffer[]): Buffer {
  const { chunks } = encodeMessages([parts], Infinity)
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

/** One final message frame (MORE clear) in this peer's framing, boxed under CURVE. */
export function encodeDataFrame(peer: PeerFraming, body: Buffer): Buffer {
  if (peer.codec !== undefined) return encodeFrame(peer.codec.encode(0, body))
  return peer.zmtp === 1 ? encodeV1Message([body]) : encodeFrame(body)
}

/**
 * A subscription for a publisher: the SUBSCRIBE / CANCEL command to ZMTP 3.1
 * peers (RFC 37); to 3.0, 2.0 and 1.0 peers a message whose first byte is
 * 0x01 (subscribe) or 0x00 (cancel) followed by the topic (RFC 23, RFC 15),
 * as libzmq sends them.
 */
export function encodeSubscription(peer: PeerFraming, subscribe: boolean, topic: Buffer): Buffer {
  if (peer.zmtp === 3 && peer.minor >= 1) return subscribe ? subscribeFrame(topic, peer.codec) : cancelFrame(topic, peer.codec)
  const body = Buffer.allocUnsafe(topic.length + 1)
  body[0] = subscribe ? 1 : 0
  topic.copy(body, 1)
  return encodeDataFrame(peer, body)
}
