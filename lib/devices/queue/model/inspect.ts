/** PEEK and STATS: read-only views of the model's state, as plain data (the server encodes them). */
import type { GroupStats, MessageInfo, PeekQuery, QueueStats } from "../backend.js"
import { QueueError } from "../errors.js"
import type { QueueMessage } from "./message.js"
import type { GroupState, QueueState } from "./queue-state.js"
import type { ModelState } from "./state.js"

export type { QueueStats }

export function stats(b: ModelState, only: string | undefined): Record<string, QueueStats> {
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
      deliveries: q.deliveries,
      nacks: q.nacks,
      deadLetters: q.deadLetters,
    }
    if (q.paused) out[q.name]!.paused = true
    if (q.bucket !== null) out[q.name]!.throttled = q.bucket.throttled
    if (q.isStream) {
      const groups: Record<string, GroupStats> = {}
      for (const g of q.groups.values()) groups[g.groupName] = groupStats(q, g)
      out[q.name]!.stream = {
        firstOffset: q.oldest?.seq ?? null,
        lastOffset: q.newest?.seq ?? null,
        trimmed: q.trimmed,
        retention: q.config.retention ?? "acked",
        groups,
      }
    }
  }
  return out
}

function groupStats(q: QueueState, g: GroupState): GroupStats {
  let throttled = g.bucket?.throttled ?? 0
  for (const k of g.keys.values()) throttled += k.bucket?.throttled ?? 0
  const newest = q.newest
  return {
    ready: g.ready.size,
    delayed: g.delayed,
    reserved: g.reserved,
    buried: g.buried.length,
    blocked: g.blocked,
    lag: (g.cursor === null || newest === null ? 0 : newest.ordinal - g.cursor.ordinal + 1) + g.ready.size + g.blocked + g.delayed,
    cursor: g.cursor?.seq ?? null,
    floor: g.floor,
    consumers: g.consumers.length,
    waiting: g.waiters.length,
    acks: g.acks,
    redeliveries: g.redeliveries,
    filtered: g.filtered,
    throttled,
    keys: g.keys.size,
  }
}

/** Messages matching `query`, in delivery order (ready), readiness (delayed), burial (buried) or seq (reserved). */
export function peek(b: ModelState, query: PeekQuery): QueueMessage[] {
  switch (query.by) {
    case "seq": {
      const m = b.bySeq.get(query.seq)
      return m === undefined ? [] : [m]
    }
    case "id": {
      const seq = b.dedup.get(`${query.queue}\n${query.id}`)?.seq
      const m = seq === undefined ? undefined : b.bySeq.get(seq)
      return m === undefined ? [] : [m]
    }
    case "state": {
      let q: QueueState = b.queue(query.queue)
      if (query.group !== undefined) {
        const g = q.groups.get(query.group)
        if (g === undefined) throw new QueueError("NOT_FOUND", `queue ${query.queue} has no consumer group ${JSON.stringify(query.group)}`)
        q = g
      }
      const skip = query.skip ?? 0
      const count = query.count
      switch (query.state) {
        case "ready":
          return skip === 0 ? q.ready.peek(count) : q.ready.peek(skip + count).slice(skip)
        case "delayed":
          return b.delays
            .values()
            .filter((m) => m.queue === q)
            .sort((x, y) => x.readyAt - y.readyAt || x.seq - y.seq)
            .slice(skip, skip + count)
        case "buried": {
          const found: QueueMessage[] = []
          let skipped = 0
          for (let m = q.buried.head; m !== null && found.length < count; m = m.next) if (skipped++ >= skip) found.push(m)
          return found
        }
        case "reserved": {
          const found: QueueMessage[] = []
          for (const list of b.leases.values()) for (let m = list.head; m !== null; m = m.next) if (m.queue === q) found.push(m)
          return found.sort((x, y) => x.seq - y.seq).slice(skip, skip + count)
        }
      }
    }
  }
}

/** Everything a PEEK shows about a message. */
export function messageInfo(m: QueueMessage): MessageInfo {
  const g = m.queue.group
  return {
    seq: m.seq,
    queue: m.queue.name,
    group: g === null ? undefined : g.groupName,
    key: m.key,
    state: m.state,
    attempts: m.attempts,
    priority: m.priority,
    putAt: m.putAt,
    readyAt: m.readyAt,
    ttr: m.ttr,
    expiresAt: m.expiresAt > 0 ? m.expiresAt : undefined,
    id: m.id,
    buryReason: m.state === "buried" ? m.buryReason : undefined,
    buriedAt: m.state === "buried" ? m.buriedAt : undefined,
    lastConsumer: m.lastConsumer.length > 0 ? m.lastConsumer : undefined,
    leaseDeadline: m.state === "reserved" ? m.leaseDeadline : undefined,
    bytes: m.body.length,
    headers: m.headers,
    body: m.body,
  }
}
