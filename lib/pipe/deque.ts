/**
 * A FIFO queue on a growable ring buffer (power-of-two capacity): O(1) push
 * and shift with no per-operation allocation, unlike Array#shift.
 */
export class Deque<T> {
  private buf: (T | undefined)[] = new Array(16)
  private mask = 15
  private head = 0
  private tail = 0

  get length(): number {
    return (this.tail - this.head) & this.mask
  }

  push(item: T): void {
    this.buf[this.tail] = item
    this.tail = (this.tail + 1) & this.mask
    if (this.tail === this.head) this.grow()
  }

  /** Puts an item back at the front (used to return a message that could not be sent). */
  unshift(item: T): void {
    this.head = (this.head - 1) & this.mask
    this.buf[this.head] = item
    if (this.tail === this.head) this.grow()
  }

  /** The item `i` places from the front (no bounds check beyond returning undefined). */
  at(i: number): T | undefined {
    return i < this.length ? this.buf[(this.head + i) & this.mask] : undefined
  }

  peek(): T | undefined {
    return this.head === this.tail ? undefined : this.buf[this.head]
  }

  shift(): T | undefined {
    if (this.head === this.tail) return undefined
    const item = this.buf[this.head]
    this.buf[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    return item
  }

  clear(): void {
    if (this.head === this.tail) return
    this.buf = new Array(16)
    this.mask = 15
    this.head = 0
    this.tail = 0
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i !== this.tail; i = (i + 1) & this.mask) yield this.buf[i] as T
  }

  /** Doubles the capacity when full (head === tail after a push). */
  private grow(): void {
    const old = this.buf
    const cap = old.length
    const next = new Array<T | undefined>(cap * 2)
    // Items run from head to the end, then from 0 to tail (== head).
    let j = 0
    for (let i = this.head; i < cap; i++) next[j++] = old[i]
    for (let i = 0; i < this.head; i++) next[j++] = old[i]
    this.buf = next
    this.mask = cap * 2 - 1
    this.head = 0
    this.tail = cap
  }
}
