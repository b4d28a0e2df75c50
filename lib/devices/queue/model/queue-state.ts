/**
 * One named queue (a "tube"): ready messages by priority, its dead-letter
 * list, its consumers and waiting reserves, its configuration and counters.
 */
import type { DeliveredMessage, Done, QueueConfig } from "../backend.js"
import { MessageList, type Consumer, type LeaseHolder, type QueueMessage } from "./message.js"

export type { QueueConfig }

/** A RESERVE waiting for a message. */
export interface Waiter {
  readonly holder: LeaseHolder
  readonly queue: string
  /** Gets the leased message, or null when the deadline passed. */
  readonly done: Done<DeliveredMessage | null>
  /** ms since the epoch, Infinity for none. */
  readonly deadline: number
  readonly name: string
  index: number
}

/**
 * Ready messages: one FIFO list per priority and the sorted list of
 * priorities in use. With the usual handful of priorities, push, pop and
 * remove are O(1) (plus a short array search when a priority appears or
 * empties).
 */
export class ReadyQueue {
  private readonly lists = new Map<number, MessageList>()
  private readonly priorities: number[] = []
  size = 0

  push(m: QueueMessage): void {
    let list = this.lists.get(m.priority)
    if (list === undefined) {
      list = new MessageList()
      this.lists.set(m.priority, list)
    }
    if (list.length === 0) this.addPriority(m.priority)
    list.push(m)
    this.size++
  }

  /** The most urgent message (lowest priority number, then oldest), removed. */
  pop(): QueueMessage | null {
    const p = this.priorities[0]
    if (p === undefined) return null
    const list = this.lists.get(p)!
    const m = list.shift()!
    this.size--
    if (list.length === 0) this.priorities.shift()
    return m
  }

  remove(m: QueueMessage): void {
    const list = this.lists.get(m.priority)
    if (list === undefined || m.list !== list) return
    list.remove(m)
    this.size--
    if (list.length === 0) {
      const i = this.priorities.indexOf(m.priority)
      if (i >= 0) this.priorities.splice(i, 1)
    }
  }

  /** Up to `n` messages in delivery order, without removing them. */
  peek(n: number): QueueMessage[] {
    const out: QueueMessage[] = []
    for (const p of this.priorities) {
      for (let m = this.lists.get(p)!.head; m !== null && out.length < n; m = m.next) out.push(m)
      if (out.length >= n) break
    }
    return out
  }

  private addPriority(p: number): void {
    const a = this.priorities
    let lo = 0
    let hi = a.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (a[mid]! < p) lo = mid + 1
      else hi = mid
    }
    a.splice(lo, 0, p)
  }
}

export class QueueState {
  readonly ready = new ReadyQueue()
  /** The dead-letter queue: buried messages, oldest burial first. */
  readonly buried = new MessageList()
  /** Live messages in put order, linked through QueueMessage.older/newer (no per-message allocation). */
  private oldest: QueueMessage | null = null
  private newest: QueueMessage | null = null
  /** Number of live messages. */
  total = 0
  readonly consumers: Consumer[] = []
  readonly waiters: Waiter[] = []
  config: QueueConfig = {}
  pending = 0
  delayed = 0
  reserved = 0
  /** Bytes of live messages' PUT records. */
  bytes = 0
  /** Deliveries after the first (lease expiry, nack, release) since the device started. */
  redeliveries = 0
  /** Totals since the device started. */
  puts = 0
  acks = 0
  private rr = 0

  constructor(readonly name: string) {}

  /** The next consumer with credit to spare, round-robin; null if none. */
  nextConsumer(): Consumer | null {
    const cs = this.consumers
    const n = cs.length
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n
      const c = cs[i]!
      if (c.active && c.inflight < c.credit) {
        this.rr = (i + 1) % n
        return c
      }
    }
    return null
  }

  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c)
    if (i >= 0) this.consumers.splice(i, 1)
  }

  removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w)
    if (i >= 0) this.waiters.splice(i, 1)
  }

  addLive(m: QueueMessage): void {
    m.older = this.newest
    m.newer = null
    if (this.newest !== null) this.newest.newer = m
    else this.oldest = m
    this.newest = m
    this.total++
  }

  removeLive(m: QueueMessage): void {
    if (m.older !== null) m.older.newer = m.newer
    else if (this.oldest === m) this.oldest = m.newer
    if (m.newer !== null) m.newer.older = m.older
    else if (this.newest === m) this.newest = m.older
    m.older = m.newer = null
    this.total--
  }

  /** The oldest live message's put time, or undefined. */
  oldestPutAt(): number | undefined {
    return this.oldest?.putAt
  }
}
