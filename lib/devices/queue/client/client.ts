/**
 * QueueClient: producer and consumer API of the durable queue, over one
 * DEALER connection (connection.ts). Requests are pipelined (many in
 * flight, replies matched by request id); puts of one event-loop turn travel
 * together; acks are batched per turn.
 *
 * ```ts
 * const client = new QueueClient("tcp://127.0.0.1:5570")
 * await client.put("emails", JSON.stringify(job), { priority: 10, retry: { maxAttempts: 5, backoff: "exponential", delay: 1000 } })
 * for await (const job of client.consume("emails", { credit: 50 })) {
 *   try { await send(job.body); await job.ack() } catch { await job.nack() }
 * }
 * ```
 */
import { cborWriter, decodeCbor, encodeCbor, headerEncoder } from "../cbor.js"
import type {
  BatchMessage,
  ConsumeOptions,
  DeviceStats,
  GroupOptions,
  PeekedMessage,
  PutOptions,
  PutResult,
  QueueClientOptions,
  RangeResult,
  StreamPosition,
} from "./types.js"
import { CMD, EMPTY, QueueConnection, debug, int } from "./connection.js"
import { Delivery, QueueConsumer } from "./delivery.js"
import { RangeMessage, readRange } from "./payload.js"
import { QueueError } from "../errors.js"
import type { QueueConfig, TraceEvent } from "../backend.js"
import { clientTracing, type ClientTracing } from "./tracing.js"
import type { Span } from "@opentelemetry/api"

const toBody = (b: Buffer | Uint8Array | string): Buffer =>
  typeof b === "string" ? Buffer.from(b, "utf8") : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)

const ignoreAckFailure = (err: Error): void => debug("%s", err.message)

const AUTO_BATCH_MAX = 256
const AUTO_BATCH_BYTES = 256 * 1024

interface PutBatch {
  items: (Record<string, unknown> | null)[]
  data: Buffer[]
  waiters: { resolve(r: PutResult): void; reject(e: Error): void }[]
  bytes: number
}

function isPlain(o: PutOptions | undefined): boolean {
  return (
    o === undefined ||
    (o.priority === undefined &&
      o.delay === undefined &&
      o.ttr === undefined &&
      o.ttl === undefined &&
      o.id === undefined &&
      o.retry === undefined &&
      o.key === undefined)
  )
}

/** The per-message args of a put (without the queue). */
function itemArgs(o: PutOptions): Record<string, unknown> {
  return { priority: o.priority, delay: o.delay, ttr: o.ttr, ttl: o.ttl, id: o.id, retry: o.retry, key: o.key }
}

function putArgs(queue: string, o: PutOptions | undefined): Record<string, unknown> {
  const a: Record<string, unknown> = { queue }
  if (o !== undefined) {
    a.priority = o.priority
    a.delay = o.delay
    a.ttr = o.ttr
    a.ttl = o.ttl
    a.id = o.id
    a.retry = o.retry
    a.key = o.key
  }
  return a
}

/** The ACK args `{acks: [seq, attempt, ...]}`, written directly (the bytes encodeCbor writes, without its per-item dispatch). */
function ackArgs(pairs: readonly number[]): Buffer {
  const w = cborWriter
  w.start()
  w.map(1)
  w.value("acks")
  w.array(pairs.length)
  for (let i = 0; i < pairs.length; i++) w.uint(pairs[i]!)
  return w.finish()
}

const delayAttr = (delay: number | undefined): Record<string, number> => (delay === undefined ? {} : { "omq.nack.delay": delay })

function positionArg(p: StreamPosition | undefined): unknown {
  if (p === undefined || p === "first" || p === "last") return p
  if (typeof p === "number") return { offset: p }
  if (p instanceof Date) return { time: p.getTime() }
  return p
}

export class QueueClient extends QueueConnection {
  private readonly consumerName: string | undefined
  private readonly plainPutArgs = new Map<string, Buffer>()
  private readonly putBatches = new Map<string, PutBatch>()
  private putFlushScheduled = false
  private acks: number[] = []
  private ackResolves: (() => void)[] = []
  private ackRejects: ((e: Error) => void)[] = []
  private ackPromises: Promise<void>[] = []
  private ackScheduled = false
  /** Null without OpenTelemetry or with `tracing: false`: then no per-message tracing work at all. */
  private readonly tracing: ClientTracing | null

