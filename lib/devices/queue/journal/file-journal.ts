/**
 * The model's Journal over the file log: a Change becomes one record
 * (codec.ts) in the current segment, Commits ride the Store's group commit.
 * Also the way back: recoverModel() replays a data directory into a model.
 */
import type { Change, Commit, Journal } from "../model/changes.js"
import type { QueueModel } from "../model/model.js"
import { readChange, writeChange } from "./codec.js"
import { recover, type RecoveryReport } from "./recovery.js"
import type { Store } from "./store.js"

export class FileJournal implements Journal {
  constructor(
    readonly store: Store<Commit>,
    /** Called after each append (FileBackend watches the log's growth for checkpoints). */
    private readonly appended: () => void = () => {},
  ) {}

  append(change: Change): number {
    const n = writeChange(this.store, change)
    this.appended()
    return n
  }

  afterCommit(c: Commit): void {
    this.store.afterCommit(c)
  }

  set onCommit(f: (commits: Commit[], error: Error | undefined) => void) {
    this.store.onCommit = f
  }

  get onCommit(): (commits: Commit[], error: Error | undefined) => void {
    return this.store.onCommit
  }

  get failed(): Error | undefined {
    return this.store.failed
  }
}

/** Rebuilds `model` from `dir` (checkpoint, then segments), each record applied as its typed Change. */
export function recoverModel(dir: string, model: QueueModel, repair: boolean): RecoveryReport {
  return recover(dir, (type, r, bytes) => model.apply(readChange(type, r), bytes), repair)
}
