/**
 * The client's connection: one DEALER, pipelined requests matched to replies
 * by a 4-byte request id, deliveries routed to subscriptions, and what to do
 * when the connection drops (in-flight requests fail with DISCONNECTED,
 * subscriptions are renewed on reconnect). QueueClient builds on it.
 */
import { createDebug } from "../../../debug.js"
import { Dealer } from "../../../sockets/dealer.js"
import type { SocketOptions } from "../../../sockets/types.js"
import { decodeCbor } from "../cbor.js"
import { COMMAND_FRAMES, MSG, OK } from "../commands.js"
import { Delivery, type QueueConsumer } from "./delivery.js"
import { readDeliveries } from "./payload.js"
import { QueueError } from "../errors.js"

export const debug = createDebug("omq:queue")
export const EMPTY = Buffer.alloc(0)
/** Command frames by name: the list the device serves (commands.ts). */
export const CMD = COMMAND_FRAMES

export interface Reply {
  result: Record<string, unknown>
  data: Buffer[]
}

export interface Pending {
  resolve(r: Reply): void
  reject(e: Error): void
  /** Set for a request whose OK reply is handed over undecoded (requestRaw). */
  raw?: (frames: Buffer[]) => void
}

/** Whether a reply's first frame is `k` (a byte loop: these are 2-3 bytes, checked once per reply). */
function isKind(frame: Buffer, k: Buffer): boolean {
  if (frame.length !== k.length) return false
  for (let i = 0; i < k.length; i++) if (frame[i] !== k[i]) return false
  return true
}

/** What a raw request's promise resolves with (its frames went to Pending.raw). */
const RAW_REPLY: Reply = { result: {}, data: [] }

export const int = (v: unknown): number => (typeof v === "bigint" ? Number(v) : (v as number))

/** Converts bigints (CBOR uint64) in a decoded reply to numbers. */
function normalize(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v)
  if (Array.isArray(v)) return v.map(normalize)
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) o[k] = normalize(o[k])
  }
  return v
}

export abstract class QueueConnection {
  readonly socket: Dealer
  private readonly pending = new Map<number, Pending>()
  private readonly slotWaiters: (() => void)[] = []
  private readonly drainWaiters: (() => void)[] = []
  /** @internal Subscriptions by the request id of their CONSUME. */
  protected readonly consumers = new Map<number, QueueConsumer>()
  private readonly maxInFlight: number
  private nextId = 1
  /** @internal */
  protected closed = false
  /** @internal */
  protected disconnected = false
  /** Devices to use, one at a time (connect()). */
  private readonly endpoints: string[] = []
  private active = -1
  /** A connection to the active endpoint is up (handshake done, not lost since). */
  private up = false
  private failover: NodeJS.Timeout | undefined
  private readonly failoverMs: number
  /** Requests made while no device was connected (several endpoints), sent on the next handshake. */
  private outbox: { id: number; frames: Buffer[] }[] = []

  constructor(maxInFlight: number, socketOptions: SocketOptions<Dealer> | undefined, failoverMs = 1000) {
    this.maxInFlight = maxInFlight
    this.failoverMs = failoverMs
    this.socket = new Dealer({ sendHighWaterMark: 0, linger: 1000, ...socketOptions })
    // onConnectionEvent, not the Observer: it also reports inproc connections.
    this.socket.onConnectionEvent((type) => {
      if (type === "disconnect") {
        this.up = false
        this.onDisconnect()
        this.armFailover()
      } else if (type === "handshake") {
        this.up = true
        if (this.failover !== undefined) clearTimeout(this.failover)
        this.failover = undefined
        this.onReconnect()
        const held = this.outbox
        this.outbox = []
        for (const r of held) if (this.pending.has(r.id)) this.write(r.id, r.frames)
      }
    })
    void this.receiveLoop()
  }