  /**
   * Connects to `endpoint` if given (more with connect()). Several endpoints are devices serving
   * one database (shared devices, or a device and its standbys): the client talks to one at a
   * time and moves to the next when it has had no connection for `failoverMs`; requests in
   * flight fail with DISCONNECTED (a put with an `id` is safe to retry), subscriptions are renewed
   * on the next device. Requests made meanwhile wait in the client for the next connection.
   */
  constructor(endpoint?: string | readonly string[], options: QueueClientOptions = {}) {
    const failoverMs = options.failoverMs ?? 1000
    if (!Number.isInteger(failoverMs) || failoverMs < 1) throw new QueueError("BAD_OPTION", "failoverMs must be an integer >= 1")
    super(options.maxInFlight ?? 10_000, options.socket, failoverMs)
    this.consumerName = options.consumerName
    this.tracing = clientTracing(options.tracing)
    if (typeof endpoint === "string") this.connect(endpoint)
    else if (endpoint !== undefined) for (const e of endpoint) this.connect(e)
  }

  // ---- producing ----

  /**
   * Stores a message; resolves once the device confirms it (durably, with
   * fsync "always"). Puts made in the same event-loop turn travel together
   * (one PUTB per queue and up to 256 messages / 256 KiB); each still gets
   * its own result, and puts to one queue keep their order.
   */
  put(queue: string, body: Buffer | Uint8Array | string, options?: PutOptions): Promise<PutResult> {
    if (this.closed) return Promise.reject(new QueueError("CLOSED", "the client is closed"))
    const b = toBody(body)
    let h = options?.headers
    let span: Span | undefined
    const t = this.tracing
    if (t !== null && t.live()) ({ span, headers: h } = t.startPublish(queue, h, b.length))
    const headers = h === undefined ? EMPTY : span === undefined ? headerEncoder.encode(h) : this.encodeTraced(h, [span])
    const item = isPlain(options) ? null : itemArgs(options!)
    let batch = this.putBatches.get(queue)
    if (b.length + headers.length > AUTO_BATCH_BYTES) {
      if (batch !== undefined) this.sendPuts(queue, batch)
      const single = this.putSingle(queue, item, headers, b)
      return span === undefined ? single : this.traced(span, single)
    }
    if (batch === undefined) {
      batch = { items: [], data: [], waiters: [], bytes: 0 }
      this.putBatches.set(queue, batch)
      if (!this.putFlushScheduled) {
        this.putFlushScheduled = true
        setImmediate(this.flushPutsBound)
      }
    }
    const p =
      span === undefined
        ? new Promise<PutResult>((resolve, reject) => batch.waiters.push({ resolve, reject }))
        : this.traced(span, new Promise<PutResult>((resolve, reject) => batch.waiters.push({ resolve, reject })))
    batch.items.push(item)
    batch.data.push(headers, b)
    batch.bytes += b.length + headers.length
    if (batch.items.length >= AUTO_BATCH_MAX || batch.bytes >= AUTO_BATCH_BYTES) this.sendPuts(queue, batch)
    return p
  }

  /** Headers that cannot be encoded fail the put before it is sent: its spans end with the error. */
  private encodeTraced(h: Record<string, unknown>, spans: readonly Span[]): Buffer {
    try {
      return headerEncoder.encode(h)
    } catch (err) {
      for (const span of spans) this.tracing!.publishFailed(span, err as Error)
      throw err
    }
  }

  /** The put's result, its producer span ended when it settles. */
  private traced(span: Span, p: Promise<PutResult>): Promise<PutResult> {
    const t = this.tracing!
    return p.then(
      (r) => {
        t.publishDone(span, r.seq, r.duplicate)
        return r
      },
      (err: Error) => {
        t.publishFailed(span, err)
        throw err
      },
    )
  }

  private readonly flushPutsBound = (): void => {
    this.putFlushScheduled = false
    for (const [queue, batch] of this.putBatches) this.sendPuts(queue, batch)
  }

