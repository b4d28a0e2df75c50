/**
 * A durable forwarder: XSUB in, XPUB out, with the queue store between them, for unmodified
 * ZeroMQ peers in any language. Publishers connect to (or are connected by) the front end,
 * subscribers to the back end; subscriptions go upstream as through a plain forwarder.
 *
 * Durable subscribers. A subscriber that names itself in its handshake is durable: the READY
 * `Identity` property (what ZMTP 2.0 peers send), or else the application property
 * `X-Routing-Id` (libzmq's ZMQ_METADATA: `setStringOption(95, "X-Routing-Id:<id>")` in
 * zeromq.js; libzmq does not put a SUB's ZMQ_ROUTING_ID on the wire). The id is 1 to 255 bytes,
 * any bytes. Each durable subscriber has its own queue in the store (`fwd/<hex id>`, or
 * `fwd/h-<hash>` for ids over 32 bytes): every message read from the front end is put, at
 * once, into the queue of each durable subscriber whose last known subscriptions match it,
 * connected or not. The device writes a queue's messages to its subscriber's pipe in order, as
 * fast as the connection takes them, and removes them from the store once the connection has
 * taken them; nothing is dropped for a slow durable subscriber (its backlog waits on disk).
 * When it reconnects with the same id, what it missed is sent to it, and only to it, in
 * order, then what follows, live. Its subscriptions are kept in the store too: publishers keep
 * sending what matches them while it is away, and after a restart of the device. A second
 * connection with the same id takes over from the first. Anonymous subscribers get what a
 * plain XPUB gives them: live messages only, dropped at the HWM.
 *
 * Retention: a durable subscriber's backlog holds at most `maxBacklog` messages (the oldest
 * go first, counted in `dropped`); with `subscriberTtlMs` a subscriber absent that long
 * (counted from the later of its disconnection and the device's start) is forgotten, with its
 * backlog.
 *
 * What is guaranteed: a message read from the front end is stored (with the fsync policy's
 * durability) in every matching durable backlog before it is forwarded to anyone, anonymous
 * subscribers included, and before more is read. After a restart (kill -9 included) a durable
 * subscriber gets every stored message that its connection had not taken, in order. At the
 * wire it is at most once, as with any ZeroMQ socket: what a connection had taken (written
 * to the TCP socket: Node's and the kernel's buffers) when it broke is lost for it if it did
 * not arrive; what was not yet taken is sent again. Duplicates: after a restart, what had been
 * taken but whose removal was not yet on disk is sent again (a window of one store write).
 * Messages published while the device is down are dropped by the publishers (a PUB has no
 * peer then), as with a plain forwarder.
 */
import { createDebug } from "../../debug.js"
import type { Pipe } from "../../pipe/pipe.js"
import { PrefixCounter } from "../../routing/subscription-trie.js"
import { XPublisher, type PeerTakeover } from "../../sockets/xpub.js"
import { XSubscriber } from "../../sockets/xsub.js"
import type { ClientHandle, DeliveredMessage, NewMessage } from "./backend.js"
import type { FileBackend } from "./file-backend.js"
import type { FsyncPolicy } from "./journal/store.js"
import { LEASE_UNTIL_CLOSED, attachEnds, openDeviceStore, type DurableDeviceOptions } from "./device-store.js"
import { storedFrames, storedMessage } from "./stored-frames.js"
import { DurableSubscriber, SubscriberRegistry, subscriberId, type Held } from "./forwarder-registry.js"

const debug = createDebug("omq:queue")

/** frontEnd: the XSUB (publishers); backEnd: the XPUB (subscribers). */
export interface DurableForwarderOptions extends DurableDeviceOptions {
  /** Default "always": a message is on disk before it is forwarded and before the next is read. */
  fsync?: FsyncPolicy
  /** Per durable subscriber: messages taken from its backlog and not yet taken by its connection, at most (default 1000). */
  window?: number
  /** Per durable subscriber: messages kept at most; beyond, the oldest are dropped (default 1,000,000). */
  maxBacklog?: number
  /** Forget a durable subscriber (and its backlog) absent this long, in ms (default 0: never). */
  subscriberTtlMs?: number
}

