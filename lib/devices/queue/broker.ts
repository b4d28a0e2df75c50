/**
 * The queue semantics, in memory, over the store: put, reserve and consume,
 * ack, nack, touch, bury, kick, leases and their expiry, delays, TTL, retry
 * and dead letters.
 *
 * Every state change is first written as a record (log.ts); a reply that
 * reports a change goes out only once its record is committed (Store
 * actions), and a put becomes visible to consumers only then. Leases are not
 * logged: after a restart, messages that were leased are ready again.
 *
 * All deadlines (delays, lease expiry, TTL, reserve timeouts) share one
 * timer armed for the earliest. Leases sit in one list per lease length,
 * which is ordered by deadline because deadlines are `now + length`.
 */
import { EMPTY_MAP, encodeCbor } from "./cbor.js"
import { QueueError } from "./errors.js"
import { IndexedHeap } from "./heap.js"
import { logAck, logBatch, logBury, logConfig, logKick, logPut, logRelease, encodeRetry } from "./log.js"
import { MessageList, QueueMessage, type Consumer, type LeaseHolder, type MessageState } from "./message.js"
import { MSG, deliveryPayload, errFrames, okFrames, type PutOptions } from "./protocol.js"
import { QueueState, type QueueConfig, type Waiter } from "./queue-state.js"
import type { PutFields } from "./records.js"
import { backoffDelay, effectiveRetry } from "./retry.js"
import type { Store } from "./store.js"

export interface BrokerOptions {
  /** A put repeating an `id` within this many ms gets the first put's confirmation. */
  dedupWindowMs: number
  /** Lease time (ms) when neither the put nor the queue config gives one. */
  defaultTtr: number
}

/** A reply sent once everything logged before it is committed. */
export class Reply {
  constructor(
    readonly addr: Buffer,
    readonly reqId: Buffer,
    readonly result: Buffer,
    readonly data?: Buffer[],
  ) {}
}

/** PUTB: its messages become visible together, then the reply goes out. */
class BatchPut {
  constructor(
    readonly msgs: QueueMessage[],
    readonly reply: Reply,
  ) {}
}

/** Most messages in one MSG (a bundle per consumer turn keeps per-message overhead low). */
const BUNDLE = 128
const EMPTY = Buffer.alloc(0)

interface DedupEntry {
  seq: number
  at: number
}

/** One message of a PUTB. */
export interface BatchItem {
  options: PutOptions
  headers: Buffer
  body: Buffer
}

export class Broker {
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
  readonly ttls = new IndexedHeap<QueueMessage>((a, b) => a.expiresAt < b.expiresAt, (m) => m.ttlIndex, (m, i) => (m.ttlIndex = i))
  readonly timeouts = new IndexedHeap<Waiter>((a, b) => a.deadline < b.deadline, (w) => w.index, (w, i) => (w.index = i))
  /** Leased messages, one list per lease length (ms). */
  readonly leases = new Map<number, MessageList>()
  /** Randomness for backoff jitter (replaceable in tests). */
  random: () => number = Math.random
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private stopped = false

  private _store: Store | undefined

  constructor(
    private readonly send: (frames: Buffer[]) => void,
    readonly options: BrokerOptions,
  ) {}

  /** Connects the store, after recovery replayed into this broker (Replayer). */
  attach(store: Store): void {
    this._store = store
    store.onCommit = (actions, error) => this.committed(actions, error)
  }

  get store(): Store {
    return this._store!
  }

  queue(name: string): QueueState {
    let q = this.queues.get(name)
    if (q === undefined) {
      q = new QueueState(name)
      this.queues.set(name, q)
    }
    return q
  }

  // ---- producing ----

  /** PUT: logs the message; it is confirmed and becomes visible once committed. */
  put(queue: string, o: PutOptions, headers: Buffer, body: Buffer, addr: Buffer, reqId: Buffer): void {
    const now = Date.now()
    const dup = o.id === undefined ? undefined : this.duplicate(queue, o.id, now)
    if (dup !== undefined) {
      this.store.afterCommit(new Reply(addr, reqId, encodeCbor({ seq: dup, duplicate: true })))
      return
    }
    const m = this.create(this.queue(queue), o, headers, body, now)
    m.recordBytes = logPut(this.store, this.fields(m))
    m.replyTo = addr
    m.replyId = reqId
    this.register(m)
    this.store.afterCommit(m)
  }

