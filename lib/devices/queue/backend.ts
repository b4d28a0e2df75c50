/**
 * QueueBackend: what the device's server (server/: ROUTER, sessions,
 * protocol, replies) asks of a queue store, at the level of queue
 * operations. The server validates requests and encodes replies; the
 * backend owns messages, their states, leases, timers and durability.
 *
 * Implementations: FileBackend (file-backend.ts: the in-process model over
 * the file journal, what QueueDevice uses by default), MemoryBackend
 * (memory-backend.ts: the same model with nothing stored, for tests), and
 * next a database-backed one. The doc comments below are the contract.
 *
 * Why callbacks (`Done<T>`), not Promises: the embedded backend finishes
 * hundreds of operations at once when a group commit lands, and most others
 * (touch, peek, stats, a reserve with a message ready) at once in the call.
 * A callback runs right there: no Promise and no microtask per request, and
 * a result ready in the call is replied to in the call, so replies and
 * deliveries leave in the order they are produced (CONSUME's OK before its
 * first MSG, CREDIT's OK before the deliveries it allows). An asynchronous
 * backend (a database) simply calls `done` later; the server does not care
 * which. Every operation with a `done` calls it exactly once, with a
 * QueueError (its `code` goes to the client) or with the result, and does
 * not throw. Any other Error passed to `done` is reported as INTERNAL. The
 * few without one (openClient, closeClient, consume, setCredit, cancel)
 * only register or drop in-process state; they may throw a QueueError.
 *
 * Ordering: operations on one backend take effect in the order they are
 * called (a backend that works asynchronously must keep that order per
 * client connection at least: an ACK sent after a PUT's reply sees the put).
 * `done` callbacks of writes run in the order the writes were called.
 */
import type { QueueError } from "./errors.js"

/** How many deliveries a message gets and how long it waits between them (a queue's, over which a message may set any field). */
export interface RetryPolicy {
  /** Deliveries allowed before the message is dead-lettered; 0 = unlimited. Default 0. */
  maxAttempts: number
  /** "fixed": every retry waits `delay`; "exponential": delay * 2^(attempt-1). Default "fixed". */
  backoff: "fixed" | "exponential"
  /** Base wait before a retry, ms. Default 0 (at once). */
  delay: number
  /** Upper bound of the wait, ms (0 = no bound). Default 0. */
  maxDelay: number
  /** 0..1: each wait is shortened by a random fraction up to this (spreads retries). Default 0. */
  jitter: number
}

/** Completion of an operation: `error` set (a QueueError) or `result` given. */
export type Done<T> = (error: QueueError | Error | null, result?: T) => void

/** Options of one message to put (validated by the server). Times in ms. */
export interface PutOptions {
  /** 0 is the most urgent. */
  priority: number
  /** Not deliverable before `delay` ms from the put. */
  delay: number
  /** Lease length; undefined: the queue's config, else the backend's default. */
  ttr: number | undefined
  /** Dead-lettered ("expired") if not acked within `ttl` ms of the put; 0: never. */
  ttl: number
  /** Dedup id (see put). */
  id: string | undefined
  /** The message's own retry fields, over its queue's policy. */
  retry: Partial<RetryPolicy> | undefined
}

/** One message to put: its options, raw CBOR headers (empty: none), body. The backend may keep the buffers. */
export interface NewMessage {
  options: PutOptions
  /** Ordering key (consumer groups: per-key order and rate). */
  key?: string | undefined
  /** Who put it (for the trace), if known. */
  producer?: string | undefined
  headers: Buffer
  body: Buffer
}

export interface PutResult {
  seq: number
  /** Set if the put repeated a dedup id: nothing was stored, `seq` is the first put's. */
  duplicate?: true
}

export interface BatchPutResult {
  /** One seq per item, in item order (a duplicate's is the first put's). */
  seqs: number[]
  /** Indexes of the items that were duplicates, if any. */
  duplicates?: number[] | undefined
}

export interface AckResult {
  /** Pairs settled. */
  acked: number
  /** [pair index, "NOT_FOUND" | "LEASE_LOST"] for the pairs not settled. */
  errors?: [number, string][] | undefined
}

