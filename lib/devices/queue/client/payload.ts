/**
 * The client's decoding of the two replies that carry many messages, a RANGE reply and a
 * delivery (MSG, or a RESERVE reply), read straight from the CBOR into the objects the
 * client hands out: no intermediate arrays per message, and 64-bit integers (timestamps)
 * read as numbers, not BigInts. Only the shapes the device writes (server/protocol.ts
 * rangePayload, deliveryPayload) are read here: integers, text, null, arrays and the map
 * with text keys. Anything else returns null, and the caller decodes the payload with the
 * general decoder instead (so an unexpected but valid payload is still read).
 */
import { decodeCbor } from "../cbor.js"
import { Delivery, type DeliveryHost, type QueueConsumer } from "./delivery.js"

const EMPTY = Buffer.alloc(0)

/** A stored message of a stream, as range() returns it. */
export class RangeMessage {
  private decoded: Record<string, unknown> | undefined = undefined
  constructor(
    readonly offset: number,
    readonly putAt: number,
    readonly priority: number,
    readonly id: string | undefined,
    readonly key: string | undefined,
    /** The producer's headers as sent (a CBOR map, or empty). */
    readonly rawHeaders: Buffer,
    readonly body: Buffer,
  ) {}

  /** The producer's headers (decoded from CBOR on first access). */
  get headers(): Record<string, unknown> {
    if (this.decoded === undefined) this.decoded = this.rawHeaders.length > 0 ? (decodeCbor(this.rawHeaders) as Record<string, unknown>) : {}
    return this.decoded
  }
}

/** A payload not of the expected shape (the caller falls back to the general decoder). */
const SHAPE = new Error("unexpected payload shape")

let buf: Buffer = EMPTY
let pos = 0

/** The argument of a head of major type `major` (throws SHAPE for another type, or an indefinite length). */
function arg(major: number): number {
  if (pos >= buf.length) throw SHAPE
  const b = buf[pos++]!
  if (b >> 5 !== major) throw SHAPE
  const n = b & 31
  if (n < 24) return n
  if (n > 27 || pos + (1 << (n - 24)) > buf.length) throw SHAPE
  let v: number
  switch (n) {
    case 24:
      v = buf[pos]!
      pos += 1
      break
    case 25:
      v = (buf[pos]! << 8) | buf[pos + 1]!
      pos += 2
      break
    case 26:
      v = buf.readUInt32BE(pos)
      pos += 4
      break
    case 27: {
      const hi = buf.readUInt32BE(pos)
      if (hi > 0x1fffff) throw SHAPE // above 2^53: the general decoder gives a BigInt
      v = hi * 0x100000000 + buf.readUInt32BE(pos + 4)
      pos += 8
      break
    }
    default:
      throw SHAPE
  }
  return v
}

function text(): string {
  const n = arg(3)
  const end = pos + n
  if (end > buf.length) throw SHAPE
  const s = buf.toString("utf8", pos, end)
  pos = end
  return s
}

/** A text or null (undefined). */
function optText(): string | undefined {
  if (buf[pos] === 0xf6) {
    pos++
    return undefined
  }
  return text()
}

/** Whether the next item is text `key` (a map key; consumed if so). */
function isKey(key: string): boolean {
  const n = key.length
  if (buf[pos] !== (0x60 | n) || n >= 24 || pos + 1 + n > buf.length) return false
  for (let i = 0; i < n; i++) if (buf[pos + 1 + i] !== key.charCodeAt(i)) return false
  pos += 1 + n
  return true
}

/**
 * A RANGE result `{queue, next, messages: [[seq, putAt, priority, id|null, key|null], ...]}` with
 * each message's headers and body in `frames` from `first` on; null if the payload is not that.
 */
export function readRange(payload: Buffer, frames: readonly Buffer[], first: number): { messages: RangeMessage[]; next: number } | null {
  buf = payload
  pos = 0
  try {
    const keys = arg(5)
    let next = -1
    let messages: RangeMessage[] | null = null
    for (let k = 0; k < keys; k++) {
      if (isKey("queue")) text()
      else if (isKey("next")) next = arg(0)
      else if (isKey("messages") && messages === null) {
        const n = arg(4)
        messages = new Array<RangeMessage>(n)
        for (let i = 0; i < n; i++) {
          if (arg(4) !== 5) throw SHAPE
          const seq = arg(0)
          const putAt = arg(0)
          const priority = arg(0)
          const id = optText()
          const key = optText()
          messages[i] = new RangeMessage(seq, putAt, priority, id, key, frames[first + 2 * i] ?? EMPTY, frames[first + 2 * i + 1] ?? EMPTY)
        }
      } else throw SHAPE
    }
    if (pos !== buf.length || next < 0 || messages === null) return null
    return { messages, next }
  } catch (err) {
    if (err === SHAPE) return null
    throw err
  } finally {
    buf = EMPTY
  }
}

/**
 * A delivery `{queue, messages: [[seq, attempt, priority, putAt, ttr, id|null, key?], ...]}` with each
 * message's headers and body in `frames` from `first` on, pushed to `to` as Deliveries. False (and
 * nothing pushed) if the payload is not that.
 */
export function readDeliveries(
  payload: Buffer,
  frames: readonly Buffer[],
  first: number,
  host: DeliveryHost,
  to: QueueConsumer,
  hook?: (d: Delivery) => void,
): boolean {
  const out = readDeliveryList(payload, frames, first, host, to.group)
  if (out === null) return false
  for (let i = 0; i < out.length; i++) {
    if (hook !== undefined) hook(out[i]!)
    to.push(out[i]!)
  }
  return true
}

function readDeliveryList(
  payload: Buffer,
  frames: readonly Buffer[],
  first: number,
  host: DeliveryHost,
  group: string | undefined,
): Delivery[] | null {
  buf = payload
  pos = 0
  try {
    if (arg(5) !== 2 || !isKey("queue")) return null
    const queue = text()
    if (!isKey("messages")) return null
    const n = arg(4)
    const out = new Array<Delivery>(n)
    for (let i = 0; i < n; i++) {
      const len = arg(4)
      if (len !== 6 && len !== 7) return null
      const seq = arg(0)
      const attempt = arg(0)
      const priority = arg(0)
      const putAt = arg(0)
      const ttr = arg(0)
      const id = optText()
      const key = len === 7 ? text() : undefined
      out[i] = new Delivery(
        host,
        queue,
        seq,
        attempt,
        priority,
        putAt,
        ttr,
        id,
        key,
        frames[first + 2 * i] ?? EMPTY,
        frames[first + 2 * i + 1] ?? EMPTY,
        group,
      )
    }
    return pos === buf.length ? out : null
  } catch (err) {
    if (err === SHAPE) return null
    throw err
  } finally {
    buf = EMPTY
  }
}
