/**
 * XPUB and PUB (RFC 29): distribute each message to the peers whose
 * subscriptions match its first frame (filtering on the publisher side).
 *
 * Subscriptions arrive as ZMTP 3.1 SUBSCRIBE/CANCEL commands or as messages
 * starting with 0x01/0x00 (ZMTP 3.0 peers, XSUB users); both are accepted.
 * A peer at its HWM misses the message (the others still get it), unless
 * `noDrop` is set: then send() waits until every matching peer has room.
 * XPUB hands subscription messages to the user (first subscribe and last
 * unsubscribe per topic, or all with `verbosity`); PUB discards them.
 */
import type { Message, Pipe } from "../pipe/pipe.js"
import { SubscriptionTrie } from "../routing/subscription-trie.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import { Deque } from "../pipe/deque.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

const EMPTY = Buffer.alloc(0)

/**
 * @internal Takes over some of an XPUB's peers: the durable forwarder's named subscribers,
 * whose messages it writes to their pipes itself (from its store, at the pace each pipe takes
 * them). A claimed peer's subscriptions go to `subscription()` instead of the XPUB's trie, so
 * send() never reaches it; what else it sends (XSUB data) still goes to receive().
 */
export interface PeerTakeover {
  /** A peer finished its handshake (again, for a connect()ed pipe): true to take it over. */
  claim(pipe: Pipe): boolean
  subscription(pipe: Pipe, subscribe: boolean, topic: Buffer): void
  /** The engine took messages from the pipe, or it has room again. */
  writable(pipe: Pipe): void
  /** The claimed peer's connection is gone (the pipe is dropped, or waits for a reconnect). */
  released(pipe: Pipe): void
}

function subscriptionMessage(subscribe: boolean, topic: Buffer): Message {
  const m = Buffer.allocUnsafe(topic.length + 1)
  m[0] = subscribe ? 1 : 0
  topic.copy(m, 1)
  return [m]
}

/** Longest a send dropped at every peer's HWM waits for room before it resolves (ms). */
const DROP_WAIT_MS = 1

export abstract class PublisherBase extends Socket {
  /** @internal */
  protected readonly subscriptions = new SubscriptionTrie<Pipe>()
  /** @internal */
  protected readonly peers = new Set<Pipe>()
  /** @internal Messages for the user (subscriptions, or data sent by XSUB peers). */
  protected readonly inbox = new Deque<Message>()
  /** The peers a message goes to, the first `matched` of this array (reused: no array per send). */
  private readonly matching: Pipe[] = []
  private matched = 0
  private readonly collect = (p: Pipe): void => {
    this.matching[this.matched++] = p
  }
  private lastSubscriber: Pipe | undefined
  /** @internal See PeerTakeover; set before binding or connecting. */
  takeover: PeerTakeover | undefined = undefined
  private readonly claimed = new Set<Pipe>()
  /** ZMQ_INVERT_MATCHING: send to the peers whose subscriptions do NOT match. */
  invertMatching = false
  /** ZMQ_XPUB_NODROP: wait (or EAGAIN with sendTimeout) instead of dropping when a matching peer is at its HWM. */
  noDrop = false

  /** @internal Whether subscription messages are handed to the user. */
  protected abstract get deliversSubscriptions(): boolean
  /** @internal */
  protected get verboseSubs(): boolean {
    return false
  }
  /** @internal */
  protected get verboseUnsubs(): boolean {
    return false
  }
  /** @internal */
  protected get manualMode(): boolean {
    return false
  }
  /** @internal */
  protected get welcome(): Buffer | null {
    return null
  }

