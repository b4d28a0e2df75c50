/**
 * XSUB and SUB (RFC 29): receive from publishers, fair-queued, keeping only
 * messages whose first frame matches a subscribed prefix.
 *
 * Subscriptions are counted (subscribe twice, unsubscribe once: still
 * subscribed) and sent upstream in the form each peer understands: a
 * SUBSCRIBE/CANCEL command to a ZMTP 3.1 peer, a message starting with
 * 0x01/0x00 to a 3.0 peer. All of them are sent again on every (re)connect.
 */
import type { Message, Pipe } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { PrefixCounter } from "../routing/subscription-trie.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

function toBuffer(p: string | Buffer): Buffer {
  return typeof p === "string" ? Buffer.from(p) : p
}

export abstract class SubscriberBase extends Socket {
  /** @internal */
  protected readonly fq = new FairQueue()
  /** @internal */
  protected readonly subscriptions = new PrefixCounter()
  /** @internal */
  protected readonly peers = new Set<Pipe>()
  /** ZMQ_INVERT_MATCHING: keep the messages that do NOT match a subscription. */
  invertMatching = false

  /** @internal */
  protected override attachPipe(pipe: Pipe): void {
    this.peers.add(pipe)
  }

  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    this.peers.delete(pipe)
  }

  /** @internal */
  protected override pipeConnected(pipe: Pipe): void {
    for (const prefix of this.subscriptions.prefixes()) this.sendSubscription(pipe, true, prefix)
  }

  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }

  /** @internal Writes a subscription to one peer (if connected; otherwise it goes with all others on connect). */
  protected sendSubscription(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
    pipe.engine?.sendSubscription(subscribe, topic)
  }

  /** @internal */
  protected changeSubscription(subscribe: boolean, topic: Buffer): void {
    const changed = subscribe ? this.subscriptions.add(topic) : this.subscriptions.remove(topic)
    // Subscribes always go upstream (as libzmq, so verbose XPUBs see each);
    // an unsubscribe only when the count dropped to zero.
    if (subscribe || changed) for (const p of this.peers) this.sendSubscription(p, subscribe, topic)
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    for (;;) {
      const msg = this.fq.recv()
      if (msg === undefined) return undefined
      if (this.subscriptions.matches(msg[0]!) !== this.invertMatching) return msg
    }
  }

  /** @internal */
  protected override xreadable(): boolean {
    return this.fq.readable
  }
}

export class Subscriber extends SubscriberBase implements Readable {
  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Subscriber>) {
    super(SOCKET_TYPE_NUMBER.SUB)
    this.applyOptions(options)
  }

  receive(): Promise<Buffer[]> {
    return this.receiveMessage()
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer[], undefined> {
    return iterate(this)
  }

  /**
   * ZMQ_SUBSCRIBE: receive messages whose first frame starts with one of
   * these prefixes. No argument (or "") subscribes to everything.
   */
  subscribe(...prefixes: Array<string | Buffer>): void {
    if (prefixes.length === 0) prefixes = [""]
    for (const p of prefixes) this.changeSubscription(true, toBuffer(p))
  }

  /** ZMQ_UNSUBSCRIBE: undo one subscribe() per prefix. No argument unsubscribes "". */
  unsubscribe(...prefixes: Array<string | Buffer>): void {
    if (prefixes.length === 0) prefixes = [""]
    for (const p of prefixes) this.changeSubscription(false, toBuffer(p))
  }
}

export class XSubscriber extends SubscriberBase implements Readable, Writable {
  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<XSubscriber>) {
    super(SOCKET_TYPE_NUMBER.XSUB)
    this.applyOptions(options)
  }

  /**
   * Sends a message upstream. A single frame starting with 0x01 subscribes
   * to the rest of it, 0x00 unsubscribes; anything else goes to all peers.
   */
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
  protected override xsend(msg: Message): boolean {
    const first = msg[0]
    if (msg.length === 1 && first !== undefined && first.length > 0 && (first[0] === 0 || first[0] === 1)) {
      this.changeSubscription(first[0] === 1, first.subarray(1))
      return true
    }
    for (const p of this.peers) p.write(msg)
    return true
  }

  /** @internal */
  protected override xwritable(): boolean {
    return true
  }
}
