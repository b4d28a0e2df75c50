/** PAIR (RFC 31): exactly one peer at a time; a second peer is refused. */
import type { Pipe, Message } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

export class Pair extends Socket implements Readable, Writable {
  private peer: Pipe | null = null
  /** Reads also drain a previous peer's leftover messages. */
  private readonly fq = new FairQueue()

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Pair>) {
    super(SOCKET_TYPE_NUMBER.PAIR)
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
  protected override acceptsPeer(): boolean {
    return this.peer === null
  }
  /** @internal */
  protected override attachPipe(pipe: Pipe): void {
    if (this.peer === null) this.peer = pipe
    else this.dropPipe(pipe)
  }
  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    if (this.peer === pipe) this.peer = null
  }
  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }
  /** @internal */
  protected override xsend(msg: Message): boolean {
    return this.peer !== null && this.peer.write(msg)
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
    return this.peer !== null && !this.peer.full
  }
}
