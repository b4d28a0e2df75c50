/**
 * A pipe joins a socket to one peer connection. It holds two HWM-bounded
 * queues of whole messages: `out` (socket → engine) and `in` (engine →
 * socket). The socket's routing strategy writes to and reads from pipes;
 * the engine drains `out` onto the wire and fills `in` from it.
 *
 * A pipe made by a connecting socket outlives its connections: messages
 * queued while the peer is away are sent after a reconnect, as libzmq does.
 */
import type { Metadata } from "../wire/metadata.js"
import { copySmall } from "../message.js"
import { MessageQueue } from "./message-queue.js"
import type { SendSlab } from "./send-slab.js"

export type Message = Buffer[]

/** What an engine offers to its pipe. */
export interface PipeEngine {
  /** There is something in `out` to send. */
  scheduleFlush(): void
  /** The socket read from `in` enough that the engine may read from the wire again. */
  resumeReading(): void
  /**
   * Sends a subscription upstream in the form the peer understands (a
   * SUBSCRIBE/CANCEL command for ZMTP 3.1, a 0x01/0x00 message for 3.0).
   */
  sendSubscription(subscribe: boolean, topic: Buffer): void
  /** Closes the connection (after writing what is queued, for up to `lingerMs`; 0 = at once). */
  close(lingerMs: number): void
}

/** What a socket learns from its pipes. */
export interface PipeOwner {
  /** `in` went from empty to non-empty. */
  pipeReadable(pipe: Pipe): void
  /** `out` went from full to having room (or the pipe got an engine). */
  pipeWritable(pipe: Pipe): void
  /** A command frame that is not part of the handshake or heartbeat arrived (SUBSCRIBE, CANCEL). */
  pipeCommand?(pipe: Pipe, name: string, data: Buffer): void
}

let nextPipeId = 1

export class Pipe {
  readonly id = nextPipeId++
  readonly out = new MessageQueue()
  readonly in = new MessageQueue()
  engine: PipeEngine | null = null
  /** The peer's metadata from the handshake (Socket-Type, Identity, ...). */
  peerMetadata: Metadata | undefined
  /** The user id ZAP gave the peer (libzmq's "User-Id" message property); undefined without ZAP. */
  userId: string | undefined
  /** Routing id as seen by a ROUTER (assigned by the socket). */
  routingId: Buffer | undefined
  /** Routing id given to connect() for this peer (ZMQ_CONNECT_ROUTING_ID). */
  connectRoutingId: Buffer | undefined
  /** Made by connect() rather than accepted by bind(). */
  locallyInitiated = false
  /** Endpoint this pipe belongs to (the connect or bind address). */
  endpoint = ""
  /** True while the socket may route to this pipe (false once detached). */
  attached = true
  /** ZMQ_CONFLATE: keep only the newest message in each direction. */
  conflate = false
  /**
   * Small messages sent may wait in `out` as ranges of a send slab (writeSmall). Off for inproc,
   * whose messages go to the peer's queue as objects in the same turn anyway.
   */
  ranges = true
  /** Reading paused because `in` reached its HWM. */
  readPaused = false
  /**
   * @internal The owner hears of every drain (pipeWritable after each batch the engine took
   * from `out`), not only when `out` stops being full: the durable forwarder counts what left.
   */
  watchDrain = false

  constructor(
    readonly owner: PipeOwner,
    public sendHwm: number,
    public recvHwm: number,
  ) {}

  /** True when `out` has no room (HWM 0 means unlimited). */
  get full(): boolean {
    return this.sendHwm > 0 && this.out.length >= this.sendHwm
  }

  /** Queues a message for the peer; false (and nothing queued) when full. */
  write(msg: Message): boolean {
    if (!this.makeRoom()) return false
    this.out.push(msg)
    if (this.engine !== null) this.engine.scheduleFlush()
    return true
  }

  /**
   * write() of a small one-frame message `data`, copied: into `slab`, queued as its range (see
   * MessageQueue), or, on a pipe with `ranges` off, into a Buffer of its own.
   */
  writeSmall(data: Uint8Array, slab: SendSlab): boolean {
    if (!this.makeRoom()) return false
    if (this.ranges) {
      const start = slab.put(data)
      this.out.pushRange(slab.buf!, start, start + data.byteLength)
    } else this.out.push([copySmall(data)])
    if (this.engine !== null) this.engine.scheduleFlush()
    return true
  }

  /** Whether `out` takes one more message: with ZMQ_CONFLATE always (what it held is dropped), else below the HWM. */
  private makeRoom(): boolean {
    if (this.conflate) {
      this.out.clear()
      return true
    }
    return !(this.sendHwm > 0 && this.out.length >= this.sendHwm)
  }

  /** Queues a message ignoring the HWM (used for lingering control traffic). */
  forceWrite(msg: Message): void {
    this.out.push(msg)
    if (this.engine !== null) this.engine.scheduleFlush()
  }

  /** Called by the engine after it took messages from `out`. */
  drained(wasFull: boolean): void {
    if (this.watchDrain || (wasFull && !this.full)) this.owner.pipeWritable(this)
  }

  /**
   * Called by the engine for each received message. Returns false when `in`
   * reached its HWM and the engine should stop reading from the wire.
   */
  deliver(msg: Message): boolean {
    const room = this.deliverQuiet(msg)
    this.commit()
    return room
  }

  /** A quiet delivery made `in` readable; commit() tells the socket. */
  private unannounced = false

  /**
   * Like deliver(), but the socket hears of it only at commit(): an engine
   * delivering a whole read's worth of messages wakes the socket once.
   */
  deliverQuiet(msg: Message): boolean {
    this.beforeDelivery()
    this.in.push(msg)
    return this.roomIn()
  }

  /**
   * deliverQuiet() of the single-frame message `buf[start..end)`, queued as that range (see
   * MessageQueue): its Buffer is made when the socket reads it.
   */
  deliverRange(buf: Buffer, start: number, end: number): boolean {
    this.beforeDelivery()
    this.in.pushRange(buf, start, end)
    return this.roomIn()
  }

  private beforeDelivery(): void {
    if (this.conflate) this.in.clear()
    if (this.in.length === 0) this.unannounced = true
  }

  /** After a delivery: false (and reading paused) once `in` reached its HWM. */
  private roomIn(): boolean {
    if (this.recvHwm > 0 && this.in.length >= this.recvHwm) {
      this.readPaused = true
      return false
    }
    return true
  }

  /** Announces quiet deliveries (see deliverQuiet). */
  commit(): void {
    if (this.unannounced) {
      this.unannounced = false
      if (this.in.length > 0) this.owner.pipeReadable(this)
    }
  }

  /** Takes the next received message. */
  read(): Message | undefined {
    const msg = this.in.shift()
    if (this.readPaused && this.in.length <= this.recvHwm >> 1) {
      this.readPaused = false
      this.engine?.resumeReading()
    }
    return msg
  }
}
