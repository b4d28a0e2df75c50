/**
 * The embedded store: an append-only log of CRC-framed records in segment
 * files, with group commit and checkpoints.
 *
 * Writing: the journal (file-journal.ts) encodes records into `writer` and attaches "actions"
 * (confirmations to send) with afterCommit(). Once per event-loop turn the
 * store writes everything encoded so far with one writev and, with fsync
 * `always`, one fdatasync; then it hands the actions back through onCommit.
 * While that write is in flight new records gather for the next one, so
 * under load each fdatasync covers many requests (group commit).
 *
 * fsync policies: "always" (an action runs only after the fdatasync that
 * covers its records), { intervalMs } (actions run once written; fdatasync
 * every intervalMs) and "never" (written, never synced except at rotation
 * and close; the OS decides).
 */
import * as fs from "node:fs"
import { promisify } from "node:util"
import { createDebug } from "../../../debug.js"
import { CHECKPOINT_MAGIC, CHECKPOINT_TMP, checkpointPath, segmentHeader, segmentPath, syncDir, listDir } from "./files.js"
import { RecordWriter, type RecordType } from "./records.js"
import { join } from "node:path"

const debug = createDebug("omq:queue")
const fdatasync = promisify(fs.fdatasync)
const fsync = promisify(fs.fsync)
const close = promisify(fs.close)
const open = promisify(fs.open)

/**
 * fs.writev at `position`, resolving to the number of bytes written. Not promisify(fs.writev):
 * that resolves to `{ bytesWritten, buffers }` only through a hint Node and Bun attach to
 * fs.writev; Deno's has none, so there it resolves to the number. The callback is the same
 * everywhere.
 */
function writev(fd: number, chunks: readonly Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, chunks, position, (err, bytesWritten) => (err ? reject(err) : resolve(bytesWritten)))
  })
}

/** When a write counts as committed: see the module comment. */
export type FsyncPolicy = "always" | "never" | { intervalMs: number }

export interface StoreOptions {
  fsync: FsyncPolicy
  /** A segment is closed once it reaches this size (bytes). */
  segmentBytes: number
}

interface Batch<A> {
  segment: number
  chunks: Buffer[]
  bytes: number
  actions: A[]
}

/**
 * The log. `A` is what its user attaches with afterCommit and gets back
 * from onCommit; the store never looks inside (the model's are Commits).
 */
export class Store<A = unknown> {
  /** Encode records here (begin/fields/end through the store's begin/end). */
  readonly writer = new RecordWriter()
  /** Receives the actions of each committed batch in order; `error` set if the write failed. */
  onCommit: (actions: A[], error: Error | undefined) => void = () => {}
  /** Set once a write failed: the store accepts nothing more. */
  failed: Error | undefined
  /** Bytes appended since the last checkpoint was started. */
  bytesSinceCheckpoint = 0
  /** fdatasync calls on segments so far (with "always", one per group commit). */
  syncs = 0
  /** Told how long each group commit's fdatasync took (s), when set (metrics). */
  onSync: ((seconds: number) => void) | null = null

  private readonly sealed: Batch<A>[] = []
  private actions: A[] = []
  private segment: number
  /** Bytes in the current segment, counting what is not written yet. */
  private segmentSize = 0
  private fd = -1
  private fileSegment = 0
  private filePos = 0
  private flushing = false
  private scheduled = false
  private dirty = false
  private syncTimer: NodeJS.Timeout | undefined
  private readonly idleWaiters: (() => void)[] = []
  private readonly rotationWaiters: { segment: number; resolve: () => void }[] = []
  private closed = false

  constructor(
    readonly dir: string,
    nextSegment: number,
    private readonly options: StoreOptions,
  ) {
    this.segment = nextSegment
    this.openSegment(nextSegment)
    const p = options.fsync
    if (typeof p === "object") {
      this.syncTimer = setInterval(() => this.periodicSync(), p.intervalMs)
      this.syncTimer.unref()
    }
  }

  /** Starts a record of `size` payload bytes (see records.ts). */
  begin(type: RecordType, size: number): void {
    if (this.failed) throw this.failed
    this.writer.begin(type, size)
  }

  /** Ends the record; schedules the write; rotates the segment when it is full. */
  end(): number {
    const n = this.writer.end()
    this.segmentSize += n
    this.bytesSinceCheckpoint += n
    this.schedule()
    if (this.segmentSize >= this.options.segmentBytes) this.cut()
    return n
  }

  /** Runs `action` (through onCommit) once everything appended so far is committed. */
  afterCommit(action: A): void {
    this.actions.push(action)
    this.schedule()
  }

  /** Segment number the next record goes to. */
  get currentSegment(): number {
    return this.segment
  }

