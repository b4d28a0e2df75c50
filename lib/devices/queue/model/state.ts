/**
 * The model's state and its mechanics: the indexes of live messages,
 * ready/delayed/dead-letter placement, leases, dispatch to consumers, and
 * the one timer behind every deadline. No wire frames and no files: a
 * delivery goes to a subscription's sink or a waiting reserve's callback,
 * a durable change is appended to the Journal as a typed Change. The
 * operations that drive it (QueueModel, model.ts) own one.
 *
 * Leases sit in one list per lease length, which is ordered by deadline
 * because deadlines are `now + length`; delays and TTLs are indexed heaps.
 * The timer is armed for the earliest of all of them, never one per message.
 */
import type { DeliveredMessage, TraceEvent, TraceObserver } from "../backend.js"
import { IndexedHeap } from "./heap.js"
import type { Journal } from "./changes.js"
import { MessageList, type Consumer, type LeaseHolder, type MessageState, type QueueMessage } from "./message.js"
import { QueueError } from "../errors.js"
import { QueueState, type GroupState, type Waiter } from "./queue-state.js"
import { backoffDelay, effectiveRetry } from "./retry.js"
import { matches } from "./filter.js"
import { fill, joinStream, onWake, releaseKey, settleEntry, trimPoint, trimStream } from "./streams.js"

export interface ModelOptions {
  /** A put repeating an `id` within this many ms gets the first put's confirmation. */
  dedupWindowMs: number
  /** Lease time (ms) when neither the put nor the queue config gives one. */
  defaultTtr: number
}

/**
 * Longest setTimeout Node honours (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms.
 * A deadline further out (a delay or TTL of months) arms the timer this far; it finds nothing due
 * and re-arms, instead of firing every millisecond.
 */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Most messages in one delivery to a consumer (a bundle per consumer turn keeps per-message overhead low). */
const BUNDLE = 128
/** How long settled stream messages wait for their compaction (retention "acked"), ms: one trim record per this at most. */
const TRIM_EVERY = 100
/** Ready messages a dispatch sets aside looking for a consumer whose filter takes them, at most. */
const MAX_SET_ASIDE = 1024

export interface DedupEntry {
  seq: number
  at: number
}