/** What the device knows of one durable subscriber (see `subscribers()`). */
export interface DurableSubscriberInfo {
  id: Buffer
  /** Its queue in the store. */
  queue: string
  connected: boolean
  /** Messages stored for it and not yet taken by its connection. */
  backlog: number
  /** Messages stored for it since the device started. */
  stored: number
  /** Messages its connections took since the device started. */
  taken: number
  /** Messages dropped for it by `maxBacklog` since the device started. */
  dropped: number
  topics: Buffer[]
}

/** After a reconnect, subscriptions the new connection has not sent again within this time are dropped. */
const RESUBSCRIBE_GRACE_MS = 10_000
/** Messages removed per ack when a forgotten subscriber's backlog is emptied. */
const PURGE_CHUNK = 10_000

function info(s: DurableSubscriber): DurableSubscriberInfo {
  const { id, queue, backlog, stored, taken, dropped } = s
  return { id, queue, connected: s.pipe !== undefined, backlog, stored, taken, dropped, topics: [...s.topics.values()] }
}

export class DurableForwarder {
  readonly xsub = new XSubscriber({ linger: 0 })
  readonly xpub = new XPublisher({ linger: 2000 })
  private readonly backend: FileBackend
  private readonly client: ClientHandle
  private readonly registry: SubscriberRegistry
  private readonly subscribersById = new Map<string, DurableSubscriber>()
  private readonly byPipe = new Map<Pipe, DurableSubscriber>()
  private readonly startedAt = Date.now()
  private readonly batch: number
  private readonly window: number
  private readonly maxBacklog: number
  private closed = false
  private reading: Promise<void> | undefined
  private upstream: Promise<void> | undefined
  private ttlTimer: NodeJS.Timeout | undefined
  private readonly timers = new Set<NodeJS.Timeout>()
  /** What the anonymous subscribers want, from the XPUB's first-subscribe / last-unsubscribe messages. */
  private readonly anonymous = new PrefixCounter()

  private constructor(private readonly options: DurableForwarderOptions) {
    this.batch = options.batch ?? 1000
    this.window = options.window ?? 1000
    this.maxBacklog = options.maxBacklog ?? 1_000_000
    // A delivery is settled once the connection takes it; a lease only ends with the device.
    this.backend = openDeviceStore(options.dir, options.fsync, { dedupWindowMs: 0, defaultTtr: LEASE_UNTIL_CLOSED })
    this.client = this.backend.openClient("durable-forwarder")
    this.registry = new SubscriberRegistry(this.backend, this.client, (key) => this.subscribersById.get(key))
  }

  /** Opens the store (recovering what a previous run left), binds and connects, and starts forwarding. */
  static async start(options: DurableForwarderOptions): Promise<DurableForwarder> {
    const d = new DurableForwarder(options)
    try {
      d.loadRegistry()
      const takeover: PeerTakeover = {
        claim: (pipe) => d.claim(pipe),
        subscription: (pipe, subscribe, topic) => d.subscription(pipe, subscribe, topic),
        writable: (pipe) => d.writable(pipe),
        released: (pipe) => d.released(pipe),
      }
      d.xpub.takeover = takeover
      await attachEnds(d.xpub, options.backEnd)
      await attachEnds(d.xsub, options.frontEnd)
    } catch (err) {
      await d.close()
      throw err
    }
    d.reading = d.readLoop()
    d.upstream = d.upstreamLoop()
    const ttl = options.subscriberTtlMs ?? 0
    if (ttl > 0) {
      d.ttlTimer = setInterval(() => d.forgetAbsent(ttl), Math.max(10, Math.min(ttl / 2, 60_000)))
      d.ttlTimer.unref()
    }
    return d
  }

  // ---- the store: registry and backlogs ----

  /** The durable subscribers a previous run knew, with their subscriptions (subscribed upstream) and backlogs. */
  private loadRegistry(): void {
    for (const { subscriber, topics } of this.registry.load()) {
      for (const t of topics) this.addTopic(subscriber, t)
      this.subscribersById.set(subscriber.key, subscriber)
    }
  }

  /** Stores the subscriber's id, subscriptions and last disconnection again (soon: one write for many changes). */
  private persist(s: DurableSubscriber): void {
    if (!this.closed) this.registry.persist(s)
  }

