/**
 * Start-up: the state is rebuilt by loading the newest checkpoint and
 * replaying the segments from its number on, in order. Each record is
 * handed to `apply` (recoverModel in file-journal.ts decodes it into its
 * typed Change for QueueModel.apply, which uses the live operations' code).
 *
 * Damage is handled by where it is:
 * - a torn tail (the last segment ends in an incomplete or CRC-failing record
 *   with no valid record after it) is what a crash mid-write leaves: it is
 *   truncated and reported in RecoveryReport.truncated;
 * - anything else (a bad record with valid records after it, a bad record in
 *   an earlier segment, a damaged checkpoint, a missing segment) is refused
 *   with QueueStoreError CORRUPT naming the file and offset, unless `repair`
 *   is set, in which case the log is cut there and the loss reported.
 */
import * as fs from "node:fs"
import { createDebug } from "../../../debug.js"
import { QueueStoreError } from "../errors.js"
import { CHECKPOINT_MAGIC, CHECKPOINT_TMP, SEGMENT_HEADER, SEGMENT_MAGIC, checkpointPath, listDir, segmentPath } from "./files.js"
import { RECORD_HEADER, RecordReader, RecordType, checkRecord } from "./records.js"
import { join } from "node:path"

const debug = createDebug("omq:queue")

/** Receives each record during recovery; `bytes` is its size on disk. */
export type ApplyRecord = (type: number, r: RecordReader, bytes: number) => void

export interface RecoveryReport {
  /** Checkpoint loaded (its segment number), or 0. */
  checkpoint: number
  /** Segments replayed. */
  segments: number[]
  /** Records applied from segments (not counting the checkpoint). */
  records: number
  /** Bytes of segment data replayed. */
  replayedBytes: number
  /** Torn tails cut off (and, with `repair`, damaged parts dropped). */
  truncated: { file: string; offset: number; bytes: number }[]
  /** Number for the next segment to write. */
  nextSegment: number
  /** Wall time of the recovery, ms. */
  ms: number
}

function corrupt(file: string, offset: number, what: string): QueueStoreError {
  return new QueueStoreError("CORRUPT", `corrupt queue data in ${file} at offset ${offset}: ${what}`, file, offset)
}

/** True if a valid record starts anywhere in [from, limit). */
function validRecordAfter(buf: Buffer, from: number, limit: number): number {
  for (let o = from; o + RECORD_HEADER + 1 <= limit; o++) {
    const t = buf[o + RECORD_HEADER]!
    if (t < RecordType.Put || t > RecordType.Config) continue
    if (checkRecord(buf, o, limit) >= 0) return o
  }
  return -1
}

function applyAll(buf: Buffer, start: number, limit: number, file: string, apply: ApplyRecord): { end: number; records: number } {
  let off = start
  let records = 0
  while (off < limit) {
    const end = checkRecord(buf, off, limit)
    if (end < 0) break
    try {
      apply(buf[off + RECORD_HEADER]!, new RecordReader(buf, off + RECORD_HEADER + 1, end), end - off)
    } catch (err) {
      throw corrupt(file, off, `record cannot be applied (${(err as Error).message})`)
    }
    records++
    off = end
  }
  return { end: off, records }
}

function loadCheckpoint(dir: string, n: number, apply: ApplyRecord): void {
  const file = checkpointPath(dir, n)
  const buf = fs.readFileSync(file)
  if (buf.length < CHECKPOINT_MAGIC.length || !buf.subarray(0, CHECKPOINT_MAGIC.length).equals(CHECKPOINT_MAGIC)) {
    throw corrupt(file, 0, "not a checkpoint file")
  }
  let sawEnd = false
  const { end } = applyAll(buf, CHECKPOINT_MAGIC.length, buf.length, file, (type, r, bytes) => {
    if (sawEnd) throw new Error("data after the end record")
    if (type === RecordType.CheckpointHead) {
      const segment = r.buf.readDoubleLE(r.pos)
      if (segment !== n) throw new Error(`checkpoint names segment ${segment}, file name says ${n}`)
    }
    if (type === RecordType.CheckpointEnd) sawEnd = true
    apply(type, r, bytes)
  })
  if (end !== buf.length)
    throw corrupt(file, end, "damaged checkpoint record (the checkpoint was fsynced before it was installed, so this is media damage)")
  if (!sawEnd) throw corrupt(file, end, "checkpoint has no end record")
}

