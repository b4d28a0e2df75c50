/**
 * ROUTER (RFC 28): prefixes each received message with the sender's routing
 * id and routes each sent message by its first frame.
 *
 * Routing ids come from the peer's READY `Identity`, from
 * `connect(addr, { routingId })`, or are generated (5 bytes: a zero byte and
 * a 32-bit counter, as libzmq). Unroutable or HWM-blocked messages are
 * dropped, or with `mandatory` fail with EHOSTUNREACH / wait for room.
 */
import { MESSAGES, ZmqError } from "../errors.js"
import type { Message, Pipe } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { RoutingIdGenerator } from "../routing/routing-ids.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

export interface RouterConnectOptions {
  /** ZMQ_CONNECT_ROUTING_ID: the routing id this ROUTER uses for the peer at this address. */
  routingId?: string | Buffer
}

export class Router extends Socket implements Readable, Writable {
  private readonly fq = new FairQueue()
  private readonly byId = new Map<string, Pipe>()
  /** Routing id Buffer (as handed out with received messages) → pipe: replies that reuse it skip a string key. */
  private readonly byRef = new WeakMap<Buffer, Pipe>()
  private readonly ids = new RoutingIdGenerator()
  /** ZMQ_ROUTER_MANDATORY: unroutable messages fail with EHOSTUNREACH instead of being dropped; full peers make send() wait. */
  mandatory = false
  /** ZMQ_ROUTER_HANDOVER: a new peer with a taken routing id takes it over (the old connection is closed). */
  handover = false
  /** ZMQ_PROBE_ROUTER: send an empty message to each new peer. */
  probeRouter = false

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Router>) {
    super(SOCKET_TYPE_NUMBER.ROUTER)
    this.applyOptions(options)
  }

  override connect(address: string, options?: RouterConnectOptions): void {
    super.connect(address, options)
  }

  send(message: MessageLike[]): Promise<void> {
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
    this.identify(pipe)
    if (this.probeRouter) pipe.forceWrite([Buffer.alloc(0)])
  }

  /** @internal */
  protected override pipeReconnected(pipe: Pipe): void {
    if (pipe.routingId === undefined) this.identify(pipe)
  }

  /** Gives the pipe its routing id once it is known (libzmq's identify_peer). */
  private identify(pipe: Pipe): void {
    let id: Buffer | undefined = pipe.connectRoutingId
    if (id === undefined) {
      if (pipe.peerMetadata === undefined) return // connect()ed, handshake not done yet
      const announced = pipe.peerMetadata.get("identity")
      if (announced !== undefined && announced.length > 0) id = announced
    }
    id ??= this.ids.generate()
    const key = id.toString("latin1")
    const existing = this.byId.get(key)
    if (existing !== undefined && existing !== pipe) {
      if (!this.handover) return // duplicate id: the newcomer stays anonymous, as libzmq
      this.byId.delete(key)
      existing.routingId = undefined
      existing.engine?.close(0)
      this.dropPipe(existing)
    }
    pipe.routingId = id
    this.byId.set(key, pipe)
    this.byRef.set(id, pipe)
  }

  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    if (pipe.routingId !== undefined) {
      const key = pipe.routingId.toString("latin1")
      if (this.byId.get(key) === pipe) this.byId.delete(key)
    }
  }

  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }

  /** @internal The user id ZAP gave the peer with this routing id (undefined: no such peer, or no ZAP). */
  peerUserId(routingId: Buffer): string | undefined {
    const pipe = this.byRef.get(routingId) ?? this.byId.get(routingId.toString("latin1"))
    return pipe?.userId
  }

  /**
   * @internal Ends the connection of the peer with this routing id (it sees a disconnect and
   * reconnects, as after a restart of this socket's side). False if there is no such peer.
   */
  dropPeer(routingId: Buffer): boolean {
    const pipe = this.byRef.get(routingId) ?? this.byId.get(routingId.toString("latin1"))
    if (pipe === undefined || !pipe.attached) return false
    if (pipe.engine !== null) pipe.engine.close(0)
    else this.dropPipe(pipe)
    return true
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    if (msg.length < 2) {
      if (msg.length === 0) throw new ZmqError("EINVAL", "Invalid argument")
      return true // a routing id alone carries nothing to deliver
    }
    const idFrame = msg[0]!
    let pipe = this.byRef.get(idFrame)
    if (pipe === undefined || pipe.routingId !== idFrame) pipe = this.byId.get(idFrame.toString("latin1"))
    if (pipe === undefined || !pipe.attached) {
      if (this.mandatory) throw new ZmqError("EHOSTUNREACH", MESSAGES.EHOSTUNREACH)
      return true
    }
    if (pipe.full) return !this.mandatory // drop unless mandatory, which waits for room
    pipe.write(msg.length === 2 ? [msg[1]!] : msg.slice(1))
    return true
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    for (;;) {
      const msg = this.fq.recv()
      if (msg === undefined) return undefined
      const id = this.fq.lastPipe!.routingId
      if (id === undefined) continue // anonymous (duplicate id) peer: ignored
      msg.unshift(id)
      return msg
    }
  }

  /** @internal */
  protected override xreadable(): boolean {
    return this.fq.readable
  }
  /** @internal */
  protected override xwritable(): boolean {
    return true
  }
}
