/**
 * The way back: a recovered Change (from the log or a checkpoint) made
 * through ModelState's primitives, the ones the live operations use
 * (register, place*, unplace, unregister, revive), so recovery has no copy
 * of the state logic; and the snapshot a checkpoint writes, as Changes.
 */
import type { QueueConfig } from "../backend.js"
import type { Change, MessageData, Snapshot } from "./changes.js"
import { QueueMessage } from "./message.js"
import type { GroupState, QueueState } from "./queue-state.js"
import type { ModelState } from "./state.js"
import { configureGroup, createGroup, deleteGroup, savedEntry, seekGroup, settledRanges, trimStream } from "./streams.js"

function groupOf(state: ModelState, queue: string, group: string): GroupState {
  const g = state.queues.get(queue)?.groups.get(group)
  if (g === undefined) throw new RangeError(`no group ${group} of ${queue}`)
  return g
}

function saved(
  g: GroupState,
  seq: number,
): { attempts: number; readyAt: number; buried: boolean; buriedAt: number; reason: string; lastConsumer: string } {
  let e = g.restored.get(seq)
  if (e === undefined) g.restored.set(seq, (e = { attempts: 0, readyAt: 0, buried: false, buriedAt: 0, reason: "", lastConsumer: "" }))
  return e
}

/**
 * Makes a recovered change (from the log or a checkpoint) without side
 * effects: no results, no deliveries, nothing appended. `bytes` is its
 * size in the store. Throws RangeError on a change that cannot apply
 * (recovery reports it as CORRUPT).
 */
export function applyChange(state: ModelState, c: Change, bytes: number, recoveredAt: number): void {
  switch (c.kind) {
    case "put":
      restore(state, c.msg, bytes, recoveredAt)
      break
    case "put-batch": {
      const share = Math.ceil(bytes / Math.max(1, c.msgs.length))
      for (const d of c.msgs) restore(state, d, share, recoveredAt)
      break
    }
    case "ack":
      for (const seq of c.seqs) {
        const m = state.bySeq.get(seq)
        if (m === undefined) continue
        state.unplace(m)
        state.unregister(m)
      }
      break
    case "release": {
      const m = state.bySeq.get(c.seq)
      if (m === undefined) break
      state.unplace(m)
      m.attempts = c.attempts
      m.readyAt = c.readyAt
      place(state, recoveredAt, m)
      break
    }
    case "bury": {
      const m = state.bySeq.get(c.seq)
      if (m === undefined) break
      state.unplace(m)
      m.attempts = c.attempts
      m.buriedAt = c.buriedAt
      m.buryReason = c.reason
      m.lastConsumer = c.lastConsumer
      state.placeBuried(m)
      break
    }
    case "kick":
      for (const seq of c.seqs) {
        const m = state.bySeq.get(seq)
        if (m !== undefined && m.state === "buried") state.revive(m, c.at)
      }
      break
    case "config":
      state.queue(c.queue).config = c.config
      break
    case "stream":
      state.queue(c.queue).isStream = true
      break
    case "group": {
      const q = state.queue(c.queue)
      const g = q.groups.get(c.group)
      if (g !== undefined) configureGroup(g, c.config, recoveredAt)
      else createGroup(state, q, c.group, c.config, c.floor, recoveredAt)
      break
    }
    case "group-delete":
      deleteGroup(state, groupOf(state, c.queue, c.group))
      break
    case "seek":
      seekGroup(state, groupOf(state, c.queue, c.group), c.seq)
      break
    case "group-ack": {
      const g = groupOf(state, c.queue, c.group)
      for (const seq of c.seqs) {
        g.restored.delete(seq)
        if (seq >= g.floor) g.acked.add(seq)
      }
      break
    }
    case "group-release": {
      const e = saved(groupOf(state, c.queue, c.group), c.seq)
      e.attempts = c.attempts
      e.readyAt = c.readyAt
      e.buried = false
      break
    }
    case "group-bury": {
      const e = saved(groupOf(state, c.queue, c.group), c.seq)
      e.attempts = c.attempts
      e.buried = true
      e.buriedAt = c.buriedAt
      e.reason = c.reason
      e.lastConsumer = c.lastConsumer
      break
    }
    case "group-kick": {
      const g = groupOf(state, c.queue, c.group)
      for (const seq of c.seqs) {
        const e = g.restored.get(seq)
        if (e === undefined || !e.buried) continue
        e.buried = false
        e.attempts = 0
        e.readyAt = c.at
      }
      break
    }
    case "trim": {
      const q = state.queues.get(c.queue)
      if (q === undefined) break
      trimStream(state, q, c.below)
      for (const g of q.groups.values()) for (const seq of g.acked) if (seq < c.below) g.acked.delete(seq)
      break
    }
    case "snapshot-group": {
      const q = state.queue(c.queue)
      const g = createGroup(state, q, c.group, c.config, c.floor, recoveredAt)
      g.ackedRanges = [...c.ranges]
      for (const e of c.entries) g.restored.set(e.seq, { ...e })
      break
    }
    case "snapshot-head":
      state.nextSeq = Math.max(state.nextSeq, c.nextSeq)
      break
    case "snapshot-message": {
      const m = restore(state, c.msg, bytes, recoveredAt, false, c.readyAt, c.expiresAt)
      if (m.queue.isStream) break
      m.attempts = c.attempts
      m.lastConsumer = c.lastConsumer
      if (c.state === "buried") {
        m.buriedAt = c.buriedAt
        m.buryReason = c.reason
        state.placeBuried(m)
      } else place(state, recoveredAt, m)
      break
    }
    case "snapshot-dedup":
      if (c.at > recoveredAt - state.options.dedupWindowMs) state.dedup.set(`${c.queue}\n${c.id}`, { seq: c.seq, at: c.at })
      break
    case "snapshot-end":
      break
  }
}

