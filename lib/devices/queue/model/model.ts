/**
 * The queue operations, over the model's state and mechanics (ModelState,
 * state.ts, which it owns rather than extends): put and batch put,
 * reserve and consume, ack, nack, touch, bury, kick, config, a client going
 * away; apply() and snapshot() for recovery and checkpoints (restore.ts:
 * through the same primitives, register, place*, unplace, unregister, revive).
 *
 * Every durable change is first appended to the journal; a result that
 * reports one is handed out only once it is committed (Commit), and a put
 * becomes visible to consumers only then. Leases are not logged: after a
 * restart, messages that were leased are ready again.
 */
import type {
  AckResult,
  BatchPutResult,
  DeliveredMessage,
  DeliverySink,
  Done,
  MessageState,
  NewMessage,
  PutResult,
  QueueConfig,
  GroupConfig,
  StreamPosition,
  StoredMessage,
} from "../backend.js"
import { QueueError } from "../errors.js"
import type { Change, Commit, Journal, Snapshot } from "./changes.js"
import { applyChange, snapshotOf } from "./restore.js"
import { Consumer, LeaseHolder, QueueMessage } from "./message.js"
import type { GroupState, QueueState, Waiter } from "./queue-state.js"
import { ModelState, type ModelOptions } from "./state.js"
import type { HeaderFilter } from "./filter.js"
import {
  bucketOf,
  configureGroup,
  createGroup,
  deleteGroup,
  findBySeq,
  resolvePosition,
  restoreEntries,
  seekGroup,
  settleEntry,
} from "./streams.js"

export type { ModelOptions }

const storeFailed = (error: Error): QueueError => new QueueError("STORE_FAILED", `the device could not write: ${error.message}`)

export class QueueModel {
  /** The indexes, placement, leases, dispatch and timer the operations drive. */
  readonly state: ModelState
  /** The moment recovery started (apply places messages as ready or delayed against it). */
  private readonly recoveredAt = Date.now()

  constructor(options: ModelOptions) {
    this.state = new ModelState(options)
  }

  /** Connects the journal, after recovery replayed into this model (apply). */
  attach(journal: Journal): void {
    this.state.journal = journal
    journal.onCommit = (commits, error) => this.committed(commits, error)
  }

  /** After recovery: configs take effect, groups place their restored deliveries, the timer is armed. */
  rearm(): void {
    const now = Date.now()
    for (const q of this.state.queues.values()) {
      if (q.isStream) this.state.streams.add(q)
      this.configured(q)
      for (const g of q.groups.values()) restoreEntries(this.state, g, now)
    }
    this.state.rearm()
  }

  /** Stops the timer and all deliveries (shutdown). */
  stop(): void {
    this.state.stop()
  }

  // ---- producing ----

