/**
 * Typed changes (model/changes.ts) to records and back: the one place that
 * maps a Change's `kind` to its RecordType and layout. The log and
 * checkpoints both go through it, so what is written is what recovery reads.
 */
import { decodeCbor, encodeCbor } from "../cbor.js"
import type { QueueConfig } from "../backend.js"
import type { Change, MessageData, SavedState } from "../model/changes.js"
import type { RetryPolicy } from "../backend.js"
import { encodeRetry, logAck, logBatch, logBury, logConfig, logKick, logPut, logRelease, type RecordOut } from "./log.js"
import { RecordReader, RecordType, putSize, readPut, utf8Length, writePut, type PutFields } from "./records.js"

/** Checkpoint message states (u8 of a CheckpointMessage record). */
const SAVED: Record<SavedState, number> = { ready: 1, delayed: 2, buried: 3 }
const SAVED_BY_CODE: readonly (SavedState | undefined)[] = [undefined, "ready", "delayed", "buried"]

const EMPTY = Buffer.alloc(0)

/** The extension map of a message (PutX records: its key), empty if it has none: such records stay byte for byte as they were. */
function extOf(d: MessageData): Buffer {
  return d.key === undefined ? EMPTY : encodeCbor({ key: d.key })
}

function withExtOf(d: MessageData, ext: Buffer): MessageData {
  if (ext.length === 0) return d
  const o = decodeCbor(ext) as { key?: unknown }
  return { ...d, key: typeof o.key === "string" ? o.key : undefined }
}

/** The stream changes kept as CBOR (StreamChange / CheckpointStream records), by kind. */
const STREAM_KINDS = new Set(["stream", "group", "group-delete", "seek", "group-release", "group-bury", "group-kick", "trim", "snapshot-group"])

/** The PUT layout of a message (its retry policy as CBOR). */
export function putFields(d: MessageData): PutFields {
  return {
    seq: d.seq,
    putAt: d.putAt,
    priority: d.priority,
    readyAt: d.readyAt,
    ttr: d.ttr,
    expiresAt: d.expiresAt,
    queue: d.queueName,
    id: d.id,
    retry: encodeRetry(d.retry),
    headers: d.headers,
    body: d.body,
  }
}

function messageData(f: PutFields): MessageData {
  const retry = f.retry.length > 0 ? (decodeCbor(f.retry) as Partial<RetryPolicy>) : undefined
  return {
    seq: f.seq,
    putAt: f.putAt,
    priority: f.priority,
    readyAt: f.readyAt,
    ttr: f.ttr,
    expiresAt: f.expiresAt,
    queueName: f.queue,
    id: f.id,
    retry,
    headers: f.headers,
    body: f.body,
  }
}

/** Writes `c` as one record; returns its size in bytes. */
export function writeChange(out: RecordOut, c: Change): number {
  switch (c.kind) {
    case "put":
      return logPut(out, putFields(c.msg), c.msg.key === undefined ? undefined : extOf(c.msg))
    case "put-batch":
      // PUTBX only if an item has a key: a batch without keeps the PUTB record as it always was.
      return logBatch(out, c.msgs, c.msgs.some((m) => m.key !== undefined) ? c.msgs.map(extOf) : undefined)
    case "group-ack": {
      const ql = utf8Length(c.queue)
      const gl = utf8Length(c.group)
      out.begin(RecordType.GroupAck, 2 + ql + 2 + gl + 4 + 8 * c.seqs.length)
      const w = out.writer
      w.str(c.queue, ql)
      w.str(c.group, gl)
      w.u32(c.seqs.length)
      for (const s of c.seqs) w.f64(s)
      return out.end()
    }
    case "stream":
    case "group":
    case "group-delete":
    case "seek":
    case "group-release":
    case "group-bury":
    case "group-kick":
    case "trim": {
      const body = encodeCbor(c)
      out.begin(RecordType.StreamChange, body.length)
      out.writer.raw(body)
      return out.end()
    }
    case "snapshot-group": {
      const body = encodeCbor(c)
      out.begin(RecordType.CheckpointStream, body.length)
      out.writer.raw(body)
      return out.end()
    }
    case "ack":
      return logAck(out, c.seqs)
    case "release":
      return logRelease(out, c.seq, c.attempts, c.readyAt)
    case "bury":
      return logBury(out, c.seq, c.attempts, c.buriedAt, c.reason, c.lastConsumer)
    case "kick":
      return logKick(out, c.seqs, c.at)
    case "config":
      return logConfig(out, c.queue, c.config)
    case "snapshot-head":
      out.begin(RecordType.CheckpointHead, 24)
      out.writer.f64(c.segment)
      out.writer.f64(c.nextSeq)
      out.writer.f64(c.createdAt)
      return out.end()
    case "snapshot-message": {
      const f = putFields(c.msg)
      const ext = extOf(c.msg)
      const ql = utf8Length(f.queue)
      const il = utf8Length(f.id)
      const rl = utf8Length(c.reason)
      const cl = utf8Length(c.lastConsumer)
      const size = 1 + 4 + 8 + 8 + 8 + 2 + rl + 2 + cl + putSize(f, ql, il)
      out.begin(ext.length === 0 ? RecordType.CheckpointMessage : RecordType.CheckpointMessageX, size + (ext.length === 0 ? 0 : 4 + ext.length))
      const w = out.writer
      if (ext.length > 0) w.bin(ext)
      w.u8(SAVED[c.state])
      w.u32(c.attempts)
      w.f64(c.readyAt)
      w.f64(c.expiresAt)
      w.f64(c.buriedAt)
      w.str(c.reason, rl)
      w.str(c.lastConsumer, cl)
      writePut(w, f, ql, il)
      return out.end()
    }
    case "snapshot-dedup": {
      const ql = utf8Length(c.queue)
      const il = utf8Length(c.id)
      out.begin(RecordType.CheckpointDedup, 2 + ql + 2 + il + 16)
      const w = out.writer
      w.str(c.queue, ql)
      w.str(c.id, il)
      w.f64(c.seq)
      w.f64(c.at)
      return out.end()
    }
    case "snapshot-end":
      out.begin(RecordType.CheckpointEnd, 8)
      out.writer.f64(c.messages)
      return out.end()
  }
}

