/** PULL (RFC 30): fair-queues messages from connected PUSH peers. */
import type { Pipe, Message } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { Readable, SocketOptions } from "./types.js"

export class Pull extends Socket implements Readable {
  private readonly fq = new FairQueue()

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Pull>) {
    super(SOCKET_TYPE_NUMBER.PULL)
    this.applyOptions(options)
  }

  receive(): Promise<Buffer[]> {
    return this.receiveMessage()
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer[], undefined> {
    return iterate(this)
  }

  /** @internal */
  protected override attachPipe(_pipe: Pipe): void {}
  /** @internal */
  protected override detachPipe(_pipe: Pipe): void {}
  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }
  /** @internal */
  protected override xrecv(): Message | undefined {
    return this.fq.recv()
  }
  /** @internal */
  protected override xreadable(): boolean {
    return this.fq.readable
  }
}