  /** PUT: appends the message; it is confirmed and becomes visible once committed. */
  put(queue: string, n: NewMessage, done: Done<PutResult>): void {
    const now = Date.now()
    const o = n.options
    const dup = o.id === undefined ? undefined : this.duplicate(queue, o.id, now)
    if (dup !== undefined) {
      this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, { seq: dup, duplicate: true })) })
      return
    }
    const m = this.create(this.state.queue(queue), n, now)
    m.recordBytes = this.state.journal.append({ kind: "put", msg: m })
    this.state.register(m)
    this.state.journal.afterCommit({ kind: "put", msg: m, done })
  }

  /** PUTB: one change for all new messages, so they are stored together or not at all. */
  putBatch(queue: string, items: readonly NewMessage[], done: Done<BatchPutResult>): void {
    const now = Date.now()
    const q = this.state.queue(queue)
    const seqs: number[] = []
    const duplicates: number[] = []
    const msgs: QueueMessage[] = []
    let ids: Map<string, number> | undefined // the batch's own ids, made for the first one
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      const id = it.options.id
      const dup = id === undefined ? undefined : (this.duplicate(queue, id, now) ?? ids?.get(id))
      if (dup !== undefined) {
        seqs.push(dup)
        duplicates.push(i)
        continue
      }
      const m = this.create(q, it, now)
      if (id !== undefined) (ids ??= new Map()).set(id, m.seq)
      msgs.push(m)
      seqs.push(m.seq)
    }
    if (msgs.length > 0) {
      const share = Math.ceil(this.state.journal.append({ kind: "put-batch", msgs }) / msgs.length)
      for (const m of msgs) {
        m.recordBytes = share
        this.state.register(m)
      }
    }
    const result: BatchPutResult = { seqs, duplicates: duplicates.length > 0 ? duplicates : undefined }
    this.state.journal.afterCommit({ kind: "put-batch", msgs, result, done })
  }

  private duplicate(queue: string, id: string, now: number): number | undefined {
    // Entries are in put order: drop the expired ones from the front.
    const horizon = now - this.state.options.dedupWindowMs
    for (const [k, e] of this.state.dedup) {
      if (e.at > horizon) break
      this.state.dedup.delete(k)
    }
    return this.state.dedup.get(`${queue}\n${id}`)?.seq
  }

  private create(q: QueueState, n: NewMessage, now: number): QueueMessage {
    const o = n.options
    const ttr = o.ttr ?? q.config.ttr ?? this.state.options.defaultTtr
    const m = new QueueMessage(
      this.state.nextSeq++,
      q,
      o.priority,
      now,
      now + o.delay,
      ttr,
      o.ttl > 0 ? now + o.ttl : 0,
      o.id,
      n.headers,
      n.body,
      o.retry,
      0,
    )
    if (n.key !== undefined) m.key = n.key
    if (n.producer !== undefined) m.producer = n.producer
    return m
  }

  private committed(commits: Commit[], error: Error | undefined): void {
    const now = Date.now()
    const failure = error === undefined ? null : storeFailed(error)
    for (const c of commits) {
      switch (c.kind) {
        case "put":
          if (failure) {
            this.discard(c.msg)
            c.done(failure)
          } else {
            this.publish(c.msg, now)
            c.done(null, { seq: c.msg.seq })
          }
          break
        case "put-batch":
          if (failure) {
            for (const m of c.msgs) this.discard(m)
            c.done(failure)
          } else {
            this.publishBatch(c.msgs, now)
            c.done(null, c.result)
          }
          break
        case "confirm":
          c.done(failure)
          break
      }
    }
  }

  private discard(m: QueueMessage): void {
    if (m.state !== "pending") return
    m.queue.pending--
    this.state.unregister(m)
  }

  /**
   * A committed batch (one queue) is published. On a stream every message is stored first and
   * each group dispatched once after, so a group that was waiting gets the batch in bundles
   * (dispatching per message would find only that one message readable: one MSG each).
   */
  private publishBatch(msgs: readonly QueueMessage[], now: number): void {
    const q = msgs.length > 0 ? msgs[0]!.queue : null
    if (q === null || !q.isStream) {
      for (const m of msgs) this.publish(m, now)
      return
    }
    let first = Infinity
    let last = -Infinity
    for (const m of msgs) {
      if (!this.store(m, now)) continue
      if (m.seq < first) first = m.seq
      if (m.seq > last) last = m.seq
    }
    if (first > last) return
    for (const g of q.groups.values()) {
      const at = g.cursor
      if (g.ready.size === 0 || (at !== null && at.seq >= first && at.seq <= last)) this.state.dispatch(g, now)
    }
  }

  /** A committed put to a stream is stored (not dispatched). False if it was no longer pending. */
  private store(m: QueueMessage, now: number): boolean {
    if (m.state !== "pending") return false
    const q = m.queue
    q.pending--
    if (this.state.observer !== null) this.state.emit(m, "put", now, m.producer === "" ? undefined : m.producer)
    m.state = "stored"
    const c = q.config
    if ((c.maxMessages ?? 0) > 0 || (c.maxBytes ?? 0) > 0) this.state.trimSoon(q)
    if ((c.maxAge ?? 0) > 0) this.state.want(m.putAt + c.maxAge!) // the oldest one's age ends first; a later want() changes nothing
    return true
  }

  /** A committed put becomes ready or delayed (or dead, if its TTL already passed). */
  private publish(m: QueueMessage, now: number): void {
    const q = m.queue
    if (q.isStream) {
      if (this.store(m, now)) for (const g of q.groups.values()) if (g.cursor === m || g.ready.size === 0) this.state.dispatch(g, now)
      return
    }
    if (m.state !== "pending") return
    q.pending--
    if (this.state.observer !== null) this.state.emit(m, "put", now, m.producer === "" ? undefined : m.producer)
    if (m.expiresAt > 0) {
      if (m.expiresAt <= now) {
        this.state.bury(m, "expired", now)
        return
      }
      this.state.ttls.push(m)
      this.state.want(m.expiresAt)
    }
    if (m.readyAt > now) this.state.placeDelayed(m)
    else {
      this.state.placeReady(m)
      this.state.dispatch(q, now)
    }
  }

  // ---- consuming ----

  openClient(name: string): LeaseHolder {
    return new LeaseHolder(name)
  }

  /** RESERVE: a message now, or wait up to `timeout` ms (undefined: forever; 0: no wait, null at once). */
  reserve(
    holder: LeaseHolder,
    queue: string,
    timeout: number | undefined,
    name: string,
    done: Done<DeliveredMessage | null>,
    group?: string,
  ): void {
    const q = this.target(holder, queue, group)
    const now = Date.now()
    if (q.waiters.length === 0) {
      const m = this.state.popReady(q, now)
      if (m !== null) {
        this.state.lease(m, holder, null, name, now)
        done(null, m)
        return
      }
    }
    if (timeout === 0) {
      done(null, null)
      return
    }
    const w: Waiter = { holder, queue: q, done, deadline: timeout === undefined ? Infinity : now + timeout, name, index: -1 }
    q.waiters.push(w)
    holder.waiters++
    if (w.deadline !== Infinity) {
      this.state.timeouts.push(w)
      this.state.want(w.deadline)
    }
  }

  /** CONSUME: deliveries pushed to `sink` while the subscription has fewer than `credit` unsettled ones. */
  consume(
    holder: LeaseHolder,
    queue: string,
    credit: number,
    name: string,
    sink: DeliverySink,
    group?: string,
    filter?: HeaderFilter,
  ): Consumer {
    const q = this.target(holder, queue, group)
    const c = new Consumer(holder, q, credit, name, sink, filter)
    q.consumers.push(c)
    if (filter !== undefined) q.filteringConsumers++
    holder.consumers.push(c)
    this.state.dispatch(q, Date.now())
    return c
  }

  /**
   * Where a reserve or subscription takes messages from: the queue, or the named group of a
   * stream. A stream needs a group, a plain queue has none, and a connection reads a stream
   * through one group (so its ACKs name messages by seq alone).
   */
  private target(holder: LeaseHolder, queue: string, group: string | undefined): QueueState {
    const q = this.state.queue(queue)
    if (group === undefined) {
      if (q.isStream) throw new QueueError("BAD_REQUEST", `queue ${queue} is a stream (it has consumer groups): name a group to read it`)
      return q
    }
    const g = q.groups.get(group)
    if (g === undefined)
      throw new QueueError("NOT_FOUND", `queue ${queue} has no consumer group ${JSON.stringify(group)} (create it with GROUP)`)
    const mine = holder.groups?.get(q) as GroupState | undefined
    // A group deleted since (perhaps made again under its name) no longer ties the connection.
    if (mine !== undefined && mine !== g && q.groups.get(mine.groupName) === mine)
      throw new QueueError(
        "BAD_REQUEST",
        `this connection reads ${queue} through group ${JSON.stringify(mine.groupName)}; use another connection for group ${JSON.stringify(group)}`,
      )
    ;(holder.groups ??= new Map()).set(q, g)
    return g
  }

  setCredit(c: Consumer, credit: number): void {
    c.credit = credit
    this.state.dispatch(c.state, Date.now())
  }

  /** Stops deliveries to `c`; what it holds stays leased until settled. */
  cancel(c: Consumer): void {
    c.active = false
    c.state.removeConsumer(c)
    const cs = c.holder.consumers
    const i = cs.indexOf(c)
    if (i >= 0) cs.splice(i, 1)
  }

  // ---- settling ----

  /** ACK of [seq, attempt, seq, attempt, ...]: one change, one result with per-item failures. */
  ack(holder: LeaseHolder, pairs: readonly number[], done: Done<AckResult>): void {
    const now = Date.now()
    const settled: number[] = []
    let errors: [number, string][] | undefined
    let touched: QueueState | null = null
    let more: Set<QueueState> | null = null
    let groupAcks: Map<GroupState, number[]> | null = null
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const m = this.state.find(holder, pairs[i]!)
      if (m === undefined || m.state !== "reserved" || m.holder !== holder || m.attempts !== pairs[i + 1]) {
        ;(errors ??= []).push([i >> 1, m === undefined ? "NOT_FOUND" : "LEASE_LOST"])
        continue
      }
      const credited = m.consumer !== null
      if (this.state.observer !== null) this.state.emit(m, "ack", now, m.lastConsumer)
      this.state.endLease(m)
      m.queue.acks++
      const g = m.queue.group
      if (g === null) {
        this.state.unregister(m)
        settled.push(m.seq)
      } else {
        settleEntry(this.state, m, now)
        let list = (groupAcks ??= new Map()).get(g)
        if (list === undefined) groupAcks.set(g, (list = []))
        list.push(m.seq)
      }
      if (credited && touched !== m.queue) {
        if (touched !== null) (more ??= new Set()).add(touched)
        touched = m.queue
      }
    }
    let acked = settled.length
    if (settled.length > 0) this.state.journal.append({ kind: "ack", seqs: settled })
    if (groupAcks !== null)
      for (const [g, seqs] of groupAcks) {
        acked += seqs.length
        this.state.journal.append({ kind: "group-ack", queue: g.stream.name, group: g.groupName, seqs })
      }
    const result: AckResult = { acked, errors }
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, result)) })
    if (touched !== null) this.state.dispatch(touched, now)
    if (more !== null) for (const q of more) this.state.dispatch(q, now)
  }

  /** NACK: the delivery failed; retried after `delay` (default: the retry policy's backoff) or dead-lettered. */
  nack(holder: LeaseHolder, seq: number, attempt: number, delay: number | undefined, done: Done<MessageState>): void {
    const m = this.state.leased(holder, seq, attempt)
    const now = Date.now()
    this.state.endLease(m)
    const state = this.state.requeue(m, delay, now, "nack")
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, state)) })
    this.state.dispatch(m.queue, now)
  }

  /** TOUCH: the lease runs `ttr` ms (default: the message's ttr) from now. Returns the new deadline. */
  touch(holder: LeaseHolder, seq: number, attempt: number, ttr: number | undefined): number {
    const m = this.state.leased(holder, seq, attempt)
    m.list?.remove(m)
    this.state.startLease(m, ttr ?? m.ttr, Date.now())
    return m.leaseDeadline
  }

  /** BURY: into the dead-letter queue with `reason`. */
  buryLeased(holder: LeaseHolder, seq: number, attempt: number, reason: string, done: Done<void>): void {
    const m = this.state.leased(holder, seq, attempt)
    const now = Date.now()
    this.state.endLease(m)
    this.state.bury(m, reason, now)
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => done(e) })
    this.state.dispatch(m.queue, now)
  }

  /** KICK: dead letters back to ready with fresh attempts and no TTL; one by seq, or up to `count` oldest. */
  kick(queue: string, count: number, seq: number | undefined, done: Done<number>, group?: string): void {
    const q = this.groupOrQueue(queue, group)
    const now = Date.now()
    const picked: QueueMessage[] = []
    const g = q.group
    if (seq !== undefined) {
      const m = g === null ? this.state.bySeq.get(seq) : g.entries.get(seq)
      if (m === undefined || m.queue !== q || m.state !== "buried") throw new QueueError("NOT_FOUND", `no dead letter ${seq} in ${queue}`)
      picked.push(m)
    } else {
      for (let m = q.buried.head; m !== null && picked.length < count; m = m.next) picked.push(m)
    }
    for (const m of picked) this.state.revive(m, now)
    if (picked.length > 0) {
      const seqs = picked.map((m) => m.seq)
      if (g === null) this.state.journal.append({ kind: "kick", at: now, seqs })
      else this.state.journal.append({ kind: "group-kick", queue: g.stream.name, group: g.groupName, at: now, seqs })
    }
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, picked.length)) })
    this.state.dispatch(q, now)
  }

  /** CONFIG: replaces the given fields of the queue's settings. */
  configure(queue: string, config: QueueConfig, done: Done<QueueConfig>): void {
    const q = this.state.queue(queue)
    q.config = { ...q.config, ...config }
    const whole = q.config
    this.state.journal.append({ kind: "config", queue, config: whole })
    this.configured(q)
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, whole)) })
  }

  /** What follows from a queue's config (live or recovered): its rate bucket, its groups' settings, retention, pause. */
  private configured(q: QueueState): void {
    const now = Date.now()
    if (!q.isStream) q.bucket = bucketOf(q.config.rate, q.config.burst, now)
    const paused = q.config.paused === true
    const resumed = q.paused && !paused
    q.paused = paused
    for (const g of q.groups.values()) {
      configureGroup(g, g.groupConfig, now)
      g.paused = paused
    }
    if (q.isStream) this.state.trimSoon(q)
    if (resumed) {
      if (q.isStream) for (const g of q.groups.values()) this.state.dispatch(g, now)
      else this.state.dispatch(q, now)
    }
  }

  /** PURGE: drops the queue's messages in `states` (none leased), logged as acks. */
  purge(queue: string, states: readonly ("ready" | "delayed" | "buried")[], done: Done<number>): void {
    const q = this.state.queue(queue)
    if (q.isStream)
      throw new QueueError(
        "BAD_OPTION",
        `queue ${queue} is a stream: its messages go by retention (CONFIG maxAge, maxBytes, maxMessages), not PURGE`,
      )
    const want = new Set<string>(states)
    const picked: QueueMessage[] = []
    for (const m of this.state.bySeq.values()) if (m.queue === q && want.has(m.state)) picked.push(m)
    for (const m of picked) {
      this.state.unplace(m)
      this.state.unregister(m)
    }
    if (picked.length > 0) this.state.journal.append({ kind: "ack", seqs: picked.map((m) => m.seq) })
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, picked.length)) })
  }

  /** The queue, or its group `group` (NOT_FOUND if there is none). */
  private groupOrQueue(queue: string, group: string | undefined): QueueState {
    const q = this.state.queue(queue)
    if (group === undefined) return q
    const g = q.groups.get(group)
    if (g === undefined) throw new QueueError("NOT_FOUND", `queue ${queue} has no consumer group ${JSON.stringify(group)}`)
    return g
  }

  // ---- streams and consumer groups ----

  /**
   * GROUP: creates consumer group `name` of `queue` reading from `start` (default "first"), or,
   * if it exists, replaces its config (its cursor stays). The first group makes the queue a
   * stream. `done` gets the group's floor (the first offset it reads) and whether it is new.
   */
  group(
    queue: string,
    name: string,
    config: GroupConfig,
    start: StreamPosition | undefined,
    done: Done<{ created: boolean; floor: number }>,
  ): void {
    const q = this.state.queue(queue)
    const now = Date.now()
    const old = q.groups.get(name)
    if (old !== undefined) {
      configureGroup(old, config, now)
      this.state.journal.append({ kind: "group", queue, group: name, config, floor: old.floor })
      this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, { created: false, floor: old.floor })) })
      this.state.dispatch(old, now)
      return
    }
    const wasStream = q.isStream
    const floor = resolvePosition(this.state, q, start ?? "first")
    const g = createGroup(this.state, q, name, config, floor, now)
    this.state.streams.add(q)
    if (!wasStream) this.state.journal.append({ kind: "stream", queue })
    this.state.journal.append({ kind: "group", queue, group: name, config, floor })
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, { created: true, floor })) })
    this.state.dispatch(g, now)
  }

  /** UNGROUP: the group is deleted; its deliveries in flight are dropped (their settles find nothing). */
  ungroup(queue: string, name: string, done: Done<void>): void {
    const g = this.groupOrQueue(queue, name) as GroupState
    deleteGroup(this.state, g)
    this.state.journal.append({ kind: "group-delete", queue, group: name })
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => done(e) })
  }

  /** SEEK: the group reads again (or skips) from `to`; `done` gets the offset it reads next. */
  seek(queue: string, name: string, to: StreamPosition, done: Done<number>): void {
    const g = this.groupOrQueue(queue, name) as GroupState
    const seq = resolvePosition(this.state, g.stream, to)
    seekGroup(this.state, g, seq)
    this.state.journal.append({ kind: "seek", queue, group: name, seq })
    this.state.journal.afterCommit({ kind: "confirm", done: (e) => (e ? done(e) : done(null, seq)) })
    this.state.dispatch(g, Date.now())
  }

  /** RANGE: up to `count` stored messages of a stream from `from`, in offset order, and the offset after the last. */
  range(queue: string, from: StreamPosition, count: number): { messages: StoredMessage[]; next: number } {
    const q = this.state.queue(queue)
    if (!q.isStream) throw new QueueError("BAD_REQUEST", `queue ${queue} is not a stream (it has no consumer groups): RANGE reads streams`)
    const messages: StoredMessage[] = []
    let m = findBySeq(q, resolvePosition(this.state, q, from))
    for (; m !== null && messages.length < count && m.state === "stored"; m = m.newer) messages.push(m)
    return { messages, next: m === null || m.state !== "stored" ? this.state.nextSeq : m.seq }
  }

  /** The client is gone: its leases are released at once, its consumers and waiting reserves dropped. */
  closeClient(holder: LeaseHolder): void {
    const now = Date.now()
    for (const c of holder.consumers.splice(0)) {
      c.active = false
      c.state.removeConsumer(c)
    }
    if (holder.waiters > 0) {
      for (const q of this.state.allStates()) {
        for (const w of q.waiters.filter((x) => x.holder === holder)) {
          q.removeWaiter(w)
          this.state.timeouts.remove(w)
        }
      }
      holder.waiters = 0
    }
    if (holder.leases > 0) {
      const mine: QueueMessage[] = []
      for (const list of this.state.leases.values()) for (let m = list.head; m !== null; m = m.next) if (m.holder === holder) mine.push(m)
      const touched = new Set<QueueState>()
      for (const m of mine) {
        this.state.endLease(m)
        this.state.requeue(m, undefined, now, "disconnect")
        touched.add(m.queue)
      }
      for (const q of touched) this.state.dispatch(q, now)
    }
  }

  // ---- recovery and checkpoints ----

  /**
   * Makes a recovered change (from the log or a checkpoint) without side
   * effects: no results, no deliveries, nothing appended. `bytes` is its
   * size in the store. Throws RangeError on a change that cannot apply
   * (recovery reports it as CORRUPT).
   */
  apply(c: Change, bytes: number): void {
    applyChange(this.state, c, bytes, this.recoveredAt)
  }

  /**
   * A frozen copy of the state for a checkpoint, taken at once (each
   * message's mutable fields are copied; bodies are immutable and shared).
   */
  snapshot(): Snapshot {
    return snapshotOf(this.state)
  }
}
