/**
 * The way back: a recovered Change (from the log or a checkpoint) made
 * through ModelState's primitives, the ones the live operations use
 * (register, place*, unplace, unregister, revive), so recovery has no copy
 * of the state logic; and the snapshot a checkpoint writes, as Changes.
 */
import type { QueueConfig } from "../backend.js"
import type { Change, MessageData, Snapshot } from "./changes.js"
import { QueueMessage } from "./message.js"
import type { ModelState } from "./state.js"

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
    case "snapshot-head":
      state.nextSeq = Math.max(state.nextSeq, c.nextSeq)
      break
    case "snapshot-message": {
      const m = restore(state, c.msg, bytes, recoveredAt, false, c.readyAt, c.expiresAt)
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
  state.register(m)
  q.pending--
  if (placeIt) place(state, recoveredAt, m)
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
  for (const q of state.queues.values())
    if (q.config.ttr !== undefined || q.config.retry !== undefined) configs.push({ queue: q.name, config: q.config })
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
  return { nextSeq: state.nextSeq, createdAt: now, configs, messages, dedup }
}
