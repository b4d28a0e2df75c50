/**
 * An indexed binary min-heap: every item remembers its position (through
 * `getIndex`/`setIndex`), so it can be removed or re-keyed in O(log n)
 * without a search. Used for delays, TTL deadlines and reserve timeouts:
 * one heap each, one timer for all of them (see ModelState.want), never a
 * setTimeout per message.
 */
export class IndexedHeap<T> {
  private readonly items: T[] = []

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly getIndex: (item: T) => number,
    private readonly setIndex: (item: T, index: number) => void,
  ) {}

  get size(): number {
    return this.items.length
  }

  /** The smallest item, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const i = this.items.length
    this.items.push(item)
    this.setIndex(item, i)
    this.up(i)
  }

  pop(): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.removeAt(0)
    return top
  }

  /** Removes an item that is in this heap (index >= 0); a no-op otherwise. */
  remove(item: T): void {
    const i = this.getIndex(item)
    if (i >= 0 && this.items[i] === item) this.removeAt(i)
  }

  has(item: T): boolean {
    const i = this.getIndex(item)
    return i >= 0 && this.items[i] === item
  }

  /** Items in heap order (not sorted); for peeking and snapshots. */
  values(): readonly T[] {
    return this.items
  }

  private removeAt(i: number): void {
    const items = this.items
    const gone = items[i]!
    const last = items.pop()!
    this.setIndex(gone, -1)
    if (i < items.length) {
      items[i] = last
      this.setIndex(last, i)
      this.down(i)
      this.up(i)
    }
  }

  private up(i: number): void {
    const items = this.items
    const item = items[i]!
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = items[p]!
      if (!this.less(item, parent)) break
      items[i] = parent
      this.setIndex(parent, i)
      i = p
    }
    items[i] = item
    this.setIndex(item, i)
  }

  private down(i: number): void {
    const items = this.items
    const n = items.length
    const item = items[i]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && this.less(items[r]!, items[l]!)) c = r
      const child = items[c]!
      if (!this.less(child, item)) break
      items[i] = child
      this.setIndex(child, i)
      i = c
    }
    items[i] = item
    this.setIndex(item, i)
  }
}