  /** @internal */
  protected override attachPipe(pipe: Pipe): void {
    this.peers.add(pipe)
    const w = this.welcome
    if (w !== null) pipe.forceWrite([w])
  }

  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    if (this.claimed.delete(pipe)) {
      pipe.watchDrain = false
      this.takeover!.released(pipe)
    }
    this.peers.delete(pipe)
    if (pipe === this.lastSubscriber) this.lastSubscriber = undefined
    this.subscriptions.removePipe(pipe, (prefix, last) => {
      if (this.manualMode) return
      if (last || this.verboseUnsubs) this.toUser(subscriptionMessage(false, prefix))
    })
    this.notifyReadable()
  }

  /** @internal A reconnecting subscriber re-sends its subscriptions; forget the old ones. */
  protected override pipeDisconnected(pipe: Pipe): void {
    this.detachPipe(pipe)
    this.peers.add(pipe)
  }

  /** @internal */
  protected override pipeConnected(pipe: Pipe): void {
    if (this.takeover?.claim(pipe) === true) {
      this.claimed.add(pipe)
      pipe.watchDrain = true
    }
  }

  /** @internal */
  protected override onPipeWritable(pipe: Pipe): void {
    if (this.roomWaiters.length > 0) this.releaseRoom()
    if (this.claimed.has(pipe)) this.takeover!.writable(pipe)
  }

  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    for (let msg = pipe.read(); msg !== undefined; msg = pipe.read()) {
      const first = msg[0]!
      if (msg.length === 1 && first.length > 0 && (first[0] === 0 || first[0] === 1)) {
        if (this.claimed.has(pipe)) this.takeover!.subscription(pipe, first[0] === 1, first.subarray(1))
        else this.applySubscription(pipe, first[0] === 1, first.subarray(1), msg)
      } else if (this.deliversSubscriptions) {
        this.toUser(msg) // XPUB passes other messages from XSUB peers through
      }
    }
  }

  /** @internal */
  protected override onSubscriptionCommand(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
    if (this.claimed.has(pipe)) this.takeover!.subscription(pipe, subscribe, topic)
    else this.applySubscription(pipe, subscribe, topic, undefined)
  }

  private applySubscription(pipe: Pipe, subscribe: boolean, topic: Buffer, raw: Message | undefined): void {
    if (this.manualMode) {
      this.lastSubscriber = pipe
      this.toUser(raw ?? subscriptionMessage(subscribe, topic))
      return
    }
    if (subscribe) {
      const first = this.subscriptions.add(topic, pipe)
      if (first || this.verboseSubs) this.toUser(raw ?? subscriptionMessage(true, topic))
    } else {
      const { removed, last } = this.subscriptions.remove(topic, pipe)
      if (removed && (last || this.verboseUnsubs)) this.toUser(raw ?? subscriptionMessage(false, topic))
    }
  }

  private toUser(msg: Message): void {
    if (this.deliversSubscriptions) this.inbox.push(msg)
  }

  /** @internal Applies a subscription for the peer that sent the last subscription message (manual mode). */
  protected manualSubscribe(subscribe: boolean, topics: Buffer[]): void {
    const pipe = this.lastSubscriber
    if (pipe === undefined) return
    for (const t of topics) {
      if (subscribe) this.subscriptions.add(t, pipe)
      else this.subscriptions.remove(t, pipe)
    }
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    const matching = this.matching
    this.matched = 0
    const topic = msg[0] ?? EMPTY
    if (this.invertMatching) {
      const hit = new Set<Pipe>()
      this.subscriptions.match(topic, (p) => hit.add(p))
      for (const p of this.peers) if (!hit.has(p) && !this.claimed.has(p)) matching[this.matched++] = p
    } else {
      this.subscriptions.match(topic, this.collect)
    }
    const n = this.matched
    if (this.noDrop) {
      for (let i = 0; i < n; i++) if (matching[i]!.full) return false
    }
    // Every matching peer gets the same Buffers: nothing is copied per subscriber.
    for (let i = 0; i < n; i++) matching[i]!.write(msg)
    return true
  }

  /** Sends dropped because every peer was full, waiting for room (or DROP_WAIT_MS). */
  private roomWaiters: (() => void)[] = []
  private roomTimer: NodeJS.Timeout | undefined
  private readonly releaseRoom = (): void => {
    if (this.roomTimer !== undefined) clearTimeout(this.roomTimer)
    this.roomTimer = undefined
    const ws = this.roomWaiters
    this.roomWaiters = []
    for (const w of ws) w()
  }

  /**
   * @internal The message was dropped: every peer was full. The send resolves once a peer has
   * room again, or after DROP_WAIT_MS: a publisher in a tight `await send()` loop then waits for
   * its subscribers rather than spend its one thread making messages to drop (libzmq's sender
   * spins too, but its I/O thread has a core of its own; here the same thread must write to the
   * subscribers). Dropped all the same, as libzmq drops at the HWM.
   */
  protected override dropped(): Promise<void> {
    return new Promise((resolve) => {
      this.roomWaiters.push(resolve)
      if (this.roomTimer === undefined) this.roomTimer = setTimeout(this.releaseRoom, DROP_WAIT_MS)
    })
  }

  /**
   * @internal Every peer is at its HWM (so every one would drop the message, whatever its
   * subscriptions), none is a durable forwarder's and nothing waits instead of dropping: the
   * send can be dropped before the message is even copied. Peers are few; a full pipe is one
   * compare.
   */
  protected override dropsAll(): boolean {
    if (this.noDrop || this.peers.size === 0 || this.claimed.size > 0) return false
    for (const p of this.peers) if (!p.full) return false
    return true
  }

  /** @internal */
  protected override xwritable(): boolean {
    return true
  }
}

