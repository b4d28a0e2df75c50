/**
 * One named queue (a "tube"): ready messages by priority, its dead-letter
 * list, its consumers and waiting reserves, its configuration and counters.
 */
import type { DeliveredMessage, Done, GroupConfig, QueueConfig } from "../backend.js"
import type { TokenBucket } from "./bucket.js"
import type { HeaderFilter } from "./filter.js"
import { MessageList, type Consumer, type LeaseHolder, type QueueMessage } from "./message.js"

export type { QueueConfig, GroupConfig }

/** A RESERVE waiting for a message. */
export interface Waiter {
  readonly holder: LeaseHolder
  /** The queue or group it waits on. */
  readonly queue: QueueState
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
    this.listFor(m.priority).push(m)
    this.size++
  }

  /** Puts `m` back first among its priority (a message set aside and not delivered). */
  pushFront(m: QueueMessage): void {
    this.listFor(m.priority).unshift(m)
    this.size++
  }

  /** The list of priority `p`, made (and `p` put among the priorities in use) if it is new or empty. */
  private listFor(p: number): MessageList {
    let list = this.lists.get(p)
    if (list === undefined) {
      list = new MessageList()
      this.lists.set(p, list)
    }
    if (list.length === 0) this.addPriority(p)
    return list
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
  oldest: QueueMessage | null = null
  newest: QueueMessage | null = null
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
  deliveries = 0
  nacks = 0
  deadLetters = 0
  /** Nothing is delivered (the config's `paused`, for a stream's groups their stream's). */
  paused = false
  private rr = 0
  /** Deliveries at most this fast (the config's or the group's rate), or null. */
  bucket: TokenBucket | null = null
  /** When a rate-limited wait ends (ms since the epoch; Infinity: not waiting). */
  wakeAt = Infinity
  // ---- a stream: a queue consumed through consumer groups ----
  /** Set once the queue has had a consumer group: its messages are kept as a log ("stored") and read by each group. */
  isStream = false
  readonly groups = new Map<string, GroupState>()
  /** Every INDEX_EVERY-th stored message (streams.ts): offset and time lookups by binary search. */
  readonly index: QueueMessage[] = []
  indexHead = 0
  /** Messages registered so far (each one's ordinal). */
  ordinals = 0
  /** Messages removed by retention since the device started. */
  trimmed = 0
  /** Settled by every group since the last compaction (retention "acked" has work to do). */
  trimDue = false
  /** Slots given to its groups so far (GroupState.slot). */
  groupSlots = 0

  constructor(readonly name: string) {
    this.group = this instanceof GroupState ? this : null
  }

  /** The consumer group this state is, or null for a queue (a field, read on every delivery: no virtual call). */
  readonly group: GroupState | null

  /** Consumers with a filter (dispatch then matches each message to one). */
  filteringConsumers = 0

  /** The next consumer with credit to spare (counting what `pending` is about to give it), round-robin; null if none. */
  nextConsumer(pending?: Map<Consumer, readonly unknown[]>): Consumer | null {
    const cs = this.consumers
    const n = cs.length
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n
      const c = cs[i]!
      if (c.active && c.inflight + (pending?.get(c)?.length ?? 0) < c.credit) {
        this.rr = (i + 1) % n
        return c
      }
    }
    return null
  }

  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c)
    if (i >= 0) {
      this.consumers.splice(i, 1)
      if (c.filter !== undefined) this.filteringConsumers--
    }
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

/** A key's deliveries in one group: how many are in flight, who waits behind them, its rate. */
export class KeyState {
  inflight = 0
  readonly waiting = new MessageList()
  constructor(readonly bucket: TokenBucket | null) {}
}

/** A message of a group seen before a restart: how it stood (the log's group records, or a checkpoint). */
export interface SavedEntry {
  attempts: number
  readyAt: number
  buried: boolean
  buriedAt: number
  reason: string
  lastConsumer: string
}

