/**
 * QueueDevice: a durable job-queue broker built from an omq ROUTER and an
 * embedded store. Clients (QueueClient, or any ZeroMQ DEALER speaking
 * docs/queue-protocol.md) connect to the endpoints it binds.
 *
 * ```ts
 * const device = new QueueDevice({ dir: "/var/lib/jobs", fsync: "always" })
 * await device.bind("tcp://127.0.0.1:5570")
 * // ...
 * await device.close()
 * ```
 */
import * as fs from "node:fs"
import { createDebug } from "../../../debug.js"
import { Router } from "../../../sockets/router.js"
import { Broker } from "../model/broker.js"
import { QueueError, QueueStoreError } from "../errors.js"
import { handleRequest, Session, type HandlerContext } from "./handlers.js"
import { DirectoryLock } from "../journal/lock.js"
import { errFrames, PING } from "./protocol.js"
import { recover, type RecoveryReport } from "../journal/recovery.js"
import { Replayer } from "../model/replay.js"
import { Snapshot } from "../journal/checkpoint.js"
import { Store, type FsyncPolicy } from "../journal/store.js"

const debug = createDebug("omq:queue")

export interface QueueDeviceOptions {
  /** Data directory (created if missing). Only one device may use it at a time (LOCK file). */
  dir: string
  /**
   * When a write counts as done: "always" (default: a put or ack is confirmed only after the
   * fdatasync covering it; all writes of one event-loop turn share one fdatasync),
   * `{ intervalMs }` (confirmed once written; fdatasync every intervalMs), or "never".
   */
  fsync?: FsyncPolicy
  /** Largest body accepted (bytes); larger ones get TOO_LARGE. Default 1 MiB. */
  maxBodySize?: number
  /** Most messages in one batch put. Default 1000. */
  maxBatch?: number
  /** Most body and header bytes in one batch put. Default 16 MiB. */
  maxBatchBytes?: number
  /** A segment file is closed at this size (bytes). Default 64 MiB. */
  segmentBytes?: number
  /** Write a checkpoint once this many bytes were logged since the last one (and at least the live data size). Default 64 MiB. */
  checkpointBytes?: number
  /** Also write one every this many ms when anything was logged. Default 60000. */
  checkpointIntervalMs?: number
  /** A put repeating an `id` within this many ms is answered with the first put's confirmation. Default 600000 (10 min). */
  dedupWindowMs?: number
  /** Lease time (ms) of deliveries when neither the put nor the queue config sets `ttr`. Default 30000. */
  defaultTtr?: number
  /**
   * Start even if the log is damaged in the middle, cutting it at the damage (what follows is
   * lost and reported in `recovery.truncated`). Default false: refuse with QueueStoreError CORRUPT.
   */
  repair?: boolean
}

const DEFAULTS = {
  fsync: "always" as FsyncPolicy,
  maxBodySize: 1024 * 1024,
  maxBatch: 1000,
  maxBatchBytes: 16 * 1024 * 1024,
  segmentBytes: 64 * 1024 * 1024,
  checkpointBytes: 64 * 1024 * 1024,
  checkpointIntervalMs: 60_000,
  dedupWindowMs: 600_000,
  defaultTtr: 30_000,
  repair: false,
}

function checkOptions(o: Required<QueueDeviceOptions>): void {
  const pos = (k: keyof QueueDeviceOptions, min = 1) => {
    const v = o[k]
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new QueueError("BAD_OPTION", `${k} must be an integer >= ${min}`)
  }
  if (typeof o.dir !== "string" || o.dir.length === 0) throw new QueueError("BAD_OPTION", "dir is required")
  const f = o.fsync
  const okFsync = f === "always" || f === "never" || (typeof f === "object" && f !== null && Number.isInteger(f.intervalMs) && f.intervalMs > 0)
  if (!okFsync) throw new QueueError("BAD_OPTION", 'fsync must be "always", "never" or { intervalMs: n > 0 }')
  pos("maxBodySize", 0)
  pos("maxBatch")
  pos("maxBatchBytes")
  pos("segmentBytes", 4096)
  pos("checkpointBytes", 4096)
  pos("checkpointIntervalMs")
  pos("dedupWindowMs", 0)
  pos("defaultTtr")
}

