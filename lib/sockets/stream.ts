/**
 * STREAM: talks to plain TCP peers (not ZeroMQ). Each received chunk comes
 * as [routing id, bytes]; send [routing id, bytes] to write to that peer and
 * [routing id, ""] to close its connection. With `notify` (default true), a
 * new or closed connection is announced as [routing id, ""].
 */
import { MESSAGES, ZmqError } from "../errors.js"
import type { ConnectionEngine, EngineHost } from "../engine/engine.js"
import type { ByteStream } from "../transports/byte-stream.js"
import { RawEngine } from "../engine/raw-engine.js"
import type { Message, Pipe } from "../pipe/pipe.js"
import { FairQueue } from "../routing/fair-queue.js"
import { RoutingIdGenerator } from "../routing/routing-ids.js"
import { Socket, iterate, SOCKET_TYPE_NUMBER } from "./socket.js"
import type { MessageLike, Readable, Writable, SocketOptions } from "./types.js"

const EMPTY = Buffer.alloc(0)

export interface StreamConnectOptions {
  /** The routing id this socket uses for the connection to `address`. */
  routingId?: string | Buffer
}

export class Stream extends Socket implements Readable, Writable {
  private readonly fq = new FairQueue()
  private readonly byId = new Map<string, Pipe>()
  private readonly ids = new RoutingIdGenerator()
  /** Notifications (connect/disconnect) waiting to be received, ahead of data. */
  private readonly notices: Message[] = []
  /** ZMQ_STREAM_NOTIFY: announce connects and disconnects as [id, ""] (default true). */
  notify = true

  /** @internal */
  protected static override readonly builtIn = true

  constructor(options?: SocketOptions<Stream>) {
    super(SOCKET_TYPE_NUMBER.STREAM)
    this.applyOptions(options)
  }

  override connect(address: string, options?: StreamConnectOptions): void {
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

  /** @internal STREAM talks raw bytes: no greeting, no framing. */
  protected override createEngine(stream: ByteStream, host: EngineHost, endpoint: string): ConnectionEngine {
    return new RawEngine(stream, host, endpoint)
  }

  /** @internal */
  protected override attachPipe(pipe: Pipe): void {
    if (pipe.locallyInitiated && pipe.engine === null) {
      // connect(): with a routing id given, the peer is addressable at once and what is sent
      // waits in the pipe for the TCP connection (as libzmq); otherwise wait for it.
      if (pipe.connectRoutingId !== undefined) this.register(pipe)
      return
    }
    this.identify(pipe)
  }

  /** @internal */
  protected override pipeReconnected(pipe: Pipe): void {
    this.identify(pipe)
  }

  /** Gives the pipe its routing id (the one given to connect() unless taken, else a generated one). */
  private register(pipe: Pipe): void {
    let id = pipe.connectRoutingId
    if (id === undefined || this.byId.has(id.toString("latin1"))) id = this.ids.generate()
    pipe.routingId = id
    this.byId.set(id.toString("latin1"), pipe)
  }

  /** A connection is up: register its pipe (unless connect() did) and announce it. */
  private identify(pipe: Pipe): void {
    const id = pipe.routingId
    if (id === undefined || this.byId.get(id.toString("latin1")) !== pipe) this.register(pipe)
    if (this.notify) {
      const id = pipe.routingId!
      this.notices.push([id, EMPTY])
      this.notifyReadable()
    }
  }

  private forget(pipe: Pipe): void {
    const id = pipe.routingId
    if (id === undefined) return
    pipe.routingId = undefined
    if (this.byId.get(id.toString("latin1")) === pipe) this.byId.delete(id.toString("latin1"))
    if (this.notify) {
      this.notices.push([id, EMPTY])
      this.notifyReadable()
    }
  }

  /** @internal */
  protected override detachPipe(pipe: Pipe): void {
    this.forget(pipe)
  }

  /** @internal */
  protected override pipeDisconnected(pipe: Pipe): void {
    this.forget(pipe)
  }

  /** @internal */
  protected override onPipeReadable(pipe: Pipe): void {
    this.fq.activate(pipe)
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    if (msg.length !== 2) throw new ZmqError("EINVAL", "Invalid argument: STREAM messages are [routing id, data]")
    const pipe = this.byId.get(msg[0]!.toString("latin1"))
    if (pipe === undefined) throw new ZmqError("EHOSTUNREACH", MESSAGES.EHOSTUNREACH)
    const data = msg[1]!
    if (data.length === 0) {
      pipe.engine?.close(-1) // an empty frame closes the connection
      return true
    }
    return pipe.write([data])
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    const notice = this.notices.shift()
    if (notice !== undefined) return notice
    for (;;) {
      const msg = this.fq.recv()
      if (msg === undefined) return undefined
      const id = this.fq.lastPipe!.routingId
      if (id === undefined) continue
      return [id, msg[0]!]
    }
  }

  /** @internal */
  protected override xreadable(): boolean {
    return this.notices.length > 0 || this.fq.readable
  }

  /** @internal */
  protected override xwritable(): boolean {
    return true
  }
}