  private subscriberFor(id: Buffer): DurableSubscriber {
    const key = id.toString("hex")
    let s = this.subscribersById.get(key)
    if (s === undefined) {
      s = new DurableSubscriber(Buffer.from(id))
      this.subscribersById.set(key, s)
      this.persist(s)
    }
    return s
  }

  private addTopic(s: DurableSubscriber, topic: Buffer): boolean {
    const k = topic.toString("latin1")
    s.unconfirmed?.delete(k)
    if (s.topics.has(k)) return false
    s.topics.set(k, topic)
    s.matcher.add(topic)
    this.upstreamSubscription(true, topic)
    return true
  }

  private removeTopic(s: DurableSubscriber, k: string): boolean {
    const topic = s.topics.get(k)
    if (topic === undefined) return false
    s.topics.delete(k)
    s.matcher.remove(topic)
    this.upstreamSubscription(false, topic)
    return true
  }

  /** Counted by the XSUB, with the anonymous subscribers' own: an unsubscribe goes upstream only when no one wants the topic. */
  private upstreamSubscription(subscribe: boolean, topic: Buffer): void {
    const m = Buffer.allocUnsafe(topic.length + 1)
    m[0] = subscribe ? 1 : 0
    topic.copy(m, 1)
    if (!this.xsub.closed) void this.xsub.sendPipelined([m])
  }

  // ---- the XPUB's durable peers (PeerTakeover) ----

  private claim(pipe: Pipe): boolean {
    if (this.closed) return false
    const id = subscriberId(pipe.peerMetadata)
    if (id === undefined) return false
    const s = this.subscriberFor(id)
    if (s.pipe !== undefined) this.endSession(s) // a second connection with the same id takes over
    s.pipe = pipe
    this.byPipe.set(pipe, s)
    debug("durable forwarder: subscriber %s connected, backlog %d", s.key, s.backlog)
    // A reconnecting SUB sends all its subscriptions again; those it does not were dropped while it was away.
    if (s.topics.size > 0) {
      const unconfirmed = (s.unconfirmed = new Set(s.topics.keys()))
      const t = setTimeout(() => {
        this.timers.delete(t)
        if (s.pipe !== pipe || s.unconfirmed !== unconfirmed) return
        s.unconfirmed = undefined
        let changed = false
        for (const k of unconfirmed) changed = this.removeTopic(s, k) || changed
        if (changed) this.persist(s)
      }, RESUBSCRIBE_GRACE_MS)
      t.unref()
      this.timers.add(t)
    }
    // What it was sent and did not take comes first (the oldest), then the rest of its backlog.
    this.fill(s)
    s.sub = this.backend.consume(this.client, s.queue, this.window, "durable-forwarder", (_q, messages) => this.deliver(s, pipe, messages))
    return true
  }

  private subscription(pipe: Pipe, subscribe: boolean, topic: Buffer): void {
    const s = this.byPipe.get(pipe)
    if (s === undefined || s.pipe !== pipe) return // an older connection, taken over
    const changed = subscribe ? this.addTopic(s, Buffer.from(topic)) : this.removeTopic(s, topic.toString("latin1"))
    if (changed) this.persist(s)
  }

  private deliver(s: DurableSubscriber, pipe: Pipe, messages: readonly DeliveredMessage[]): void {
    // Copied: the backend's objects are valid only during this call.
    for (const m of messages) s.unsent.push({ seq: m.seq, attempts: m.attempts, frames: storedFrames(m.headers, m.body) })
    if (s.pipe === pipe) this.fill(s)
  }

  /** Writes held messages to the subscriber's pipe while it has room. */
  private fill(s: DurableSubscriber): void {
    const pipe = s.pipe
    if (pipe === undefined) return
    for (let h = s.unsent.peek(); h !== undefined && !pipe.full; h = s.unsent.peek()) {
      s.unsent.shift()
      pipe.write(h.frames)
      s.inPipe.push(h)
    }
  }

