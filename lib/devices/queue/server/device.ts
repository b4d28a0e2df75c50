/**
 * QueueDevice: a durable job-queue broker built from an omq ROUTER and a
 * QueueBackend (backend.ts; by default the embedded FileBackend). Clients
 * (QueueClient, or any ZeroMQ DEALER speaking docs/queue-protocol.md)
 * connect to the endpoints it binds. The device is the server: sessions,
 * the receive loop, finding clients that are gone; handlers.ts speaks the
 * protocol.
 *
 * ```ts
 * const device = new QueueDevice({ dir: "/var/lib/jobs", fsync: "always" })
 * await device.bind("tcp://127.0.0.1:5570")
 * // ...
 * await device.close()
 * ```
 */
import { createDebug } from "../../../debug.js"
import { Router } from "../../../sockets/router.js"
import type { ClientHandle, QueueBackend } from "../backend.js"
import { QueueError, QueueStoreError } from "../errors.js"
import { FileBackend } from "../file-backend.js"
import { PgBackend } from "../pg-backend.js"
import type { RecoveryReport } from "../journal/recovery.js"
import type { FsyncPolicy } from "../journal/store.js"
import { handleRequest, Session, type HandlerContext } from "./handlers.js"
import { errFrames, PING } from "./protocol.js"
import { Tracer } from "./tracer.js"
import { Access, type AccessList } from "./access.js"
import { Context } from "../../../context.js"
import { startZapHandler, type ZapHandlerHandle } from "../../../security/zap-handler.js"
import type { SocketOptions } from "../../../sockets/types.js"
import type { Dealer } from "../../../sockets/dealer.js"
import { hostname } from "node:os"
import type pg from "pg"
import { connectPg, leaderEndpoint } from "../pg-backend.js"
import { Follower } from "./follower.js"
import { QueueHttp } from "../http/server.js"
import { QueueMetrics } from "../http/metrics.js"
import type { QueueStats } from "../backend.js"
import { COMMAND_FRAMES, type Command } from "../commands.js"
import { decodeCbor, encodeCbor } from "../cbor.js"

/** What the web view may ask (read-only views and the operator's actions). */
const VIEW_COMMANDS: ReadonlySet<Command> = new Set(["STATS", "PEEK", "KICK", "CONFIG", "PURGE"])
import { curveKeyPair, z85 } from "../../../security/keys.js"
import { publicKeyOf } from "../../../security/crypto.js"

const debug = createDebug("omq:queue")

export interface QueueDeviceOptions {
  /** Data directory (created if missing). Only one device may use it at a time (LOCK file). Not used with `backend`. */
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
  /**
   * Serve this backend instead of the embedded store in `dir` (which is then not used; the
   * store options above neither). The device closes it on close().
   */
  backend?: QueueBackend
  /**
   * Keep every message's history (put by whom and when, each delivery with consumer and outcome,
   * dead-lettered why), answered by TRACE; `keep` finished messages (default 10000) stay
   * queryable after they are gone. Default false (no cost per message).
   */
  trace?: boolean | { keep?: number }
  /** Publish lifecycle events on a PUB bound to these endpoints: frames [queue name, CBOR event]. Default none. */
  events?: string[]
  /**
   * Tenancy and authorisation: an access list (or the path of its JSON file, server/access.ts):
   * users by PLAIN name and password or CURVE public key, each with a namespace and rights (put,
   * consume, admin) per queue pattern. The device then runs its own ZAP handler on a context of
   * its own; set the ROUTER's security in `socket` (`plainServer: true`, or `curveServer: true`
   * and `curveSecretKey`). Default none: every client may do everything.
   */
  access?: AccessList | string
  /** Options of the device's ROUTER (security: plainServer, curveServer, curveSecretKey, ...). */
  socket?: SocketOptions<Router>
  /**
   * Keep the queues in PostgreSQL instead of `dir`: a connection string
   * (`postgres://user:password@host:5432/db`). See pg-backend.ts: the same semantics, the log in
   * the database, one device at a time per database (`standby` waits for it: fail-over).
   */
  store?: string
  /** With `store`: wait until the database's active device is gone, then serve (default false: LOCKED). */
  standby?: boolean
  /** With `store`: a database statement taking longer fails, and the write with it (STORE_FAILED). Default 30000 ms; 0: none. */
  statementTimeoutMs?: number
  /** With `store`: how often to try the database again after it went away (ms). Default 1000. */
  reconnectMs?: number
  /**
   * Serve the web view and Prometheus metrics (http/server.ts) on this address: "HOST:PORT", or
   * "PORT" for 127.0.0.1 (port 0: any free one; see httpUrl). Default none. With an access list,
   * users log in as their PLAIN user and see only their namespace.
   */
  http?: string
  /** With `http`: serve /metrics (prom-client). Default true. */
  metrics?: boolean
  /**
   * With `store`: several devices serve the database's queues at once. The one holding the
   * database leads (keeps the queues, as a lone device does); every other one serves its clients
   * by forwarding them to the leader (server/follower.ts), and takes the lead when the leader
   * dies. Clients may connect to any of them (QueueClient given all their addresses fails over).
   * Default false.
   */
  shared?: boolean
  /**
   * With `shared`: the endpoint other devices reach this one at when it leads. Default: the first
   * endpoint it bound (not inproc, unless that is all), a wildcard host replaced by the host name.
   */
  advertise?: string
}