  /** Ends the current segment: later records go to a new one. Returns its number. */
  cut(): number {
    this.sealed.push({ segment: this.segment, chunks: this.writer.take(), bytes: 0, actions: this.actions })
    this.actions = []
    this.segment++
    this.segmentSize = 0
    this.schedule()
    return this.segment
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  private get hasWork(): boolean {
    return this.sealed.length > 0 || this.writer.pending > 0 || this.actions.length > 0 || this.segment !== this.fileSegment
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.failed) return
    if (!this.hasWork) return this.wakeIdle()
    this.flushing = true
    const batches = this.sealed.splice(0)
    batches.push({ segment: this.segment, chunks: this.writer.take(), bytes: 0, actions: this.actions })
    this.actions = []
    let error: Error | undefined
    try {
      for (const b of batches) {
        if (b.segment !== this.fileSegment) await this.rotate(b.segment)
        if (b.chunks.length > 0) {
          const n = await writev(this.fd, b.chunks, this.filePos)
          let total = 0
          for (const c of b.chunks) total += c.length
          if (n !== total) throw new Error(`short write to ${segmentPath(this.dir, this.fileSegment)} (${n} of ${total} bytes)`)
          this.filePos += n
          this.dirty = true
        }
      }
      if (this.options.fsync === "always" && this.dirty) {
        this.dirty = false
        this.syncs++
        const started = this.onSync === null ? 0 : performance.now()
        await fdatasync(this.fd)
        if (this.onSync !== null) this.onSync((performance.now() - started) / 1000)
      }
    } catch (err) {
      error = err as Error
      this.failed = error
      debug("store write failed: %s", error.message)
    }
    this.flushing = false
    for (const b of batches) this.onCommit(b.actions, error)
    if (error) {
      // Nothing more will be written: fail what is waiting too.
      const rest = this.sealed
        .splice(0)
        .flatMap((b) => b.actions)
        .concat(this.actions.splice(0))
      if (rest.length > 0) this.onCommit(rest, error)
      return this.wakeIdle()
    }
    if (this.hasWork) this.schedule()
    else this.wakeIdle()
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w()
    if (this.failed) for (const w of this.rotationWaiters.splice(0)) w.resolve()
  }

  /** Resolves once segment `n` is the file being written (all earlier ones synced and closed), or the store failed. */
  private reached(n: number): Promise<void> {
    if (this.fileSegment >= n || this.failed) return Promise.resolve()
    return new Promise((resolve) => {
      this.rotationWaiters.push({ segment: n, resolve })
      this.schedule()
    })
  }

  /** Resolves when everything appended so far is written (and synced per policy). */
  idle(): Promise<void> {
    if (!this.flushing && !this.scheduled && (!this.hasWork || this.failed)) return Promise.resolve()
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve)
      this.schedule()
    })
  }

  private openSegment(n: number): void {
    const file = segmentPath(this.dir, n)
    const fd = fs.openSync(file, "wx")
    const header = segmentHeader(n)
    fs.writeSync(fd, header, 0, header.length, 0)
    fs.fdatasyncSync(fd)
    syncDir(this.dir)
    this.fd = fd
    this.fileSegment = n
    this.filePos = header.length
    debug("segment %d opened", n)
  }

  /** Syncs and closes the current file, opens segment `n`. */
  private async rotate(n: number): Promise<void> {
    const old = this.fd
    this.syncs++
    await fdatasync(old)
    this.dirty = false
    await close(old)
    const file = segmentPath(this.dir, n)
    const fd = await open(file, "wx")
    const header = segmentHeader(n)
    await writev(fd, [header], 0)
    await fdatasync(fd)
    syncDir(this.dir)
    this.fd = fd
    this.fileSegment = n
    this.filePos = header.length
    debug("segment %d opened", n)
    for (let i = this.rotationWaiters.length - 1; i >= 0; i--) {
      const w = this.rotationWaiters[i]!
      if (w.segment <= n) {
        this.rotationWaiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  private periodicSync(): void {
    if (!this.dirty || this.fd < 0 || this.failed) return
    this.dirty = false
    this.syncs++
    fs.fdatasync(this.fd, (err) => {
      if (err) debug("periodic fdatasync failed: %s", err.message)
    })
  }

  /**
   * Installs a checkpoint for segment `segment` (from cut()): `produce` fills
   * a writer with the snapshot's records a slice at a time (returning false
   * when done). The file is written and synced, then, once everything before
   * `segment` is durable, renamed into place; older checkpoints and segments
   * are deleted.
   */
  async writeCheckpoint(segment: number, produce: (w: RecordWriter) => boolean): Promise<void> {
    const tmp = join(this.dir, CHECKPOINT_TMP)
    const fd = await open(tmp, "w")
    let pos = 0
    try {
      const w = new RecordWriter()
      w.raw(CHECKPOINT_MAGIC)
      let more = true
      while (more) {
        more = produce(w)
        const chunks = w.take()
        for (const c of chunks) {
          // writev may write less than asked for very large lists; plain writes are simpler here.
          const n = await writev(fd, [c], pos)
          if (n !== c.length) throw new Error(`short write to ${tmp}`)
          pos += n
        }
        // Let requests run between slices.
        await new Promise<void>((r) => setImmediate(r))
      }
      await fsync(fd)
    } finally {
      await close(fd)
    }
    // Everything before `segment` must be on disk before the checkpoint replaces it.
    await this.reached(segment)
    if (this.failed) throw this.failed
    fs.renameSync(tmp, checkpointPath(this.dir, segment))
    syncDir(this.dir)
    const { segments, checkpoints } = listDir(this.dir)
    for (const n of checkpoints) if (n < segment) fs.rmSync(checkpointPath(this.dir, n), { force: true })
    for (const n of segments) if (n < segment) fs.rmSync(segmentPath(this.dir, n), { force: true })
    debug("checkpoint %d installed (%d bytes)", segment, pos)
  }

  /** Bytes of segment and checkpoint files in the directory. */
  diskBytes(): number {
    let listing
    try {
      listing = listDir(this.dir)
    } catch {
      return 0 // the directory is gone: the store has failed or will
    }
    const { segments, checkpoints } = listing
    let total = 0
    for (const n of segments) total += fs.statSync(segmentPath(this.dir, n), { throwIfNoEntry: false })?.size ?? 0
    for (const n of checkpoints) total += fs.statSync(checkpointPath(this.dir, n), { throwIfNoEntry: false })?.size ?? 0
    return total
  }

  /** Writes what is pending, syncs, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.idle()
    this.closed = true
    if (this.syncTimer) clearInterval(this.syncTimer)
    if (this.fd >= 0) {
      try {
        if (!this.failed) await fdatasync(this.fd)
      } finally {
        await close(this.fd)
        this.fd = -1
      }
    }
  }
}