/**
 * A consumer group of a stream: its own cursor through the stream's stored
 * messages and its own deliveries ("entries": QueueMessages whose `record`
 * is the stored message) with leases, retries, dead letters and counters, so
 * the lease and retry mechanics of a queue work for it unchanged. Entries
 * exist only from the moment the cursor passes a message until the group
 * settles it; the stored message is shared.
 */
/**
 * A group's unsettled deliveries, by seq: each sits in its stored message's `slots` at the
 * group's slot (no map of its own to grow and shrink per message), and in the group's list of
 * live messages (QueueState.oldest/newer) for going through them all.
 */
export class GroupEntries {
  constructor(
    private readonly g: GroupState,
    private readonly bySeq: ReadonlyMap<number, QueueMessage>,
  ) {}

  get(seq: number): QueueMessage | undefined {
    return this.bySeq.get(seq)?.slots?.[this.g.slot]
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined
  }

  /** True if the group has an entry for stored message `r`. */
  of(r: QueueMessage): QueueMessage | undefined {
    return r.slots?.[this.g.slot]
  }

  add(e: QueueMessage): void {
    const r = e.record!
    ;(r.slots ??= [])[this.g.slot] = e
    this.g.addLive(e)
  }

  delete(e: QueueMessage): void {
    const s = e.record!.slots
    if (s !== null && s[this.g.slot] === e) s[this.g.slot] = undefined
    this.g.removeLive(e)
  }

  *values(): IterableIterator<QueueMessage> {
    for (let e = this.g.oldest; e !== null; e = e.newer) yield e
  }

  *keys(): IterableIterator<number> {
    for (let e = this.g.oldest; e !== null; e = e.newer) yield e.seq
  }
}

export class GroupState extends QueueState {
  /** Unsettled deliveries by seq. */
  readonly entries: GroupEntries
  /** The next stored message to look at; null: the next one to be put. */
  cursor: QueueMessage | null = null
  /** Stored messages with a smaller seq are settled for this group. */
  floor: number
  /** Settled seqs at or above the floor the cursor has not passed again yet (known from the log after a restart). */
  readonly acked = new Set<number>()
  /** The same from a checkpoint, as sorted [from, to] seq pairs; `rangeAt` is the first pair not yet passed. */
  ackedRanges: number[] = []
  rangeAt = 0
  /** How entries stood before the restart, until the cursor is placed (streams.ts restoreEntries). */
  readonly restored = new Map<number, SavedEntry>()
  readonly keys = new Map<string, KeyState>()
  /** Keys with deliveries waiting for a token. */
  readonly rateBlocked = new Set<KeyState>()
  /** Entries waiting for their key. */
  blocked = 0
  /** Stored messages the group skipped (filter). */
  filtered = 0
  groupConfig: GroupConfig

  constructor(
    readonly stream: QueueState,
    readonly groupName: string,
    config: GroupConfig,
    floor: number,
    bySeq: ReadonlyMap<number, QueueMessage>,
    /** Its index in stored messages' `slots` (unique among the stream's groups, never reused). */
    readonly slot: number,
  ) {
    super(stream.name)
    this.groupConfig = config
    this.floor = floor
    this.entries = new GroupEntries(this, bySeq)
  }

  get filter(): HeaderFilter | undefined {
    return this.groupConfig.filter
  }

  get keyConcurrency(): number {
    return this.groupConfig.keyConcurrency ?? 1
  }

  /** Its config as a queue's: the stream's lease and retry settings under the group's own. */
  effective(): QueueConfig {
    const s = this.stream.config
    const g = this.groupConfig
    const out: QueueConfig = {}
    const ttr = g.ttr ?? s.ttr
    if (ttr !== undefined) out.ttr = ttr
    const retry = g.retry === undefined ? s.retry : { ...s.retry, ...g.retry }
    if (retry !== undefined) out.retry = retry
    return out
  }
}