export class QueueDevice {
  readonly options: Readonly<Required<QueueDeviceOptions>>
  /** What recovery found at open(); undefined before. */
  recovery: RecoveryReport | undefined
  /** The ROUTER clients connect to. */
  readonly router: Router
  private store: Store | undefined
  private broker: Broker | undefined
  private lock: DirectoryLock | undefined
  private readonly sessions = new Map<string, Session>()
  private opening: Promise<void> | undefined
  private loop: Promise<void> | undefined
  private closing = false
  private checkpointing: Promise<void> | undefined
  private checkpointTimer: NodeJS.Timeout | undefined
  private probeScheduled = false
  private readonly startedAt = Date.now()
  /** Checkpoints written since start. */
  checkpoints = 0

  constructor(options: QueueDeviceOptions) {
    const o = { ...DEFAULTS, ...options } as Required<QueueDeviceOptions>
    checkOptions(o)
    this.options = o
    // HWM 0 (unbounded): replies are bounded by the clients' own windows and deliveries by credit,
    // and a full pipe must never drop a reply. maxMessageSize bounds what one request may carry.
    this.router = new Router({ sendHighWaterMark: 0, linger: 2000, maxMessageSize: Math.max(o.maxBodySize, o.maxBatchBytes) + 1024 * 1024 })
  }

  /** Live (unsettled) messages in all queues. */
  get messageCount(): number {
    return this.broker?.bySeq.size ?? 0
  }

  /** The endpoint last bound (ports resolved), as Socket.lastEndpoint. */
  get lastEndpoint(): string | null {
    return this.router.lastEndpoint
  }

  /**
   * Opens the data directory: takes the lock, recovers the state. Throws
   * QueueStoreError LOCKED or CORRUPT. Called by bind() if not done before.
   */
  open(): Promise<void> {
    this.opening ??= this.doOpen()
    return this.opening
  }

  private async doOpen(): Promise<void> {
    const o = this.options
    fs.mkdirSync(o.dir, { recursive: true })
    this.lock = DirectoryLock.acquire(o.dir)
    try {
      const broker = new Broker(this.sendFrames, { dedupWindowMs: o.dedupWindowMs, defaultTtr: o.defaultTtr })
      const replayer = new Replayer(broker)
      const report = recover(o.dir, (type, r, bytes) => replayer.apply(type, r, bytes), o.repair)
      const store = new Store(o.dir, report.nextSegment, { fsync: o.fsync, segmentBytes: o.segmentBytes })
      broker.attach(store)
      store.bytesSinceCheckpoint = report.replayedBytes
      this.store = store
      this.broker = broker
      this.recovery = report
      broker.rearm()
      debug("recovered %s: %d records, %d messages, %d ms", o.dir, report.records, broker.bySeq.size, Math.round(report.ms))
    } catch (err) {
      this.lock.release()
      throw err
    }
    this.checkpointTimer = setInterval(() => {
      if (this.store !== undefined && this.store.bytesSinceCheckpoint > 0) void this.checkpoint()
    }, o.checkpointIntervalMs)
    this.checkpointTimer.unref()
    // onConnectionEvent, not the Observer: it also reports inproc clients, as the Observer does not.
    this.router.onConnectionEvent((type) => {
      if (type === "disconnect") this.scheduleProbe()
    })
    this.loop = this.receiveLoop()
  }

  /** Sends to a client; a reply to a client that is gone is dropped (ROUTER without mandatory). */
  private readonly sendFrames = (frames: Buffer[]): void => {
    // Replies are not awaited (a ROUTER drops what it cannot queue), so none may wait for a loop turn.
    if (!this.router.closed) void this.router.sendPipelined(frames) // throws at once on a closed socket
  }

  /** Binds the ROUTER (opening the store first if needed). */
  async bind(address: string): Promise<void> {
    await this.open()
    await this.router.bind(address)
    debug("listening on %s", this.router.lastEndpoint)
  }