/** Per-queue settings, persisted. */
export interface QueueConfig {
  /** Default lease time of deliveries (ms) for messages put without `ttr`. */
  ttr?: number
  /** Retry policy of the queue's messages (a message's own `retry` fields win). */
  retry?: Partial<RetryPolicy>
  /** Deliveries per second at most (token bucket; for a stream, each group has its own `rate`). */
  rate?: number
  /** Deliveries the rate allows at once after a pause (default: one second's worth, at least 1). */
  burst?: number
  /**
   * What a stream keeps: "acked" (default) drops a message once every group has settled it;
   * "limits" keeps it for replay until maxAge / maxBytes / maxMessages remove it.
   */
  retention?: "acked" | "limits"
  /** A stream drops its oldest messages beyond these (any retention). 0 or absent: no limit. */
  maxAge?: number
  maxBytes?: number
  maxMessages?: number
  /** Paused: puts are stored as usual, nothing is delivered (RESERVEs wait) until it is resumed. A stream's groups all pause. */
  paused?: boolean
}

/** A header condition of a filter: `header` equals `equals`, or is a string starting with `prefix`. "$key" is the message's key. */
export interface HeaderCondition {
  readonly header: string
  readonly equals?: string | number | boolean
  readonly prefix?: string
}

/** A consumer group's settings, persisted. */
export interface GroupConfig {
  /** Only messages matching every condition are delivered to the group; the others are settled for it at once. */
  filter?: readonly HeaderCondition[]
  /** At most this many deliveries per key in flight (default 1: strict order per key). */
  keyConcurrency?: number
  /** Deliveries per second at most for the group, and its burst. */
  rate?: number
  burst?: number
  /** Deliveries per second at most per key, and its burst (default 1). */
  keyRate?: number
  keyBurst?: number
  /** Lease time and retry policy of the group's deliveries (over the queue's). */
  ttr?: number
  retry?: Partial<RetryPolicy>
}

/** Where a group starts or a cursor moves: the oldest stored message, after the newest, an offset (seq), or the first put at or after a time. */
export type StreamPosition = "first" | "last" | { offset: number } | { time: number }

/** A stored message of a stream, as RANGE reads it. */
export interface StoredMessage {
  readonly seq: number
  readonly putAt: number
  readonly priority: number
  readonly id: string | undefined
  readonly key: string | undefined
  readonly headers: Buffer
  readonly body: Buffer
}

/** Per-group figures reported by STATS. */
export interface GroupStats {
  ready: number
  delayed: number
  reserved: number
  buried: number
  /** Deliveries waiting for their key (per-key ordering or rate). */
  blocked: number
  /** Messages the group has still to deliver: not reached by its cursor, or read and waiting (ready, blocked, delayed). */
  lag: number
  /** The next offset the cursor reads, or null if it is after the newest. */
  cursor: number | null
  /** Stored messages below this are settled for the group. */
  floor: number
  consumers: number
  waiting: number
  acks: number
  redeliveries: number
  /** Messages skipped by the group's filter. */
  filtered: number
  /** Times the group's or its keys' rate held a delivery back. */
  throttled: number
  keys: number
}

/** `stored`: a stream message (consumed through groups); `blocked`: a group delivery waiting for its key (or its key's rate). */
export type MessageState = "pending" | "ready" | "delayed" | "reserved" | "buried" | "stored" | "blocked" | "gone"

/**
 * A delivered message as the server encodes it (RESERVE reply, MSG). A
 * backend may hand out its own objects: they are read only during the call
 * that receives them (the server encodes them at once).
 */
export interface DeliveredMessage {
  readonly seq: number
  /** Ordering key, if the producer gave one. */
  readonly key?: string | undefined
  /** Which delivery this is: 1 for the first. */
  readonly attempts: number
  readonly priority: number
  readonly putAt: number
  readonly ttr: number
  readonly id: string | undefined
  readonly headers: Buffer
  readonly body: Buffer
}

