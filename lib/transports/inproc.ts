/**
 * inproc:// — sockets of one process (and one Context) joined by in-memory
 * pipes. No ZMTP encoding and no copies: the Buffers sent are the Buffers
 * received. Each direction is bounded by the sender's send HWM plus the
 * receiver's receive HWM, as in libzmq. Connecting before the bind is
 * allowed; the connection is made when the name is bound.
 */
import { ZmqError } from "../errors.js"
import type { Pipe, PipeEngine } from "../pipe/pipe.js"
import { metadataOf, type InprocLinkLike, type InprocRequest, type RemotePeer } from "./inproc-link.js"
import { ThreadBridge, threadsReachable, type RemoteBinder, type RemoteLink } from "./inproc-threads.js"

export type { InprocLinkLike, InprocRequest } from "./inproc-link.js"

export interface InprocBinder extends RemoteBinder {
  /** Makes the bound side of a connection; returns the link, or null to refuse. */
  join(request: InprocRequest): InprocLink | null
}

export class InprocRegistry {
  private readonly bound = new Map<string, InprocBinder>()
  private readonly pending = new Map<string, Set<InprocRequest>>()
  /** For the process's registry: the other threads' registries (see inproc-threads.ts). */
  private readonly threads: ThreadBridge | undefined

  /** @param acrossThreads this is the process's registry, shared with other threads */
  constructor(acrossThreads = false) {
    if (acrossThreads && threadsReachable) {
      this.threads = new ThreadBridge(
        (name) => this.bound.get(name),
        () => this.bound.keys(),
        (req, link, peer) => this.joinedElsewhere(req, link, peer),
      )
    }
  }

  bind(name: string, address: string, binder: InprocBinder): void {
    if (this.bound.has(name) || this.threads?.boundElsewhere(name)) throw new ZmqError("EADDRINUSE", "Address already in use", address)
    this.bound.set(name, binder)
    this.threads?.announceBind(name)
    const waiting = this.pending.get(name)
    if (waiting) {
      this.pending.delete(name)
      // After the caller has finished binding (its "bind" event comes first, as for tcp).
      queueMicrotask(() => {
        for (const req of waiting) {
          if (this.bound.get(name) !== binder) continue
          this.threads?.withdraw(req)
          this.join(binder, req)
        }
      })
    }
  }

  /** A socket in another thread accepted one of our pending connects. */
  private joinedElsewhere(req: InprocRequest, link: RemoteLink, peer: RemotePeer): void {
    for (const [name, set] of this.pending) if (set.has(req)) this.cancel(name, req)
    req.pipe.peerMetadata = metadataOf(peer)
    req.joined(link)
  }

  isBound(name: string): boolean {
    return this.bound.has(name)
  }

  /** The current binder of a name (to notice that it was re-bound by another socket). */
  binderOf(name: string): InprocBinder | undefined {
    return this.bound.get(name)
  }

  unbind(name: string, binder: InprocBinder): void {
    if (this.bound.get(name) !== binder) return
    this.bound.delete(name)
    this.threads?.announceUnbind(name)
  }

  connect(name: string, req: InprocRequest): void {
    const binder = this.bound.get(name)
    if (binder) {
      this.join(binder, req)
      return
    }
    let set = this.pending.get(name)
    if (!set) this.pending.set(name, (set = new Set()))
    set.add(req)
    // A socket of another thread may have it bound (or bind it later).
    this.threads?.offer(name, req, req.peer)
  }

  cancel(name: string, req: InprocRequest): void {
    const set = this.pending.get(name)
    if (set?.delete(req) && set.size === 0) this.pending.delete(name)
    this.threads?.withdraw(req)
  }

  private join(binder: InprocBinder, req: InprocRequest): void {
    const link = binder.join(req)
    if (link !== null) req.joined(link)
  }
}

/** One direction's bookkeeping: `own` is this end's pipe, `peer` the other socket's. */
class InprocEnd implements PipeEngine {
  private moving = false
  private scheduled = false
  private readonly moveBound = (): void => {
    this.scheduled = false
    this.move(this.own, this.peer)
  }

  constructor(
    private readonly link: InprocLink,
    readonly own: Pipe,
    readonly peer: Pipe,
  ) {}

  /**
   * Messages written to our pipe go into the peer's inbound queue once per
   * event-loop turn: a sender running ahead queues many, and the receiver is
   * woken once for all of them instead of once per message.
   */
  scheduleFlush(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.moveBound)
  }

  /** Our inbound queue has room again: take more of what the peer queued. */
  resumeReading(): void {
    this.link.endOf(this.peer).move(this.peer, this.own)
  }

  sendSubscription(subscribe: boolean, topic: Buffer): void {
    this.peer.owner.pipeCommand?.(this.peer, subscribe ? "SUBSCRIBE" : "CANCEL", topic)
  }

  close(lingerMs: number): void {
    this.link.close(lingerMs, this)
  }

  /** Moves whole messages from `from.out` to `to.in` while the receiver has room. */
  move(from: Pipe, to: Pipe, force = false): void {
    if (this.moving || this.link.closed) return
    this.moving = true
    try {
      const wasFull = from.full
      const out = from.out
      while (out.length > 0 && (force || !to.readPaused)) to.deliverQuiet(out.shift()!)
      to.commit()
      from.drained(wasFull)
    } finally {
      this.moving = false
    }
  }
}

export class InprocLink implements InprocLinkLike {
  closed = false
  readonly connectEnd: InprocEnd
  readonly bindEnd: InprocEnd

  /**
   * @param connectPipe the connecting socket's pipe
   * @param bindPipe the binding socket's pipe
   * @param onClose called once for each pipe when the link ends
   */
  constructor(
    connectPipe: Pipe,
    bindPipe: Pipe,
    private readonly onClose: (link: InprocLink, pipe: Pipe) => void,
  ) {
    this.connectEnd = new InprocEnd(this, connectPipe, bindPipe)
    this.bindEnd = new InprocEnd(this, bindPipe, connectPipe)
    connectPipe.engine = this.connectEnd
    bindPipe.engine = this.bindEnd
    // Messages cross to the peer's queue as they are: a range would only be made a Buffer there.
    connectPipe.ranges = false
    bindPipe.ranges = false
  }

  endOf(pipe: Pipe): InprocEnd {
    return pipe === this.connectEnd.own ? this.connectEnd : this.bindEnd
  }

  /** Starts moving what was queued before the link existed. */
  start(): void {
    this.connectEnd.scheduleFlush()
    this.bindEnd.scheduleFlush()
  }

  /**
   * Ends the link. With a linger other than 0 the closing side's queued
   * messages are handed to the peer first (they are in memory already).
   */
  close(lingerMs: number, closing?: { readonly own: Pipe }): void {
    if (this.closed) return
    if (lingerMs !== 0 && closing instanceof InprocEnd) closing.move(closing.own, closing.peer, true)
    this.closed = true
    for (const end of [this.connectEnd, this.bindEnd]) {
      if (end.own.engine === end) end.own.engine = null
    }
    this.onClose(this, this.connectEnd.own)
    this.onClose(this, this.bindEnd.own)
  }
}
