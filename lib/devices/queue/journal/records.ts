/**
 * The binary records of the log and of checkpoints.
 *
 * Framing (all integers little-endian):
 *   u32 length   bytes after this 8-byte header (type byte + payload), >= 1
 *   u32 crc32    CRC-32 (zlib) of those `length` bytes
 *   u8  type     RecordType
 *   ...payload
 * A record of length 0 never exists, so a zero-filled tail (what a file
 * system may leave after a crash) never passes as a record.
 *
 * Payload fields: u8, u32, f64 (integers up to 2^53: seq, timestamps),
 * str (u16 length + UTF-8), bin (u32 length + bytes). The PUT payload ends
 * with the body, which takes the rest of the record.
 */
import type { MessageData } from "../model/changes.js"
import { crc32 } from "./crc32.js"

export const RecordType = {
  Put: 1,
  PutBatch: 2,
  Ack: 3,
  Release: 4,
  Bury: 5,
  Kick: 6,
  Config: 7,
  /** PUT with extensions (a CBOR map before the PUT layout: key, producer). */
  PutX: 8,
  /** PUTB whose items are PutX layouts. */
  PutBatchX: 9,
  /** A consumer group settled messages: str queue, str group, u32 n, f64 seqs. */
  GroupAck: 10,
  /** Any other stream or group change, as a CBOR map (rare: the codec needs no layout of its own). */
  StreamChange: 11,
  // checkpoint files only
  CheckpointHead: 16,
  CheckpointMessage: 17,
  CheckpointDedup: 18,
  CheckpointEnd: 19,
  /** A checkpoint message with extensions (CheckpointMessage fields, then PutX layout). */
  CheckpointMessageX: 20,
  /** A stream or a group (CBOR map), written before the messages. */
  CheckpointStream: 21,
} as const
export type RecordType = (typeof RecordType)[keyof typeof RecordType]

export const RECORD_HEADER = 8
/** Upper bound of one record, so a corrupt length cannot make recovery allocate gigabytes. */
export const MAX_RECORD = 1 << 30

/** The fields of a PUT record (also the first part of a checkpoint message). */
export interface PutFields {
  seq: number
  putAt: number
  priority: number
  readyAt: number
  ttr: number
  expiresAt: number
  queue: string
  id: string | undefined
  /** CBOR of the message's own retry policy (empty: none). */
  retry: Buffer
  headers: Buffer
  body: Buffer
}

const CHUNK = 256 * 1024

/**
 * Encodes records into large buffers. `take()` hands out what was written
 * since the last take as a list of Buffers for one writev; later records go
 * after them, so the handed-out bytes are never overwritten.
 */
export class RecordWriter {
  private buf = Buffer.allocUnsafeSlow(CHUNK)
  private pos = 0
  private start = 0
  private recordStart = 0
  private readonly sealed: Buffer[] = []
  private sealedBytes = 0

  /** A writer is its own RecordOut (log.ts), as a Store is one through its writer. */
  get writer(): RecordWriter {
    return this
  }

  /** Bytes written since the last take(). */
  get pending(): number {
    return this.sealedBytes + this.pos - this.start
  }

  /** Starts a record whose payload is exactly `size` bytes. */
  begin(type: RecordType, size: number): void {
    const need = RECORD_HEADER + 1 + size
    if (this.pos + need > this.buf.length) {
      if (this.pos > this.start) {
        this.sealed.push(this.buf.subarray(this.start, this.pos))
        this.sealedBytes += this.pos - this.start
      }
      this.buf = Buffer.allocUnsafeSlow(Math.max(CHUNK, need))
      this.pos = this.start = 0
    }
    this.recordStart = this.pos
    this.buf[this.pos + RECORD_HEADER] = type
    this.pos += RECORD_HEADER + 1
  }

  /** Finishes the record: fills in its length and CRC. Returns its size in bytes. */
  end(): number {
    const s = this.recordStart
    const len = this.pos - s - RECORD_HEADER
    this.buf.writeUInt32LE(len, s)
    this.buf.writeUInt32LE(crc32(this.buf.subarray(s + RECORD_HEADER, this.pos)), s + 4)
    return this.pos - s
  }

