/**
 * PgBackend: the queue's model (model/, the same code as the embedded store, so every
 * semantic is the same) with its log in PostgreSQL instead of segment files.
 *
 * - The log is table `omq_log`: one row per group commit, holding the records (journal/codec.ts,
 *   byte for byte the file log's) of every change appended since the previous one. A put, ack,
 *   nack, bury, kick or config is confirmed once the INSERT carrying its record has committed,
 *   with the server's `synchronous_commit` (on by default: on the server's disk, and on its
 *   synchronous standbys if it has any).
 * - Checkpoints go to `omq_checkpoint` (the snapshot's records, in parts) in one transaction
 *   that also deletes the log rows they cover, so the log stays short.
 * - One device serves a database at a time: it holds a session advisory lock. A second device
 *   started with `standby` waits for that lock; when the active device dies its connection ends,
 *   PostgreSQL releases the lock, and the standby recovers the state from the database and serves
 *   (active/passive fail-over; clients given both devices' addresses move over).
 * - The schema is created and migrated by the device (`omq_schema.version`), under a transaction
 *   advisory lock so two devices starting at once do not race.
 *
 * Leases are not stored, as with the embedded store: after a fail-over or restart every message
 * that was leased is ready again, its attempts as they were logged.
 *
 * When the database goes away (a failed write, a lost connection), writes are answered with
 * STORE_FAILED, reads go on, and the backend reconnects every `reconnectMs`; once it has the
 * database and its lock again it rebuilds the state from the database (what was confirmed),
 * takes the subscriptions over to it and carries on, without a restart. Deliveries made before
 * the outage are leases of the old state: their settles get LEASE_LOST / NOT_FOUND and the
 * messages are delivered again; RESERVEs waiting at that moment get STORE_FAILED.
 *
 * Several devices at once (`shared`, server/follower.ts): the one holding the lock leads and
 * writes where it listens into `omq_leader`, with the PostgreSQL process id of its lock
 * connection; the others forward their clients to it. That row counts only while that process
 * still holds the lock (leaderEndpoint() checks pg_locks), so a dead leader's row is dead with
 * it. The lock connection asks the server for TCP keepalives every few seconds, so a leader on a
 * host that vanished loses the lock in about 11 s rather than at the kernel's two hours.
 */
import type pg from "pg"
import { createDebug } from "../../debug.js"
import { QueueError, QueueStoreError } from "./errors.js"
import { CheckpointWriter } from "./journal/checkpoint.js"
import { readChange, writeChange } from "./journal/codec.js"
import { RecordReader, RecordWriter, checkRecord } from "./journal/records.js"
import type { Change, Commit, Journal } from "./model/changes.js"
import { QueueModel, type ModelOptions } from "./model/model.js"
import { ModelBackend } from "./model-backend.js"
import type { ClientHandle, ConsumeOptions, DeliverySink, SubscriptionHandle } from "./backend.js"
import type { Consumer, LeaseHolder } from "./model/message.js"

const debug = createDebug("omq:queue:pg")

export const SCHEMA_VERSION = 3
/** The advisory lock key of "the device serving this database" (any 64-bit number; this one spells omqQUEUE). */
const DEVICE_LOCK = "7020636791473554757"
/** Largest checkpoint part (bytes) in one row. */
const PART = 8 * 1024 * 1024