  private async putSingle(queue: string, item: Record<string, unknown> | null, headers: Buffer, body: Buffer): Promise<PutResult> {
    let args: Buffer
    if (item === null) {
      args = this.plainPutArgs.get(queue) ?? encodeCbor({ queue })
      if (this.plainPutArgs.size < 1000) this.plainPutArgs.set(queue, args)
    } else args = encodeCbor({ queue, ...item })
    const r = await this.request(CMD.PUT, args, [headers, body])
    return { seq: int(r.result.seq), duplicate: r.result.duplicate === true }
  }

  private sendPuts(queue: string, batch: PutBatch): void {
    this.putBatches.delete(queue)
    const { items, data, waiters } = batch
    if (items.length === 1) {
      this.putSingle(queue, items[0]!, data[0]!, data[1]!).then(waiters[0]!.resolve, waiters[0]!.reject)
      return
    }
    this.request(CMD.PUTB, encodeCbor({ queue, items }), data).then(
      (r) => {
        const seqs = r.result.seqs as unknown[]
        const dups = r.result.duplicates as unknown[] | undefined
        let d = dups === undefined || dups.length === 0 ? -1 : 0
        for (let i = 0; i < waiters.length; i++) {
          const duplicate = d >= 0 && int(dups![d]) === i
          if (duplicate) d = d + 1 < dups!.length ? d + 1 : -1
          waiters[i]!.resolve({ seq: int(seqs[i]), duplicate })
        }
      },
      (err: QueueError) => {
        // A PUTB is all or nothing: if one message was refused, put each on its own so only that one fails.
        if (err.code === "BAD_OPTION" || err.code === "TOO_LARGE" || err.code === "BAD_REQUEST") {
          for (let i = 0; i < waiters.length; i++)
            this.putSingle(queue, items[i]!, data[2 * i]!, data[2 * i + 1]!).then(waiters[i]!.resolve, waiters[i]!.reject)
        } else for (const w of waiters) w.reject(err)
      },
    )
  }

  /** Stores several messages atomically (all or none); results in order. */
  async putBatch(queue: string, messages: BatchMessage[]): Promise<PutResult[]> {
    const items: Record<string, unknown>[] = []
    const data: Buffer[] = []
    const t = this.tracing !== null && this.tracing.live() ? this.tracing : null
    const spans: Span[] = []
    for (const m of messages) {
      const a = putArgs(queue, m)
      delete a.queue
      items.push(a)
      const body = toBody(m.body)
      let h = m.headers
      if (t !== null) {
        const s = t.startPublish(queue, h, body.length)
        spans.push(s.span)
        h = s.headers
      }
      data.push(h === undefined ? EMPTY : t === null ? headerEncoder.encode(h) : this.encodeTraced(h, spans), body)
    }
    let r
    try {
      r = await this.request(CMD.PUTB, encodeCbor({ queue, items }), data)
    } catch (err) {
      for (const span of spans) t!.publishFailed(span, err as Error)
      throw err
    }
    const seqs = (r.result.seqs as unknown[]).map(int)
    const dups = new Set(((r.result.duplicates as unknown[] | undefined) ?? []).map(int))
    const results = seqs.map((seq, i) => ({ seq, duplicate: dups.has(i) }))
    for (let i = 0; i < spans.length; i++) t!.publishDone(spans[i]!, results[i]?.seq ?? -1, results[i]?.duplicate === true)
    return results
  }

  // ---- consuming ----

  /** Leases the next message; waits up to `timeout` ms (default: forever; 0: no wait). Null on timeout. */
  async reserve(queue: string, options: { timeout?: number; consumer?: string; group?: string } = {}): Promise<Delivery | null> {
    const r = await this.request(
      CMD.RESERVE,
      encodeCbor({ queue, timeout: options.timeout, consumer: options.consumer ?? this.consumerName, group: options.group }),
    )
    const t = (r.result.messages as unknown[][] | undefined)?.[0]
    if (t === undefined) return null
    const d = Delivery.fromTuple(this, String(r.result.queue), t, r.data[0] ?? EMPTY, r.data[1] ?? EMPTY, options.group)
    if (this.tracing !== null && this.tracing.live()) d.trace = this.tracing.startProcess(d)
    return d
  }

  /**
   * Subscribes: messages are pushed while fewer than `credit` (default 100) are unsettled. A
   * stream is consumed through a consumer `group`; `filter` narrows what this subscription gets.
   */
  consume(queue: string, options: ConsumeOptions = {}): QueueConsumer {
    const c = new QueueConsumer(this, queue, options.credit ?? 100, options.consumer ?? this.consumerName, options.group, options.filter)
    this.subscribe(c)
    return c
  }