  /** The engine took messages from the pipe: they are the connection's now, so out of the store; then more. */
  private writable(pipe: Pipe): void {
    const s = this.byPipe.get(pipe)
    if (s === undefined || s.pipe !== pipe) return
    const taken = s.inPipe.length - pipe.out.length
    if (taken > 0) {
      const pairs: number[] = []
      for (let i = 0; i < taken; i++) {
        const h = s.inPipe.shift()!
        pairs.push(h.seq, h.attempts)
      }
      s.backlog -= taken
      s.taken += taken
      this.backend.ack(this.client, pairs, () => {})
    }
    this.fill(s)
  }

  private released(pipe: Pipe): void {
    const s = this.byPipe.get(pipe)
    this.byPipe.delete(pipe)
    if (s === undefined || s.pipe !== pipe) return
    this.endSession(s)
    s.seen = Date.now()
    this.persist(s)
    debug("durable forwarder: subscriber %s disconnected, backlog %d", s.key, s.backlog)
  }

  /** Stops sending to the subscriber's connection; what it had not taken is held for the next one. */
  private endSession(s: DurableSubscriber): void {
    const pipe = s.pipe
    if (pipe === undefined) return
    s.pipe = undefined
    s.unconfirmed = undefined
    if (s.sub !== undefined) this.backend.cancel(s.sub)
    s.sub = undefined
    // A connect()ed pipe keeps its queue for the next connection: these go from the store instead.
    pipe.out.clear()
    const back: Held[] = []
    for (let h = s.inPipe.shift(); h !== undefined; h = s.inPipe.shift()) back.push(h)
    for (let i = back.length - 1; i >= 0; i--) s.unsent.unshift(back[i]!)
  }

  // ---- the front end ----

  /** Reads what publishers send, in batches; stores each batch in the matching backlogs, then forwards it live. */
  private async readLoop(): Promise<void> {
    while (!this.closed) {
      let batch: Buffer[][]
      try {
        batch = [await this.xsub.receive()]
        // What is queued already goes into the same batch (one store write for many messages).
        for (let m = this.xsub.receiveNow(); m !== undefined; m = batch.length < this.batch ? this.xsub.receiveNow() : undefined) batch.push(m)
      } catch {
        return // closed
      }
      await this.store(batch)
      if (this.closed) return
      // Anonymous subscribers: as a plain XPUB (the durable ones are not in its trie).
      // Only what one of them subscribed to: the others would be matched against the XPUB's trie for nothing.
      if (this.anonymous.size > 0) for (const m of batch) if (this.anonymous.matches(m[0]!)) void this.xpub.sendPipelined(m)
    }
  }

  /** Puts the batch's messages into each durable subscriber's queue whose subscriptions match; resolves once all are stored. */
  private store(batch: Buffer[][]): Promise<void> {
    const matches: Array<[DurableSubscriber, number[]]> = []
    const kept = new Uint8Array(batch.length)
    let keptCount = 0
    for (const s of this.subscribersById.values()) {
      if (s.topics.size === 0) continue
      const indexes: number[] = []
      for (let i = 0; i < batch.length; i++) {
        if (!s.matcher.matches(batch[i]![0]!)) continue
        indexes.push(i)
        if (kept[i] === 0) {
          kept[i] = 1
          keptCount++
        }
      }
      if (indexes.length > 0) matches.push([s, indexes])
    }
    if (matches.length === 0) return Promise.resolve()
    // A frame is a slice of a network read. When some messages of the batch are not kept, frames
    // are copied, so the store does not hold on to the reads for the few that are; when all are
    // kept, their reads are the store's data anyway.
    const copy = keptCount < batch.length
    const stored: (NewMessage | undefined)[] = new Array(batch.length)
    const puts = matches.map(([s, indexes]): [DurableSubscriber, NewMessage[]] => [
      s,
      indexes.map((i) => (stored[i] ??= storedMessage(batch[i]!, copy))),
    ])
    return new Promise<void>((resolve, reject) => {
      let left = puts.length
      for (const [s, items] of puts) {
        this.backend.putBatch(s.queue, items, (err) => {
          if (err) return reject(err)
          s.backlog += items.length
          s.stored += items.length
          if (s.backlog > this.maxBacklog) this.trim(s)
          if (--left === 0) resolve()
        })
      }
    })
  }