  private async receiveLoop(): Promise<void> {
    const ctx: HandlerContext = {
      broker: this.broker!,
      maxBodySize: this.options.maxBodySize,
      maxBatch: this.options.maxBatch,
      maxBatchBytes: this.options.maxBatchBytes,
      send: this.sendFrames,
      session: (addr, create) => {
        const key = addr.toString("latin1")
        let s = this.sessions.get(key)
        if (s === undefined && create) {
          s = new Session(Buffer.from(addr), key)
          this.sessions.set(key, s)
        }
        return s
      },
      deviceStats: () => this.deviceStats(),
    }
    const store = this.store!
    for (;;) {
      let frames: Buffer[]
      try {
        frames = await this.router.receive()
      } catch {
        return // closed
      }
      if (this.closing) {
        if (frames.length >= 3) this.sendFrames(errFrames(frames[0]!, frames[2]!.length <= 32 ? frames[2]! : Buffer.alloc(0), "SHUTTING_DOWN", "the device is closing"))
        continue
      }
      handleRequest(ctx, frames)
      if (store.bytesSinceCheckpoint >= this.options.checkpointBytes && this.checkpointing === undefined) this.maybeCheckpoint()
    }
  }

  private maybeCheckpoint(): void {
    let live = 0
    for (const q of this.broker!.queues.values()) live += q.bytes
    if (this.store!.bytesSinceCheckpoint >= live) void this.checkpoint()
  }

  /**
   * Writes a checkpoint now (if none is being written) and deletes the
   * segments it covers. Normally automatic (checkpointBytes, checkpointIntervalMs).
   */
  checkpoint(): Promise<void> {
    const store = this.store
    if (this.checkpointing !== undefined) return this.checkpointing
    if (store === undefined || store.failed) return Promise.resolve()
    const segment = store.cut()
    store.bytesSinceCheckpoint = 0
    const snap = new Snapshot(this.broker!, segment)
    this.checkpointing = store
      .writeCheckpoint(segment, (w) => snap.produce(w))
      .then(
        () => {
          this.checkpoints++
          debug("checkpoint at segment %d: %d messages", segment, snap.messages)
        },
        (err: Error) => debug("checkpoint failed: %s", err.message),
      )
      .finally(() => (this.checkpointing = undefined))
    return this.checkpointing
  }

  /** After a disconnect: find which clients are gone (a mandatory send to a gone peer fails) and release what they held. */
  private scheduleProbe(): void {
    if (this.probeScheduled) return
    this.probeScheduled = true
    setImmediate(() => {
      this.probeScheduled = false
      const r = this.router
      if (r.closed) return
      r.mandatory = true
      try {
        for (const s of this.sessions.values()) {
          if (s.idle) {
            this.sessions.delete(s.key)
            continue
          }
          r.sendPipelined([s.addr, PING]).then(undefined, () => this.gone(s))
        }
      } finally {
        r.mandatory = false
      }
    })
  }

  private gone(s: Session): void {
    if (this.sessions.get(s.key) !== s) return
    this.sessions.delete(s.key)
    debug("client %s gone: releasing %d leases", s.name, s.leases)
    this.broker?.holderGone(s)
  }

  private deviceStats(): Record<string, unknown> {
    const store = this.store!
    return {
      uptime: Date.now() - this.startedAt,
      segment: store.currentSegment,
      diskBytes: store.diskBytes(),
      checkpoints: this.checkpoints,
      fsyncs: store.syncs,
      clients: this.sessions.size,
      fsync: typeof this.options.fsync === "object" ? `interval ${this.options.fsync.intervalMs} ms` : this.options.fsync,
    }
  }

  /**
   * Stops serving: pending writes are finished and confirmed, a final
   * checkpoint is written (so the next start is quick), the socket and the
   * directory lock are released.
   */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    if (this.checkpointTimer) clearInterval(this.checkpointTimer)
    try {
      await this.opening
    } catch {
      this.router.close()
      return
    }
    const store = this.store
    if (store === undefined) {
      this.router.close()
      return
    }
    this.broker!.stop()
    await store.idle()
    await this.checkpointing
    if (!store.failed && store.bytesSinceCheckpoint > 0) await this.checkpoint()
    await store.close()
    this.router.close()
    await this.loop
    this.lock?.release()
  }
}

export { QueueStoreError }