/** Rebuilds state from `dir` through `apply`; see the module comment for how damage is treated. */
export function recover(dir: string, apply: ApplyRecord, repair: boolean): RecoveryReport {
  const t0 = performance.now()
  fs.rmSync(join(dir, CHECKPOINT_TMP), { force: true })
  const { segments, checkpoints } = listDir(dir)
  const report: RecoveryReport = { checkpoint: 0, segments: [], records: 0, replayedBytes: 0, truncated: [], nextSegment: 1, ms: 0 }
  const ckpt = checkpoints.at(-1) ?? 0
  if (ckpt > 0) {
    loadCheckpoint(dir, ckpt, apply)
    report.checkpoint = ckpt
    // Left over from a crash between installing the checkpoint and deleting what it covers.
    for (const n of checkpoints) if (n < ckpt) fs.rmSync(checkpointPath(dir, n), { force: true })
    for (const n of segments) if (n < ckpt) fs.rmSync(segmentPath(dir, n), { force: true })
  }
  const todo = segments.filter((n) => n >= Math.max(ckpt, 1))
  let expect = Math.max(ckpt, 1)
  for (let i = 0; i < todo.length; i++) {
    const n = todo[i]!
    const file = segmentPath(dir, n)
    if (n !== expect) {
      const err = corrupt(segmentPath(dir, expect), 0, `segment ${expect} is missing (found ${n})`)
      if (!repair) throw err
      dropFrom(dir, todo.slice(i), report)
      break
    }
    expect = n + 1
    const last = i === todo.length - 1
    const buf = fs.readFileSync(file)
    const headerOk = buf.length >= SEGMENT_HEADER && buf.subarray(0, 8).equals(SEGMENT_MAGIC) && buf.readDoubleLE(8) === n
    if (!headerOk) {
      if (last && buf.length <= SEGMENT_HEADER) {
        // Created but its header never fully written: a crash during rotation.
        report.truncated.push({ file, offset: 0, bytes: buf.length })
        fs.rmSync(file)
        expect = n
        continue
      }
      const err = corrupt(file, 0, "bad segment header")
      if (!repair) throw err
      dropFrom(dir, todo.slice(i), report)
      break
    }
    const { end, records } = applyAll(buf, SEGMENT_HEADER, buf.length, file, apply)
    report.records += records
    report.replayedBytes += end
    report.segments.push(n)
    if (end < buf.length) {
      const later = last ? validRecordAfter(buf, end + 1, buf.length) : -1
      if (!last || later >= 0) {
        const why = last
          ? `record fails its CRC check but a valid record follows at offset ${later}, so this is not a torn write`
          : "record fails its CRC check in a segment that is not the last one"
        if (!repair) throw corrupt(file, end, `${why}; refusing to start (start with repair to cut the log here, losing what follows)`)
        debug("repair: cutting %s at %d (%s)", file, end, why)
        fs.truncateSync(file, end)
        report.truncated.push({ file, offset: end, bytes: buf.length - end })
        dropFrom(dir, todo.slice(i + 1), report)
        break
      }
      debug("torn tail in %s at %d: %d bytes cut", file, end, buf.length - end)
      fs.truncateSync(file, end)
      report.truncated.push({ file, offset: end, bytes: buf.length - end })
    }
  }
  report.nextSegment = Math.max(expect, ckpt, 1)
  report.ms = performance.now() - t0
  return report
}

function dropFrom(dir: string, segs: number[], report: RecoveryReport): void {
  for (const n of segs) {
    const file = segmentPath(dir, n)
    report.truncated.push({ file, offset: 0, bytes: fs.statSync(file).size })
    fs.rmSync(file)
  }
}
