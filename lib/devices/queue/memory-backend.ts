/**
 * MemoryBackend: the model with a journal that stores nothing, for tests
 * (and as the smallest example of a QueueBackend). Writes are "committed"
 * once per event-loop turn, all of the turn's at once, as the file journal's
 * group commit does, so the timing the server sees has the same shape; a
 * restart loses everything.
 */
import type { Change, Commit, Journal } from "./model/changes.js"
import { QueueModel, type ModelOptions } from "./model/model.js"
import { ModelBackend } from "./model-backend.js"

/** Appends nothing; hands Commits back on the next turn of the event loop. */
export class MemoryJournal implements Journal {
  onCommit: (commits: Commit[], error: Error | undefined) => void = () => {}
  failed: Error | undefined
  /** Changes appended so far (by kind), for tests that look at what a durable store would have written. */
  readonly appended = new Map<Change["kind"], number>()
  private pending: Commit[] = []
  private scheduled = false
  private readonly idleWaiters: (() => void)[] = []

  append(change: Change): number {
    if (this.failed) throw this.failed
    this.appended.set(change.kind, (this.appended.get(change.kind) ?? 0) + 1)
    // A size like the log's, so `bytes` in STATS means roughly the same.
    if (change.kind === "put") return 64 + change.msg.headers.length + change.msg.body.length
    if (change.kind === "put-batch") {
      let n = 16
      for (const m of change.msgs) n += 64 + m.headers.length + m.body.length
      return n
    }
    return 0
  }

  afterCommit(c: Commit): void {
    this.pending.push(c)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    const commits = this.pending
    this.pending = []
    this.onCommit(commits, this.failed)
    if (this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Resolves once every Commit given so far was handed back. */
  idle(): Promise<void> {
    if (!this.scheduled) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }
}

export class MemoryBackend extends ModelBackend {
  readonly journal = new MemoryJournal()

  constructor(options: Partial<ModelOptions> = {}) {
    super(new QueueModel({ dedupWindowMs: options.dedupWindowMs ?? 600_000, defaultTtr: options.defaultTtr ?? 30_000 }))
    this.model.attach(this.journal)
  }

  info(): Record<string, unknown> {
    return { backend: "memory" }
  }

  async close(): Promise<void> {
    this.model.stop()
    await this.journal.idle()
  }
}