/** Everything PEEK shows about a message (the server encodes it as is, headers and body as data frames). */
export interface MessageInfo {
  seq: number
  queue: string
  /** The consumer group whose delivery this is (PEEK of a group). */
  group?: string | undefined
  key?: string | undefined
  state: MessageState
  attempts: number
  priority: number
  putAt: number
  readyAt: number
  ttr: number
  expiresAt: number | undefined
  id: string | undefined
  buryReason: string | undefined
  buriedAt: number | undefined
  lastConsumer: string | undefined
  leaseDeadline: number | undefined
  bytes: number
  headers: Buffer
  body: Buffer
}

/** PEEK: one message by seq, by (queue, dedup id), or the first `count` of a queue in `state`. */
export type PeekQuery =
  | { by: "seq"; seq: number }
  | { by: "id"; queue: string; id: string }
  | {
      by: "state"
      queue: string
      state: "ready" | "delayed" | "reserved" | "buried"
      count: number
      group?: string | undefined
      /** Leave out the first `skip` (paging through a queue). */
      skip?: number | undefined
    }

/** Per-queue figures reported by STATS. */
export interface QueueStats {
  /** Messages by state. `pending`: put, not yet durable. */
  ready: number
  delayed: number
  reserved: number
  buried: number
  pending: number
  /** All live messages (the states above summed). */
  total: number
  /** Age in ms of the oldest live message (0 when empty). */
  oldestAge: number
  /** Deliveries after the first, since the device started. */
  redeliveries: number
  /** Bytes the live messages take in the store. */
  bytes: number
  consumers: number
  /** RESERVE requests waiting. */
  waiting: number
  /** Puts (including recovered messages) and acks since the device started. */
  puts: number
  acks: number
  /** Since the device started: deliveries, nacks, and messages that became dead letters. */
  deliveries: number
  nacks: number
  deadLetters: number
  /** Paused (CONFIG paused): nothing is delivered. */
  paused?: boolean
  /** Times the queue's rate held a delivery back (with a `rate` in its config). */
  throttled?: number
  /** A stream's log and its consumer groups. */
  stream?: StreamStats
}

export interface StreamStats {
  /** The oldest stored offset (null: none stored) and the offset the next put gets at the earliest. */
  firstOffset: number | null
  lastOffset: number | null
  /** Stored messages dropped by retention since the device started. */
  trimmed: number
  retention: "acked" | "limits"
  groups: Record<string, GroupStats>
}

/**
 * A client connection as the backend knows it (from openClient): who holds
 * leases, waits in RESERVE and owns subscriptions. The server keeps it with
 * its session and passes it back; it is opaque apart from these fields.
 */
export interface ClientHandle {
  /** Default consumer name (reported as lastConsumer). */
  readonly name: string
  /** True while it holds no lease, waits in no RESERVE and has no subscription (the server may forget it). */
  readonly idle: boolean
}

/** A CONSUME subscription (from consume), passed back to setCredit / cancel. */
export interface SubscriptionHandle {
  readonly queue: string
}

/** What happened to a message (traces, lifecycle events). */
export type TraceEventType = "put" | "deliver" | "ack" | "retry" | "dead" | "kick" | "trim"

export interface TraceEvent {
  readonly type: TraceEventType
  readonly queue: string
  /** The consumer group, for a stream's deliveries. */
  readonly group?: string | undefined
  readonly seq: number
  /** ms since the epoch. */
  readonly at: number
  /** Delivery attempt (deliver, ack, retry, dead). */
  readonly attempt?: number | undefined
  /** Consumer (deliver, ack, retry, dead) or producer (put: its connection id in hex). */
  readonly by?: string | undefined
  /** retry: "nack" | "ttr" | "disconnect"; dead: the dead-letter reason; trim: "retention". */
  readonly reason?: string | undefined
  /** retry: when it is ready again. */
  readonly readyAt?: number | undefined
  /** put: the dedup id and ordering key, if any. */
  readonly id?: string | undefined
  readonly key?: string | undefined
  /** deliver: when the message was put (ms since the epoch). */
  readonly putAt?: number | undefined
}