export class ModelState {
  readonly queues = new Map<string, QueueState>()
  readonly bySeq = new Map<number, QueueMessage>()
  /** Dedup ids by `queue \n id`, oldest first. */
  readonly dedup = new Map<string, DedupEntry>()
  nextSeq = 1
  readonly delays = new IndexedHeap<QueueMessage>(
    (a, b) => a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq),
    (m) => m.delayIndex,
    (m, i) => (m.delayIndex = i),
  )
  readonly ttls = new IndexedHeap<QueueMessage>(
    (a, b) => a.expiresAt < b.expiresAt,
    (m) => m.ttlIndex,
    (m, i) => (m.ttlIndex = i),
  )
  readonly timeouts = new IndexedHeap<Waiter>(
    (a, b) => a.deadline < b.deadline,
    (w) => w.index,
    (w, i) => (w.index = i),
  )
  /** Leased messages, one list per lease length (ms). */
  readonly leases = new Map<number, MessageList>()
  /** Queues and groups waiting for a rate limit's token (wakeAt). */
  readonly wakes = new Set<QueueState>()
  /** Streams with retention work to do at the next timer. */
  readonly trims = new Set<QueueState>()
  /** All streams (their maxAge deadlines arm the timer). */
  readonly streams = new Set<QueueState>()
  /** Lifecycle events go here when set (traces, the events PUB); nothing is made for them otherwise. */
  observer: TraceObserver | null = null
  /** Randomness for backoff jitter (replaceable in tests). */
  random: () => number = Math.random
  /** Where changes go; set by QueueModel.attach once recovery has replayed the old ones (apply never appends). */
  journal!: Journal
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private stopped = false

  constructor(readonly options: ModelOptions) {}

  queue(name: string): QueueState {
    let q = this.queues.get(name)
    if (q === undefined) {
      q = new QueueState(name)
      this.queues.set(name, q)
    }
    return q
  }

  /** Adds a message to the indexes (state still "pending"). */
  register(m: QueueMessage): void {
    const q = m.queue
    this.bySeq.set(m.seq, m)
    q.addLive(m)
    q.bytes += m.recordBytes
    q.pending++
    q.puts++
    if (m.id !== undefined) this.dedup.set(`${q.name}\n${m.id}`, { seq: m.seq, at: m.putAt })
    if (m.seq >= this.nextSeq) this.nextSeq = m.seq + 1
    if (q.isStream) joinStream(q, m)
  }

  /** Removes a settled message from the indexes (it must be out of every list and heap but its TTL). */
  unregister(m: QueueMessage): void {
    const q = m.queue
    this.bySeq.delete(m.seq)
    q.removeLive(m)
    q.bytes -= m.recordBytes
    this.ttls.remove(m)
    m.state = "gone"
  }

  placeReady(m: QueueMessage): void {
    m.state = "ready"
    m.queue.ready.push(m)
  }

  placeDelayed(m: QueueMessage): void {
    m.state = "delayed"
    m.queue.delayed++
    this.delays.push(m)
    this.want(m.readyAt)
  }

  placeBuried(m: QueueMessage): void {
    m.state = "buried"
    this.ttls.remove(m)
    m.queue.buried.push(m)
  }

  /** Takes a ready, delayed or buried message out of where it sits (a reserved one stays leased). */
  unplace(m: QueueMessage): void {
    switch (m.state) {
      case "ready":
        m.queue.ready.remove(m)
        break
      case "delayed":
        this.delays.remove(m)
        m.queue.delayed--
        break
      case "buried":
        m.queue.buried.remove(m)
        break
      default:
        break
    }
  }

  popReady(q: QueueState, now: number): QueueMessage | null {
    if (q.paused) return null
    for (;;) {
      if (q.ready.size === 0) {
        const g = q.group
        if (g === null || !fill(this, g, now, BUNDLE)) return null
      }
      if (q.bucket !== null && !q.bucket.take(now)) {
        this.wake(q, q.bucket.nextAt(now))
        return null
      }
      const m = q.ready.pop()
      if (m === null) return null
      if (m.expiresAt > 0 && m.expiresAt <= now) {
        this.bury(m, "expired", now) // its TTL timer has not fired yet
        continue
      }
      return m
    }
  }

  /**
   * Hands ready messages to waiting RESERVEs first, then to consumers with
   * credit, round-robin, up to BUNDLE messages per consumer turn in one MSG.
   */
  dispatch(q: QueueState, now: number): void {
    if (this.stopped) return
    for (;;) {
      if (q.ready.size === 0) {
        const g = q.group
        if (g === null || (q.waiters.length === 0 && q.consumers.length === 0) || !fill(this, g, now, BUNDLE)) return
      }
      const w = q.waiters[0]
      if (w !== undefined) {
        const m = this.popReady(q, now)
        if (m === null) return
        q.waiters.shift()
        this.timeouts.remove(w)
        w.holder.waiters--
        this.lease(m, w.holder, null, w.name, now)
        w.done(null, m)
        continue
      }
      if (q.filteringConsumers > 0) {
        if (!this.dispatchFiltered(q, now)) return
        continue
      }
      const c = q.nextConsumer()
      if (c === null) return
      const max = Math.min(c.credit - c.inflight, BUNDLE)
      const msgs: DeliveredMessage[] = []
      while (msgs.length < max) {
        const m = this.popReady(q, now)
        if (m === null) break
        this.lease(m, c.holder, c, c.name, now)
        msgs.push(m)
      }
      if (msgs.length === 0) return
      c.inflight += msgs.length
      c.sink(q.name, msgs)
    }
  }

  /**
   * Dispatch when some consumers filter: each ready message goes to the next consumer with
   * credit whose filter takes it; one no such consumer takes is set aside (and put back after),
   * so it does not hold up the others. False when nothing more can go now.
   */
  private dispatchFiltered(q: QueueState, now: number): boolean {
    const aside: QueueMessage[] = []
    const bundles = new Map<Consumer, DeliveredMessage[]>()
    let sent = false
    while (aside.length < MAX_SET_ASIDE) {
      if (!q.consumers.some((c) => c.active && c.inflight + (bundles.get(c)?.length ?? 0) < c.credit)) break
      const m = this.popReady(q, now)
      if (m === null) break
      let taker: Consumer | null = null
      for (let k = 0; k < q.consumers.length; k++) {
        const c = q.nextConsumer(bundles)
        if (c === null) break
        if (matches(c.filter, m)) {
          taker = c
          break
        }
      }
      if (taker === null) {
        aside.push(m)
        continue
      }
      this.lease(m, taker.holder, taker, taker.name, now)
      let b = bundles.get(taker)
      if (b === undefined) bundles.set(taker, (b = []))
      b.push(m)
      sent = true
    }
    for (let i = aside.length - 1; i >= 0; i--) q.ready.pushFront(aside[i]!)
    for (const [c, msgs] of bundles) {
      c.inflight += msgs.length
      c.sink(q.name, msgs)
    }
    return sent && aside.length < MAX_SET_ASIDE
  }

  lease(m: QueueMessage, holder: LeaseHolder, consumer: Consumer | null, name: string, now: number): void {
    const q = m.queue
    m.state = "reserved"
    m.attempts++
    if (m.attempts > 1) q.redeliveries++
    m.holder = holder
    m.consumer = consumer
    m.lastConsumer = name
    holder.leases++
    q.reserved++
    this.startLease(m, m.ttr, now)
    m.queue.deliveries++
    if (this.observer !== null) this.emit(m, "deliver", now, name)
  }

  startLease(m: QueueMessage, ttr: number, now: number): void {
    m.leaseTtr = ttr
    m.leaseDeadline = now + ttr
    let list = this.leases.get(ttr)
    if (list === undefined) {
      list = new MessageList()
      this.leases.set(ttr, list)
    }
    list.push(m)
    this.want(m.leaseDeadline)
  }

  endLease(m: QueueMessage): void {
    m.list?.remove(m)
    m.holder!.leases--
    if (m.consumer !== null) m.consumer.inflight--
    m.queue.reserved--
    m.holder = null
    m.consumer = null
  }

  /** The message `holder` leases as delivery `attempt`, or LEASE_LOST / NOT_FOUND. */
  leased(holder: LeaseHolder, seq: number, attempt: number): QueueMessage {
    const m = this.find(holder, seq)
    if (m === undefined) throw new QueueError("NOT_FOUND", `no message ${seq}`)
    if (m.state !== "reserved" || m.holder !== holder || m.attempts !== attempt) {
      throw new QueueError("LEASE_LOST", `message ${seq} attempt ${attempt} is not leased by this client (lease expired or released)`)
    }
    return m
  }

  /** After a lease ended without an ack: retry (ready or delayed) or dead-letter. Returns the new state. */
  requeue(m: QueueMessage, delay: number | undefined, now: number, cause: "nack" | "ttr" | "disconnect"): MessageState {
    const q = m.queue
    if (cause === "nack") q.nacks++
    if (m.record !== null && m.record.state === "gone") {
      // Retention dropped its stored message while it was leased: nothing is left to deliver again.
      settleEntry(this, m, now)
      return "gone"
    }
    if (m.ttlExpired || (m.expiresAt > 0 && m.expiresAt <= now)) {
      this.bury(m, "expired", now)
      return m.state
    }
    const p = effectiveRetry(q.config.retry, m.retry)
    if (p.maxAttempts > 0 && m.attempts >= p.maxAttempts) {
      this.bury(m, "max-attempts", now)
      return m.state
    }
    const d = delay ?? (cause === "disconnect" ? 0 : backoffDelay(p, m.attempts, this.random))
    m.readyAt = now + d
    if (this.observer !== null) this.emit(m, "retry", now, m.lastConsumer, cause, m.readyAt)
    const g = q.group
    if (g === null) this.journal.append({ kind: "release", seq: m.seq, attempts: m.attempts, readyAt: m.readyAt })
    else
      this.journal.append({
        kind: "group-release",
        queue: g.stream.name,
        group: g.groupName,
        seq: m.seq,
        attempts: m.attempts,
        readyAt: m.readyAt,
      })
    if (d > 0) this.placeDelayed(m)
    else this.placeReady(m)
    return m.state
  }

  /** Moves an unplaced message to its queue's dead letters and logs it. */
  bury(m: QueueMessage, reason: string, now: number): void {
    m.queue.deadLetters++
    m.ttlExpired = false
    m.buryReason = reason
    m.buriedAt = now
    this.placeBuried(m)
    if (this.observer !== null) this.emit(m, "dead", now, m.lastConsumer, reason)
    const g = m.queue.group
    if (g === null) this.journal.append({ kind: "bury", seq: m.seq, attempts: m.attempts, buriedAt: now, reason, lastConsumer: m.lastConsumer })
    else {
      this.journal.append({
        kind: "group-bury",
        queue: g.stream.name,
        group: g.groupName,
        seq: m.seq,
        attempts: m.attempts,
        buriedAt: now,
        reason,
        lastConsumer: m.lastConsumer,
      })
      releaseKey(this, m, now) // a dead letter does not hold up its key
    }
  }

  /** One lifecycle event of `m` to the observer. */
  emit(m: QueueMessage, type: TraceEvent["type"], at: number, by?: string, reason?: string, readyAt?: number): void {
    const g = m.queue.group
    this.observer!({
      type,
      queue: g === null ? m.queue.name : g.stream.name,
      group: g?.groupName,
      seq: m.seq,
      at,
      attempt: type === "put" || type === "kick" ? undefined : m.attempts,
      by,
      reason,
      readyAt,
      id: type === "put" ? m.id : undefined,
      key: type === "put" ? m.key : undefined,
      putAt: type === "deliver" ? m.putAt : undefined,
    })
  }

  revive(m: QueueMessage, now: number): void {
    if (this.observer !== null) this.emit(m, "kick", now)
    m.queue.buried.remove(m)
    m.attempts = 0
    m.expiresAt = 0
    m.ttlExpired = false
    m.buryReason = ""
    m.readyAt = now
    this.placeReady(m)
  }

  // ---- the timer ----

  /** Makes sure the timer fires by `t` (ms since the epoch). */
  want(t: number): void {
    if (t >= this.timerAt || this.stopped) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerAt = t
    this.timer = setTimeout(() => this.onTimer(), Math.min(MAX_TIMER_MS, Math.max(1, t - Date.now())))
    this.timer.unref()
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = Infinity
    if (this.stopped) return
    try {
      this.due(Date.now())
    } catch (err) {
      // Only a failed journal throws here (a lease ending must log its release): the store
      // refuses writes from now on and the device answers STORE_FAILED; a timer must not take
      // the process down with it. Nothing more is due until the device restarts.
      if (this.journal.failed === undefined) throw err
    }
  }

  /** Everything due at `now`: delays, TTLs, rate waits, retention, lease ends, reserve timeouts; then re-arms. */
  private due(now: number): void {
    const touched = new Set<QueueState>()
    for (let m = this.delays.peek(); m !== undefined && m.readyAt <= now; m = this.delays.peek()) {
      this.delays.pop()
      m.queue.delayed--
      this.placeReady(m)
      touched.add(m.queue)
    }
    for (let m = this.ttls.peek(); m !== undefined && m.expiresAt <= now; m = this.ttls.peek()) {
      this.ttls.pop()
      this.expire(m, now)
      touched.add(m.queue)
    }
    for (const q of this.wakes) {
      if (q.wakeAt > now) continue
      this.wakes.delete(q)
      q.wakeAt = Infinity
      const g = q.group
      if (g !== null) onWake(this, g, now)
      touched.add(q)
    }
    this.retain(now)
    for (const list of this.leases.values()) {
      for (let m = list.head; m !== null && m.leaseDeadline <= now; m = list.head) {
        this.endLease(m)
        this.requeue(m, undefined, now, "ttr")
        touched.add(m.queue)
      }
    }
    for (let w = this.timeouts.peek(); w !== undefined && w.deadline <= now; w = this.timeouts.peek()) {
      this.timeouts.pop()
      w.queue.removeWaiter(w)
      w.holder.waiters--
      w.done(null, null)
    }
    for (const q of touched) this.dispatch(q, now)
    this.rearm()
  }

  /** TTL passed: dead-letter it now, or when its lease ends. */
  private expire(m: QueueMessage, now: number): void {
    if (m.state === "reserved") m.ttlExpired = true
    else if (m.state === "ready" || m.state === "delayed") {
      this.unplace(m)
      this.bury(m, "expired", now)
    }
  }

  /** Arms the timer for the earliest deadline left. */
  rearm(): void {
    let t = Infinity
    const d = this.delays.peek()
    if (d !== undefined) t = d.readyAt
    const x = this.ttls.peek()
    if (x !== undefined && x.expiresAt < t) t = x.expiresAt
    const w = this.timeouts.peek()
    if (w !== undefined && w.deadline < t) t = w.deadline
    for (const list of this.leases.values()) if (list.head !== null && list.head.leaseDeadline < t) t = list.head.leaseDeadline
    for (const q of this.wakes) if (q.wakeAt < t) t = q.wakeAt
    for (const q of this.streams) {
      const age = q.config.maxAge
      const o = q.oldest
      if (age !== undefined && age > 0 && o !== null && o.putAt + age < t) t = o.putAt + age
    }
    if (this.trims.size > 0) t = Math.min(t, Date.now() + TRIM_EVERY)
    if (t !== Infinity) this.want(t)
  }

  /** The queue's deliveries wait for a token until `at`. */
  wake(q: QueueState, at: number): void {
    if (at < q.wakeAt) q.wakeAt = at
    this.wakes.add(q)
    this.want(q.wakeAt)
  }

  /** The stream has retention work: done by the timer within TRIM_EVERY ms, so one trim record covers many settles. */
  trimSoon(q: QueueState): void {
    if (this.trims.has(q)) return
    this.trims.add(q)
    this.want(Date.now() + TRIM_EVERY)
  }

  /** Retention: streams drop what their rules let go, one "trim" change each. */
  retain(now: number): void {
    for (const q of this.streams) {
      const age = q.config.maxAge
      if (age !== undefined && age > 0 && q.oldest !== null && q.oldest.putAt + age <= now) this.trims.add(q)
    }
    for (const q of this.trims) {
      this.trims.delete(q)
      const below = trimPoint(this, q, now)
      if (below === 0) continue
      this.journal.append({ kind: "trim", queue: q.name, below })
      if (this.observer !== null)
        for (let m = q.oldest; m !== null && m.seq < below && m.state === "stored"; m = m.newer)
          this.emit(m, "trim", now, undefined, "retention")
      trimStream(this, q, below)
      for (const g of q.groups.values()) this.dispatch(g, now)
    }
  }

  /** A stored message or a group's delivery of one, by the seq a client names: its group's entry if `holder` consumes the stream through one. */
  find(holder: LeaseHolder, seq: number): QueueMessage | undefined {
    // One lookup in bySeq: a queue's message is the message; a stream's, the entry in the slot of
    // the group the holder reads that stream through (a stored message retention dropped is not
    // found: NOT_FOUND).
    const m = this.bySeq.get(seq)
    if (m === undefined || !m.queue.isStream) return m
    const gs = holder.groups
    if (gs === null) return undefined
    const g = gs.get(m.queue) as GroupState | undefined
    return g === undefined ? undefined : (m.slots?.[g.slot] ?? undefined)
  }

  /** Every queue and every group (for what concerns all waiters or consumers). */
  *allStates(): IterableIterator<QueueState> {
    for (const q of this.queues.values()) {
      yield q
      for (const g of q.groups.values()) yield g
    }
  }

  /** Stops the timer and all deliveries (device shutdown). */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
