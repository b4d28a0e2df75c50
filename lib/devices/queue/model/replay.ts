/**
 * Recovery's side of the broker: applies log and checkpoint records to the
 * in-memory state without side effects (no replies, no deliveries, no new
 * records). The live operations in broker.ts make the same changes.
 */
import { decodeCbor } from "../cbor.js"
import { QueueMessage } from "./message.js"
import type { Broker } from "./broker.js"
import type { QueueConfig } from "./queue-state.js"
import { RecordReader, RecordType, readPut, type PutFields } from "../journal/records.js"
import type { RetryPolicy } from "./retry.js"

/** Checkpoint message states (u8 in CheckpointMessage). */
export const SNAP_READY = 1
export const SNAP_DELAYED = 2
export const SNAP_BURIED = 3

export interface RestoredState {
  state: number
  attempts: number
  readyAt: number
  expiresAt: number
  buriedAt: number
  reason: string
  lastConsumer: string
}

/** Applies records to a broker during recovery. */
export class Replayer {
  private readonly now = Date.now()
  constructor(private readonly broker: Broker) {}

  apply(type: number, r: RecordReader, bytes: number): void {
    const b = this.broker
    switch (type) {
      case RecordType.Put:
        this.restore(readPut(r), bytes, undefined)
        break
      case RecordType.PutBatch: {
        const n = r.u32()
        const share = Math.ceil(bytes / Math.max(1, n))
        for (let i = 0; i < n; i++) {
          const len = r.u32()
          if (r.pos + len > r.end) throw new RangeError("batch item overruns its record")
          this.restore(readPut(new RecordReader(r.buf, r.pos, r.pos + len)), share, undefined)
          r.pos += len
        }
        break
      }
      case RecordType.Ack: {
        const n = r.u32()
        for (let i = 0; i < n; i++) {
          const m = b.bySeq.get(r.f64())
          if (m === undefined) continue
          this.unplace(m)
          this.drop(m)
        }
        break
      }
      case RecordType.Release: {
        const m = b.bySeq.get(r.f64())
        const attempts = r.u32()
        const readyAt = r.f64()
        if (m === undefined) break
        this.unplace(m)
        m.attempts = attempts
        m.readyAt = readyAt
        this.place(m)
        break
      }
      case RecordType.Bury: {
        const m = b.bySeq.get(r.f64())
        const attempts = r.u32()
        const buriedAt = r.f64()
        const reason = r.str()
        const lastConsumer = r.str()
        if (m === undefined) break
        this.unplace(m)
        m.attempts = attempts
        m.buriedAt = buriedAt
        m.buryReason = reason
        m.lastConsumer = lastConsumer
        b.placeBuried(m)
        break
      }
      case RecordType.Kick: {
        const at = r.f64()
        const n = r.u32()
        for (let i = 0; i < n; i++) {
          const m = b.bySeq.get(r.f64())
          if (m === undefined || m.state !== "buried") continue
          b.revive(m, at)
        }
        break
      }
      case RecordType.Config: {
        const q = b.queue(r.str())
        q.config = decodeCbor(r.bin()) as QueueConfig
        break
      }
      case RecordType.CheckpointHead: {
        r.f64() // segment, checked by the loader
        b.nextSeq = Math.max(b.nextSeq, r.f64())
        break
      }
      case RecordType.CheckpointMessage: {
        const s: RestoredState = {
          state: r.u8(),
          attempts: r.u32(),
          readyAt: r.f64(),
          expiresAt: r.f64(),
          buriedAt: r.f64(),
          reason: r.str(),
          lastConsumer: r.str(),
        }
        this.restore(readPut(r), bytes, s)
        break
      }
      case RecordType.CheckpointDedup: {
        const queue = r.str()
        const id = r.str()
        const seq = r.f64()
        const at = r.f64()
        if (at > this.now - b.options.dedupWindowMs) b.dedup.set(`${queue}\n${id}`, { seq, at })
        break
      }
      case RecordType.CheckpointEnd:
        break
      default:
        throw new RangeError(`unknown record type ${type}`)
    }
  }

  private restore(f: PutFields, bytes: number, s: RestoredState | undefined): void {
    const b = this.broker
    if (b.bySeq.has(f.seq)) throw new RangeError(`message ${f.seq} stored twice`)
    const q = b.queue(f.queue)
    const retry = f.retry.length > 0 ? (decodeCbor(f.retry) as Partial<RetryPolicy>) : undefined
    const readyAt = s?.readyAt ?? f.readyAt
    const expiresAt = s?.expiresAt ?? f.expiresAt
    const m = new QueueMessage(f.seq, q, f.priority, f.putAt, readyAt, f.ttr, expiresAt, f.id, f.headers, f.body, retry, bytes)
    b.register(m)
    q.pending--
    if (s !== undefined) {
      m.attempts = s.attempts
      m.lastConsumer = s.lastConsumer
      if (s.state === SNAP_BURIED) {
        m.buriedAt = s.buriedAt
        m.buryReason = s.reason
        b.placeBuried(m)
        return
      }
    }
    this.place(m)
  }

  /** Ready or delayed by readyAt; TTL tracked (expired ones are dead-lettered by the timer after recovery). */
  private place(m: QueueMessage): void {
    const b = this.broker
    if (m.expiresAt > 0 && !b.ttls.has(m)) b.ttls.push(m)
    if (m.readyAt > this.now) b.placeDelayed(m)
    else b.placeReady(m)
  }

  private unplace(m: QueueMessage): void {
    const b = this.broker
    switch (m.state) {
      case "ready":
        m.queue.ready.remove(m)
        break
      case "delayed":
        b.delays.remove(m)
        m.queue.delayed--
        break
      case "buried":
        m.queue.buried.remove(m)
        break
      default:
        break
    }
  }

  private drop(m: QueueMessage): void {
    const b = this.broker
    const q = m.queue
    b.bySeq.delete(m.seq)
    q.removeLive(m)
    q.bytes -= m.recordBytes
    b.ttls.remove(m)
    m.state = "gone"
  }
}