/** Defaults of QueueDeviceOptions (also the durable streamer's store settings). */
export const DEFAULTS = {
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
  backend: undefined,
  trace: false as boolean | { keep?: number },
  events: [] as string[],
  access: undefined,
  socket: {},
  store: undefined,
  standby: false,
  statementTimeoutMs: 30_000,
  reconnectMs: 1000,
  shared: false,
  advertise: undefined,
  http: undefined,
  metrics: true,
}

function checkOptions(o: Required<QueueDeviceOptions>): void {
  const pos = (k: keyof QueueDeviceOptions, min = 1) => {
    const v = o[k]
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new QueueError("BAD_OPTION", `${k} must be an integer >= ${min}`)
  }
  if (o.store !== undefined && (typeof o.store !== "string" || !/^postgres(ql)?:\/\//.test(o.store)))
    throw new QueueError("BAD_OPTION", "store must be a PostgreSQL connection string (postgres://user:password@host:port/database)")
  if (o.backend === undefined && o.store === undefined && (typeof o.dir !== "string" || o.dir.length === 0))
    throw new QueueError("BAD_OPTION", "dir is required (or store, or backend)")
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
  const t = o.trace
  if (!(typeof t === "boolean" || (typeof t === "object" && t !== null && (t.keep === undefined || (Number.isInteger(t.keep) && t.keep >= 0)))))
    throw new QueueError("BAD_OPTION", "trace must be a boolean or { keep: n >= 0 }")
  if (!Array.isArray(o.events) || !o.events.every((e) => typeof e === "string"))
    throw new QueueError("BAD_OPTION", "events must be an array of endpoints")
  if (typeof o.shared !== "boolean") throw new QueueError("BAD_OPTION", "shared must be a boolean")
  if (o.http !== undefined && (typeof o.http !== "string" || !/^(?:.*:)?\d{1,5}$/.test(o.http)))
    throw new QueueError("BAD_OPTION", "http must be HOST:PORT or PORT (port 0: any free one)")
  if (typeof o.metrics !== "boolean") throw new QueueError("BAD_OPTION", "metrics must be a boolean")
  if (o.shared && o.store === undefined) throw new QueueError("BAD_OPTION", "shared needs store (the PostgreSQL database the devices share)")
  if (o.advertise !== undefined && (typeof o.advertise !== "string" || !/^[a-z]+:\/\/./.test(o.advertise)))
    throw new QueueError("BAD_OPTION", "advertise must be an endpoint such as tcp://host:port")
}

export class QueueDevice {
  readonly options: Readonly<Required<Omit<QueueDeviceOptions, "backend" | "access" | "store" | "advertise" | "http">>> & {
    readonly backend?: QueueBackend
    readonly access?: AccessList | string
    readonly store?: string
    readonly advertise?: string
    readonly http?: string
  }
  /** What recovery found at open(); undefined before. */
  recovery: RecoveryReport | undefined
  /** The ROUTER clients connect to. */
  readonly router: Router
  private backend: QueueBackend | undefined
  /** The embedded store, when the device made it (checkpoint(), recovery). */
  private fileBackend: FileBackend | undefined
  private pgBackend: PgBackend | undefined
  private readonly sessions = new Map<string, Session>()
  private opening: Promise<void> | undefined
  private loop: Promise<void> | undefined
  private closing = false
  private probeScheduled = false
  private readonly startedAt = Date.now()
  private tracer: Tracer | undefined
  /** Aborted by close(): a standby waiting for its database gives up. */
  private readonly opened = new AbortController()
  private readonly access: Access | undefined
  /** With an access list: the device's own context, where its ZAP handler runs. */
  private readonly context: Context | undefined
  private zap: ZapHandlerHandle | undefined
  /** Set while a shared device follows another (forwards its clients to the leader). */
  private follower: Follower | undefined
  /** Its connection for looking the leader up. */
  private lookupDb: pg.Client | undefined
  /** Serving the backend's queues (undefined while following). */
  private ctx: HandlerContext | undefined
  /** Endpoints bound (ports resolved), for advertise. */
  private readonly bound: string[] = []
  /** The CURVE key pair a follower's upstreams present (the leader admits any key without an access list). */
  private upstreamKeys: { publicKey: string; secretKey: string } | undefined
  private leadingNow: { promise: Promise<void>; resolve: () => void } = deferred()
  private web: QueueHttp | undefined
  private metrics: QueueMetrics | undefined
  private viewRequests = 0
  private readonly name = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`

  constructor(options: QueueDeviceOptions) {
    const o = { ...DEFAULTS, ...options } as Required<QueueDeviceOptions>
    checkOptions(o)
    this.options = o
    // HWM 0 (unbounded): replies are bounded by the clients' own windows and deliveries by credit,
    // and a full pipe must never drop a reply. maxMessageSize bounds what one request may carry.
    if (o.access !== undefined) {
      this.access = typeof o.access === "string" ? Access.load(o.access) : new Access(o.access)
      this.context = new Context()
    }
    if (o.shared && this.access?.hasCurveUsers)
      throw new QueueError(
        "BAD_OPTION",
        "shared devices forward their clients to the leading device under the client's identity, which they cannot do for CURVE users (use PLAIN users, or CURVE without an access list)",
      )
    this.router = new Router({
      // A shared device's clients may be other devices forwarding theirs: a dead host is noticed
      // by missing heartbeats, and what its clients held is released.
      ...(o.shared ? { heartbeatInterval: 2000, heartbeatTimeout: 6000 } : {}),
      ...o.socket,
      sendHighWaterMark: 0,
      linger: 2000,
      maxMessageSize: Math.max(o.maxBodySize, o.maxBatchBytes) + 1024 * 1024,
      ...(this.context === undefined ? {} : { context: this.context }),
    } as SocketOptions<Router>)
  }

  /** Live (unsettled) messages in all queues. */
  get messageCount(): number {
    return this.backend?.messageCount ?? 0
  }

  /** Checkpoints written since start (embedded store). */
  get checkpoints(): number {
    return this.fileBackend?.checkpoints ?? this.pgBackend?.checkpoints ?? 0
  }

  /** Where the events PUB is bound (the last of `events`, port resolved), or null. */
  get eventsEndpoint(): string | null {
    return this.tracer?.eventsEndpoint ?? null
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
    // A device that failed to open leaves nothing listening (its web view neither).
    this.opening ??= this.doOpen().catch(async (err: unknown) => {
      await this.web?.close()
      this.web = undefined
      throw err
    })
    return this.opening
  }

  private async doOpen(): Promise<void> {
    const o = this.options
    if (this.access !== undefined) this.zap = await startZapHandler(this.access.authenticate, { context: this.context! })
    if (o.http !== undefined) {
      if (o.metrics) this.metrics = await QueueMetrics.create({ stats: () => this.allStats() })
      this.web = await QueueHttp.start(
        o.http,
        { request: (u, c, a) => this.viewRequest(u, c, a), allStats: () => this.allStats(), access: this.access },
        this.metrics,
      )
    }
    // onConnectionEvent, not the Observer: it also reports inproc clients, as the Observer does not.
    this.router.onConnectionEvent((type) => {
      if (type === "disconnect") this.scheduleProbe()
    })
    if (o.backend !== undefined) this.backend = o.backend
    else if (o.store !== undefined) {
      const pgb = await this.openPg(o.shared)
      if (pgb === undefined) {
        this.loop = this.receiveLoop()
        return // following: serves by forwarding until it leads
      }
      this.usePg(pgb)
    } else {
      const fb = FileBackend.open({
        dir: o.dir,
        fsync: o.fsync,
        segmentBytes: o.segmentBytes,
        checkpointBytes: o.checkpointBytes,
        checkpointIntervalMs: o.checkpointIntervalMs,
        repair: o.repair,
        dedupWindowMs: o.dedupWindowMs,
        defaultTtr: o.defaultTtr,
      })
      this.fileBackend = this.backend = fb
      this.recovery = fb.recovery
    }
    await this.serve(this.backend!)
    this.loop = this.receiveLoop()
    this.leadingNow.resolve()
  }

  /**
   * Opens the PostgreSQL backend. A shared device whose database another device holds follows
   * that one (returns undefined) while it waits for the lock in the background, and leads
   * (promote()) once it has it.
   */
  private async openPg(shared: boolean): Promise<PgBackend | undefined> {
    const o = this.options
    let following: (() => void) | undefined
    const waiting = new Promise<undefined>((resolve) => (following = () => resolve(undefined)))
    const opening = PgBackend.open({
      url: o.store!,
      standby: o.standby || shared,
      statementTimeoutMs: o.statementTimeoutMs,
      reconnectMs: o.reconnectMs,
      signal: this.opened.signal,
      checkpointBytes: o.checkpointBytes,
      dedupWindowMs: o.dedupWindowMs,
      defaultTtr: o.defaultTtr,
      ...(shared ? { onWaiting: following! } : {}),
    })
    const first = await Promise.race([opening, waiting])
    if (first !== undefined) return first
    debug("another device leads the database: following it")
    this.lookupDb = await connectPg(o.store!)
    const db = this.lookupDb
    this.follower = new Follower(this.router, {
      lookup: () => leaderEndpoint(db),
      upstreamOptions: (addr) => this.upstreamOptions(addr),
      pollMs: 250,
      connectTimeoutMs: 5000,
    })
    await this.follower.start()
    opening.then(
      (b) => void this.promote(b),
      (err: Error) => {
        if (!this.closing) debug("cannot take the lead: %s", err.message)
      },
    )
    return undefined
  }

  private usePg(b: PgBackend): void {
    this.pgBackend = this.backend = b
    // Another device took the database over while this one was cut off: a shared device follows
    // it; any other stops serving, so its clients (given both addresses) move to that one.
    b.onSuperseded = () => {
      debug("another device took the database over: %s", this.options.shared ? "following it" : "closing")
      if (this.options.shared) void this.demote()
      else void this.close()
    }
  }

  /** A follower got the lock: it stops forwarding (its clients reconnect) and serves the queues. */
  private async promote(b: PgBackend): Promise<void> {
    if (this.closing) return void (await b.close())
    debug("leading the database now")
    this.usePg(b)
    await this.serve(b)
    this.stopFollowing()
    this.advertise()
    this.leadingNow.resolve()
  }

  /** A leader found another device leading its database: it drops its clients and follows. */
  private async demote(): Promise<void> {
    const b = this.backend
    this.ctx = undefined
    this.leadingNow = deferred()
    this.backend = this.pgBackend = undefined
    for (const s of this.sessions.values()) this.router.dropPeer(s.addr)
    this.sessions.clear()
    this.tracer?.close()
    this.tracer = undefined
    await b?.close().catch(() => undefined)
    if (this.closing) return
    try {
      const pgb = await this.openPg(true)
      if (pgb !== undefined) await this.promote(pgb)
    } catch (err) {
      debug("cannot follow: %s", (err as Error).message)
      void this.close()
    }
  }

  private stopFollowing(): void {
    this.follower?.stop()
    this.follower = undefined
    void this.lookupDb?.end().catch(() => undefined)
    this.lookupDb = undefined
  }

  /** Security of a forwarded client's upstream: the leader sees the client's own PLAIN identity. */
  private upstreamOptions(addr: Buffer): SocketOptions<Dealer> {
    const r = this.router
    if (r.plainServer) {
      const user = r.peerUserId(addr) ?? ""
      return { plainUsername: user || "omq", plainPassword: this.access?.passwordOf(user) ?? "omq" }
    }
    if (r.curveServer) {
      const pub = r.curvePublicKey ?? z85.encode(publicKeyOf(z85.decode(r.curveSecretKey ?? "")))
      this.upstreamKeys ??= curveKeyPair()
      return { curveServerKey: pub, curvePublicKey: this.upstreamKeys.publicKey, curveSecretKey: this.upstreamKeys.secretKey }
    }
    return {}
  }

  /** A leading shared device says where it listens (once it has bound something). */
  private advertise(): void {
    const b = this.pgBackend
    if (!this.options.shared || b === undefined || this.ctx === undefined) return
    let e = this.options.advertise ?? this.bound.find((x) => !x.startsWith("inproc://")) ?? this.bound[0]
    if (e === undefined) return
    e = e.replace(/^([a-z]+):\/\/(0\.0\.0\.0|\*|\[::\])(?=:)/, (_m, t: string) => `${t}://${hostname()}`)
    void b.advertise(e, this.name)
  }

  /** Starts serving the backend's queues (tracing and events, metrics, if asked for). */
  private async serve(backend: QueueBackend): Promise<void> {
    const o = this.options
    const tracing = o.trace !== false
    if (tracing || o.events.length > 0) {
      if (backend.observe === undefined)
        throw new QueueError("BAD_OPTION", "this backend reports no message events: trace and events are not available with it")
      const keep = typeof o.trace === "object" ? (o.trace.keep ?? 10_000) : 10_000
      this.tracer = new Tracer(tracing, keep)
      await this.tracer.publishOn(o.events)
    }
    if (this.metrics !== undefined) backend.observeSyncs?.(this.metrics.onSync)
    const tracer = this.tracer
    const metrics = this.metrics
    if (backend.observe !== undefined && (tracer !== undefined || metrics !== undefined))
      backend.observe(
        tracer === undefined
          ? metrics!.onEvent
          : metrics === undefined
            ? tracer.onEvent
            : (e) => {
                tracer.onEvent(e)
                metrics.onEvent(e)
              },
      )
    const nobody: ClientHandle = backend.openClient("")
    this.ctx = {
      backend,
      nobody,
      maxBodySize: o.maxBodySize,
      maxBatch: o.maxBatch,
      maxBatchBytes: o.maxBatchBytes,
      tracing: this.tracer?.keepTraces ?? false,
      tracer: this.tracer,
      access: this.access,
      userOf: (addr) => this.router.peerUserId(addr),
      send: this.sendFrames,
      session: (addr, create) => {
        const key = addr.toString("latin1")
        let s = this.sessions.get(key)
        if (s === undefined && create) {
          s = new Session(Buffer.from(addr), key, backend)
          this.sessions.set(key, s)
        }
        return s
      },
      deviceStats: () => this.deviceStats(),
    }
  }

  /** Sends to a client; a reply to a client that is gone is dropped (ROUTER without mandatory). */
  private readonly sendFrames = (frames: Buffer[]): void => {
    // Replies are not awaited (a ROUTER drops what it cannot queue), so none may wait for a loop turn.
    // Nothing the device sends is changed afterwards (bodies and headers are the stored copies,
    // results are encoded fresh, ids are slices of requests received), so small frames need no copy.
    if (!this.router.closed) void this.router.sendOwned(frames) // throws at once on a closed socket
  }

  /** Where the web view listens (http://host:port), or null without `http`. */
  get httpUrl(): string | null {
    return this.web?.url ?? null
  }

  /** Every queue's stats and the device's figures (the web view's and the metrics' source). */
  private allStats(): Promise<{ device: Record<string, unknown>; queues: Record<string, QueueStats> }> {
    const b = this.backend
    if (this.ctx === undefined || b === undefined)
      return Promise.reject(
        new QueueError(
          "FOLLOWER",
          `this device follows the one leading its database${this.follower?.leader === undefined ? "" : ` (${this.follower.leader})`}: its web view shows the queues`,
        ),
      )
    return new Promise((resolve, reject) =>
      b.stats(undefined, (err, queues) => (err ? reject(err) : resolve({ device: this.deviceStats(), queues: queues! }))),
    )
  }

  /** Runs a request of the web view as user `userId`: the handlers check it as they check a client's. */
  private viewRequest(
    userId: string | undefined,
    command: Command,
    args: Record<string, unknown>,
  ): Promise<{ result: Record<string, unknown>; data: Buffer[] }> {
    const ctx = this.ctx
    if (ctx === undefined) return this.allStats().then(() => ({ result: {}, data: [] })) // rejects with FOLLOWER
    if (!VIEW_COMMANDS.has(command)) return Promise.reject(new QueueError("BAD_REQUEST", `the web view does not send ${command}`))
    return new Promise((resolve, reject) => {
      const addr = Buffer.from(`http-${++this.viewRequests}`)
      const reqId = Buffer.alloc(4)
      const c: HandlerContext = {
        ...ctx,
        userOf: () => userId,
        session: () => undefined,
        send: (frames) => {
          const [, kind, , result, ...data] = frames
          const decoded = result === undefined || result.length === 0 ? {} : (decodeCbor(result) as Record<string, unknown>)
          if (kind!.toString() === "OK") resolve({ result: decoded, data })
          else reject(new QueueError(String(decoded.code ?? "INTERNAL"), String(decoded.message ?? "request failed")))
        },
      }
      handleRequest(c, [addr, COMMAND_FRAMES[command], reqId, encodeCbor(args)])
    })
  }

  /** Binds the ROUTER (opening the store first if needed). */
  async bind(address: string): Promise<void> {
    await this.open()
    await this.router.bind(address)
    debug("listening on %s", this.router.lastEndpoint)
    if (this.router.lastEndpoint !== null) this.bound.push(this.router.lastEndpoint)
    this.advertise()
  }

  /** Resolves once the device serves the queues itself (at once for a device that is not shared, when it leads for a shared one). */
  whenLeading(): Promise<void> {
    return this.leadingNow.promise
  }

  /** "leader" (serving the queues), "follower" (forwarding to the leader), "starting" (neither yet, or between the two) or "closed". */
  get role(): "leader" | "follower" | "starting" | "closed" {
    return this.closing ? "closed" : this.ctx !== undefined ? "leader" : this.follower !== undefined ? "follower" : "starting"
  }

  private async receiveLoop(): Promise<void> {
    for (;;) {
      let frames: Buffer[]
      try {
        frames = await this.router.receive()
      } catch {
        return // closed
      }
      if (this.closing) {
        if (frames.length >= 3)
          this.sendFrames(
            errFrames(frames[0]!, frames[2]!.length <= 32 ? frames[2]! : Buffer.alloc(0), "SHUTTING_DOWN", "the device is closing"),
          )
        continue
      }
      const ctx = this.ctx
      if (ctx !== undefined) handleRequest(ctx, frames)
      else if (this.follower !== undefined) this.follower.forward(frames)
      // Between leading and following: the client's connection ends (its request fails with
      // DISCONNECTED) and it comes back to what serves next.
      else this.router.dropPeer(frames[0]!)
    }
  }

  /**
   * Writes a checkpoint now (if none is being written) and deletes the
   * segments it covers. Normally automatic (checkpointBytes, checkpointIntervalMs).
   * Nothing to do with a `backend` of its own.
   */
  checkpoint(): Promise<void> {
    return this.fileBackend?.checkpoint() ?? this.pgBackend?.checkpoint() ?? Promise.resolve()
  }

  /** After a disconnect: find which clients are gone (a mandatory send to a gone peer fails) and release what they held. */
  private scheduleProbe(): void {
    if (this.probeScheduled) return
    this.probeScheduled = true
    setImmediate(() => {
      this.probeScheduled = false
      const r = this.router
      if (r.closed) return
      this.follower?.probe()
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
    debug("client %s gone: releasing what it held", s.name)
    this.backend?.closeClient(s.client)
  }

  private deviceStats(): Record<string, unknown> {
    const events = this.tracer?.eventsEndpoint ?? null
    return {
      uptime: Date.now() - this.startedAt,
      ...this.backend!.info(),
      clients: this.sessions.size,
      role: this.role,
      ...(events === null ? {} : { events }),
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
    this.opened.abort()
    try {
      await this.opening
    } catch {
      this.router.close()
      return
    }
    this.stopFollowing()
    await this.web?.close()
    const backend = this.backend
    if (backend !== undefined) await backend.close()
    this.tracer?.close()
    this.router.close()
    this.zap?.close()
    await this.loop
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

export { QueueStoreError }
