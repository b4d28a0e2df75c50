/** PUSH (RFC 30): load-balances messages over connected PULL peers; waits when all are at HWM. */
import type { Pipe, Message } from "../pipe/pipe.js"
import { LoadBalancer } from "../routing/load-balancer.js"
import { Socket, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Writable, SocketOptions } from "./types.js"

export class Push extends Socket implements Writable {
  private readonly lb = new LoadBalancer()

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Push>) {
    super(SOCKET_TYPE_NUMBER.PUSH)
    this.applyOptions(options)
  }

  send(message: MessageLike | MessageLike[]): Promise<void> {
    return this.sendMessage(message)
  }

  /** @internal */
  protected override attachPipe(pipe: Pipe): void {
    this.lb.add(pipe)
  }
  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    this.lb.remove(pipe)
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
  protected override xwritable(): boolean {
    return this.lb.writable
  }
  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    // A PUSH has nothing to read: whatever a misbehaving peer sends is dropped.
    pipe.in.clear()
  }
}