export type TraceObserver = (e: TraceEvent) => void

/** CONSUME of a stream: the group to read it through, and a filter of this subscription's own. */
export interface ConsumeOptions {
  group?: string | undefined
  filter?: readonly HeaderCondition[] | undefined
}

/** Receives the deliveries of a subscription: messages of `queue`, each now leased to its client. */
export type DeliverySink = (queue: string, messages: readonly DeliveredMessage[]) => void

export interface QueueBackend {
  /**
   * PUT. The message is "confirmed" when `done` gets its result: from then
   * on it survives a crash to the degree the backend's durability setting
   * promises (the file backend with fsync "always": it is on disk). It
   * becomes visible to consumers no earlier than its confirmation (ready,
   * or delayed by `delay`). If `options.id` repeats the id of a put to the
   * same queue within the dedup window, nothing is stored and the result
   * is the first put's seq with `duplicate`. On a store failure: QueueError
   * STORE_FAILED, and the message does not exist.
   */
  put(queue: string, message: NewMessage, done: Done<PutResult>): void

  /**
   * PUTB: like put for each item, atomically: all new items are confirmed
   * (and become visible) together or none is stored. Duplicates, also of
   * an earlier item of the same batch, store nothing.
   */
  putBatch(queue: string, items: readonly NewMessage[], done: Done<BatchPutResult>): void

  /** A client connection appeared; its handle names it in the calls below. */
  openClient(name: string): ClientHandle

  /**
   * The client is gone: its leases end now (each message counts as a
   * failed delivery for its retry policy, without backoff: ready at once or
   * dead-lettered), its waiting reserves are dropped without reply, its
   * subscriptions end. The handle is not used again.
   */
  closeClient(client: ClientHandle): void

  /**
   * RESERVE: leases the most urgent ready message of `queue` (lowest
   * priority number, then oldest) to `client` for its ttr, and calls `done`
   * with it; if none is ready, waits up to `timeout` ms (undefined: no
   * limit; 0: no wait) and calls `done` with null when the time is up.
   * Waiting reserves are served before subscriptions, oldest first. A
   * leased message is "reserved" until acked, nacked, buried or its lease
   * ends (ttr passed, client gone): then it is redelivered with
   * attempts + 1 or dead-lettered. Leases do not survive a restart: after
   * one, every message that was leased is ready again with its attempts as
   * they were.
   */
  reserve(
    client: ClientHandle,
    queue: string,
    timeout: number | undefined,
    consumer: string,
    done: Done<DeliveredMessage | null>,
    /** A stream is read through one of its groups (required for a stream, refused for a queue). */
    group?: string,
  ): void

  /**
   * CONSUME: from now on, ready messages of `queue` are leased to `client`
   * and pushed to `sink` while fewer than `credit` of this subscription's
   * deliveries are unsettled, round-robin with the queue's other
   * subscriptions. The backend pushes whenever work becomes ready: a put
   * confirmed, a delay maturing, a lease ending (ttr, nack, disconnect), a
   * kick, credit freed by a settle. It owns the timers for all of these.
   */
  consume(
    client: ClientHandle,
    queue: string,
    credit: number,
    consumer: string,
    sink: DeliverySink,
    options?: ConsumeOptions,
  ): SubscriptionHandle

  /** CREDIT: the subscription's credit is now `credit` (more deliveries may follow at once). */
  setCredit(sub: SubscriptionHandle, credit: number): void

  /** CANCEL: no more deliveries to `sub`; what it holds stays leased until settled or its lease ends. */
  cancel(sub: SubscriptionHandle): void

  /**
   * ACK of [seq, attempt, seq, attempt, ...]: each pair leased to `client`
   * as that attempt is removed for good. `done` runs once the removals are
   * durable (as put's confirmation): after an acked result, the message is
   * never delivered again, even after a crash. Pairs not held (lease lost,
   * no such message) are reported per pair, the others still settle.
   */
  ack(client: ClientHandle, pairs: readonly number[], done: Done<AckResult>): void