  /** Drops the oldest of a backlog over `maxBacklog`: held ones first (not yet written), then ready ones. */
  private trim(s: DurableSubscriber): void {
    const pairs: number[] = []
    let excess = s.backlog - this.maxBacklog
    for (let h = s.unsent.peek(); excess > 0 && h !== undefined; h = s.unsent.peek(), excess--) {
      s.unsent.shift()
      pairs.push(h.seq, h.attempts)
    }
    for (; excess > 0; excess--) {
      let m: DeliveredMessage | null = null
      this.backend.reserve(this.client, s.queue, 0, "durable-forwarder", (_e, r) => (m = r ?? null))
      if (m === null) break
      pairs.push((m as DeliveredMessage).seq, (m as DeliveredMessage).attempts)
    }
    const n = pairs.length / 2
    if (n === 0) return
    s.dropped += n
    s.backlog -= n
    this.backend.ack(this.client, pairs, () => {})
    debug("durable forwarder: subscriber %s over maxBacklog, dropped %d", s.key, n)
  }

  /** What subscribers send upstream (subscriptions, XSUB data) goes to the publishers, as through a plain forwarder. */
  private async upstreamLoop(): Promise<void> {
    for (;;) {
      let m: Buffer[]
      try {
        m = await this.xpub.receive()
      } catch {
        return // closed
      }
      if (this.xsub.closed) return
      const first = m[0]!
      if (m.length === 1 && first.length > 0 && (first[0] === 0 || first[0] === 1)) {
        if (first[0] === 1) this.anonymous.add(first.subarray(1))
        else this.anonymous.remove(first.subarray(1))
      }
      void this.xsub.sendPipelined(m)
    }
  }

  // ---- retention ----

  private forgetAbsent(ttl: number): void {
    const now = Date.now()
    for (const s of [...this.subscribersById.values()]) {
      if (s.pipe === undefined && now - Math.max(s.seen, this.startedAt) >= ttl) this.forget(s)
    }
  }

  /** Removes a subscriber: its record, its backlog, its subscriptions upstream. */
  private forget(s: DurableSubscriber): void {
    this.subscribersById.delete(s.key)
    for (const k of [...s.topics.keys()]) this.removeTopic(s, k)
    const pairs: number[] = []
    if (s.record !== undefined) pairs.push(s.record.seq, s.record.attempts)
    for (let h = s.unsent.shift(); h !== undefined; h = s.unsent.shift()) pairs.push(h.seq, h.attempts)
    this.backend.ack(this.client, pairs, () => {})
    debug("durable forwarder: subscriber %s forgotten with a backlog of %d", s.key, s.backlog)
    const purge = (): void => {
      // Back meanwhile: what is left of the old backlog is its backlog again.
      if (this.closed || this.subscribersById.has(s.key)) return
      const chunk: number[] = []
      while (chunk.length < 2 * PURGE_CHUNK) {
        let m: DeliveredMessage | null = null
        this.backend.reserve(this.client, s.queue, 0, "durable-forwarder", (_e, r) => (m = r ?? null))
        if (m === null) break
        chunk.push((m as DeliveredMessage).seq, (m as DeliveredMessage).attempts)
      }
      if (chunk.length > 0) this.backend.ack(this.client, chunk, () => {})
      if (chunk.length === 2 * PURGE_CHUNK) setImmediate(purge)
    }
    purge()
  }

  // ---- observing ----

  /** The durable subscribers the device knows. */
  subscribers(): DurableSubscriberInfo[] {
    return [...this.subscribersById.values()].map(info)
  }

  /** One durable subscriber by id, or undefined. */
  subscriber(id: string | Buffer): DurableSubscriberInfo | undefined {
    const s = this.subscribersById.get((typeof id === "string" ? Buffer.from(id) : id).toString("hex"))
    return s === undefined ? undefined : info(s)
  }

  /** Stops reading and sending, closes the sockets and the store. What a connection had not taken stays stored. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.ttlTimer !== undefined) clearInterval(this.ttlTimer)
    for (const t of this.timers) clearTimeout(t)
    for (const s of this.subscribersById.values()) this.endSession(s)
    this.xsub.close()
    this.xpub.close()
    await this.reading?.catch(() => {})
    await this.upstream?.catch(() => {})
    await this.backend.close()
  }
}
