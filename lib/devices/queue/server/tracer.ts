/**
 * Traces and lifecycle events: every event the backend reports about a message (put, each
 * delivery, ack, retry, dead letter, kick, trim) is kept in the message's history, queryable by
 * seq or by (queue, dedup id) with TRACE, and published on the device's events PUB socket when
 * it has one: [queue name, CBOR event], so a SUB filters by queue-name prefix.
 *
 * Histories are kept in memory: for every live message, and for the `keep` most recently
 * finished ones (acked from a queue, or dropped from a stream). They start again empty after a
 * restart, where the store keeps what it always keeps (put time, attempts, dead-letter reason).
 */
import { Publisher } from "../../../sockets/xpub.js"
import type { TraceEvent } from "../backend.js"
import { encodeCbor } from "../cbor.js"

/** Most events kept per message (the first ones and the latest: a message nacked forever does not grow without bound). */
const MAX_EVENTS = 64

export class Tracer {
  private readonly histories = new Map<number, TraceEvent[]>()
  private readonly byId = new Map<string, number>()
  /** Finished messages, oldest first, forgotten beyond `keep`. */
  private readonly finished: number[] = []
  private finishedHead = 0
  private pub: Publisher | undefined

  constructor(
    /** Keep traces (TRACE answers); false: only publish. */
    readonly keepTraces: boolean,
    readonly keep: number,
  ) {}

  /** Binds the events PUB on `endpoints`. */
  async publishOn(endpoints: readonly string[]): Promise<void> {
    if (endpoints.length === 0) return
    this.pub = new Publisher({ linger: 0 })
    for (const e of endpoints) await this.pub.bind(e)
  }

  get eventsEndpoint(): string | null {
    return this.pub?.lastEndpoint ?? null
  }

  readonly onEvent = (e: TraceEvent): void => {
    if (this.pub !== undefined) this.pub.send([e.queue, encodeCbor(clean(e))]).catch(() => undefined)
    if (!this.keepTraces) return
    let h = this.histories.get(e.seq)
    if (h === undefined) {
      h = []
      this.histories.set(e.seq, h)
      if (e.type === "put" && e.id !== undefined) this.byId.set(`${e.queue}\n${e.id}`, e.seq)
    }
    if (h.length >= MAX_EVENTS) h.splice(MAX_EVENTS / 2, 1)
    h.push(e)
    // A queue's message ends with its ack or as it is dropped; a stream's when retention drops it.
    if ((e.type === "ack" && e.group === undefined) || e.type === "trim") this.finish(e.seq)
  }

  private finish(seq: number): void {
    this.finished.push(seq)
    while (this.finished.length - this.finishedHead > this.keep) {
      const old = this.finished[this.finishedHead++]!
      const h = this.histories.get(old)
      const put = h?.[0]
      if (put?.id !== undefined) this.byId.delete(`${put.queue}\n${put.id}`)
      this.histories.delete(old)
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished.splice(0, this.finishedHead)
      this.finishedHead = 0
    }
  }

  /** A message's history by seq or by (queue, id); undefined if none is known. */
  trace(q: { seq: number } | { queue: string; id: string }): { seq: number; events: TraceEvent[] } | undefined {
    const seq = "seq" in q ? q.seq : this.byId.get(`${q.queue}\n${q.id}`)
    if (seq === undefined) return undefined
    const events = this.histories.get(seq)
    return events === undefined ? undefined : { seq, events: events.map(clean) }
  }

  close(): void {
    this.pub?.close()
  }
}

/** The event without its undefined fields (CBOR maps carry only what is set). */
function clean(e: TraceEvent): TraceEvent {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) if (v !== undefined) o[k] = v
  return o as unknown as TraceEvent
}
