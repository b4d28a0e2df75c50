/**
 * REQ (RFC 28): strictly alternates send and receive. Each request gets an
 * empty delimiter frame (and with `correlate` a 4-byte request id before it),
 * is load-balanced to one peer, and only that peer's matching reply is
 * accepted; anything else is dropped. Out-of-turn calls fail with EFSM,
 * unless `relaxed` allows a new request while one is outstanding.
 */
import { MESSAGES, ZmqError } from "../errors.js"
import { randomBytes } from "node:crypto"
import type { Message, Pipe } from "../pipe/pipe.js"
import { LoadBalancer } from "../routing/load-balancer.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

const EMPTY = Buffer.alloc(0)

export class Request extends Socket implements Readable, Writable {
  private readonly lb = new LoadBalancer()
  private receiving = false
  private replyPipe: Pipe | null = null
  private requestId = randomBytes(4).readUInt32BE(0)
  private requestIdFrame: Buffer | null = null
  /** ZMQ_REQ_RELAXED: allow a new send() while a reply is outstanding (the old reply is then ignored). */
  relaxed = false
  /** ZMQ_REQ_CORRELATE: prefix requests with an id and accept only the reply carrying it. */
  correlate = false
  /** ZMQ_PROBE_ROUTER: send an empty message to each new peer. */
  probeRouter = false

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Request>) {
    super(SOCKET_TYPE_NUMBER.REQ)
    this.applyOptions(options)
  }

  send(message: MessageLike | MessageLike[]): Promise<void> {
    return this.sendMessage(message)
  }

  receive(): Promise<Buffer[]> {
    return this.receiveMessage()
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer[], undefined> {
    return iterate(this)
  }

  /** @internal */
  protected override attachPipe(pipe: Pipe): void {
    if (this.probeRouter) pipe.forceWrite([EMPTY])
    this.lb.add(pipe)
  }

  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    this.lb.remove(pipe)
  }

  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    // Only the peer that got the request may answer; others are drained.
    if (pipe !== this.replyPipe) pipe.in.clear()
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    if (this.receiving && !this.relaxed) throw new ZmqError("EFSM", MESSAGES.EFSM)
    const frames: Buffer[] = []
    let idFrame: Buffer | null = null
    if (this.correlate) {
      idFrame = Buffer.allocUnsafe(4)
      idFrame.writeUInt32BE((this.requestId + 1) >>> 0, 0)
      frames.push(idFrame)
    }
    frames.push(EMPTY)
    for (const part of msg) frames.push(part)
    const before = this.lb.size
    if (before === 0 || !this.lb.send(frames)) return false
    this.requestId = (this.requestId + 1) >>> 0
    this.requestIdFrame = idFrame
    this.replyPipe = this.lastPipe()
    // A reply to an abandoned (relaxed) request must not be taken for this one.
    if (this.replyPipe !== null && !this.correlate) this.replyPipe.in.clear()
    this.receiving = true
    return true
  }

  /** The pipe the load balancer used last. */
  private lastPipe(): Pipe | null {
    return this.lb.lastUsed ?? null
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    if (!this.receiving) throw new ZmqError("EFSM", MESSAGES.EFSM)
    const pipe = this.replyPipe
    if (pipe === null) return undefined
    for (;;) {
      const msg = pipe.read()
      if (msg === undefined) return undefined
      let i = 0
      if (this.correlate) {
        const id = msg[0]
        if (id === undefined || this.requestIdFrame === null || !id.equals(this.requestIdFrame)) continue
        i = 1
      }
      if (msg.length <= i || msg[i]!.length !== 0) continue // no delimiter: malformed reply, dropped
      this.receiving = false
      this.replyPipe = null
      return msg.slice(i + 1)
    }
  }

  /** @internal */
  protected override xreadable(): boolean {
    return this.receiving && this.replyPipe !== null && this.replyPipe.in.length > 0
  }

  /** @internal */
  protected override xwritable(): boolean {
    return (!this.receiving || this.relaxed) && this.lb.writable
  }
}