  // ---- streams and consumer groups ----

  /**
   * Creates consumer group `group` of `queue` (the first makes the queue a stream: every group
   * gets every message), or replaces an existing group's settings (its position stays).
   * `start`: where a new group begins, default "first". Resolves with the first offset it reads.
   */
  async createGroup(queue: string, group: string, options: GroupOptions = {}): Promise<{ created: boolean; floor: number }> {
    const { start, ...config } = options
    const r = await this.request(CMD.GROUP, encodeCbor({ queue, group, start: positionArg(start), ...config }))
    return { created: r.result.created === true, floor: int(r.result.floor) }
  }

  /** Deletes a consumer group; its deliveries in flight are dropped. */
  async deleteGroup(queue: string, group: string): Promise<void> {
    await this.request(CMD.UNGROUP, encodeCbor({ queue, group }))
  }

  /** Moves the group's position (replay from an offset, a time, the first or after the last message). Resolves with the offset it reads next. */
  async seek(queue: string, group: string, to: StreamPosition): Promise<number> {
    const r = await this.request(CMD.SEEK, encodeCbor({ queue, group, to: positionArg(to) }))
    return int(r.result.offset)
  }

  /** Reads up to `count` (default 100, at most 10,000) stored messages of a stream from `from` (default "first"), without a group. */
  async range(queue: string, options: { from?: StreamPosition; count?: number } = {}): Promise<RangeResult> {
    // Up to 10,000 messages a reply: read from the frames as received (payload.ts), not decoded to a tree first.
    const frames = await this.requestRaw(CMD.RANGE, encodeCbor({ queue, from: positionArg(options.from), count: options.count }))
    const payload = frames[2] ?? EMPTY
    const fast = readRange(payload, frames, 3)
    if (fast !== null) return fast
    let result: Record<string, unknown>
    try {
      result = decodeCbor(payload) as Record<string, unknown>
    } catch (err) {
      throw new QueueError("BAD_REQUEST", `undecodable reply: ${(err as Error).message}`)
    }
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)
    const messages = (result.messages as unknown[][]).map(
      (t, i) => new RangeMessage(int(t[0]), int(t[1]), int(t[2]), str(t[3]), str(t[4]), frames[3 + 2 * i] ?? EMPTY, frames[4 + 2 * i] ?? EMPTY),
    )
    return { messages, next: int(result.next) }
  }

  /** @internal */
  protected subscribe(c: QueueConsumer): void {
    const id = this.takeId()
    c.tag = id
    this.consumers.set(id, c)
    this.send(
      id,
      CMD.CONSUME,
      encodeCbor({ queue: c.queue, credit: c.credit, consumer: c.consumerName, group: c.group, filter: c.filter }),
    ).then(undefined, (err: QueueError) => {
      if (this.consumers.get(id) !== c) return
      // Resubscribed on reconnect: the connection is gone, or going (a closing device's answer).
      if (err.code === "DISCONNECTED" || err.code === "SHUTTING_DOWN") return
      this.consumers.delete(id)
      c.end(err)
    })
  }

  /** @internal */
  protected deliveryHook(): ((d: Delivery) => void) | undefined {
    return this.tracing !== null && this.tracing.live() ? this.traceDelivery : undefined
  }

  private readonly traceDelivery = (d: Delivery): void => {
    d.trace = this.tracing!.startProcess(d)
  }

  /** @internal */
  ackDelivery(d: Delivery): Promise<void> {
    this.acks.push(d.seq, d.attempt)
    const p = new Promise<void>(this.ackExecutor)
    this.ackPromises.push(p) // settled in flushAcks; caught just before a rejection (see fail there)
    const tr = d.trace
    if (tr !== undefined)
      p.then(
        () => tr.owner.settle(tr, undefined),
        (err: Error) => tr.owner.settle(tr, `ack failed: ${err.message}`),
      )
    if (!this.ackScheduled) {
      this.ackScheduled = true
      setImmediate(this.flushAcksBound)
    }
    return p
  }

  /** Records the new ack promise's settle functions (one shared executor: no closure per ack). */
  private readonly ackExecutor = (resolve: () => void, reject: (e: Error) => void): void => {
    this.ackResolves.push(resolve)
    this.ackRejects.push(reject)
  }

  private readonly flushAcksBound = (): void => this.flushAcks()

  private flushAcks(): void {
    this.ackScheduled = false
    if (this.acks.length === 0) return
    const pairs = this.acks
    const resolves = this.ackResolves
    const rejects = this.ackRejects
    const promises = this.ackPromises
    this.acks = []
    this.ackResolves = []
    this.ackRejects = []
    this.ackPromises = []
    // An ack nobody awaits may fail quietly (the message is simply delivered again): its promise gets a
    // handler as it is rejected, not one per ack made (a second promise each, on the hot path).
    const fail = (i: number, err: Error): void => {
      promises[i]!.catch(ignoreAckFailure)
      rejects[i]!(err)
    }
    this.request(CMD.ACK, ackArgs(pairs)).then(
      (r) => {
        const errors = r.result.errors as unknown[][] | undefined
        if (errors === undefined) {
          for (const resolve of resolves) resolve()
          return
        }
        const failed = new Map<number, string>()
        for (const e of errors) failed.set(int(e[0]), String(e[1]))
        for (let i = 0; i < resolves.length; i++) {
          const code = failed.get(i)
          if (code === undefined) resolves[i]!()
          else fail(i, new QueueError(code, `ack of message ${pairs[2 * i]} failed: ${code}`))
        }
      },
      (err: Error) => {
        for (let i = 0; i < rejects.length; i++) fail(i, err)
      },
    )
  }

  /** @internal */
  async nackDelivery(d: Delivery, delay: number | undefined): Promise<"ready" | "delayed" | "buried"> {
    const tr = d.trace
    let r
    try {
      r = await this.request(CMD.NACK, encodeCbor({ seq: d.seq, attempt: d.attempt, delay }))
    } catch (err) {
      if (tr !== undefined) tr.owner.settle(tr, `nack failed: ${(err as Error).message}`, { name: "omq.nack", attributes: delayAttr(delay) })
      throw err
    }
    const state = r.result.state as "ready" | "delayed" | "buried"
    if (tr !== undefined) tr.owner.settle(tr, "nack", { name: "omq.nack", attributes: { ...delayAttr(delay), "omq.nack.state": state } })
    return state
  }

  /** @internal */
  async touchDelivery(d: Delivery, ttr: number | undefined): Promise<number> {
    const r = await this.request(CMD.TOUCH, encodeCbor({ seq: d.seq, attempt: d.attempt, ttr }))
    const deadline = int(r.result.deadline)
    if (d.trace !== undefined && !d.trace.ended) d.trace.span.addEvent("omq.touch", { "omq.lease.deadline": deadline })
    return deadline
  }

  /** @internal */
  async buryDelivery(d: Delivery, reason: string | undefined): Promise<void> {
    const tr = d.trace
    const event = { name: "omq.bury", attributes: reason === undefined ? {} : { "omq.bury.reason": reason } }
    try {
      await this.request(CMD.BURY, encodeCbor({ seq: d.seq, attempt: d.attempt, reason }))
    } catch (err) {
      if (tr !== undefined) tr.owner.settle(tr, `bury failed: ${(err as Error).message}`, event)
      throw err
    }
    if (tr !== undefined) tr.owner.settle(tr, reason === undefined ? "buried" : `buried: ${reason}`, event)
  }

  /** @internal */
  async cancelConsumer(c: QueueConsumer): Promise<void> {
    const tag = c.tag
    this.consumers.delete(tag)
    if (this.closed || this.disconnected) return
    const sub = Buffer.allocUnsafe(4)
    sub.writeUInt32BE(tag)
    await this.request(CMD.CANCEL, encodeCbor({ sub })).catch((err: QueueError) => {
      if (err.code !== "NOT_FOUND" && err.code !== "DISCONNECTED" && err.code !== "CLOSED") throw err
    })
  }

  /** @internal */
  async creditConsumer(c: QueueConsumer, credit: number): Promise<void> {
    const sub = Buffer.allocUnsafe(4)
    sub.writeUInt32BE(c.tag)
    await this.request(CMD.CREDIT, encodeCbor({ sub, credit }))
  }

  // ---- administration ----

  /** Moves dead letters of `queue` back to ready (the `count` oldest, default 1, or the one `seq`). Resolves with how many. */
  async kick(queue: string, options: { count?: number; seq?: number; group?: string } = {}): Promise<number> {
    const r = await this.request(CMD.KICK, encodeCbor({ queue, count: options.count, seq: options.seq, group: options.group }))
    return int(r.result.kicked)
  }

  /** The first `count` (default 1, at most 1000) messages of `queue` in `state` (default "ready") after the first `skip`, without leasing them. */
  peek(
    queue: string,
    options: { state?: "ready" | "delayed" | "reserved" | "buried"; count?: number; group?: string; skip?: number } = {},
  ): Promise<PeekedMessage[]> {
    return this.peekRequest({ queue, state: options.state, count: options.count, group: options.group, skip: options.skip })
  }

  /**
   * Drops every message of `queue` in `states` (default ready and delayed; "buried" for dead
   * letters), never a leased one. Resolves with how many, once durable. Not for streams.
   */
  async purge(queue: string, options: { states?: ("ready" | "delayed" | "buried")[] } = {}): Promise<number> {
    const r = await this.request(CMD.PURGE, encodeCbor({ queue, states: options.states }))
    return int(r.result.purged)
  }

  /** Stops deliveries of `queue` (puts are still taken; RESERVEs wait) until resume(); durable. */
  async pause(queue: string): Promise<void> {
    await this.configure(queue, { paused: true })
  }

  /** Delivers `queue`'s messages again after pause(). */
  async resume(queue: string): Promise<void> {
    await this.configure(queue, { paused: false })
  }

  /** One message by seq, or by (queue, dedup id); null if there is none. */
  async peekMessage(key: { seq: number } | { queue: string; id: string }): Promise<PeekedMessage | null> {
    try {
      return (await this.peekRequest(key))[0] ?? null
    } catch (err) {
      if ((err as QueueError).code === "NOT_FOUND") return null
      throw err
    }
  }

  private async peekRequest(args: Record<string, unknown>): Promise<PeekedMessage[]> {
    const r = await this.request(CMD.PEEK, encodeCbor(args))
    return (r.result.messages as Record<string, unknown>[]).map((m, i) => {
      const h = r.data[2 * i] ?? EMPTY
      return {
        ...(m as unknown as PeekedMessage),
        headers: h.length > 0 ? (decodeCbor(h) as Record<string, unknown>) : {},
        body: r.data[2 * i + 1] ?? EMPTY,
      }
    })
  }

  /** Counts per state, oldest age, redeliveries and bytes, per queue (one, or all). */
  async stats(queue?: string): Promise<DeviceStats> {
    const r = await this.request(CMD.STATS, encodeCbor({ queue }))
    return r.result as unknown as DeviceStats
  }

  /** Sets a queue's default ttr and retry policy (fields given replace the old ones). */
  async configure(queue: string, config: QueueConfig): Promise<QueueConfig> {
    const r = await this.request(CMD.CONFIG, encodeCbor({ queue, ...config }))
    return r.result as QueueConfig
  }

  /** A message's history (device started with `trace`): put, each delivery and its outcome, dead letter, kick, trim. */
  async trace(key: { seq: number } | { queue: string; id: string }): Promise<{ seq: number; events: TraceEvent[] }> {
    const r = await this.request(CMD.TRACE, encodeCbor(key))
    const events = (r.result.events as Record<string, unknown>[]).map((e) => {
      const o: Record<string, unknown> = { ...e }
      for (const k of ["seq", "at", "attempt", "readyAt"]) if (o[k] !== undefined) o[k] = int(o[k])
      return o as unknown as TraceEvent
    })
    return { seq: int(r.result.seq), events }
  }

  /** The device's protocol version and limits. */
  async hello(): Promise<Record<string, unknown>> {
    return (await this.request(CMD.HELLO, EMPTY)).result
  }

  /**
   * Closes the client: sends the puts and acks still gathered, waits (up to `timeout` ms,
   * default 2000) for requests in flight, then closes the connection; what is still
   * unanswered fails with CLOSED.
   */
  async close(timeout = 2000): Promise<void> {
    if (this.closed) return
    if (this.putFlushScheduled) this.flushPutsBound()
    if (this.ackScheduled) this.flushAcks()
    await this.closeConnection(timeout)
  }
}