  /** @internal */
  abstract ackDelivery(d: Delivery): Promise<void>
  /** @internal */
  abstract nackDelivery(d: Delivery, delay: number | undefined): Promise<"ready" | "delayed" | "buried">
  /** @internal */
  abstract touchDelivery(d: Delivery, ttr: number | undefined): Promise<number>
  /** @internal */
  abstract buryDelivery(d: Delivery, reason: string | undefined): Promise<void>
  /** @internal */
  abstract cancelConsumer(c: QueueConsumer): Promise<void>
  /** @internal */
  abstract creditConsumer(c: QueueConsumer, credit: number): Promise<void>
  /** @internal What to call for each delivery of a MSG just received (the client's tracing), if anything. */
  protected abstract deliveryHook(): ((d: Delivery) => void) | undefined
  /** @internal Sends CONSUME for `c` (again, after a reconnect). */
  protected abstract subscribe(c: QueueConsumer): void

  /**
   * Adds a device endpoint. The client uses one device at a time: the first, and when its
   * connection is lost (or not made) for failoverMs, the next one (round the list), until one
   * answers. With one endpoint the DEALER just reconnects to it.
   */
  connect(endpoint: string): void {
    this.endpoints.push(endpoint)
    if (this.active < 0) {
      this.active = 0
      this.socket.connect(endpoint)
    }
    this.armFailover()
  }

  /** With several endpoints and no connection: move to the next one after failoverMs. */
  private armFailover(): void {
    if (this.endpoints.length < 2 || this.up || this.closed || this.failover !== undefined) return
    this.failover = setTimeout(() => {
      this.failover = undefined
      if (this.up || this.closed || this.socket.closed) return
      const from = this.endpoints[this.active]!
      this.active = (this.active + 1) % this.endpoints.length
      debug("no device at %s: trying %s", from, this.endpoints[this.active])
      try {
        this.socket.disconnect(from)
      } catch {
        // not connected: nothing to undo
      }
      this.socket.connect(this.endpoints[this.active]!)
      this.armFailover()
    }, this.failoverMs)
    this.failover.unref()
  }

  /** @internal */
  protected takeId(): number {
    const id = this.nextId
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1
    return id
  }

  /** @internal Sends a request and waits for its reply (waiting first for a free slot if maxInFlight are out). */
  protected async request(command: Buffer, args: Buffer, data?: Buffer[]): Promise<Reply> {
    while (this.pending.size >= this.maxInFlight && !this.closed) await new Promise<void>((r) => this.slotWaiters.push(r))
    return this.send(this.takeId(), command, args, data)
  }

  /**
   * @internal The same, but an OK reply resolves with its frames as received,
   * [OK, requestId, result, ...data], the result not decoded (the caller reads it; an ERR still rejects).
   */
  protected async requestRaw(command: Buffer, args: Buffer): Promise<Buffer[]> {
    while (this.pending.size >= this.maxInFlight && !this.closed) await new Promise<void>((r) => this.slotWaiters.push(r))
    let frames: Buffer[] = []
    await this.send(this.takeId(), command, args, undefined, (f) => (frames = f))
    return frames
  }

