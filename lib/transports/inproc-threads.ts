/**
 * inproc:// between worker threads, as zeromq.js has it through libzmq's one context per
 * process. Each thread runs its own copy of omq, so the default context's registries meet
 * over a BroadcastChannel, the one channel every thread of a process can open by name:
 *
 *   directory channel "omq:inproc:v1"   bound / unbound names, hello, connect, accepted, refused
 *   one channel per connection          batches of messages, credit, subscriptions, close
 *
 * A connection links the connecting socket's pipe in one thread to a new pipe of the bound
 * socket in another. Messages cross as structured clones (copies). Flow control is by credit:
 * a side sends no more than the other's receive HWM ahead of what that side has read, so each
 * direction holds at most the sender's send HWM plus the receiver's receive HWM, as an inproc
 * pipe within a thread does; order is kept.
 *
 * Not covered: a thread that ends without closing its sockets leaves its peers' connections
 * open (no message reaches them any more); only the default context is shared.
 */
import type { BroadcastChannel as Channel } from "node:worker_threads"
import type { Message, Pipe, PipeEngine } from "../pipe/pipe.js"
import type { InprocLinkLike, InprocRequest, RemotePeer } from "./inproc-link.js"

export type { RemotePeer }

/** BroadcastChannel where the runtime has one (Node, Deno, Bun, browsers). */
const BroadcastChannelClass = (globalThis as { BroadcastChannel?: new (name: string) => Channel }).BroadcastChannel

/** True where threads of this process can reach each other by channel name. */
export const threadsReachable = BroadcastChannelClass !== undefined

const DIRECTORY = "omq:inproc:v1"

/**
 * The bound side's part: accept a connection from another thread — make a pipe, hand it to
 * `makeLink` and return that link — or refuse it (null).
 */
export interface RemoteBinder {
  joinRemote(peer: RemotePeer, makeLink: (pipe: Pipe) => RemoteLink): RemoteLink | null
  /** Our own socket type and identity, sent to the connecting side. */
  describe(): RemotePeer
}

interface DirectoryMessage {
  op: "hello" | "bound" | "unbound" | "connect" | "accepted" | "refused"
  thread: string
  name?: string
  link?: string
  peer?: RemotePeer
  window?: number
}

type LinkMessage = { m: Uint8Array[][] } | { credit: number } | { sub: boolean; topic: Uint8Array } | { ready: number } | { close: true }

/**
 * Whether a channel can be unref'd (Node, Bun): like every omq handle it then does not keep
 * the thread alive. Deno's cannot, so there the directory channel is closed whenever this
 * thread has nothing bound and nothing waiting (ThreadBridge.idle).
 */
const canUnref = BroadcastChannelClass !== undefined && typeof (BroadcastChannelClass.prototype as { unref?: unknown }).unref === "function"

function channel(name: string, onMessage: (data: unknown) => void): Channel {
  const c = new BroadcastChannelClass!(name)
  c.onmessage = (e: unknown) => onMessage((e as { data: unknown }).data)
  if (canUnref) (c as unknown as { unref(): void }).unref()
  return c
}

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength)
/** An HWM as a window of messages (0: no limit). */
const windowOf = (hwm: number): number => (hwm > 0 ? hwm : Number.MAX_SAFE_INTEGER)

/** One connection between threads, seen from this thread: one local pipe and the channel. */
export class RemoteLink implements InprocLinkLike, PipeEngine {
  /** This thread's end (both names point at it: the other end lives in the other thread). */
  readonly connectEnd: { own: Pipe }
  readonly bindEnd: { own: Pipe }
  closed = false
  private readonly chan: Channel
  /** Until the other side is listening on the channel, what we send waits here. */
  private outbox: LinkMessage[] | null = []
  /** Messages the other side may still take: its window plus what it has read, minus what we sent. */
  private sentTotal = 0
  private creditTotal = 0
  private deliveredTotal = 0
  private grantedTotal: number
  private readonly window: number
  private flushScheduled = false
  onClose: (pipe: Pipe) => void = () => {}

  constructor(
    id: string,
    readonly pipe: Pipe,
  ) {
    this.connectEnd = { own: pipe }
    this.bindEnd = this.connectEnd
    this.window = windowOf(pipe.recvHwm)
    this.grantedTotal = this.window
    this.chan = channel(`omq:inproc:link:${id}`, (data) => this.onMessage(data as LinkMessage))
    pipe.engine = this
  }