  u8(v: number): void {
    this.buf[this.pos++] = v
  }
  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos)
    this.pos += 4
  }
  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos)
    this.pos += 8
  }
  /** A string whose UTF-8 length `n` the caller measured (for the size passed to begin). */
  str(v: string, n: number): void {
    this.buf.writeUInt16LE(n, this.pos)
    this.pos += 2
    if (n > 0) this.pos += this.buf.write(v, this.pos, "utf8")
  }
  bin(v: Uint8Array): void {
    this.u32(v.length)
    this.raw(v)
  }
  raw(v: Uint8Array): void {
    this.buf.set(v, this.pos)
    this.pos += v.length
  }

  /** Everything written since the last take, as Buffers to write in order. */
  take(): Buffer[] {
    const out = this.sealed.splice(0)
    if (this.pos > this.start) out.push(this.buf.subarray(this.start, this.pos))
    this.start = this.pos
    this.sealedBytes = 0
    // A nearly full buffer is replaced now rather than sealed later.
    if (this.buf.length - this.pos < 4096) {
      this.buf = Buffer.allocUnsafeSlow(CHUNK)
      this.pos = this.start = 0
    }
    return out
  }
}

/** Reads payload fields in order; throws RangeError past the end (a malformed payload). */
export class RecordReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError("record payload too short")
  }
  u8(): number {
    this.need(1)
    return this.buf[this.pos++]!
  }
  u32(): number {
    this.need(4)
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }
  f64(): number {
    this.need(8)
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }
  str(): string {
    this.need(2)
    const n = this.buf.readUInt16LE(this.pos)
    this.pos += 2
    this.need(n)
    const s = this.buf.toString("utf8", this.pos, this.pos + n)
    this.pos += n
    return s
  }
  /** A length-prefixed byte string, copied (records are read from large file buffers). */
  bin(): Buffer {
    const n = this.u32()
    this.need(n)
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n))
    this.pos += n
    return b
  }
  /** The rest of the record, copied. */
  rest(): Buffer {
    const b = Buffer.from(this.buf.subarray(this.pos, this.end))
    this.pos = this.end
    return b
  }
}

/** UTF-8 length of an optional string. */
export function utf8Length(s: string | undefined): number {
  return s === undefined || s.length === 0 ? 0 : Buffer.byteLength(s, "utf8")
}

const PUT_FIXED = 8 + 8 + 4 + 8 + 4 + 8 + 2 + 2 + 4 + 4

/** Payload size of a PUT (without the body for the batch form's length prefix). */
export function putSize(f: PutFields, queueLen: number, idLen: number): number {
  return PUT_FIXED + queueLen + idLen + f.retry.length + f.headers.length + f.body.length
}

/** Size of the PUT layout of a message whose queue name and id take `queueLen` and `idLen` bytes and whose retry policy is `retry`. */
export function putSizeOf(d: PutData, queueLen: number, idLen: number, retry: Buffer): number {
  return PUT_FIXED + queueLen + idLen + retry.length + d.headers.length + d.body.length
}

/** PUT fields as the model keeps them (its queue's name and retry policy are given apart), for writePutOf. */
export type PutData = Pick<MessageData, "seq" | "putAt" | "priority" | "readyAt" | "ttr" | "expiresAt" | "id" | "headers" | "body">

/** Writes PUT fields (the body last, taking the rest). */
export function writePut(w: RecordWriter, f: PutFields, queueLen: number, idLen: number): void {
  writePutOf(w, f, f.queue, queueLen, idLen, f.retry)
}

/** writePut() of a message as the model keeps it, with its queue's name and retry policy (as CBOR) given: no PutFields made. */
export function writePutOf(w: RecordWriter, d: PutData, queue: string, queueLen: number, idLen: number, retry: Buffer): void {
  w.f64(d.seq)
  w.f64(d.putAt)
  w.u32(d.priority)
  w.f64(d.readyAt)
  w.u32(d.ttr)
  w.f64(d.expiresAt)
  w.str(queue, queueLen)
  w.str(d.id ?? "", idLen)
  w.bin(retry)
  w.bin(d.headers)
  w.raw(d.body)
}

export function readPut(r: RecordReader): PutFields {
  const seq = r.f64()
  const putAt = r.f64()
  const priority = r.u32()
  const readyAt = r.f64()
  const ttr = r.u32()
  const expiresAt = r.f64()
  const queue = r.str()
  const id = r.str()
  const retry = r.bin()
  const headers = r.bin()
  const body = r.rest()
  return { seq, putAt, priority, readyAt, ttr, expiresAt, queue, id: id.length > 0 ? id : undefined, retry, headers, body }
}

/** Checks one framed record at `off`: its end offset if the length is plausible and the CRC matches, else -1. */
export function checkRecord(buf: Buffer, off: number, limit: number): number {
  if (off + RECORD_HEADER + 1 > limit) return -1
  const len = buf.readUInt32LE(off)
  if (len < 1 || len > MAX_RECORD || off + RECORD_HEADER + len > limit) return -1
  const body = buf.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len)
  if (crc32(body) !== buf.readUInt32LE(off + 4)) return -1
  return off + RECORD_HEADER + len
}
