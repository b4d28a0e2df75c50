/**
 * Checkpoints: a snapshot of the whole state at the start of a segment, so
 * recovery loads it and replays only the segments from there on, and every
 * earlier segment can be deleted (compaction).
 *
 * The snapshot is taken synchronously at the moment the log is cut (the
 * message list and each message's mutable fields are copied; bodies are
 * immutable and shared), then encoded and written a slice at a time while
 * the device keeps serving.
 */
import type { Broker } from "../model/broker.js"
import { encodeConfig, encodeRetry } from "./log.js"
import type { QueueMessage } from "../model/message.js"
import { RecordType, putSize, utf8Length, writePut, type RecordWriter } from "./records.js"
import { SNAP_BURIED, SNAP_DELAYED, SNAP_READY } from "../model/replay.js"

interface Entry {
  m: QueueMessage
  state: number
  attempts: number
  readyAt: number
  expiresAt: number
  buriedAt: number
  reason: string
  lastConsumer: string
}

const SLICE = 4 * 1024 * 1024

/** A frozen copy of the broker's state; `produce` writes it out in slices. */
export class Snapshot {
  private readonly entries: Entry[] = []
  private readonly configs: [string, Buffer][] = []
  private readonly dedup: [string, string, number, number][] = []
  private readonly nextSeq: number
  private readonly createdAt = Date.now()
  private stage = 0
  private i = 0

  constructor(
    broker: Broker,
    readonly segment: number,
  ) {
    this.nextSeq = broker.nextSeq
    for (const q of broker.queues.values()) {
      if (q.config.ttr !== undefined || q.config.retry !== undefined) this.configs.push([q.name, encodeConfig(q.config)])
    }
    const now = this.createdAt
    for (const m of broker.bySeq.values()) {
      // A lease does not survive a restart: leased (and not yet visible) messages are saved as ready or delayed.
      const state = m.state === "buried" ? SNAP_BURIED : m.readyAt > now ? SNAP_DELAYED : SNAP_READY
      this.entries.push({
        m,
        state,
        attempts: m.attempts,
        readyAt: m.readyAt,
        expiresAt: m.expiresAt,
        buriedAt: m.buriedAt,
        reason: m.buryReason,
        lastConsumer: m.lastConsumer,
      })
    }
    const horizon = now - broker.options.dedupWindowMs
    for (const [key, e] of broker.dedup) {
      if (e.at <= horizon) continue
      const nl = key.indexOf("\n")
      this.dedup.push([key.slice(0, nl), key.slice(nl + 1), e.seq, e.at])
    }
  }

  get messages(): number {
    return this.entries.length
  }

  /** Writes the next slice of records into `w`; false once the end record is written. */
  produce(w: RecordWriter): boolean {
    if (this.stage === 0) {
      w.begin(RecordType.CheckpointHead, 24)
      w.f64(this.segment)
      w.f64(this.nextSeq)
      w.f64(this.createdAt)
      w.end()
      for (const [name, cfg] of this.configs) {
        const ql = utf8Length(name)
        w.begin(RecordType.Config, 2 + ql + 4 + cfg.length)
        w.str(name, ql)
        w.bin(cfg)
        w.end()
      }
      this.stage = 1
    }
    if (this.stage === 1) {
      const start = w.pending
      while (this.i < this.entries.length) {
        const e = this.entries[this.i++]!
        const m = e.m
        const f = {
          seq: m.seq,
          putAt: m.putAt,
          priority: m.priority,
          readyAt: m.readyAt,
          ttr: m.ttr,
          expiresAt: m.expiresAt,
          queue: m.queue.name,
          id: m.id,
          retry: encodeRetry(m.retry),
          headers: m.headers,
          body: m.body,
        }
        const ql = utf8Length(f.queue)
        const il = utf8Length(f.id)
        const rl = utf8Length(e.reason)
        const cl = utf8Length(e.lastConsumer)
        w.begin(RecordType.CheckpointMessage, 1 + 4 + 8 + 8 + 8 + 2 + rl + 2 + cl + putSize(f, ql, il))
        w.u8(e.state)
        w.u32(e.attempts)
        w.f64(e.readyAt)
        w.f64(e.expiresAt)
        w.f64(e.buriedAt)
        w.str(e.reason, rl)
        w.str(e.lastConsumer, cl)
        writePut(w, f, ql, il)
        w.end()
        if (w.pending - start >= SLICE) return true
      }
      this.stage = 2
    }
    for (const [queue, id, seq, at] of this.dedup) {
      const ql = utf8Length(queue)
      const il = utf8Length(id)
      w.begin(RecordType.CheckpointDedup, 2 + ql + 2 + il + 16)
      w.str(queue, ql)
      w.str(id, il)
      w.f64(seq)
      w.f64(at)
      w.end()
    }
    w.begin(RecordType.CheckpointEnd, 8)
    w.f64(this.entries.length)
    w.end()
    return false
  }
}