  /** The other side listens now and takes `window` messages to begin with. */
  opened(window: number): void {
    this.creditTotal = window
    const waiting = this.outbox ?? []
    this.outbox = null
    for (const m of waiting) this.post(m)
    this.scheduleFlush()
  }

  /** Our window, told to the other side when it may send. */
  get receiveWindow(): number {
    return this.window
  }

  start(): void {
    this.scheduleFlush()
  }

  private post(m: LinkMessage): void {
    if (this.outbox !== null) this.outbox.push(m)
    else this.chan.postMessage(m)
  }

  // ---- PipeEngine ----

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed || this.outbox !== null) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      this.flush(false)
    })
  }

  /** Sends what the other side has room for (everything, when closing with linger). */
  private flush(force: boolean): void {
    const pipe = this.pipe
    const room = force ? Number.MAX_SAFE_INTEGER : this.creditTotal - this.sentTotal
    if (room <= 0 || pipe.out.length === 0) return
    const wasFull = pipe.full
    const batch: Uint8Array[][] = []
    while (batch.length < room && pipe.out.length > 0) batch.push(pipe.out.shift()!)
    this.sentTotal += batch.length
    this.post({ m: batch })
    pipe.drained(wasFull)
  }

  resumeReading(): void {
    // The socket read enough of what we delivered: give the other side room again.
    const consumed = this.deliveredTotal - this.pipe.in.length
    const grant = consumed + this.window
    if (grant > this.grantedTotal) {
      this.grantedTotal = grant
      this.post({ credit: grant })
    }
  }

  sendSubscription(subscribe: boolean, topic: Buffer): void {
    this.post({ sub: subscribe, topic })
  }

  // ---- PipeEngine and InprocLinkLike ----

  /** Ends the connection; with linger, what is queued goes first (the other side's window aside). */
  close(lingerMs: number): void {
    if (this.closed) return
    if (lingerMs !== 0 && this.outbox === null) this.flush(true)
    this.post({ close: true })
    this.end()
  }

  private end(): void {
    if (this.closed) return
    this.closed = true
    if (this.pipe.engine === this) this.pipe.engine = null
    // Give the channel a moment to deliver what was posted, then let it go.
    setTimeout(() => this.chan.close(), 1000).unref()
    this.onClose(this.pipe)
  }

  private onMessage(data: LinkMessage): void {
    if (this.closed) return
    if ("m" in data) {
      const pipe = this.pipe
      for (const parts of data.m) {
        this.deliveredTotal++
        pipe.deliverQuiet(parts.map(toBuffer) as Message)
      }
      // Ask the pipe to call resumeReading once the socket has read it down to half its HWM
      // (whether or not it filled up): that is when the other side gets more credit.
      if (this.window < Number.MAX_SAFE_INTEGER) pipe.readPaused = true
      pipe.commit()
    } else if ("credit" in data) {
      this.creditTotal = Math.max(this.creditTotal, data.credit)
      this.scheduleFlush()
    } else if ("sub" in data) {
      this.pipe.owner.pipeCommand?.(this.pipe, data.sub ? "SUBSCRIBE" : "CANCEL", toBuffer(data.topic))
    } else if ("ready" in data) {
      this.opened(data.ready)
    } else if ("close" in data) {
      this.end()
    }
  }

  /** Sends "ready" with our window: the other side may start sending. */
  ready(): void {
    this.chan.postMessage({ ready: this.window } satisfies LinkMessage)
  }
}

/** A connect() of this thread waiting for a bound socket in another thread. */
interface Offer {
  name: string
  req: InprocRequest
  link: string
  peer: RemotePeer
}

/** The directory side of a thread: who binds what, and the connects in flight. */
export class ThreadBridge {
  private chan: Channel | null = null
  private readonly thread = `${process.pid}:${Math.random().toString(36).slice(2)}`
  /** Names bound in other threads (name → thread). */
  private readonly elsewhere = new Map<string, string>()
  private readonly offers = new Map<string, Offer>()
  /** Offers from other threads this thread has answered (by link id). */
  private readonly answered = new Set<string>()
  private nextLink = 0

