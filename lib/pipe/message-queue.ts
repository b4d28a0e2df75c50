/**
 * A pipe's FIFO of messages, like Deque<Message>, that can also hold a single-frame message as a
 * range of a shared buffer: (buffer, start, end) in three ring slots, no object of its own. The
 * message's Buffer and array are made when it is taken (shift), not when it is queued.
 *
 * Why: a receiving connection decodes a whole read (about a thousand 64 B messages) at once, and
 * they wait in the queue until the application takes them. Queued as objects, each costs a
 * Buffer view and an array that survive the young generation's collections; V8 grows its
 * young generation by what survives, so a full queue of small messages made a process's peak
 * memory tens of MB larger than libzmq's (whose queue is not on the JS heap). Queued as ranges,
 * a full queue is a few pointer slots and integers, and what the collector sees is one buffer.
 * The same holds for `out`: a small message sent is copied into a send slab (send-slab.ts,
 * Pipe.writeSmall) and queued as its range, which the encoder copies straight into the batch it
 * writes (rangeLength, shiftRangeInto).
 */
import type { Message } from "./pipe.js"

export class MessageQueue {
  /** A message, or the buffer of a single-frame message whose range is in starts/ends. */
  private items: (Message | Buffer | undefined)[] = new Array(16)
  private starts = new Int32Array(16)
  private ends = new Int32Array(16)
  private mask = 15
  private head = 0
  private tail = 0

  get length(): number {
    return (this.tail - this.head) & this.mask
  }

  push(msg: Message): void {
    this.items[this.tail] = msg
    this.advance()
  }

  /** Queues the single-frame message `buf[start..end)` (the range must stay unchanged until it is taken). */
  pushRange(buf: Buffer, start: number, end: number): void {
    const t = this.tail
    this.items[t] = buf
    this.starts[t] = start
    this.ends[t] = end
    this.advance()
  }

  /** Item `i` from the front (a range is made into a message, a new one on each call). */
  at(i: number): Message | undefined {
    return i < this.length ? this.messageAt((this.head + i) & this.mask) : undefined
  }

  /** The byte length of item `i` from the front if it is a range, else -1 (a message, or no such item). */
  rangeLength(i: number): number {
    if (i >= this.length) return -1
    const k = (this.head + i) & this.mask
    return Array.isArray(this.items[k]) ? -1 : this.ends[k]! - this.starts[k]!
  }

  /** Takes the front item, a range (rangeLength(0) >= 0), copying its bytes to `out[off..]`; returns how many. */
  shiftRangeInto(out: Buffer, off: number): number {
    const h = this.head
    const buf = this.items[h] as Buffer
    const n = buf.copy(out, off, this.starts[h], this.ends[h])
    this.items[h] = undefined
    this.head = (h + 1) & this.mask
    return n
  }

  shift(): Message | undefined {
    const h = this.head
    if (h === this.tail) return undefined
    const msg = this.messageAt(h)
    this.items[h] = undefined
    this.head = (h + 1) & this.mask
    return msg
  }

  /** The message in ring slot `k`: a message as queued, or a range made into one. */
  private messageAt(k: number): Message {
    const item = this.items[k]!
    return Array.isArray(item) ? item : [item.subarray(this.starts[k], this.ends[k])]
  }

  clear(): void {
    if (this.head === this.tail) return
    this.items = new Array(16)
    this.starts = new Int32Array(16)
    this.ends = new Int32Array(16)
    this.mask = 15
    this.head = 0
    this.tail = 0
  }

  /** The items from the front, ranges made into messages (for tests and diagnostics, not the hot path). */
  *[Symbol.iterator](): IterableIterator<Message> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!
  }

  private advance(): void {
    this.tail = (this.tail + 1) & this.mask
    if (this.tail === this.head) this.grow()
  }

  /** Doubles the capacity when full (head === tail after a push); items keep their order from 0. */
  private grow(): void {
    const cap = this.items.length
    const items = new Array<Message | Buffer | undefined>(cap * 2)
    const starts = new Int32Array(cap * 2)
    const ends = new Int32Array(cap * 2)
    let j = 0
    for (let k = 0; k < cap; k++, j++) {
      const i = (this.head + k) & this.mask
      items[j] = this.items[i]
      starts[j] = this.starts[i]!
      ends[j] = this.ends[i]!
    }
    this.items = items
    this.starts = starts
    this.ends = ends
    this.mask = cap * 2 - 1
    this.head = 0
    this.tail = cap
  }
}