  /** @internal */
  protected send(id: number, command: Buffer, args: Buffer, data?: Buffer[], raw?: (frames: Buffer[]) => void): Promise<Reply> {
    if (this.closed) return Promise.reject(new QueueError("CLOSED", "the client is closed"))
    const reqId = Buffer.allocUnsafe(4)
    reqId.writeUInt32BE(id)
    const frames = data === undefined ? [command, reqId, args] : [command, reqId, args, ...data]
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, raw === undefined ? { resolve, reject } : { resolve, reject, raw })
      // With several devices and none connected, requests wait here for the next connection.
      if (this.endpoints.length > 1 && !this.up) this.outbox.push({ id, frames })
      else this.write(id, frames)
    })
  }

  private write(id: number, frames: Buffer[]): void {
    // Requests are pipelined (none is awaited before the next), so no send may wait for a loop turn.
    this.socket.sendPipelined(frames).then(undefined, (err: Error) => {
      const p = this.pending.get(id)
      if (p !== undefined) {
        this.pending.delete(id)
        p.reject(err)
      }
    })
  }

  private async receiveLoop(): Promise<void> {
    for (;;) {
      let frames: Buffer[]
      try {
        frames = await this.socket.receive()
      } catch {
        if (this.socket.closed) return
        continue
      }
      this.onMessage(frames)
    }
  }

  private onMessage(frames: Buffer[]): void {
    const kind = frames[0]
    const tag = frames[1]
    if (kind === undefined || tag === undefined || tag.length !== 4) return // PING, or nothing we sent
    const id = tag.readUInt32BE(0)
    if (isKind(kind, MSG)) {
      const c = this.consumers.get(id)
      if (c === undefined || frames.length < 3) return
      const hook = this.deliveryHook()
      // Read straight into Deliveries (payload.ts); a payload of another shape goes through the general decoder.
      if (readDeliveries(frames[2]!, frames, 3, this, c, hook)) return
      const payload = decodeCbor(frames[2]!) as { queue: string; messages: unknown[][] }
      const ms = payload.messages
      for (let i = 0; i < ms.length; i++) {
        const d = Delivery.fromTuple(this, payload.queue, ms[i]!, frames[3 + 2 * i] ?? EMPTY, frames[4 + 2 * i] ?? EMPTY, c.group)
        if (hook !== undefined) hook(d)
        c.push(d)
      }
      return
    }
    const p = this.pending.get(id)
    if (p === undefined) return
    this.pending.delete(id)
    const w = this.slotWaiters.shift()
    if (w !== undefined) w()
    if (this.pending.size === 0) for (const d of this.drainWaiters.splice(0)) d()
    if (p.raw !== undefined && isKind(kind, OK)) {
      p.raw(frames)
      p.resolve(RAW_REPLY)
      return
    }
    let result: Record<string, unknown>
    try {
      result = frames[2] === undefined || frames[2].length === 0 ? {} : (normalize(decodeCbor(frames[2])) as Record<string, unknown>)
    } catch (err) {
      p.reject(new QueueError("BAD_REQUEST", `undecodable reply: ${(err as Error).message}`))
      return
    }
    if (isKind(kind, OK)) p.resolve({ result, data: frames.slice(3) })
    else p.reject(new QueueError(String(result.code ?? "UNKNOWN"), String(result.message ?? "request failed")))
  }

  private onDisconnect(): void {
    if (this.closed) return
    this.disconnected = true
    debug("disconnected: failing %d requests in flight", this.pending.size)
    this.failPending(new QueueError("DISCONNECTED", "the connection to the device was lost; the request may or may not have been carried out"))
    for (const c of this.consumers.values()) c.dropBuffered()
  }

  private onReconnect(): void {
    if (!this.disconnected || this.closed) return
    this.disconnected = false
    // The device dropped our subscriptions with the old connection: subscribe again.
    const old = [...this.consumers.values()]
    this.consumers.clear()
    for (const c of old) if (!c.closed) this.subscribe(c)
  }

  private failPending(err: Error): void {
    const ps = [...this.pending.values()]
    this.pending.clear()
    this.outbox = []
    for (const p of ps) p.reject(err)
    for (const w of this.slotWaiters.splice(0)) w()
    for (const d of this.drainWaiters.splice(0)) d()
  }

  /** @internal Waits up to `timeout` ms for the replies in flight, then closes; what is unanswered fails with CLOSED. */
  protected async closeConnection(timeout: number): Promise<void> {
    if (this.pending.size > 0 && !this.disconnected) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.drainWaiters.push(resolve)
        timer = setTimeout(resolve, timeout)
      })
      clearTimeout(timer)
    }
    this.closed = true
    if (this.failover !== undefined) clearTimeout(this.failover)
    for (const c of this.consumers.values()) c.end()
    this.consumers.clear()
    this.failPending(new QueueError("CLOSED", "the client is closed"))
    this.socket.close()
  }
}