  /** PUTB: one record for all new messages, so they are stored together or not at all. */
  putBatch(queue: string, items: BatchItem[], addr: Buffer, reqId: Buffer): void {
    const now = Date.now()
    const q = this.queue(queue)
    const seqs: number[] = []
    const duplicates: number[] = []
    const msgs: QueueMessage[] = []
    const ids = new Map<string, number>()
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      const id = it.options.id
      const dup = id === undefined ? undefined : (this.duplicate(queue, id, now) ?? ids.get(id))
      if (dup !== undefined) {
        seqs.push(dup)
        duplicates.push(i)
        continue
      }
      const m = this.create(q, it.options, it.headers, it.body, now)
      if (id !== undefined) ids.set(id, m.seq)
      msgs.push(m)
      seqs.push(m.seq)
    }
    if (msgs.length > 0) {
      const sizes = logBatch(this.store, msgs.map((m) => this.fields(m)))
      for (let i = 0; i < msgs.length; i++) {
        msgs[i]!.recordBytes = sizes[i]!
        this.register(msgs[i]!)
      }
    }
    const reply = new Reply(addr, reqId, encodeCbor({ seqs, duplicates: duplicates.length > 0 ? duplicates : undefined }))
    this.store.afterCommit(new BatchPut(msgs, reply))
  }

  private duplicate(queue: string, id: string, now: number): number | undefined {
    // Entries are in put order: drop the expired ones from the front.
    const horizon = now - this.options.dedupWindowMs
    for (const [k, e] of this.dedup) {
      if (e.at > horizon) break
      this.dedup.delete(k)
    }
    return this.dedup.get(`${queue}\n${id}`)?.seq
  }

  private create(q: QueueState, o: PutOptions, headers: Buffer, body: Buffer, now: number): QueueMessage {
    const ttr = o.ttr ?? q.config.ttr ?? this.options.defaultTtr
    return new QueueMessage(this.nextSeq++, q, o.priority, now, now + o.delay, ttr, o.ttl > 0 ? now + o.ttl : 0, o.id, headers, body, o.retry, 0)
  }

  fields(m: QueueMessage): PutFields {
    return {
      seq: m.seq,
      putAt: m.putAt,
      priority: m.priority,
      readyAt: m.readyAt,
      ttr: m.ttr,
      expiresAt: m.expiresAt,
      queue: m.queue.name,
      id: m.id,
      retry: encodeRetry(m.retry),
      headers: m.headers,
      body: m.body,
    }
  }

  /** Adds a message to the indexes (state still "pending"). */
  register(m: QueueMessage): void {
    const q = m.queue
    this.bySeq.set(m.seq, m)
    q.messages.set(m.seq, m)
    q.bytes += m.recordBytes
    q.pending++
    q.puts++
    if (m.id !== undefined) this.dedup.set(`${q.name}\n${m.id}`, { seq: m.seq, at: m.putAt })
    if (m.seq >= this.nextSeq) this.nextSeq = m.seq + 1
  }

  private unregister(m: QueueMessage): void {
    const q = m.queue
    this.bySeq.delete(m.seq)
    q.messages.delete(m.seq)
    q.bytes -= m.recordBytes
    this.ttls.remove(m)
    m.state = "gone"
  }

  private committed(actions: unknown[], error: Error | undefined): void {
    const now = Date.now()
    const failed = (addr: Buffer, reqId: Buffer) => this.send(errFrames(addr, reqId, "STORE_FAILED", `the device could not write: ${error!.message}`))
    for (const a of actions) {
      if (a instanceof QueueMessage) {
        const addr = a.replyTo!
        const reqId = a.replyId!
        a.replyTo = a.replyId = null
        if (error) {
          this.discard(a)
          failed(addr, reqId)
          continue
        }
        this.publish(a, now)
        this.send(okFrames(addr, reqId, encodeCbor({ seq: a.seq })))
      } else if (a instanceof BatchPut) {
        if (error) {
          for (const m of a.msgs) this.discard(m)
          failed(a.reply.addr, a.reply.reqId)
          continue
        }
        for (const m of a.msgs) this.publish(m, now)
        this.send(okFrames(a.reply.addr, a.reply.reqId, a.reply.result))
      } else if (a instanceof Reply) {
        if (error) failed(a.addr, a.reqId)
        else this.send(okFrames(a.addr, a.reqId, a.result, a.data))
      }
    }
  }

  private discard(m: QueueMessage): void {
    if (m.state !== "pending") return
    m.queue.pending--
    this.unregister(m)
  }

  /** A committed put becomes ready or delayed (or dead, if its TTL already passed). */
  publish(m: QueueMessage, now: number): void {
    if (m.state !== "pending") return
    const q = m.queue
    q.pending--
    if (m.expiresAt > 0) {
      if (m.expiresAt <= now) {
        this.bury(m, "expired", now)
        return
      }
      this.ttls.push(m)
      this.want(m.expiresAt)
    }
    if (m.readyAt > now) this.placeDelayed(m)
    else {
      this.placeReady(m)
      this.dispatch(q, now)
    }
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

  // ---- consuming ----

  /** RESERVE: a message now, or wait up to `timeout` ms (undefined: forever; 0: no wait, empty reply). */
  reserve(holder: LeaseHolder, queue: string, timeout: number | undefined, reqId: Buffer, name: string): void {
    const q = this.queue(queue)
    const now = Date.now()
    if (q.waiters.length === 0) {
      const m = this.popReady(q, now)
      if (m !== null) {
        this.lease(m, holder, null, name, now)
        this.send(okFrames(holder.addr, reqId, deliveryPayload(q.name, [m]), [m.headers, m.body]))
        return
      }
    }
    if (timeout === 0) {
      this.send(okFrames(holder.addr, reqId, deliveryPayload(q.name, [])))
      return
    }
    const w: Waiter = { holder, queue, reqId, deadline: timeout === undefined ? Infinity : now + timeout, name, index: -1 }
    q.waiters.push(w)
    holder.waiters++
    if (w.deadline !== Infinity) {
      this.timeouts.push(w)
      this.want(w.deadline)
    }
  }

  /** CONSUME: deliveries pushed to `holder` while it has fewer than `credit` unsettled ones. */
  consume(holder: LeaseHolder, queue: string, credit: number, tag: Buffer, name: string): Consumer {
    const q = this.queue(queue)
    const c: Consumer = { holder, queue: q, credit, inflight: 0, active: true, tag, name }
    q.consumers.push(c)
    holder.consumers.push(c)
    this.dispatch(q, Date.now())
    return c
  }

  setCredit(c: Consumer, credit: number): void {
    c.credit = credit
    this.dispatch(c.queue, Date.now())
  }

  /** Stops deliveries to `c`; what it holds stays leased until settled. */
  cancel(c: Consumer): void {
    c.active = false
    c.queue.removeConsumer(c)
    const cs = c.holder.consumers
    const i = cs.indexOf(c)
    if (i >= 0) cs.splice(i, 1)
  }

  private popReady(q: QueueState, now: number): QueueMessage | null {
    for (;;) {
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
    while (q.ready.size > 0) {
      const w = q.waiters[0]
      if (w !== undefined) {
        const m = this.popReady(q, now)
        if (m === null) return
        q.waiters.shift()
        this.timeouts.remove(w)
        w.holder.waiters--
        this.lease(m, w.holder, null, w.name, now)
        this.send(okFrames(w.holder.addr, w.reqId, deliveryPayload(q.name, [m]), [m.headers, m.body]))
        continue
      }
      const c = q.nextConsumer()
      if (c === null) return
      const max = Math.min(c.credit - c.inflight, BUNDLE)
      const msgs: QueueMessage[] = []
      const frames: Buffer[] = [c.holder.addr, MSG, c.tag, EMPTY]
      while (msgs.length < max) {
        const m = this.popReady(q, now)
        if (m === null) break
        this.lease(m, c.holder, c, c.name, now)
        msgs.push(m)
        frames.push(m.headers, m.body)
      }
      if (msgs.length === 0) return
      c.inflight += msgs.length
      frames[3] = deliveryPayload(q.name, msgs)
      this.send(frames)
    }
  }

  private lease(m: QueueMessage, holder: LeaseHolder, consumer: Consumer | null, name: string, now: number): void {
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
  }

  private startLease(m: QueueMessage, ttr: number, now: number): void {
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

  private endLease(m: QueueMessage): void {
    m.list?.remove(m)
    m.holder!.leases--
    if (m.consumer !== null) m.consumer.inflight--
    m.queue.reserved--
    m.holder = null
    m.consumer = null
  }

  /** The message `holder` leases as delivery `attempt`, or LEASE_LOST / NOT_FOUND. */
  private leased(holder: LeaseHolder, seq: number, attempt: number): QueueMessage {
    const m = this.bySeq.get(seq)
    if (m === undefined) throw new QueueError("NOT_FOUND", `no message ${seq}`)
    if (m.state !== "reserved" || m.holder !== holder || m.attempts !== attempt) {
      throw new QueueError("LEASE_LOST", `message ${seq} attempt ${attempt} is not leased by this client (lease expired or released)`)
    }
    return m
  }

  // ---- settling ----

  /** ACK of [seq, attempt, seq, attempt, ...]: one record, one reply with per-item failures. */
  ack(holder: LeaseHolder, pairs: number[], addr: Buffer, reqId: Buffer): void {
    const now = Date.now()
    const settled: number[] = []
    let errors: [number, string][] | undefined
    let touched: QueueState | null = null
    let more: Set<QueueState> | null = null
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const m = this.bySeq.get(pairs[i]!)
      if (m === undefined || m.state !== "reserved" || m.holder !== holder || m.attempts !== pairs[i + 1]) {
        ;(errors ??= []).push([i >> 1, m === undefined ? "NOT_FOUND" : "LEASE_LOST"])
        continue
      }
      const credited = m.consumer !== null
      this.endLease(m)
      this.unregister(m)
      m.queue.acks++
      settled.push(m.seq)
      if (credited && touched !== m.queue) {
        if (touched !== null) (more ??= new Set()).add(touched)
        touched = m.queue
      }
    }
    if (settled.length > 0) logAck(this.store, settled)
    this.store.afterCommit(new Reply(addr, reqId, encodeCbor({ acked: settled.length, errors })))
    if (touched !== null) this.dispatch(touched, now)
    if (more !== null) for (const q of more) this.dispatch(q, now)
  }

  /** NACK: the delivery failed; retried after `delay` (default: the retry policy's backoff) or dead-lettered. */
  nack(holder: LeaseHolder, seq: number, attempt: number, delay: number | undefined, addr: Buffer, reqId: Buffer): void {
    const m = this.leased(holder, seq, attempt)
    const now = Date.now()
    this.endLease(m)
    const state = this.requeue(m, delay, now, "nack")
    this.store.afterCommit(new Reply(addr, reqId, encodeCbor({ state })))
    this.dispatch(m.queue, now)
  }

  /** TOUCH: the lease runs `ttr` ms (default: the message's ttr) from now. Returns the new deadline. */
  touch(holder: LeaseHolder, seq: number, attempt: number, ttr: number | undefined): number {
    const m = this.leased(holder, seq, attempt)
    m.list?.remove(m)
    this.startLease(m, ttr ?? m.ttr, Date.now())
    return m.leaseDeadline
  }

  /** BURY: into the dead-letter queue with `reason`. */
  buryLeased(holder: LeaseHolder, seq: number, attempt: number, reason: string, addr: Buffer, reqId: Buffer): void {
    const m = this.leased(holder, seq, attempt)
    const now = Date.now()
    this.endLease(m)
    this.bury(m, reason, now)
    this.store.afterCommit(new Reply(addr, reqId, EMPTY_MAP))
    this.dispatch(m.queue, now)
  }

  /** After a lease ended without an ack: retry (ready or delayed) or dead-letter. Returns the new state. */
  private requeue(m: QueueMessage, delay: number | undefined, now: number, cause: "nack" | "ttr" | "disconnect"): MessageState {
    const q = m.queue
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
    logRelease(this.store, m.seq, m.attempts, m.readyAt)
    if (d > 0) this.placeDelayed(m)
    else this.placeReady(m)
    return m.state
  }

  /** Moves an unplaced message to its queue's dead letters and logs it. */
  private bury(m: QueueMessage, reason: string, now: number): void {
    m.ttlExpired = false
    m.buryReason = reason
    m.buriedAt = now
    this.placeBuried(m)
    logBury(this.store, m.seq, m.attempts, now, reason, m.lastConsumer)
  }

  /** KICK: dead letters back to ready with fresh attempts and no TTL; one by seq, or up to `count` oldest. */
  kick(queue: string, count: number, seq: number | undefined, addr: Buffer, reqId: Buffer): void {
    const q = this.queue(queue)
    const now = Date.now()
    const picked: QueueMessage[] = []
    if (seq !== undefined) {
      const m = this.bySeq.get(seq)
      if (m === undefined || m.queue !== q || m.state !== "buried") throw new QueueError("NOT_FOUND", `no dead letter ${seq} in ${queue}`)
      picked.push(m)
    } else {
      for (let m = q.buried.head; m !== null && picked.length < count; m = m.next) picked.push(m)
    }
    for (const m of picked) this.revive(m, now)
    if (picked.length > 0) logKick(this.store, picked.map((m) => m.seq), now)
    this.store.afterCommit(new Reply(addr, reqId, encodeCbor({ kicked: picked.length })))
    this.dispatch(q, now)
  }

  revive(m: QueueMessage, now: number): void {
    m.queue.buried.remove(m)
    m.attempts = 0
    m.expiresAt = 0
    m.ttlExpired = false
    m.buryReason = ""
    m.readyAt = now
    this.placeReady(m)
  }

  /** CONFIG: replaces the given fields of the queue's settings. */
  configure(queue: string, config: QueueConfig, addr: Buffer, reqId: Buffer): void {
    const q = this.queue(queue)
    q.config = { ...q.config, ...config }
    logConfig(this.store, queue, q.config)
    this.store.afterCommit(new Reply(addr, reqId, encodeCbor(q.config)))
  }

  /** The client is gone: its leases are released at once, its consumers and waiting reserves dropped. */
  holderGone(holder: LeaseHolder): void {
    const now = Date.now()
    for (const c of holder.consumers.splice(0)) {
      c.active = false
      c.queue.removeConsumer(c)
    }
    if (holder.waiters > 0) {
      for (const q of this.queues.values()) {
        for (const w of q.waiters.filter((x) => x.holder === holder)) {
          q.removeWaiter(w)
          this.timeouts.remove(w)
        }
      }
      holder.waiters = 0
    }
    if (holder.leases > 0) {
      const mine: QueueMessage[] = []
      for (const list of this.leases.values()) for (let m = list.head; m !== null; m = m.next) if (m.holder === holder) mine.push(m)
      const touched = new Set<QueueState>()
      for (const m of mine) {
        this.endLease(m)
        this.requeue(m, undefined, now, "disconnect")
        touched.add(m.queue)
      }
      for (const q of touched) this.dispatch(q, now)
    }
  }

  // ---- the timer ----

  /** Makes sure the timer fires by `t` (ms since the epoch). */
  want(t: number): void {
    if (t >= this.timerAt || this.stopped) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerAt = t
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, t - Date.now()))
    this.timer.unref()
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = Infinity
    if (this.stopped) return
    const now = Date.now()
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
    }
    for (const list of this.leases.values()) {
      for (let m = list.head; m !== null && m.leaseDeadline <= now; m = list.head) {
        this.endLease(m)
        this.requeue(m, undefined, now, "ttr")
        touched.add(m.queue)
      }
    }
    for (let w = this.timeouts.peek(); w !== undefined && w.deadline <= now; w = this.timeouts.peek()) {
      this.timeouts.pop()
      this.queue(w.queue).removeWaiter(w)
      w.holder.waiters--
      this.send(okFrames(w.holder.addr, w.reqId, deliveryPayload(w.queue, [])))
    }
    for (const q of touched) this.dispatch(q, now)
    this.rearm()
  }

  /** TTL passed: dead-letter it now, or when its lease ends. */
  private expire(m: QueueMessage, now: number): void {
    switch (m.state) {
      case "ready":
        m.queue.ready.remove(m)
        this.bury(m, "expired", now)
        break
      case "delayed":
        this.delays.remove(m)
        m.queue.delayed--
        this.bury(m, "expired", now)
        break
      case "reserved":
        m.ttlExpired = true
        break
      default:
        break
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
    if (t !== Infinity) this.want(t)
  }

  /** Stops the timer and all deliveries (device shutdown). */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
