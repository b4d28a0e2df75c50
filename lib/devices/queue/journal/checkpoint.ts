/**
 * Checkpoints: a snapshot of the whole state at the start of a segment, so
 * recovery loads it and replays only the segments from there on, and every
 * earlier segment can be deleted (compaction).
 *
 * The model freezes its state at the moment the log is cut
 * (QueueModel.snapshot: typed changes, bodies shared); this encodes them a
 * slice at a time while the device keeps serving. A checkpoint file is a
 * sequence of records like a segment: snapshot-head, the queues' configs,
 * streams and their groups, one snapshot-message per live message, the dedup entries, snapshot-end.
 */
import type { Snapshot } from "../model/changes.js"
import { writeChange } from "./codec.js"
import type { RecordWriter } from "./records.js"

const SLICE = 4 * 1024 * 1024

/** Writes a Snapshot out in slices (`produce`, as Store.writeCheckpoint asks). */
export class CheckpointWriter {
  private stage = 0
  private i = 0

  constructor(
    private readonly snap: Snapshot,
    readonly segment: number,
  ) {}

  get messages(): number {
    return this.snap.messages.length
  }

  /** Writes the next slice of records into `w`; false once the end record is written. */
  produce(w: RecordWriter): boolean {
    const s = this.snap
    if (this.stage === 0) {
      writeChange(w, { kind: "snapshot-head", segment: this.segment, nextSeq: s.nextSeq, createdAt: s.createdAt })
      for (const { queue, config } of s.configs) writeChange(w, { kind: "config", queue, config })
      for (const c of s.streams) writeChange(w, c)
      this.stage = 1
    }
    if (this.stage === 1) {
      const start = w.pending
      while (this.i < s.messages.length) {
        writeChange(w, s.messages[this.i++]!)
        if (w.pending - start >= SLICE) return true
      }
      this.stage = 2
    }
    for (const d of s.dedup) writeChange(w, d)
    writeChange(w, { kind: "snapshot-end", messages: s.messages.length })
    return false
  }
}