/** A stored message back in the indexes; a checkpoint gives its readyAt / expiresAt as they were when it was taken. */
function restore(
  state: ModelState,
  d: MessageData,
  bytes: number,
  recoveredAt: number,
  placeIt = true,
  readyAt = d.readyAt,
  expiresAt = d.expiresAt,
): QueueMessage {
  if (state.bySeq.has(d.seq)) throw new RangeError(`message ${d.seq} stored twice`)
  const q = state.queue(d.queueName)
  const m = new QueueMessage(d.seq, q, d.priority, d.putAt, readyAt, d.ttr, expiresAt, d.id, d.headers, d.body, d.retry, bytes)
  if (d.key !== undefined) m.key = d.key
  if (d.producer !== undefined) m.producer = d.producer
  state.register(m)
  q.pending--
  if (q.isStream) m.state = "stored"
  else if (placeIt) place(state, recoveredAt, m)
  return m
}

/** Ready or delayed by readyAt; TTL tracked (expired ones are dead-lettered by the timer after recovery). */
function place(state: ModelState, recoveredAt: number, m: QueueMessage): void {
  if (m.expiresAt > 0 && !state.ttls.has(m)) state.ttls.push(m)
  if (m.readyAt > recoveredAt) state.placeDelayed(m)
  else state.placeReady(m)
}

/**
 * A frozen copy of the state for a checkpoint, taken at once (each
 * message's mutable fields are copied; bodies are immutable and shared).
 */
export function snapshotOf(state: ModelState): Snapshot {
  const now = Date.now()
  const configs: { queue: string; config: QueueConfig }[] = []
  const streams: Extract<Change, { kind: "stream" | "snapshot-group" }>[] = []
  for (const q of state.queues.values()) {
    if (Object.keys(q.config).length > 0) configs.push({ queue: q.name, config: q.config })
    if (q.isStream) streams.push({ kind: "stream", queue: q.name })
    for (const g of q.groups.values()) streams.push(snapshotGroup(state, g))
  }
  const messages: Extract<Change, { kind: "snapshot-message" }>[] = []
  for (const m of state.bySeq.values()) {
    // A lease does not survive a restart: leased (and not yet visible) messages are saved as ready or delayed.
    const saved = m.state === "buried" ? "buried" : m.readyAt > now ? "delayed" : "ready"
    messages.push({
      kind: "snapshot-message",
      state: saved,
      attempts: m.attempts,
      readyAt: m.readyAt,
      expiresAt: m.expiresAt,
      buriedAt: m.buriedAt,
      reason: m.buryReason,
      lastConsumer: m.lastConsumer,
      msg: m,
    })
  }
  const dedup: Extract<Change, { kind: "snapshot-dedup" }>[] = []
  const horizon = now - state.options.dedupWindowMs
  for (const [key, e] of state.dedup) {
    if (e.at <= horizon) continue
    const nl = key.indexOf("\n")
    dedup.push({ kind: "snapshot-dedup", queue: key.slice(0, nl), id: key.slice(nl + 1), seq: e.seq, at: e.at })
  }
  return { nextSeq: state.nextSeq, createdAt: now, configs, messages, dedup, streams }
}

/** A group as a checkpoint keeps it: config, floor, what it settled above the floor, its retried and dead entries. */
function snapshotGroup(state: ModelState, g: GroupState): Extract<Change, { kind: "snapshot-group" }> {
  const { floor, ranges } = settledRanges(state, g)
  const entries: Extract<Change, { kind: "snapshot-group" }>["entries"][number][] = []
  for (const e of g.entries.values()) if (e.attempts > 0 || e.state === "buried") entries.push({ seq: e.seq, ...savedEntry(e) })
  for (const [seq, e] of g.restored) entries.push({ seq, ...e })
  return { kind: "snapshot-group", queue: g.stream.name, group: g.groupName, config: g.groupConfig, floor, ranges, entries }
}

export type { QueueState }