/** Reads the record of `type` whose payload `r` spans. Throws RangeError on an unknown type or a bad layout. */
export function readChange(type: number, r: RecordReader): Change {
  switch (type) {
    case RecordType.Put:
      return { kind: "put", msg: messageData(readPut(r)) }
    case RecordType.PutX: {
      const ext = r.bin()
      return { kind: "put", msg: withExtOf(messageData(readPut(r)), ext) }
    }
    case RecordType.GroupAck: {
      const queue = r.str()
      const group = r.str()
      const n = r.u32()
      const seqs: number[] = []
      for (let i = 0; i < n; i++) seqs.push(r.f64())
      return { kind: "group-ack", queue, group, seqs }
    }
    case RecordType.StreamChange:
    case RecordType.CheckpointStream: {
      const c = decodeCbor(r.rest()) as Change
      if (c === null || typeof c !== "object" || !STREAM_KINDS.has((c as { kind: string }).kind)) throw new RangeError("not a stream change")
      return c
    }
    case RecordType.PutBatch:
    case RecordType.PutBatchX: {
      const withExt = type === RecordType.PutBatchX
      const n = r.u32()
      const msgs: MessageData[] = []
      for (let i = 0; i < n; i++) {
        const len = r.u32()
        if (r.pos + len > r.end) throw new RangeError("batch item overruns its record")
        const item = new RecordReader(r.buf, r.pos, r.pos + len)
        const ext = withExt ? item.bin() : EMPTY
        msgs.push(withExtOf(messageData(readPut(item)), ext))
        r.pos += len
      }
      return { kind: "put-batch", msgs }
    }
    case RecordType.Ack: {
      const n = r.u32()
      const seqs: number[] = []
      for (let i = 0; i < n; i++) seqs.push(r.f64())
      return { kind: "ack", seqs }
    }
    case RecordType.Release:
      return { kind: "release", seq: r.f64(), attempts: r.u32(), readyAt: r.f64() }
    case RecordType.Bury:
      return { kind: "bury", seq: r.f64(), attempts: r.u32(), buriedAt: r.f64(), reason: r.str(), lastConsumer: r.str() }
    case RecordType.Kick: {
      const at = r.f64()
      const n = r.u32()
      const seqs: number[] = []
      for (let i = 0; i < n; i++) seqs.push(r.f64())
      return { kind: "kick", at, seqs }
    }
    case RecordType.Config:
      return { kind: "config", queue: r.str(), config: decodeCbor(r.bin()) as QueueConfig }
    case RecordType.CheckpointHead:
      return { kind: "snapshot-head", segment: r.f64(), nextSeq: r.f64(), createdAt: r.f64() }
    case RecordType.CheckpointMessage:
    case RecordType.CheckpointMessageX: {
      const ext = type === RecordType.CheckpointMessageX ? r.bin() : EMPTY
      const code = r.u8()
      const state = SAVED_BY_CODE[code]
      if (state === undefined) throw new RangeError(`unknown checkpoint message state ${code}`)
      const attempts = r.u32()
      const readyAt = r.f64()
      const expiresAt = r.f64()
      const buriedAt = r.f64()
      const reason = r.str()
      const lastConsumer = r.str()
      return {
        kind: "snapshot-message",
        state,
        attempts,
        readyAt,
        expiresAt,
        buriedAt,
        reason,
        lastConsumer,
        msg: withExtOf(messageData(readPut(r)), ext),
      }
    }
    case RecordType.CheckpointDedup:
      return { kind: "snapshot-dedup", queue: r.str(), id: r.str(), seq: r.f64(), at: r.f64() }
    case RecordType.CheckpointEnd:
      return { kind: "snapshot-end", messages: r.end - r.pos >= 8 ? r.f64() : 0 }
    default:
      throw new RangeError(`unknown record type ${type}`)
  }
}
