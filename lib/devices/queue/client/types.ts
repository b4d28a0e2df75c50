/** Option and result types of QueueClient. */
import type { Dealer } from "../../../sockets/dealer.js"
import type { SocketOptions } from "../../../sockets/types.js"
import type { GroupConfig, HeaderCondition, QueueStats } from "../backend.js"
import type { RetryPolicy } from "../backend.js"

export interface QueueClientOptions {
  /** Most requests awaiting a reply at once; further calls wait for a slot. Default 10000. */
  maxInFlight?: number
  /** Reported as `lastConsumer` of messages this client reserves (default: its connection id in hex). */
  consumerName?: string
  /** Options of the underlying DEALER (reconnectInterval, heartbeats, CURVE keys, ...). */
  socket?: SocketOptions<Dealer>
  /** With several endpoints: move to the next device after this long without a connection (ms). Default 1000. */
  failoverMs?: number
  /**
   * OpenTelemetry spans for puts (PRODUCER, "<queue> publish") and deliveries (CONSUMER, "<queue> process"), with
   * the producer's context carried in the `traceparent` header. On by default where the optional peer dependency
   * `@opentelemetry/api` is installed and a tracer provider is registered; false: no spans and no headers added.
   */
  tracing?: boolean
}

/** Options of one put. Times are in ms. */
export interface PutOptions {
  /** 0 is the most urgent; default 1024. */
  priority?: number
  /** Not deliverable before this many ms from now. */
  delay?: number
  /** Lease length of each delivery (default: the queue's, else the device's, 30 s). */
  ttr?: number
  /** Dead-lettered ("expired") if not acked within this many ms from the put. 0: never. */
  ttl?: number
  /** Dedup id: a put with an id already used in this queue within the device's window stores nothing and gets the first put's result. */
  id?: string
  /** Any CBOR-encodable map, delivered with the message. */
  headers?: Record<string, unknown>
  /** Overrides fields of the queue's retry policy for this message. */
  retry?: Partial<RetryPolicy>
  /** Ordering key: a consumer group delivers a key's messages in order, at most `keyConcurrency` at a time. */
  key?: string
}

/** Where a group starts or moves to: "first", "last" (after the newest), an offset, a Date or {time} (ms since the epoch), or {offset}. */
export type StreamPosition = "first" | "last" | number | Date | { offset: number } | { time: number }

/** A consumer group's settings (GROUP), and where a new one starts. */
export interface GroupOptions extends GroupConfig {
  start?: StreamPosition
}

export interface ConsumeOptions {
  /** Most unsettled deliveries at once (default 100). */
  credit?: number
  consumer?: string
  /** A stream is consumed through one of its consumer groups. */
  group?: string
  /** Only messages matching every condition come to this subscription (others go to the group's other consumers). */
  filter?: readonly HeaderCondition[]
}

/** A stored message of a stream, read by range(). */
export interface StoredMessage {
  offset: number
  putAt: number
  priority: number
  id: string | undefined
  key: string | undefined
  readonly headers: Record<string, unknown>
  rawHeaders: Buffer
  body: Buffer
}

export interface RangeResult {
  messages: StoredMessage[]
  /** The offset to read from next. */
  next: number
}

export interface PutResult {
  seq: number
  /** True if `id` was seen before: nothing was stored, `seq` is the first put's. */
  duplicate: boolean
}

export interface BatchMessage extends PutOptions {
  body: Buffer | Uint8Array | string
}

/** A message as PEEK shows it. */
export interface PeekedMessage {
  seq: number
  queue: string
  state: "ready" | "delayed" | "reserved" | "buried" | "pending" | "stored" | "blocked"
  /** The consumer group whose delivery this is (a PEEK of a group). */
  group?: string
  key?: string
  attempts: number
  priority: number
  putAt: number
  readyAt: number
  ttr: number
  expiresAt?: number
  id?: string
  buryReason?: string
  buriedAt?: number
  lastConsumer?: string
  leaseDeadline?: number
  headers: Record<string, unknown>
  body: Buffer
}

export interface DeviceStats {
  uptime: number
  segment: number
  diskBytes: number
  checkpoints: number
  /** fdatasync calls on the log since the device started. */
  fsyncs: number
  clients: number
  fsync: string
  queues: Record<string, QueueStats>
}
