/**
 * The in-process backends' common part: QueueBackend over a QueueModel
 * (model/), whatever journal the model writes to. FileBackend gives it the
 * file journal, MemoryBackend one that stores nothing.
 *
 * The model throws QueueError for a refused operation (LEASE_LOST,
 * NOT_FOUND, ...) before it changes anything, and the journal throws once a
 * write has failed; here both become the `done` call the interface promises.
 */
import type {
  AckResult,
  BatchPutResult,
  ClientHandle,
  DeliveredMessage,
  DeliverySink,
  Done,
  MessageInfo,
  MessageState,
  NewMessage,
  PeekQuery,
  PutResult,
  QueueBackend,
  QueueConfig,
  QueueStats,
  SubscriptionHandle,
  ConsumeOptions,
  GroupConfig,
  StreamPosition,
  StoredMessage,
  TraceObserver,
} from "./backend.js"
import { QueueError } from "./errors.js"
import { messageInfo, peek, stats } from "./model/inspect.js"
import type { Consumer, LeaseHolder } from "./model/message.js"
import type { QueueModel } from "./model/model.js"

export abstract class ModelBackend implements QueueBackend {
  /** The model served; a backend may replace it (PgBackend after its database came back). */
  constructor(public model: QueueModel) {}

  /** @internal What a thrown error means to the client. */
  protected failure(err: unknown): QueueError {
    if (err instanceof QueueError) return err
    const failed = this.model.state.journal.failed
    if (failed !== undefined) return new QueueError("STORE_FAILED", `the device could not write: ${failed.message}`)
    return new QueueError("INTERNAL", (err as Error).message)
  }

  put(queue: string, message: NewMessage, done: Done<PutResult>): void {
    try {
      this.model.put(queue, message, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  putBatch(queue: string, items: readonly NewMessage[], done: Done<BatchPutResult>): void {
    try {
      this.model.putBatch(queue, items, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  openClient(name: string): ClientHandle {
    return this.model.openClient(name)
  }

  closeClient(client: ClientHandle): void {
    try {
      this.model.closeClient(client as LeaseHolder)
    } catch (err) {
      // The releases of its leases could not be logged (a failed store): they are not durable
      // anyway, and after the restart the store needs every one of them is ready again.
      if (this.model.state.journal.failed === undefined) throw err
    }
  }

  reserve(
    client: ClientHandle,
    queue: string,
    timeout: number | undefined,
    consumer: string,
    done: Done<DeliveredMessage | null>,
    group?: string,
  ): void {
    try {
      this.model.reserve(client as LeaseHolder, queue, timeout, consumer, done, group)
    } catch (err) {
      done(this.failure(err))
    }
  }

  // These deliver at once, and a delivery may dead-letter an expired message (a write): what a
  // failed journal throws becomes the QueueError the interface allows.
  consume(
    client: ClientHandle,
    queue: string,
    credit: number,
    consumer: string,
    sink: DeliverySink,
    options?: ConsumeOptions,
  ): SubscriptionHandle {
    try {
      return this.model.consume(client as LeaseHolder, queue, credit, consumer, sink, options?.group, options?.filter)
    } catch (err) {
      throw this.failure(err)
    }
  }

  setCredit(sub: SubscriptionHandle, credit: number): void {
    try {
      this.model.setCredit(sub as Consumer, credit)
    } catch (err) {
      throw this.failure(err)
    }
  }

  cancel(sub: SubscriptionHandle): void {
    this.model.cancel(sub as Consumer)
  }

  ack(client: ClientHandle, pairs: readonly number[], done: Done<AckResult>): void {
    try {
      this.model.ack(client as LeaseHolder, pairs, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  nack(client: ClientHandle, seq: number, attempt: number, delay: number | undefined, done: Done<MessageState>): void {
    try {
      this.model.nack(client as LeaseHolder, seq, attempt, delay, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  touch(client: ClientHandle, seq: number, attempt: number, ttr: number | undefined, done: Done<number>): void {
    let deadline: number
    try {
      deadline = this.model.touch(client as LeaseHolder, seq, attempt, ttr)
    } catch (err) {
      done(this.failure(err))
      return
    }
    done(null, deadline)
  }

  bury(client: ClientHandle, seq: number, attempt: number, reason: string, done: Done<void>): void {
    try {
      this.model.buryLeased(client as LeaseHolder, seq, attempt, reason, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  kick(queue: string, count: number, seq: number | undefined, done: Done<number>, group?: string): void {
    try {
      this.model.kick(queue, count, seq, done, group)
    } catch (err) {
      done(this.failure(err))
    }
  }

  purge(queue: string, states: readonly ("ready" | "delayed" | "buried")[], done: Done<number>): void {
    try {
      this.model.purge(queue, states, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  configure(queue: string, config: QueueConfig, done: Done<QueueConfig>): void {
    try {
      this.model.configure(queue, config, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  group(
    queue: string,
    name: string,
    config: GroupConfig,
    start: StreamPosition | undefined,
    done: Done<{ created: boolean; floor: number }>,
  ): void {
    try {
      this.model.group(queue, name, config, start, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  ungroup(queue: string, name: string, done: Done<void>): void {
    try {
      this.model.ungroup(queue, name, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  seek(queue: string, name: string, to: StreamPosition, done: Done<number>): void {
    try {
      this.model.seek(queue, name, to, done)
    } catch (err) {
      done(this.failure(err))
    }
  }

  range(queue: string, from: StreamPosition, count: number, done: Done<{ messages: readonly StoredMessage[]; next: number }>): void {
    let r: { messages: StoredMessage[]; next: number }
    try {
      r = this.model.range(queue, from, count)
    } catch (err) {
      done(this.failure(err))
      return
    }
    done(null, r)
  }

  peek(query: PeekQuery, done: Done<MessageInfo[]>): void {
    let found: MessageInfo[]
    try {
      found = peek(this.model.state, query).map(messageInfo)
    } catch (err) {
      done(this.failure(err))
      return
    }
    done(null, found)
  }

  stats(queue: string | undefined, done: Done<Record<string, QueueStats>>): void {
    done(null, stats(this.model.state, queue))
  }

  observe(observer: TraceObserver | null): void {
    this.model.state.observer = observer
  }

  get messageCount(): number {
    return this.model.state.bySeq.size
  }

  abstract info(): Record<string, unknown>
  abstract close(): Promise<void>
}