  /**
   * NACK: the delivery failed. Redelivered after `delay` ms (undefined: the
   * retry policy's backoff), or dead-lettered ("max-attempts", or "expired"
   * if its TTL passed). `done` gets the new state once durable. NOT_FOUND /
   * LEASE_LOST if the client does not hold that attempt.
   */
  nack(client: ClientHandle, seq: number, attempt: number, delay: number | undefined, done: Done<MessageState>): void

  /** TOUCH: the lease now ends `ttr` ms from now (undefined: the message's ttr). `done` gets the new deadline (ms since the epoch). Not persisted. */
  touch(client: ClientHandle, seq: number, attempt: number, ttr: number | undefined, done: Done<number>): void

  /** BURY: into the queue's dead letters with `reason`; `done` once durable. */
  bury(client: ClientHandle, seq: number, attempt: number, reason: string, done: Done<void>): void

  /**
   * KICK: dead letters of `queue` back to ready with attempts reset and no
   * TTL: the one with `seq` (NOT_FOUND if it is not a dead letter of that
   * queue), else up to `count`, oldest burial first. `done` gets how many,
   * once durable.
   */
  kick(queue: string, count: number, seq: number | undefined, done: Done<number>, group?: string): void

  /**
   * PURGE: drops every message of `queue` in `states` (ready, delayed, buried; never a leased
   * one), as acks would; `done` gets how many, once durable. A stream refuses (BAD_OPTION):
   * its messages go by retention.
   */
  purge(queue: string, states: readonly ("ready" | "delayed" | "buried")[], done: Done<number>): void

  /** CONFIG: replaces the given fields of the queue's settings; `done` gets the whole config, once durable. */
  configure(queue: string, config: QueueConfig, done: Done<QueueConfig>): void

  /**
   * GROUP: creates consumer group `name` of `queue`, reading from `start` (default "first"), or
   * replaces an existing group's config (its cursor stays). The first group makes the queue a
   * stream: its messages are stored as a log and read by every group (NOT allowed on a queue that
   * holds messages consumed without groups: BAD_REQUEST). `done` gets the group's floor (the
   * first offset it reads) and whether it was created, once durable.
   */
  group(
    queue: string,
    name: string,
    config: GroupConfig,
    start: StreamPosition | undefined,
    done: Done<{ created: boolean; floor: number }>,
  ): void

  /** UNGROUP: deletes the group (NOT_FOUND if none); its deliveries in flight are dropped. */
  ungroup(queue: string, name: string, done: Done<void>): void

  /**
   * SEEK: the group reads from `to` next (replay, or skip ahead): what it had not delivered or
   * waits to retry is read again from there; deliveries in flight and dead letters stay.
   * `done` gets the offset it reads next, once durable.
   */
  seek(queue: string, name: string, to: StreamPosition, done: Done<number>): void

  /** RANGE: up to `count` stored messages of a stream from `from`, without a group; `next` is the offset after the last. */
  range(queue: string, from: StreamPosition, count: number, done: Done<{ messages: readonly StoredMessage[]; next: number }>): void

  /** PEEK: messages as they are now, without changing anything. By seq or id: NOT_FOUND if there is none. */
  peek(query: PeekQuery, done: Done<MessageInfo[]>): void

  /** STATS of one queue (created if new) or of all. */
  stats(queue: string | undefined, done: Done<Record<string, QueueStats>>): void

  /** Receives every message's lifecycle events from now on (null: none). Optional: a backend without it has no traces. */
  observe?(observer: TraceObserver | null): void

  /** Told how long each store sync (a group commit's fdatasync or database write) took, in seconds (null: nobody). Optional. */
  observeSyncs?(observer: ((seconds: number) => void) | null): void

  /** Backend-wide figures merged into STATS (the file backend: segment, diskBytes, checkpoints, fsyncs, fsync). */
  info(): Record<string, unknown>

  /** Live (unsettled) messages in all queues. */
  readonly messageCount: number

  /**
   * Stops deliveries and timers and finishes what was accepted: every
   * pending `done` is called (confirmed, or failed) before the Promise
   * resolves. Nothing is called after.
   */
  close(): Promise<void>
}
