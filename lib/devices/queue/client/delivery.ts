/** What a consumer receives (Delivery) and the async-iterable subscription (QueueConsumer). */
import { decodeCbor } from "../cbor.js"
import { QueueError } from "../errors.js"
import type { HeaderCondition } from "../backend.js"
import type { DeliveryTrace } from "./tracing.js"
import { TRACEPARENT, TRACESTATE } from "./trace-context.js"

/** The client operations a Delivery and a QueueConsumer use. */
export interface DeliveryHost {
  ackDelivery(d: Delivery): Promise<void>
  nackDelivery(d: Delivery, delay: number | undefined): Promise<"ready" | "delayed" | "buried">
  touchDelivery(d: Delivery, ttr: number | undefined): Promise<number>
  buryDelivery(d: Delivery, reason: string | undefined): Promise<void>
  cancelConsumer(c: QueueConsumer): Promise<void>
  creditConsumer(c: QueueConsumer, credit: number): Promise<void>
}

/**
 * A delivery's OpenTelemetry span as this package types it (without depending on
 * `@opentelemetry/api`): at run time it is the API's Span, so `delivery.span as Span` is fine.
 */
export interface TraceSpan {
  spanContext(): { traceId: string; spanId: string; traceFlags: number }
  isRecording(): boolean
  setAttribute(key: string, value: string | number | boolean): unknown
  addEvent(name: string, attributes?: Record<string, string | number | boolean>): unknown
}

const num = (v: unknown): number => (typeof v === "bigint" ? Number(v) : (v as number))

/** A leased message. Settle it with ack(), nack(), bury(), or keep it longer with touch(). */
export class Delivery {
  /** The device's sequence number of the message (unique per device). */
  readonly seq: number
  /** Which delivery this is: 1 for the first, 2 for the first redelivery, ... */
  readonly attempt: number
  readonly queue: string
  readonly priority: number
  /** When it was put (ms since the epoch). */
  readonly putAt: number
  /** Lease length, ms: unsettled after this long, the message is delivered again. */
  readonly ttr: number
  /** The producer's dedup id, if it gave one. */
  readonly id: string | undefined
  /** The ordering key, if the producer gave one. */
  readonly key: string | undefined
  /** The consumer group it was delivered through (a stream), if any. */
  readonly group: string | undefined
  /** The stream offset of the message (its seq). */
  get offset(): number {
    return this.seq
  }
  readonly body: Buffer
  private rawHeaders: Buffer
  private decoded: Record<string, unknown> | undefined
  /** @internal The consumer span (OpenTelemetry present, a tracer provider registered, tracing on). */
  trace: DeliveryTrace | undefined = undefined

  /** @internal */
  constructor(
    private readonly host: DeliveryHost,
    queue: string,
    seq: number,
    attempt: number,
    priority: number,
    putAt: number,
    ttr: number,
    id: string | undefined,
    key: string | undefined,
    headers: Buffer,
    body: Buffer,
    group: string | undefined,
  ) {
    this.seq = seq
    this.attempt = attempt
    this.queue = queue
    this.priority = priority
    this.putAt = putAt
    this.ttr = ttr
    this.id = id
    this.key = key
    this.group = group
    this.rawHeaders = headers
    this.body = body
  }

  /** @internal From the wire tuple [seq, attempt, priority, putAt, ttr, id, key?] as the general decoder gives it. */
  static fromTuple(host: DeliveryHost, queue: string, t: readonly unknown[], headers: Buffer, body: Buffer, group?: string): Delivery {
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)
    return new Delivery(host, queue, num(t[0]), num(t[1]), num(t[2]), num(t[3]), num(t[4]), str(t[5]), str(t[6]), headers, body, group)
  }

  /** The producer's headers (decoded from CBOR on first access). */
  get headers(): Record<string, unknown> {
    if (this.decoded === undefined) {
      this.decoded = this.rawHeaders.length === 0 ? {} : (decodeCbor(this.rawHeaders) as Record<string, unknown>)
      this.rawHeaders = Buffer.alloc(0)
    }
    return this.decoded
  }

  /**
   * The W3C `traceparent` header the producer's put carried (a QueueClient with OpenTelemetry
   * sets it), as stored: the device does not check it. Undefined if there is none (or it is not text).
   */
  get traceparent(): string | undefined {
    const v = this.headers[TRACEPARENT]
    return typeof v === "string" ? v : undefined
  }

  /** The `tracestate` header, if the put carried one. */
  get tracestate(): string | undefined {
    const v = this.headers[TRACESTATE]
    return typeof v === "string" ? v : undefined
  }

  /**
   * The consumer span of this delivery ("<queue> process", kind CONSUMER, child of and linked to
   * the producer's span), ended when it is settled; undefined without OpenTelemetry (the
   * `@opentelemetry/api` package and a registered tracer provider) or with `tracing: false`.
   */
  get span(): TraceSpan | undefined {
    return this.trace?.span
  }

  /** Runs `fn` with this delivery's span as the active span (spans `fn` starts are its children); just runs it without one. */
  withSpan<T>(fn: () => T): T {
    const t = this.trace
    return t === undefined ? fn() : t.owner.run(t, fn)
  }

  /**
   * Done: the message is removed. Acks are sent in batches (one request per
   * event-loop turn). Resolves once the ack is durable; rejects with
   * LEASE_LOST if the lease had already ended. A rejection nobody awaits is
   * dropped (the message will simply be delivered again).
   */
  ack(): Promise<void> {
    return this.host.ackDelivery(this)
  }

  /** Failed: retry after `delay` ms (default: the retry policy's backoff), or dead-letter once attempts are used up. */
  nack(options: { delay?: number } = {}): Promise<"ready" | "delayed" | "buried"> {
    return this.host.nackDelivery(this, options.delay)
  }

  /** Extends the lease to `ttr` ms from now (default: the message's ttr). Resolves with the new deadline. */
  touch(options: { ttr?: number } = {}): Promise<number> {
    return this.host.touchDelivery(this, options.ttr)
  }

  /** Moves the message to its queue's dead-letter queue with `reason`. */
  bury(reason?: string): Promise<void> {
    return this.host.buryDelivery(this, reason)
  }
}

