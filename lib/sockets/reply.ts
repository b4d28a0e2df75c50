/**
 * REP (RFC 28): receives a request, keeps its envelope (every routing frame
 * up to and including the empty delimiter) and sends the reply back along
 * it to the same peer. Strict alternation; out-of-turn calls fail with EFSM.
 */
import { MESSAGES, ZmqError } from "../errors.js"
import type { Message, Pipe } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

export class Reply extends Socket implements Readable, Writable {
  private readonly fq = new FairQueue()
  private sending = false
  private envelope: Buffer[] = []
  private replyPipe: Pipe | null = null

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Reply>) {
    super(SOCKET_TYPE_NUMBER.REP)
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
  protected override attachPipe(_pipe: Pipe): void {}
  /** @internal */
  protected override detachPipe(_pipe: Pipe): void {}

  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    if (this.sending) throw new ZmqError("EFSM", MESSAGES.EFSM)
    for (;;) {
      const msg = this.fq.recv()
      if (msg === undefined) return undefined
      let d = 0
      while (d < msg.length && msg[d]!.length !== 0) d++
      if (d >= msg.length) continue // no delimiter: not a request, dropped as libzmq does
      this.envelope = msg.slice(0, d + 1)
      this.replyPipe = this.fq.lastPipe!
      this.sending = true
      return msg.slice(d + 1)
    }
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    if (!this.sending) throw new ZmqError("EFSM", MESSAGES.EFSM)
    const pipe = this.replyPipe
    // Like a ROUTER: a reply to a peer that is gone or full is dropped.
    if (pipe !== null && pipe.attached && !pipe.full) pipe.write(this.envelope.concat(msg))
    this.sending = false
    this.replyPipe = null
    this.envelope = []
    return true
  }

  /** @internal */
  protected override xreadable(): boolean {
    return !this.sending && this.fq.readable
  }

  /** @internal */
  protected override xwritable(): boolean {
    return this.sending
  }
}
