/**
 * FileBackend: the embedded store QueueDevice uses by default. The model
 * (model/) over the file journal (journal/): a locked data directory, the
 * state recovered from its checkpoint and segments at open, every change
 * appended to the log with group commit, checkpoints written in the
 * background (by size and by time) so the log is compacted.
 *
 * Durability (the `fsync` policy): with "always" a put, ack, nack, bury,
 * kick or config is confirmed only after the fdatasync covering its record;
 * with { intervalMs } once written (synced every intervalMs); with "never"
 * once written. Leases are not stored: after a restart every message that
 * was leased is ready again, its attempts as they were.
 */
import * as fs from "node:fs"
import { createDebug } from "../../debug.js"
import { CheckpointWriter } from "./journal/checkpoint.js"
import { FileJournal, recoverModel } from "./journal/file-journal.js"
import { DirectoryLock } from "./journal/lock.js"
import type { RecoveryReport } from "./journal/recovery.js"
import { Store, type FsyncPolicy } from "./journal/store.js"
import type { Commit } from "./model/changes.js"
import { QueueModel, type ModelOptions } from "./model/model.js"
import { ModelBackend } from "./model-backend.js"

const debug = createDebug("omq:queue")

export interface FileBackendOptions extends ModelOptions {
  dir: string
  fsync: FsyncPolicy
  segmentBytes: number
  /** Write a checkpoint once this many bytes were logged since the last one (and at least the live data size). */
  checkpointBytes: number
  /** Also write one every this many ms when anything was logged. */
  checkpointIntervalMs: number
  /** Start even if the log is damaged in the middle, cutting it at the damage. */
  repair: boolean
}

export class FileBackend extends ModelBackend {
  /** Checkpoints written since open. */
  checkpoints = 0
  private checkpointing: Promise<void> | undefined
  private readonly checkpointTimer: NodeJS.Timeout
  private checkpointDue = false
  private closed = false

  private constructor(
    model: QueueModel,
    private readonly store: Store<Commit>,
    private readonly lock: DirectoryLock,
    private readonly options: FileBackendOptions,
    /** What recovery found. */
    readonly recovery: RecoveryReport,
  ) {
    super(model)
    // The log's growth is checked after each append and acted on between operations (a snapshot must not see one half done).
    model.attach(new FileJournal(store, () => this.appended()))
    this.checkpointTimer = setInterval(() => {
      if (store.bytesSinceCheckpoint > 0) void this.checkpoint()
    }, options.checkpointIntervalMs)
    this.checkpointTimer.unref()
  }

  /** Takes the directory's lock and recovers its state. Throws QueueStoreError LOCKED or CORRUPT. */
  static open(options: FileBackendOptions): FileBackend {
    const o = options
    fs.mkdirSync(o.dir, { recursive: true })
    const lock = DirectoryLock.acquire(o.dir)
    try {
      const model = new QueueModel({ dedupWindowMs: o.dedupWindowMs, defaultTtr: o.defaultTtr })
      const report = recoverModel(o.dir, model, o.repair)
      const store = new Store<Commit>(o.dir, report.nextSegment, { fsync: o.fsync, segmentBytes: o.segmentBytes })
      store.bytesSinceCheckpoint = report.replayedBytes
      const backend = new FileBackend(model, store, lock, o, report)
      model.rearm()
      debug("recovered %s: %d records, %d messages, %d ms", o.dir, report.records, model.state.bySeq.size, Math.round(report.ms))
      return backend
    } catch (err) {
      lock.release()
      throw err
    }
  }

  private appended(): void {
    if (this.checkpointDue || this.store.bytesSinceCheckpoint < this.options.checkpointBytes) return
    this.checkpointDue = true
    setImmediate(() => {
      this.checkpointDue = false
      this.maybeCheckpoint()
    })
  }

  private maybeCheckpoint(): void {
    if (this.checkpointing !== undefined || this.closed) return
    let live = 0
    for (const q of this.model.state.queues.values()) live += q.bytes
    if (this.store.bytesSinceCheckpoint >= live) void this.checkpoint()
  }

  /** Writes a checkpoint now (if none is being written) and deletes the segments it covers. */
  checkpoint(): Promise<void> {
    const store = this.store
    if (this.checkpointing !== undefined) return this.checkpointing
    if (store.failed) return Promise.resolve()
    const segment = store.cut()
    store.bytesSinceCheckpoint = 0
    const writer = new CheckpointWriter(this.model.snapshot(), segment)
    this.checkpointing = store
      .writeCheckpoint(segment, (w) => writer.produce(w))
      .then(
        () => {
          this.checkpoints++
          debug("checkpoint at segment %d: %d messages", segment, writer.messages)
        },
        (err: Error) => debug("checkpoint failed: %s", err.message),
      )
      .finally(() => (this.checkpointing = undefined))
    return this.checkpointing
  }

  observeSyncs(observer: ((seconds: number) => void) | null): void {
    this.store.onSync = observer
  }

  info(): Record<string, unknown> {
    const f = this.options.fsync
    return {
      segment: this.store.currentSegment,
      diskBytes: this.store.diskBytes(),
      checkpoints: this.checkpoints,
      fsyncs: this.store.syncs,
      fsync: typeof f === "object" ? `interval ${f.intervalMs} ms` : f,
    }
  }

  /** Finishes and confirms pending writes, writes a final checkpoint (so the next start is quick), releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.checkpointTimer)
    this.model.stop()
    const store = this.store
    await store.idle()
    await this.checkpointing
    if (!store.failed && store.bytesSinceCheckpoint > 0) await this.checkpoint()
    await store.close()
    this.lock.release()
  }
}