export class Publisher extends PublisherBase implements Writable {
  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Publisher>) {
    super(SOCKET_TYPE_NUMBER.PUB)
    this.applyOptions(options)
  }

  send(message: MessageLike | MessageLike[]): Promise<void> {
    return this.sendMessage(message)
  }

  /** @internal */
  protected get deliversSubscriptions(): boolean {
    return false
  }
}

export type XPublisherVerbosity = null | "allSubs" | "allSubsUnsubs"

export class XPublisher extends PublisherBase implements Readable, Writable {
  /**
   * ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER: null (default) passes only the
   * first subscription and last unsubscription of a topic; "allSubs" passes
   * every subscription; "allSubsUnsubs" every subscription and unsubscription.
   */
  verbosity: XPublisherVerbosity = null
  /** ZMQ_XPUB_MANUAL: subscriptions are not applied by themselves; call subscribe()/unsubscribe() after receiving one. */
  manual = false
  /** ZMQ_XPUB_WELCOME_MSG: a message sent to every new subscriber (null for none). */
  welcomeMessage: string | Buffer | null = null

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<XPublisher>) {
    super(SOCKET_TYPE_NUMBER.XPUB)
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

  /** Manual mode: subscribe the peer of the last received subscription to these prefixes. */
  subscribe(...prefixes: Array<string | Buffer>): void {
    this.manualSubscribe(
      true,
      prefixes.map((p) => (typeof p === "string" ? Buffer.from(p) : p)),
    )
  }

  /** Manual mode: unsubscribe the peer of the last received subscription from these prefixes. */
  unsubscribe(...prefixes: Array<string | Buffer>): void {
    this.manualSubscribe(
      false,
      prefixes.map((p) => (typeof p === "string" ? Buffer.from(p) : p)),
    )
  }

  /** @internal */
  protected get deliversSubscriptions(): boolean {
    return true
  }
  /** @internal */
  protected override get verboseSubs(): boolean {
    return this.verbosity !== null
  }
  /** @internal */
  protected override get verboseUnsubs(): boolean {
    return this.verbosity === "allSubsUnsubs"
  }
  /** @internal */
  protected override get manualMode(): boolean {
    return this.manual
  }
  /** @internal */
  protected override get welcome(): Buffer | null {
    const w = this.welcomeMessage
    return w === null ? null : typeof w === "string" ? Buffer.from(w) : w
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    return this.inbox.shift()
  }
  /** @internal */
  protected override xreadable(): boolean {
    return this.inbox.length > 0
  }
}
