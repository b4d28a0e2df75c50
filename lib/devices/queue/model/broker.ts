/**
 * The queue commands over BrokerState: put and batch put, reserve and
 * consume, ack, nack, touch, bury, kick, config, and what happens when a
 * client goes away.
 *
 * Every state change is first written as a record (log.ts); a reply that
 * reports a change goes out only once its record is committed (Store
 * actions), and a put becomes visible to consumers only then. Leases are not
 * logged: after a restart, messages that were leased are ready again.
 */
import { EMPTY_MAP, encodeCbor } from "../cbor.js"
import { QueueError } from "../errors.js"
import { logAck, logBatch, logConfig, logKick, logPut } from "../journal/log.js"
import { QueueMessage, type Consumer, type LeaseHolder } from "./message.js"
import { deliveryPayload, errFrames, okFrames, type PutOptions } from "../server/protocol.js"
import type { QueueConfig, QueueState, Waiter } from "./queue-state.js"
import { BrokerState, type BrokerOptions } from "./state.js"
import type { Store } from "../journal/store.js"

export type { BrokerOptions }

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

/** One message of a PUTB. */
export interface BatchItem {
  options: PutOptions
  headers: Buffer
  body: Buffer
}

export class Broker extends BrokerState {
  /** Connects the store, after recovery replayed into this broker (Replayer). */
  attach(store: Store): void {
    this._store = store
    store.onCommit = (actions, error) => this.committed(actions, error)
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
}