export interface PgBackendOptions extends ModelOptions {
  /** postgres://user:password@host:port/database (node-postgres connection string). */
  url: string
  /** Wait for the active device to go away instead of failing with LOCKED. Default false. */
  standby?: boolean
  /** Write a checkpoint once this many bytes were logged since the last one. */
  checkpointBytes: number
  /**
   * A statement that takes longer fails (PostgreSQL's statement_timeout), so a database that
   * hangs (a lock held elsewhere, a stuck disk) makes writes fail with STORE_FAILED instead of
   * holding every request. Default 30000 ms; 0: none.
   */
  statementTimeoutMs?: number
  /** How often to try the database again after it went away (ms). Default 1000. */
  reconnectMs?: number
  /** Aborts open() (a standby waiting for the lock): it rejects with QueueError CLOSED. */
  signal?: AbortSignal
  /** With `standby`: called when the lock is held by another device, before waiting for it (a shared device then follows it). */
  onWaiting?: () => void
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE omq_log (id bigserial PRIMARY KEY, epoch bigint NOT NULL, data bytea NOT NULL);
   CREATE TABLE omq_checkpoint (epoch bigint NOT NULL, part int NOT NULL, data bytea NOT NULL, PRIMARY KEY (epoch, part));`,
  // 2: the rows (TOASTed: a group commit's row is tens of KB) are compressed with lz4 where the
  // server has it (PostgreSQL 14+ built with lz4), else the log's are not compressed at all: the
  // default, pglz, cost the server enough CPU to take a quarter off the queue's throughput.
  // Values written before keep their compression; both read back the same.
  `DO $$ BEGIN
     EXECUTE 'ALTER TABLE omq_log ALTER COLUMN data SET COMPRESSION lz4';
     EXECUTE 'ALTER TABLE omq_checkpoint ALTER COLUMN data SET COMPRESSION lz4';
   EXCEPTION WHEN OTHERS THEN
     ALTER TABLE omq_log ALTER COLUMN data SET STORAGE EXTERNAL;
   END $$`,
  // 3: where the leading device listens (shared devices forward to it), and the server process
  // holding its lock (the row is current only while that process holds the lock).
  `CREATE TABLE omq_leader (one int PRIMARY KEY CHECK (one = 1), endpoint text NOT NULL, device text NOT NULL,
     pid int NOT NULL, since timestamptz NOT NULL DEFAULT now());`,
]

/** The endpoint of the device holding the database's lock, if it advertised one (a query for leaderEndpoint()). */
const LEADER_QUERY = `SELECT l.endpoint FROM omq_leader l
  WHERE EXISTS (SELECT 1 FROM pg_locks k WHERE k.pid = l.pid AND k.locktype = 'advisory' AND k.granted)`

/**
 * Where the leading device of the database at `client` listens: undefined if none leads or it
 * has not said yet (or the schema is older than version 3).
 */
export async function leaderEndpoint(client: pg.Client): Promise<string | undefined> {
  try {
    const r = await client.query<{ endpoint: string }>(LEADER_QUERY)
    return r.rows[0]?.endpoint
  } catch (err) {
    if ((err as { code?: string }).code === "42P01") return undefined // no omq_leader yet
    throw err
  }
}

/** A connection of its own for leaderEndpoint() (its errors go to debug, not to the process). */
export async function connectPg(url: string): Promise<pg.Client> {
  const pgModule = await loadPg()
  const client = new pgModule.Client({ connectionString: url, keepAlive: true })
  client.on("error", (err) => debug("connection error: %s", err.message))
  try {
    await client.connect()
  } catch (err) {
    await client.end().catch(() => undefined)
    throw new QueueStoreError("BAD_DIR", `cannot connect to PostgreSQL at ${redact(url)}: ${(err as Error).message}`)
  }
  return client
}

async function loadPg(): Promise<typeof pg> {
  try {
    return (await import("pg")).default
  } catch {
    throw new QueueError("BAD_OPTION", "the PostgreSQL backend needs the pg package (npm install pg)")
  }
}

/**
 * Journal over the omq_log table: appended records wait in a RecordWriter; one INSERT per group
 * commit. As with the file store, while a log write is in flight what is appended gathers for the
 * next one (written once it is done), so under load each commit covers many requests.
 */
class PgJournal implements Journal {
  onCommit: (commits: Commit[], error: Error | undefined) => void = () => {}
  failed: Error | undefined
  private readonly writer = new RecordWriter()
  private pending: Commit[] = []
  private scheduled = false
  /** Log writes queued or running on the connection. */
  private writing = 0
  private running: Promise<void> = Promise.resolve()
  /** Checkpoint generation: rows of a lower or equal epoch are covered by checkpoint `epoch`. */
  epoch: number
  bytesSinceCheckpoint = 0
  rows = 0
  /** Told how long each log INSERT took (s). */
  onSync: ((seconds: number) => void) | null = null

  constructor(
    private readonly db: Serial,
    epoch: number,
    private readonly appended: () => void,
  ) {
    this.epoch = epoch + 1
  }

  append(change: Change): number {
    if (this.failed) throw this.failed
    const n = writeChange(this.writer, change)
    this.bytesSinceCheckpoint += n
    this.appended()
    return n
  }

  afterCommit(c: Commit): void {
    this.pending.push(c)
    this.schedule()
  }

  /** A flush on the next turn, unless a write is in flight: its end schedules the next one. */
  private schedule(): void {
    if (this.scheduled || this.writing > 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  /** Writes what was appended (with the commits waiting for it) as one row now, after the previous write. */
  flush(): Promise<void> {
    const chunks = this.writer.take()
    const commits = this.pending
    this.pending = []
    if (chunks.length === 0 && commits.length === 0) return this.running
    const epoch = this.epoch
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    this.writing++
    this.running = this.db.run(async (c) => {
      try {
        if (this.failed) return this.onCommit(commits, this.failed)
        try {
          if (data.length > 0) {
            const started = this.onSync === null ? 0 : performance.now()
            await c.query("INSERT INTO omq_log (epoch, data) VALUES ($1, $2)", [epoch, data])
            this.rows++
            if (this.onSync !== null) this.onSync((performance.now() - started) / 1000)
          }
        } catch (err) {
          this.failed = err as Error
          debug("log write failed: %s", (err as Error).message)
        }
        this.onCommit(commits, this.failed)
      } finally {
        // What gathered meanwhile goes in the next row.
        if (--this.writing === 0 && this.pending.length > 0) this.schedule()
      }
    })
    return this.running
  }

  /** Starts a new epoch: what is appended from now on is not covered by a checkpoint of the old one. */
  cut(): number {
    void this.flush()
    const old = this.epoch
    this.epoch++
    this.bytesSinceCheckpoint = 0
    return old
  }

  idle(): Promise<void> {
    return this.flush()
  }
}

/** One connection, used by one job at a time (so the log's rows and checkpoints keep their order). */
class Serial {
  private tail: Promise<unknown> = Promise.resolve()
  constructor(readonly client: pg.Client) {}
  run<T>(job: (c: pg.Client) => Promise<T>): Promise<T> {
    const p = this.tail.then(() => job(this.client))
    this.tail = p.catch(() => undefined)
    return p
  }
}

/** A subscription as the server holds it: the model's Consumer inside can be replaced by a resync. */
class PgSubscription implements SubscriptionHandle {
  constructor(
    public inner: Consumer,
    readonly holder: LeaseHolder,
    public credit: number,
    readonly consumer: string,
    readonly sink: DeliverySink,
    readonly options: ConsumeOptions | undefined,
  ) {}
  get queue(): string {
    return this.inner.queue
  }
}

export class PgBackend extends ModelBackend {
  checkpoints = 0
  /** Times the state was rebuilt from the database after an outage. */
  resyncs = 0
  /** Attempts to get the database back that failed (since start), and the last one's error. */
  reconnectFailures = 0
  lastReconnectError: string | undefined
  private checkpointing: Promise<void> | undefined
  private checkpointDue = false
  private closed = false
  private journal: PgJournal
  private db: Serial
  private readonly holders = new Set<LeaseHolder>()
  private readonly subs = new Set<PgSubscription>()
  private reconnecting: NodeJS.Timeout | undefined
  /** Set once another device took the database over while this one was cut off from it. */
  superseded = false
  /** Called then (the device stops serving, so that its clients move to the one that took over). */
  onSuperseded: () => void = () => {}
  /** What advertise() wrote (again after a resync: the lock is then another server process's; removed on close). */
  private advertised: { endpoint: string; device: string } | undefined

  private constructor(
    model: QueueModel,
    db: Serial,
    epoch: number,
    private readonly options: PgBackendOptions,
    /** Records and rows recovery applied, and how long it took. */
    readonly recovery: { rows: number; records: number; checkpoint: number; ms: number },
  ) {
    super(model)
    this.db = db
    this.journal = this.attach(model, db, epoch)
  }

  private syncObserver: ((seconds: number) => void) | null = null

  observeSyncs(observer: ((seconds: number) => void) | null): void {
    this.syncObserver = observer
    this.journal.onSync = observer
  }

  private attach(model: QueueModel, db: Serial, epoch: number): PgJournal {
    const journal = new PgJournal(db, epoch, () => this.appended())
    journal.onSync = this.syncObserver
    model.attach(journal)
    const onCommit = journal.onCommit
    // A failed write starts the way back (the model reports the failure to the waiting requests).
    journal.onCommit = (commits, error) => {
      onCommit(commits, error)
      if (error !== undefined) this.lostDatabase()
    }
    db.client.on("error", (err) => {
      journal.failed ??= err
      this.lostDatabase()
    })
    return journal
  }

  override openClient(name: string): ClientHandle {
    const h = super.openClient(name) as LeaseHolder
    this.holders.add(h)
    return h
  }

  override closeClient(client: ClientHandle): void {
    this.holders.delete(client as LeaseHolder)
    for (const sub of this.subs) if (sub.holder === client) this.subs.delete(sub)
    super.closeClient(client)
  }

  override consume(
    client: ClientHandle,
    queue: string,
    credit: number,
    consumer: string,
    sink: DeliverySink,
    options?: ConsumeOptions,
  ): SubscriptionHandle {
    const inner = super.consume(client, queue, credit, consumer, sink, options) as Consumer
    const sub = new PgSubscription(inner, client as LeaseHolder, credit, consumer, sink, options)
    this.subs.add(sub)
    return sub
  }

  override setCredit(sub: SubscriptionHandle, credit: number): void {
    const s = sub as PgSubscription
    s.credit = credit
    super.setCredit(s.inner, credit)
  }

  override cancel(sub: SubscriptionHandle): void {
    const s = sub as PgSubscription
    this.subs.delete(s)
    super.cancel(s.inner)
  }

  /** The database went away: try it again every reconnectMs until the state is rebuilt from it. */
  private lostDatabase(): void {
    if (this.reconnecting !== undefined || this.closed) return
    debug("database lost (%s): reconnecting", this.journal.failed?.message)
    const retry = () => {
      this.reconnecting = setTimeout(() => {
        this.resync().then(
          () => (this.reconnecting = undefined),
          (err: Error) => {
            debug("reconnect failed: %s", err.message)
            this.reconnectFailures++
            this.lastReconnectError = err.message
            if (err instanceof QueueStoreError && err.code === "LOCKED") {
              // A standby took the database over meanwhile: this device must not serve any more.
              this.reconnecting = undefined
              this.superseded = true
              this.onSuperseded()
            } else if (!this.closed) retry()
          },
        )
      }, this.options.reconnectMs ?? 1000)
      this.reconnecting.unref()
    }
    retry()
  }

  /** Connects again, takes the lock, rebuilds the model from the database and moves the clients' subscriptions to it. */
  private async resync(): Promise<void> {
    const { client, report } = await connectAndRecover(this.options, false)
    if (this.closed) {
      await client.end().catch(() => undefined)
      return
    }
    const old = this.model
    old.stop()
    // RESERVEs waiting on the old state get an answer; its leases are gone with it.
    for (const q of old.state.allStates())
      for (const w of q.waiters.splice(0))
        w.done(new QueueError("STORE_FAILED", "the device lost its database and rebuilt its state from it: reserve again"))
    for (const h of this.holders) {
      h.leases = 0
      h.waiters = 0
      h.consumers.length = 0
      h.groups = null
    }
    const model = report.model
    this.model = model
    const oldDb = this.db
    this.db = new Serial(client)
    this.journal = this.attach(model, this.db, report.checkpoint)
    model.rearm()
    void oldDb.client.end().catch(() => undefined)
    for (const sub of this.subs) {
      try {
        sub.inner = model.consume(sub.holder, sub.inner.queue, sub.credit, sub.consumer, sub.sink, sub.options?.group, sub.options?.filter)
      } catch (err) {
        debug("subscription to %s not taken over: %s", sub.inner.queue, (err as Error).message)
        this.subs.delete(sub)
      }
    }
    this.resyncs++
    if (this.advertised !== undefined) void this.advertise(this.advertised.endpoint, this.advertised.device)
    debug("state rebuilt from the database: %d messages", model.state.bySeq.size)
  }

  /** Connects, takes the device lock (or waits for it with `standby`), migrates the schema, recovers the state. */
  static async open(options: PgBackendOptions): Promise<PgBackend> {
    const started = Date.now()
    const standby = options.standby === true
    let got: Awaited<ReturnType<typeof connectAndRecover>>
    const closed = () => new QueueError("CLOSED", "the device was closed while it waited for its database")
    for (;;) {
      if (options.signal?.aborted) throw closed()
      try {
        got = await connectAndRecover(options, standby)
        break
      } catch (err) {
        if (options.signal?.aborted) throw closed()
        // A standby outlives the database going away while it waits (connection refused, its
        // wait for the lock cut off): it tries again. Anything else is for the caller.
        const retryable = standby && !(err instanceof QueueError) && !(err instanceof QueueStoreError && err.code !== "BAD_DIR")
        if (!retryable) throw err
        debug("standby: %s; trying again", (err as Error).message)
        await new Promise((r) => setTimeout(r, options.reconnectMs ?? 1000))
      }
    }
    const { client, report } = got
    const backend = new PgBackend(report.model, new Serial(client), report.checkpoint, options, { ...report, ms: Date.now() - started })
    report.model.rearm()
    debug("recovered from PostgreSQL: %d rows, %d records, %d messages", report.rows, report.records, report.model.state.bySeq.size)
    return backend
  }

  private appended(): void {
    if (this.checkpointDue || this.journal.bytesSinceCheckpoint < this.options.checkpointBytes) return
    this.checkpointDue = true
    setImmediate(() => {
      this.checkpointDue = false
      if (this.checkpointing === undefined && !this.closed) void this.checkpoint()
    })
  }

  /** Writes a checkpoint now and deletes the log rows it covers. */
  checkpoint(): Promise<void> {
    if (this.checkpointing !== undefined) return this.checkpointing
    if (this.journal.failed) return Promise.resolve()
    const snap = this.model.snapshot()
    const epoch = this.journal.cut()
    const writer = new CheckpointWriter(snap, epoch)
    this.checkpointing = this.db
      .run(async (c) => {
        const w = new RecordWriter()
        const parts: Buffer[] = []
        let more = true
        while (more) {
          more = writer.produce(w)
          const chunk = Buffer.concat(w.take())
          for (let o = 0; o < chunk.length; o += PART) parts.push(chunk.subarray(o, Math.min(chunk.length, o + PART)))
        }
        await c.query("BEGIN")
        try {
          for (let i = 0; i < parts.length; i++)
            await c.query("INSERT INTO omq_checkpoint (epoch, part, data) VALUES ($1, $2, $3)", [epoch, i, parts[i]])
          await c.query("DELETE FROM omq_checkpoint WHERE epoch < $1", [epoch])
          await c.query("DELETE FROM omq_log WHERE epoch <= $1", [epoch])
          await c.query("COMMIT")
        } catch (err) {
          await c.query("ROLLBACK").catch(() => undefined)
          throw err
        }
        this.checkpoints++
        debug("checkpoint %d: %d messages", epoch, writer.messages)
      })
      .catch((err: Error) => debug("checkpoint failed: %s", err.message))
      .finally(() => (this.checkpointing = undefined))
    return this.checkpointing
  }

  /** Says where this (leading) device listens, for shared devices to forward to (omq_leader). */
  advertise(endpoint: string, device: string): Promise<void> {
    this.advertised = { endpoint, device }
    return this.db
      .run(async (c) => {
        await c.query(
          `INSERT INTO omq_leader (one, endpoint, device, pid) VALUES (1, $1, $2, pg_backend_pid())
           ON CONFLICT (one) DO UPDATE SET endpoint = $1, device = $2, pid = pg_backend_pid(), since = now()`,
          [endpoint, device],
        )
      })
      .catch((err: Error) => debug("advertising %s failed: %s", endpoint, err.message))
  }

  info(): Record<string, unknown> {
    return {
      store: "postgres",
      epoch: this.journal.epoch,
      logRows: this.journal.rows,
      checkpoints: this.checkpoints,
      resyncs: this.resyncs,
      reconnectFailures: this.reconnectFailures,
      ...(this.lastReconnectError === undefined ? {} : { lastReconnectError: this.lastReconnectError }),
      superseded: this.superseded,
      storeFailed: this.journal.failed !== undefined,
      fsync: "synchronous_commit",
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.reconnecting !== undefined) clearTimeout(this.reconnecting)
    this.model.stop()
    await this.journal.idle()
    await this.checkpointing
    if (!this.journal.failed && this.journal.bytesSinceCheckpoint > 0) await this.checkpoint()
    await this.db.run(async (c) => {
      if (this.advertised !== undefined && !this.journal.failed)
        await c.query("DELETE FROM omq_leader WHERE device = $1", [this.advertised.device]).catch(() => undefined)
      await c.end().catch(() => undefined)
    })
  }
}

/** A connection holding the device lock, the schema migrated, and a model recovered from the database. */
async function connectAndRecover(
  options: PgBackendOptions,
  wait: boolean,
): Promise<{ client: pg.Client; report: { model: QueueModel; rows: number; records: number; checkpoint: number } }> {
  const pgModule = await loadPg()
  const timeout = options.statementTimeoutMs ?? 30_000
  if (!Number.isInteger(timeout) || timeout < 0) throw new QueueError("BAD_OPTION", "statementTimeoutMs must be an integer >= 0")
  const client = new pgModule.Client({ connectionString: options.url, keepAlive: true })
  // Until the backend listens: an error of this connection must not crash the process.
  client.on("error", (err) => debug("connection error: %s", err.message))
  // Closing the device while it waits (a standby) ends the connection, and the wait with it.
  const abort = () => void client.end().catch(() => undefined)
  options.signal?.addEventListener("abort", abort, { once: true })
  if (options.signal?.aborted) abort()
  try {
    await client.connect()
  } catch (err) {
    throw new QueueStoreError("BAD_DIR", `cannot connect to PostgreSQL at ${redact(options.url)}: ${(err as Error).message}`)
  }
  try {
    // The server probes this connection (idle 5 s, then every 2 s, 3 misses): a device whose
    // host vanished loses the lock in seconds. Plain user settings, no privilege needed.
    await client.query("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3")
    const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [DEVICE_LOCK])
    if (!r.rows[0]!.ok) {
      if (!wait) throw new QueueStoreError("LOCKED", `the database at ${redact(options.url)} is in use by another queue device`)
      options.onWaiting?.()
      debug("standby: waiting for the device lock")
      await client.query("SELECT pg_advisory_lock($1)", [DEVICE_LOCK])
    }
    await migrate(client)
    // After the lock: a standby's wait for it is not a statement to time out.
    await client.query(`SET statement_timeout = ${timeout}`)
    const model = new QueueModel({ dedupWindowMs: options.dedupWindowMs, defaultTtr: options.defaultTtr })
    const report = await recover(client, model)
    options.signal?.removeEventListener("abort", abort)
    return { client, report: { model, ...report } }
  } catch (err) {
    options.signal?.removeEventListener("abort", abort)
    await client.end().catch(() => undefined)
    throw err
  }
}

/** Creates the tables or brings them to SCHEMA_VERSION. */
async function migrate(c: pg.Client): Promise<void> {
  await c.query("BEGIN")
  try {
    await c.query("SELECT pg_advisory_xact_lock(7020636791473554758)")
    await c.query("CREATE TABLE IF NOT EXISTS omq_schema (version int NOT NULL)")
    const r = await c.query<{ version: number }>("SELECT version FROM omq_schema")
    let version = r.rows[0]?.version ?? 0
    if (r.rows.length === 0) await c.query("INSERT INTO omq_schema (version) VALUES (0)")
    if (version > SCHEMA_VERSION)
      throw new QueueStoreError("BAD_DIR", `the database has queue schema version ${version}; this omq knows up to ${SCHEMA_VERSION}`)
    for (; version < SCHEMA_VERSION; version++) {
      await c.query(MIGRATIONS[version]!)
      await c.query("UPDATE omq_schema SET version = $1", [version + 1])
    }
    await c.query("COMMIT")
  } catch (err) {
    await c.query("ROLLBACK").catch(() => undefined)
    throw err
  }
}

/** Applies the newest checkpoint, then the log rows after it, each record as its typed Change. */
async function recover(c: pg.Client, model: QueueModel): Promise<{ rows: number; records: number; checkpoint: number }> {
  let records = 0
  const apply = (buf: Buffer, where: string) => {
    for (let off = 0; off < buf.length;) {
      const end = checkRecord(buf, off, buf.length)
      if (end < 0) throw new QueueStoreError("CORRUPT", `corrupt queue data in ${where} at offset ${off}`, where, off)
      const type = buf[off + 8]!
      try {
        model.apply(readChange(type, new RecordReader(buf, off + 9, end)), end - off)
      } catch (err) {
        throw new QueueStoreError("CORRUPT", `corrupt queue data in ${where} at offset ${off}: ${(err as Error).message}`, where, off)
      }
      records++
      off = end
    }
  }
  const ck = await c.query<{ epoch: string }>("SELECT max(epoch) AS epoch FROM omq_checkpoint")
  const checkpoint = ck.rows[0]?.epoch === null || ck.rows[0] === undefined ? 0 : Number(ck.rows[0].epoch)
  if (checkpoint > 0) {
    const parts = await c.query<{ data: Buffer }>("SELECT data FROM omq_checkpoint WHERE epoch = $1 ORDER BY part", [checkpoint])
    apply(Buffer.concat(parts.rows.map((p) => p.data)), `omq_checkpoint ${checkpoint}`)
  }
  const log = await c.query<{ id: string; data: Buffer }>("SELECT id, data FROM omq_log WHERE epoch > $1 ORDER BY id", [checkpoint])
  for (const row of log.rows) apply(row.data, `omq_log row ${row.id}`)
  const top = await c.query<{ epoch: string | null }>("SELECT max(epoch) AS epoch FROM omq_log")
  const epoch = Math.max(checkpoint, top.rows[0]?.epoch == null ? 0 : Number(top.rows[0].epoch))
  return { rows: log.rows.length, records, checkpoint: epoch }
}

/** The URL without its password (for messages). */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")
}
