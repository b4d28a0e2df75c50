/** DEALER (RFC 28): round-robin on send, fair-queue on receive; frames pass through unchanged. */
import type { Message, Pipe } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { LoadBalancer } from "../routing/load-balancer.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

export class Dealer extends Socket implements Readable, Writable {
  /** @internal */
  protected readonly lb = new LoadBalancer()
  /** @internal */
  protected readonly fq = new FairQueue()
  /** ZMQ_PROBE_ROUTER: send an empty message to each new peer (lets a ROUTER learn our id). */
  probeRouter = false

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Dealer>) {
    super(SOCKET_TYPE_NUMBER.DEALER)
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
    if (this.probeRouter) pipe.forceWrite([Buffer.alloc(0)])
    this.lb.add(pipe)
  }
  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    this.lb.remove(pipe)
  }
  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }
  /** @internal */
  protected override xsend(msg: Message): boolean {
    return this.lb.send(msg)
  }
  /** @internal */
  protected override xsendSmall(data: Uint8Array): boolean {
    return this.lb.sendSmall(data)
  }
  /** @internal */
  protected override xrecv(): Message | undefined {
    return this.fq.recv()
  }
  /** @internal */
  protected override xreadable(): boolean {
    return this.fq.readable
  }
  /** @internal */
  protected override xwritable(): boolean {
    return this.lb.writable
  }
}
