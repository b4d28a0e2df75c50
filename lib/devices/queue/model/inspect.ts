/** PEEK and STATS: read-only views of the broker's state. */
import { encodeCbor } from "../cbor.js"
import type { Broker } from "./broker.js"
import { QueueError } from "../errors.js"
import type { QueueMessage } from "./message.js"
import { fullMeta, opt, queueName } from "../server/protocol.js"
import { intOption } from "./retry.js"

/** Per-queue figures reported by STATS. */
export interface QueueStats {
  /** Messages by state. `pending`: put, not yet durable. */
  ready: number
  delayed: number
  reserved: number
  buried: number
  pending: number
  /** All live messages (the states above summed). */
  total: number
  /** Age in ms of the oldest live message (0 when empty). */
  oldestAge: number
  /** Deliveries after the first, since the device started. */
  redeliveries: number
  /** Bytes the live messages' PUT records take in the log. */
  bytes: number
  consumers: number
  /** RESERVE requests waiting. */
  waiting: number
  /** Puts (including recovered messages) and acks since the device started. */
  puts: number
  acks: number
}

export function stats(b: Broker, only: string | undefined): Record<string, QueueStats> {
  const now = Date.now()
  const out: Record<string, QueueStats> = {}
  const qs = only === undefined ? [...b.queues.values()] : [b.queue(only)]
  for (const q of qs) {
    const oldest = q.oldestPutAt()
    out[q.name] = {
      ready: q.ready.size,
      delayed: q.delayed,
      reserved: q.reserved,
      buried: q.buried.length,
      pending: q.pending,
      total: q.total,
      oldestAge: oldest === undefined ? 0 : Math.max(0, now - oldest),
      redeliveries: q.redeliveries,
      bytes: q.bytes,
      consumers: q.consumers.length,
      waiting: q.waiters.length,
      puts: q.puts,
      acks: q.acks,
    }
  }
  return out
}

const STATES = ["ready", "delayed", "reserved", "buried"] as const

/** PEEK by seq, by (queue, id), or the first `count` messages of a queue in a state. Returns [result, data frames]. */
export function peek(b: Broker, a: Record<string, unknown>): [Buffer, Buffer[]] {
  let found: QueueMessage[]
  if (a.seq !== undefined && a.seq !== null) {
    const m = b.bySeq.get(intOption(a.seq, "seq", 1, Number.MAX_SAFE_INTEGER))
    found = m === undefined ? [] : [m]
  } else if (a.id !== undefined && a.id !== null) {
    if (typeof a.id !== "string") throw new QueueError("BAD_OPTION", "id must be a string")
    const queue = queueName(a.queue)
    const seq = b.dedup.get(`${queue}\n${a.id}`)?.seq
    const m = seq === undefined ? undefined : b.bySeq.get(seq)
    found = m === undefined ? [] : [m]
  } else {
    const q = b.queue(queueName(a.queue))
    const state = opt(a, "state", (v) => {
      if (!STATES.includes(v as (typeof STATES)[number])) throw new QueueError("BAD_OPTION", `state must be one of ${STATES.join(", ")}`)
      return v as (typeof STATES)[number]
    }) ?? "ready"
    const count = opt(a, "count", (v) => intOption(v, "count", 1, 1000)) ?? 1
    switch (state) {
      case "ready":
        found = q.ready.peek(count)
        break
      case "delayed":
        found = b.delays
          .values()
          .filter((m) => m.queue === q)
          .sort((x, y) => x.readyAt - y.readyAt || x.seq - y.seq)
          .slice(0, count)
        break
      case "buried":
        found = []
        for (let m = q.buried.head; m !== null && found.length < count; m = m.next) found.push(m)
        break
      case "reserved":
        found = []
        for (const list of b.leases.values()) for (let m = list.head; m !== null; m = m.next) if (m.queue === q) found.push(m)
        found = found.sort((x, y) => x.seq - y.seq).slice(0, count)
        break
    }
  }
  if ((a.seq !== undefined || a.id !== undefined) && found.length === 0) throw new QueueError("NOT_FOUND", "no such message")
  const data: Buffer[] = []
  for (const m of found) data.push(m.headers, m.body)
  return [encodeCbor({ messages: found.map(fullMeta) }), data]
}