  constructor(
    /** The local binder of a name, if any. */
    private readonly localBinder: (name: string) => RemoteBinder | undefined,
    /** Names bound in this thread (answered to a hello). */
    private readonly localNames: () => Iterable<string>,
    /** Called when a connection from another thread is accepted for a local request. */
    private readonly accepted: (req: InprocRequest, link: RemoteLink, peer: RemotePeer) => void,
  ) {}

  private directory(): Channel {
    if (this.chan === null) {
      this.chan = channel(DIRECTORY, (data) => this.onDirectory(data as DirectoryMessage))
      this.send({ op: "hello" })
    }
    return this.chan
  }

  private send(m: Omit<DirectoryMessage, "thread">): void {
    this.directory().postMessage({ ...m, thread: this.thread })
  }

  /** Bound in another thread, as far as this thread has heard. */
  boundElsewhere(name: string): boolean {
    this.directory()
    return this.elsewhere.has(name)
  }

  announceBind(name: string): void {
    this.send({ op: "bound", name })
  }

  announceUnbind(name: string): void {
    this.send({ op: "unbound", name })
    this.idle()
  }

  /**
   * Where the channel would keep the thread alive (Deno), it is closed once nothing is bound
   * here and no connect waits; the next use opens it again and asks who binds what.
   */
  private idle(): void {
    if (canUnref || this.chan === null || this.offers.size > 0) return
    for (const _ of this.localNames()) return
    const c = this.chan
    this.chan = null
    this.elsewhere.clear()
    // At once: Deno keeps one handle for all its channels, and closing this one after a new
    // one was opened (a bind right after an unbind) left the new one without it.
    c.close()
  }

  /** A local connect() found no local binder: ask the other threads. */
  offer(name: string, req: InprocRequest, peer: RemotePeer): void {
    const link = `${this.thread}:${this.nextLink++}`
    const o: Offer = { name, req, link, peer }
    this.offers.set(link, o)
    this.sendOffer(o)
  }

  /** The request was joined locally or cancelled: an answer from elsewhere is turned down. */
  withdraw(req: InprocRequest): void {
    for (const [id, o] of this.offers) if (o.req === req) this.offers.delete(id)
    this.idle()
  }

  private sendOffer(o: Offer): void {
    this.send({ op: "connect", name: o.name, link: o.link, peer: o.peer })
  }

  private onDirectory(m: DirectoryMessage): void {
    switch (m.op) {
      case "hello":
        for (const name of this.localNames()) this.send({ op: "bound", name })
        return
      case "bound":
        this.elsewhere.set(m.name!, m.thread)
        // Connects made before this bind are offered again, now that someone can answer.
        for (const o of this.offers.values()) if (o.name === m.name) this.sendOffer(o)
        return
      case "unbound":
        if (this.elsewhere.get(m.name!) === m.thread) this.elsewhere.delete(m.name!)
        return
      case "connect": {
        const binder = this.localBinder(m.name!)
        // An offer is sent again whenever its name is announced as bound: answer it once.
        if (binder === undefined || this.answered.has(m.link!)) return
        this.answered.add(m.link!)
        const link = binder.joinRemote(m.peer!, (pipe) => new RemoteLink(m.link!, pipe))
        if (link === null) this.send({ op: "refused", link: m.link! })
        else this.send({ op: "accepted", link: m.link!, peer: binder.describe(), window: link.receiveWindow })
        return
      }
      case "accepted": {
        // Every thread hears it; only the one that made the offer answers.
        if (!m.link!.startsWith(`${this.thread}:`)) return
        const o = this.offers.get(m.link!)
        if (o === undefined) {
          // Joined locally (or cancelled) meanwhile: tell the other side.
          const c = new BroadcastChannelClass!(`omq:inproc:link:${m.link}`)
          c.postMessage({ close: true } satisfies LinkMessage)
          setTimeout(() => c.close(), 1000).unref()
          return
        }
        this.offers.delete(m.link!)
        this.idle()
        const link = new RemoteLink(m.link!, o.req.pipe)
        this.accepted(o.req, link, m.peer!)
        link.opened(m.window!)
        link.ready()
        return
      }
      case "refused":
        return // as within a thread: the connect stays pending, nothing crosses
    }
  }
}
