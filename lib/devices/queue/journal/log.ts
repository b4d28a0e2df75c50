/**
 * Writers of the log's state-change records (layouts in records.ts and
 * docs/queue-protocol.md), each returning the record's size in bytes. They
 * write to a Store (the log) or a RecordWriter (a checkpoint).
 */
import { encodeCbor } from "../cbor.js"
import type { QueueConfig } from "../backend.js"
import type { MessageData } from "../model/changes.js"
import { RecordType, putSize, putSizeOf, utf8Length, writePut, writePutOf, type PutFields, type RecordWriter } from "./records.js"

const EMPTY = Buffer.alloc(0)

/** Where records are written: a Store (begin, its writer, end) or a RecordWriter (which is its own writer). */
export interface RecordOut {
  begin(type: RecordType, size: number): void
  readonly writer: RecordWriter
  end(): number
}

type Store = RecordOut

/**
 * PUT: one message. With an extension map (`ext`: its key, as CBOR) it is a PUTX, the map
 * before the PUT layout; without, the PUT record as it always was. Returns the record's size.
 */
export function logPut(store: Store, f: PutFields, ext?: Buffer): number {
  const ql = utf8Length(f.queue)
  const il = utf8Length(f.id)
  store.begin(ext === undefined ? RecordType.Put : RecordType.PutX, (ext === undefined ? 0 : 4 + ext.length) + putSize(f, ql, il))
  if (ext !== undefined) store.writer.bin(ext)
  writePut(store.writer, f, ql, il)
  return store.end()
}

/**
 * PUTB: messages stored all together or not at all; with `exts` (one per item, empty for none) a
 * PUTBX. Written straight from the messages (a batch's messages share a queue, whose name's
 * length is measured once).
 */
export function logBatch(store: Store, msgs: readonly MessageData[], exts?: Buffer[]): number {
  const n = msgs.length
  let queue = ""
  let ql = 0
  let retries: Buffer[] | undefined
  let total = 4
  for (let i = 0; i < n; i++) {
    const m = msgs[i]!
    if (m.queueName !== queue || i === 0) {
      queue = m.queueName
      ql = utf8Length(queue)
    }
    let retry: Buffer = EMPTY
    if (m.retry !== undefined) {
      retries ??= new Array<Buffer>(n).fill(EMPTY)
      retry = retries[i] = encodeRetry(m.retry)
    }
    total += 4 + (exts === undefined ? 0 : 4 + exts[i]!.length) + putSizeOf(m, ql, utf8Length(m.id), retry)
  }
  store.begin(exts === undefined ? RecordType.PutBatch : RecordType.PutBatchX, total)
  const w = store.writer
  w.u32(n)
  for (let i = 0; i < n; i++) {
    const m = msgs[i]!
    if (m.queueName !== queue) {
      queue = m.queueName
      ql = utf8Length(queue)
    }
    const retry = retries === undefined ? EMPTY : retries[i]!
    const il = utf8Length(m.id)
    w.u32((exts === undefined ? 0 : 4 + exts[i]!.length) + putSizeOf(m, ql, il, retry))
    if (exts !== undefined) w.bin(exts[i]!)
    writePutOf(w, m, queue, ql, il, retry)
  }
  return store.end()
}

/** ACK: settled (acknowledged) messages, removed for good. */
export function logAck(store: Store, seqs: readonly number[]): number {
  store.begin(RecordType.Ack, 4 + 8 * seqs.length)
  const w = store.writer
  w.u32(seqs.length)
  for (const s of seqs) w.f64(s)
  return store.end()
}

/** RELEASE: back to ready (or delayed until readyAt) after a failed or abandoned delivery. */
export function logRelease(store: Store, seq: number, attempts: number, readyAt: number): number {
  store.begin(RecordType.Release, 8 + 4 + 8)
  const w = store.writer
  w.f64(seq)
  w.u32(attempts)
  w.f64(readyAt)
  return store.end()
}

/** BURY: into the queue's dead-letter list, with why and by whom. */
export function logBury(store: Store, seq: number, attempts: number, buriedAt: number, reason: string, lastConsumer: string): number {
  const rl = utf8Length(reason)
  const cl = utf8Length(lastConsumer)
  store.begin(RecordType.Bury, 8 + 4 + 8 + 2 + rl + 2 + cl)
  const w = store.writer
  w.f64(seq)
  w.u32(attempts)
  w.f64(buriedAt)
  w.str(reason, rl)
  w.str(lastConsumer, cl)
  return store.end()
}

/** KICK: buried messages back to ready, attempts reset, TTL cleared. */
export function logKick(store: Store, seqs: readonly number[], at: number): number {
  store.begin(RecordType.Kick, 8 + 4 + 8 * seqs.length)
  const w = store.writer
  w.f64(at)
  w.u32(seqs.length)
  for (const s of seqs) w.f64(s)
  return store.end()
}

/** CONFIG: a queue's settings (the whole config, replacing the previous one). */
export function logConfig(store: Store, queue: string, config: QueueConfig): number {
  const ql = utf8Length(queue)
  const body = encodeConfig(config)
  store.begin(RecordType.Config, 2 + ql + 4 + body.length)
  const w = store.writer
  w.str(queue, ql)
  w.bin(body)
  return store.end()
}

export function encodeConfig(config: QueueConfig): Buffer {
  return encodeCbor(config)
}

export function encodeRetry(r: object | undefined): Buffer {
  return r === undefined ? EMPTY : encodeCbor(r)
}
