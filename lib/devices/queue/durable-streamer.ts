/**
 * A durable streamer: PULL in, PUSH out, with the queue store between them, for unmodified
 * ZeroMQ peers in any language. A slow or absent consumer no longer blocks the producers (a
 * plain streamer's PUSH waits at its HWM): the backlog goes to disk, in order, and survives a
 * restart of the device.
 *
 * What is guaranteed: a message the device has read is stored (with the fsync policy's
 * durability) before more is read, and is removed from the store only once the back end's PUSH
 * has taken it (queued for a connected peer). After a restart every message not yet taken is
 * sent. ZeroMQ has no end-to-end acknowledgement, so what was handed to a connection when the
 * device stopped is the peer's (at most once for those, exactly as a plain streamer). What the
 * PUSH had taken but whose removal was not yet on disk is sent again after a restart.
 * Messages are stored as stored-frames.ts says; docs/durable-devices.md describes both devices.
 */
import { Pull } from "../../sockets/pull.js"
import { Push } from "../../sockets/push.js"
import { Deque } from "../../pipe/deque.js"
import type { ClientHandle, DeliveredMessage, NewMessage, SubscriptionHandle } from "./backend.js"
import type { FileBackend } from "./file-backend.js"
import { LEASE_UNTIL_CLOSED, attachEnds, openDeviceStore, type DurableDeviceOptions } from "./device-store.js"
import type { FsyncPolicy } from "./journal/store.js"
import { storedFrames, storedMessage } from "./stored-frames.js"

/** frontEnd: the PULL (producers); backEnd: the PUSH (consumers). */
export interface DurableStreamerOptions extends DurableDeviceOptions {
  /** Default "always": a message is on disk before the next is read. */
  fsync?: FsyncPolicy
  /** The store's queue name (default "stream"). */
  queue?: string
  /** Messages handed to the PUSH and not yet taken by it, at most (default 1000). */
  window?: number
}

/** A delivery from the store: where it is (for the ack) and its message (a single frame as it is). */
interface Held {
  seq: number
  attempts: number
  message: Buffer | Buffer[]
}

export class DurableStreamer {
  readonly pull = new Pull({ linger: 0 })
  /** Lingers on close so that what it took (and was acked in the store) still reaches its peers. */
  readonly push = new Push({ linger: 2000, sendTimeout: -1 })
  private readonly backend: FileBackend
  private readonly client: ClientHandle
  private sub: SubscriptionHandle | undefined
  private readonly queue: string
  private closed = false
  private reading: Promise<void> | undefined
  /** Deliveries not yet taken by the PUSH, oldest first. */
  private readonly held = new Deque<Held>()
  /** A send waiting for room in the PUSH (then the rest of `held` follows). */
  private waiting: Promise<void> | undefined

  private constructor(private readonly options: DurableStreamerOptions) {
    this.queue = options.queue ?? "stream"
    // A delivery is settled as soon as the PUSH takes it; a lease only ends with the device.
    this.backend = openDeviceStore(options.dir, options.fsync, { dedupWindowMs: 0, defaultTtr: LEASE_UNTIL_CLOSED })
    this.client = this.backend.openClient("durable-streamer")
  }

  /** Opens the store (recovering what a previous run left), binds and connects, and starts moving messages. */
  static async start(options: DurableStreamerOptions): Promise<DurableStreamer> {
    const d = new DurableStreamer(options)
    try {
      await attachEnds(d.push, options.backEnd)
      await attachEnds(d.pull, options.frontEnd)
    } catch (err) {
      await d.close()
      throw err
    }
    d.sub = d.backend.consume(d.client, d.queue, options.window ?? 1000, "durable-streamer", (_q, messages) => d.deliver(messages))
    d.reading = d.readLoop()
    return d
  }

  /** Reads what producers send, in batches, and stores each batch before reading on. */
  private async readLoop(): Promise<void> {
    const max = this.options.batch ?? 1000
    while (!this.closed) {
      let first: Buffer[]
      try {
        first = await this.pull.receive()
      } catch {
        return // closed
      }
      // Every message is stored, so a frame may stay a slice of its network read: no copy.
      const items: NewMessage[] = [storedMessage(first, false)]
      // What is queued already goes into the same batch (one store write for many messages), taken
      // without a Promise each.
      try {
        for (let m = this.pull.receiveNow(); m !== undefined; m = items.length < max ? this.pull.receiveNow() : undefined) {
          items.push(storedMessage(m, false))
        }
      } catch {
        return // closed
      }
      await new Promise<void>((resolve, reject) => this.backend.putBatch(this.queue, items, (err) => (err ? reject(err) : resolve())))
    }
  }

  /** Deliveries from the store go out on the PUSH in order; each is acked once the PUSH took it. */
  private deliver(messages: readonly DeliveredMessage[]): void {
    // Copied: the backend's objects are valid only during this call (their buffers stay valid).
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!
      const frames = storedFrames(m.headers, m.body)
      this.held.push({ seq: m.seq, attempts: m.attempts, message: frames.length === 1 ? frames[0]! : frames })
    }
    if (this.waiting === undefined) this.pump()
  }

  /**
   * Hands held deliveries to the PUSH while it has room (it takes them at once: no Promise per
   * message), then acks what it took: one store write per run, not one per message. When the
   * PUSH is full, one send waits for room and the rest follows it.
   */
  private pump(): void {
    // An ack can deliver more, and so call back here, while a send waits: that send goes first.
    if (this.waiting !== undefined) return
    const push = this.push
    try {
      for (let h = this.held.peek(); h !== undefined && !this.closed; h = this.held.peek()) {
        this.held.shift()
        if (!push.writable) {
          this.waiting = push.send(h.message).then(
            () => {
              this.waiting = undefined
              this.taken(h)
              this.pump()
            },
            // Closed: what was not taken stays leased and is sent after a restart.
            () => {},
          )
          break
        }
        void push.sendPipelined(Array.isArray(h.message) ? h.message : [h.message])
        this.taken(h)
      }
    } catch {
      // Closed, as above.
    }
  }

  /** What the PUSH took, to ack: once the current deliveries are all handed over (one store write for all of them). */
  private unacked: number[] = []

  private taken(h: Held): void {
    if (this.unacked.length === 0) queueMicrotask(() => this.ackTaken())
    this.unacked.push(h.seq, h.attempts)
  }

  /** Acks what was taken; the credit it frees brings the next deliveries (and so the next pump). */
  private ackTaken(): void {
    const pairs = this.unacked
    this.unacked = []
    this.backend.ack(this.client, pairs, () => {})
  }

  /** Messages stored and not yet taken by the back end. */
  backlog(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.backend.stats(this.queue, (err, s) =>
        err ? reject(err) : resolve((s?.[this.queue]?.ready ?? 0) + (s?.[this.queue]?.reserved ?? 0)),
      ),
    )
  }

  /** Stops reading and sending, closes the sockets and the store. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.pull.close()
    this.push.close()
    if (this.sub !== undefined) this.backend.cancel(this.sub)
    await this.reading?.catch(() => {})
    await this.waiting
    await this.backend.close()
  }
}