/**
 * A CONSUME subscription: the device pushes messages while fewer than
 * `credit` of them are unsettled. Iterate it with `for await`; the loop ends
 * when the consumer or its client is closed.
 */
export class QueueConsumer implements AsyncIterable<Delivery> {
  private readonly buffer: Delivery[] = []
  private head = 0
  private waiter: { resolve: (r: IteratorResult<Delivery, undefined>) => void; reject: (e: Error) => void } | null = null
  private ended = false
  private failure: Error | undefined
  /** @internal Subscription tag: the request id of the current CONSUME. */
  tag = 0

  /** @internal */
  constructor(
    private readonly host: DeliveryHost,
    readonly queue: string,
    /** Most unsettled deliveries at once. */
    public credit: number,
    readonly consumerName: string | undefined,
    readonly group?: string,
    readonly filter?: readonly HeaderCondition[],
  ) {}

  /** True once closed (or the client closed). */
  get closed(): boolean {
    return this.ended
  }

  /** Deliveries received and not yet taken by the iterator. */
  get buffered(): number {
    return this.buffer.length - this.head
  }

  /** @internal */
  push(d: Delivery): void {
    if (this.ended) return
    const w = this.waiter
    if (w !== null) {
      this.waiter = null
      w.resolve({ value: d, done: false })
    } else this.buffer.push(d)
  }

  /** @internal Drops buffered deliveries (their leases were released by a disconnect). */
  dropBuffered(): void {
    for (let i = this.head; i < this.buffer.length; i++) {
      const t = this.buffer[i]!.trace
      if (t !== undefined) t.owner.settle(t, "not processed: the subscription ended or the connection was lost")
    }
    this.buffer.length = 0
    this.head = 0
  }

  /** @internal Ends iteration (with an error, if given). */
  end(error?: Error): void {
    if (this.ended) return
    this.ended = true
    this.failure = error
    this.dropBuffered()
    const w = this.waiter
    this.waiter = null
    if (w !== null) {
      if (error) w.reject(error)
      else w.resolve({ value: undefined, done: true })
    }
  }

  /** The next delivery (waits for one); done once closed. */
  next(): Promise<IteratorResult<Delivery, undefined>> {
    if (this.head < this.buffer.length) {
      const d = this.buffer[this.head]!
      this.buffer[this.head++] = undefined as unknown as Delivery
      if (this.head === this.buffer.length) {
        this.buffer.length = 0
        this.head = 0
      } else if (this.head > 1024 && this.head * 2 > this.buffer.length) {
        this.buffer.splice(0, this.head)
        this.head = 0
      }
      return Promise.resolve({ value: d, done: false })
    }
    if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true })
    if (this.waiter !== null) return Promise.reject(new QueueError("BAD_REQUEST", "next() called while another next() is waiting"))
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }))
  }

  /** Changes the credit (most unsettled deliveries at once). */
  setCredit(credit: number): Promise<void> {
    this.credit = credit
    return this.host.creditConsumer(this, credit)
  }

  /** Stops deliveries (messages already delivered stay leased until settled) and ends iteration. */
  async close(): Promise<void> {
    if (this.ended) return
    this.end()
    await this.host.cancelConsumer(this)
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close().catch(() => {})
        return { value: undefined, done: true }
      },
    }
  }
}
