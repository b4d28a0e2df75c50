/**
 * Data directory layout:
 *   LOCK                          the owner (see lock.ts)
 *   seg-<16 hex digits>.log       log segments, numbered from 1, appended in order
 *   checkpoint-<16 hex>.ckpt      a snapshot of the state at the start of that segment
 *   checkpoint.tmp                a checkpoint being written (deleted at start-up)
 *
 * A segment starts with SEGMENT_MAGIC and its number (f64 LE), then records.
 * A checkpoint starts with CHECKPOINT_MAGIC, then records.
 */
import * as fs from "node:fs"
import { join } from "node:path"

export const SEGMENT_MAGIC = Buffer.from("OMQSEG01", "latin1")
export const CHECKPOINT_MAGIC = Buffer.from("OMQCKP01", "latin1")
export const SEGMENT_HEADER = 16

export const segmentName = (n: number): string => `seg-${n.toString(16).padStart(16, "0")}.log`
export const checkpointName = (n: number): string => `checkpoint-${n.toString(16).padStart(16, "0")}.ckpt`
export const CHECKPOINT_TMP = "checkpoint.tmp"

export function segmentHeader(n: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER)
  SEGMENT_MAGIC.copy(b)
  b.writeDoubleLE(n, 8)
  return b
}

export interface DirListing {
  segments: number[]
  checkpoints: number[]
}

/** Segment and checkpoint numbers in `dir`, ascending. */
export function listDir(dir: string): DirListing {
  const segments: number[] = []
  const checkpoints: number[] = []
  for (const name of fs.readdirSync(dir)) {
    let m = /^seg-([0-9a-f]{16})\.log$/.exec(name)
    if (m) segments.push(parseInt(m[1]!, 16))
    else if ((m = /^checkpoint-([0-9a-f]{16})\.ckpt$/.exec(name))) checkpoints.push(parseInt(m[1]!, 16))
  }
  segments.sort((a, b) => a - b)
  checkpoints.sort((a, b) => a - b)
  return { segments, checkpoints }
}

/** fsync a directory so that file creations, renames and deletions in it are durable. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export const segmentPath = (dir: string, n: number): string => join(dir, segmentName(n))
export const checkpointPath = (dir: string, n: number): string => join(dir, checkpointName(n))
