/**
 * One message as the model holds it, and the intrusive list it sits in.
 *
 * A message is in at most one list at a time (its queue's ready list for its
 * priority, a lease list, or its queue's dead-letter list), so the links live
 * on the message itself: moving a message between lists allocates nothing
 * and removing one from the middle is O(1).
 */
import type { ClientHandle, DeliverySink, MessageState, SubscriptionHandle } from "../backend.js"
import type { MessageData } from "./changes.js"
import type { QueueState } from "./queue-state.js"
import type { RetryPolicy } from "./retry.js"
import type { HeaderFilter } from "./filter.js"

/** Where a message is in its life. `pending`: stored but not yet durable, so not visible. */
export type { MessageState }

/** Who holds leases: a client connection (the backend's ClientHandle). */
export class LeaseHolder implements ClientHandle {
  /** Number of leases this holder has. */
  leases = 0
  /** Number of RESERVE requests of this holder waiting for a message. */
  waiters = 0
  /** Its CONSUME subscriptions. */
  readonly consumers: Consumer[] = []
  /** The consumer group it consumes each stream through (one per stream per connection, so an ACK names its message by seq alone). */
  groups: Map<QueueState, QueueState> | null = null
  constructor(readonly name: string) {}
  get idle(): boolean {
    return this.leases === 0 && this.waiters === 0 && this.consumers.length === 0
  }
}

/** A CONSUME subscription: credit-based delivery to one holder. */
export class Consumer implements SubscriptionHandle {
  inflight = 0
  active = true
  constructor(
    readonly holder: LeaseHolder,
    readonly state: QueueState,
    /** At most this many of its deliveries may be unsettled at once. */
    public credit: number,
    /** Reported as lastConsumer of what it receives. */
    readonly name: string,
    readonly sink: DeliverySink,
    /** Only messages whose headers match (undefined: all). */
    readonly filter: HeaderFilter | undefined = undefined,
  ) {}
  get queue(): string {
    return this.state.name
  }
}

export class QueueMessage implements MessageData {
  state: MessageState = "pending"
  attempts = 0
  // lease
  holder: LeaseHolder | null = null
  consumer: Consumer | null = null
  leaseDeadline = 0
  /** Key of the lease list the message is in (its lease duration in ms). */
  leaseTtr = 0
  /** Set when the TTL passed during a lease: the lease's end buries it. */
  ttlExpired = false
  lastConsumer = ""
  // dead letter
  buryReason = ""
  buriedAt = 0
  // intrusive list links
  prev: QueueMessage | null = null
  next: QueueMessage | null = null
  list: MessageList | null = null
  // its queue's list of live messages, in put order
  older: QueueMessage | null = null
  newer: QueueMessage | null = null
  // heap positions (-1: not in the heap)
  delayIndex = -1
  ttlIndex = -1
  /** Ordering key (per-key ordering and rate limits in consumer groups). */
  key: string | undefined = undefined
  /** Who put it (trace), if known. */
  producer = ""
  /** Position among its queue's messages (1, 2, ...: a stream's lag is a difference of two). */
  ordinal = 0
  /** A consumer group's delivery of a stream message: the stored message it delivers (null: this is the stored message). */
  record: QueueMessage | null = null
  /** A stored message's deliveries by group slot (GroupEntries), null until a group reads it. */
  slots: (QueueMessage | undefined)[] | null = null
  /** A group delivery counted against its key's concurrency (until acked or dead-lettered). */
  keyHeld = false
  /** Decoded headers, for filters (cached on first use). */
  decoded: Record<string, unknown> | undefined = undefined

  constructor(
    readonly seq: number,
    readonly queue: QueueState,
    public priority: number,
    /** When the put was accepted (ms since the epoch). */
    readonly putAt: number,
    /** When it becomes (or became) ready, ms since the epoch. */
    public readyAt: number,
    /** Lease duration for deliveries, ms. */
    readonly ttr: number,
    /** TTL deadline (ms since the epoch), 0 for none. */
    public expiresAt: number,
    /** The producer's dedup id, if any. */
    readonly id: string | undefined,
    /** Raw CBOR header map as sent by the producer (empty: none). Forwarded as is. */
    readonly headers: Buffer,
    readonly body: Buffer,
    /** The message's own retry fields (over its queue's policy). */
    readonly retry: Partial<RetryPolicy> | undefined,
    /** Bytes its PUT record takes on disk (for stats). */
    public recordBytes: number,
  ) {}

  get queueName(): string {
    return this.queue.name
  }
}

/** A doubly-linked list threaded through QueueMessage.prev/next. */
export class MessageList {
  head: QueueMessage | null = null
  tail: QueueMessage | null = null
  length = 0

  push(m: QueueMessage): void {
    m.list = this
    m.next = null
    m.prev = this.tail
    if (this.tail !== null) this.tail.next = m
    else this.head = m
    this.tail = m
    this.length++
  }

  remove(m: QueueMessage): void {
    if (m.list !== this) return
    if (m.prev !== null) m.prev.next = m.next
    else this.head = m.next
    if (m.next !== null) m.next.prev = m.prev
    else this.tail = m.prev
    m.prev = m.next = null
    m.list = null
    this.length--
  }

  unshift(m: QueueMessage): void {
    m.list = this
    m.prev = null
    m.next = this.head
    if (this.head !== null) this.head.prev = m
    else this.tail = m
    this.head = m
    this.length++
  }

  shift(): QueueMessage | null {
    const m = this.head
    if (m !== null) this.remove(m)
    return m
  }

  *[Symbol.iterator](): IterableIterator<QueueMessage> {
    for (let m = this.head; m !== null; m = m.next) yield m
  }
}
