/**
 * Streams and consumer groups, over ModelState: a stream keeps its messages
 * as a log ("stored"), and each group reads it with its own cursor. What a
 * group has read but not settled is an entry (a QueueMessage whose `record`
 * is the stored one) in the group's own QueueState, so leases, TTR, retries,
 * dead letters and kicks are the queue mechanics unchanged, per group.
 *
 * Per-key ordering: an entry with a key holds one of its key's
 * `keyConcurrency` slots from the moment it is placed until the group acks
 * or dead-letters it (a retry keeps the slot), so later messages of the key
 * wait ("blocked") in offset order. Rate limits are token buckets: the
 * group's is taken per delivery (ModelState.popReady), a key's when an entry
 * takes its key slot.
 *
 * Retention: "acked" drops a stored message once no group can deliver it
 * again (below every group's low-water mark); "limits" keeps it until
 * maxAge / maxBytes / maxMessages. Both are logged as one "trim" change
 * (everything below a seq), applied by recovery through the same code.
 */
import type { GroupConfig, StreamPosition } from "../backend.js"
import { QueueError } from "../errors.js"
import { TokenBucket } from "./bucket.js"
import { matches } from "./filter.js"
import { QueueMessage } from "./message.js"
import { GroupState, KeyState, type QueueState, type SavedEntry } from "./queue-state.js"
import type { ModelState } from "./state.js"

/** One stored message in this many is in the stream's index. */
const INDEX_EVERY = 32
/** A group materialises at most this many blocked entries (messages waiting for their key) ahead of its deliveries. */
export const MAX_BLOCKED = 10_000

/** Rate bucket of a config's `rate` / `burst`, or null. */
export function bucketOf(rate: number | undefined, burst: number | undefined, now: number): TokenBucket | null {
  if (rate === undefined || rate <= 0) return null
  return new TokenBucket(rate, burst ?? Math.max(1, Math.ceil(rate)), now)
}

// ---- the log ----

/** A stored message joined its stream (register): ordinal, index, groups waiting after the newest. */
export function joinStream(q: QueueState, m: QueueMessage): void {
  m.ordinal = ++q.ordinals
  if (m.ordinal % INDEX_EVERY === 1) q.index.push(m)
  for (const g of q.groups.values()) if (g.cursor === null) g.cursor = m
}

/** The first stored message with seq >= `seq`, or null. */
export function findBySeq(q: QueueState, seq: number): QueueMessage | null {
  return find(q, (m) => m.seq >= seq)
}

/** The first stored message put at or after `time`, or null. */
export function findByTime(q: QueueState, time: number): QueueMessage | null {
  return find(q, (m) => m.putAt >= time)
}

/** Binary search over the index (never a scan of the log), then at most INDEX_EVERY steps. */
function find(q: QueueState, reached: (m: QueueMessage) => boolean): QueueMessage | null {
  pruneIndex(q)
  const ix = q.index
  let lo = q.indexHead
  let hi = ix.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (reached(ix[mid]!)) hi = mid
    else lo = mid + 1
  }
  // ix[lo] is the first sample that reached; the answer is between the sample before it and it.
  let m = lo > q.indexHead ? ix[lo - 1]! : q.oldest
  while (m !== null && !reached(m)) m = m.newer
  return m
}

function pruneIndex(q: QueueState): void {
  const ix = q.index
  while (q.indexHead < ix.length && ix[q.indexHead]!.state === "gone") q.indexHead++
  if (q.indexHead > 1024 && q.indexHead * 2 > ix.length) {
    ix.splice(0, q.indexHead)
    q.indexHead = 0
  }
}

/** The seq a position resolves to in `q` now (the next seq if it is after the newest). */
export function resolvePosition(state: ModelState, q: QueueState, at: StreamPosition): number {
  if (at === "last") return state.nextSeq
  const m = at === "first" ? q.oldest : "offset" in at ? findBySeq(q, at.offset) : findByTime(q, at.time)
  return m === null ? (at !== "first" && "offset" in at ? Math.max(at.offset, state.nextSeq) : state.nextSeq) : m.seq
}

// ---- groups ----

export function createGroup(state: ModelState, q: QueueState, name: string, config: GroupConfig, floor: number, now: number): GroupState {
  if (!q.isStream) {
    if (q.total > 0)
      throw new QueueError(
        "BAD_REQUEST",
        `queue ${q.name} holds ${q.total} messages consumed without groups; consumer groups can be added to an empty queue or to a stream`,
      )
    q.isStream = true
  }
  const g = new GroupState(q, name, config, floor, state.bySeq, q.groupSlots++)
  configureGroup(g, config, now)
  g.paused = q.config.paused === true
  g.cursor = findBySeq(q, floor)
  q.groups.set(name, g)
  return g
}

export function configureGroup(g: GroupState, config: GroupConfig, now: number): void {
  g.groupConfig = config
  g.config = g.effective()
  g.bucket = bucketOf(config.rate, config.burst, now)
}

/** The group ends: its deliveries in flight are dropped (their acks find nothing), its consumers and waiters too. */
export function deleteGroup(state: ModelState, g: GroupState): void {
  for (const e of [...g.entries.values()]) {
    if (e.state === "reserved") state.endLease(e)
    else state.unplace(e)
    dropEntry(state, e)
  }
  for (const c of g.consumers.splice(0)) {
    c.active = false
    const cs = c.holder.consumers
    const i = cs.indexOf(c)
    if (i >= 0) cs.splice(i, 1)
  }
  for (const w of g.waiters.splice(0)) {
    state.timeouts.remove(w)
    w.holder.waiters--
    w.done(null, null)
  }
  g.stream.groups.delete(g.groupName)
  state.wakes.delete(g)
  state.trimSoon(g.stream)
}

/** An entry of `g` for stored message `r` (not placed yet). */
function materialize(g: GroupState, r: QueueMessage): QueueMessage {
  const e = new QueueMessage(
    r.seq,
    g,
    r.priority,
    r.putAt,
    r.readyAt,
    g.groupConfig.ttr ?? r.ttr,
    r.expiresAt,
    r.id,
    r.headers,
    r.body,
    r.retry,
    0,
  )
  e.record = r
  e.key = r.key
  e.producer = r.producer
  g.entries.add(e)
  return e
}

/**
 * Moves the cursor until `want` entries are ready (or the log, the durable
 * part of it, or the blocked lookahead ends). True if any became ready.
 */
export function fill(state: ModelState, g: GroupState, now: number, want: number): boolean {
  let placed = 0
  while (placed < want && g.blocked < MAX_BLOCKED) {
    const r = g.cursor
    if (r === null || r.state === "pending") break
    g.cursor = r.newer
    if (r.state !== "stored" || r.seq < g.floor) continue
    if (settledBefore(g, r.seq)) continue
    if (g.entries.of(r) !== undefined) continue
    if (!matches(g.filter, r)) {
      g.filtered++
      continue
    }
    if (admit(state, g, materialize(g, r), now)) placed++
  }
  return placed > 0
}

/** Settled before a restart and not passed since (the log's or a checkpoint's group acks). */
function settledBefore(g: GroupState, seq: number): boolean {
  if (g.acked.size > 0 && g.acked.delete(seq)) return true
  const rs = g.ackedRanges
  while (g.rangeAt < rs.length && rs[g.rangeAt + 1]! < seq) g.rangeAt += 2
  return g.rangeAt < rs.length && rs[g.rangeAt]! <= seq
}

/** Places a new entry: through its key's gate, then ready or delayed. True if ready now. */
function admit(state: ModelState, g: GroupState, e: QueueMessage, now: number): boolean {
  if (e.expiresAt > 0 && !state.ttls.has(e)) {
    state.ttls.push(e)
    state.want(e.expiresAt)
  }
  if (e.key !== undefined) {
    let ks = g.keys.get(e.key)
    if (ks === undefined) {
      ks = new KeyState(bucketOf(g.groupConfig.keyRate, g.groupConfig.keyBurst ?? 1, now))
      g.keys.set(e.key, ks)
    }
    if (ks.inflight >= g.keyConcurrency || ks.waiting.length > 0 || (ks.bucket !== null && !takeKeyToken(state, g, ks, now))) {
      e.state = "blocked"
      ks.waiting.push(e)
      g.blocked++
      return false
    }
    ks.inflight++
    e.keyHeld = true
  }
  return place(state, e, now)
}

function takeKeyToken(state: ModelState, g: GroupState, ks: KeyState, now: number): boolean {
  if (ks.bucket!.take(now)) return true
  g.rateBlocked.add(ks)
  state.wake(g, ks.bucket!.nextAt(now))
  return false
}

function place(state: ModelState, e: QueueMessage, now: number): boolean {
  if (e.readyAt > now) {
    state.placeDelayed(e)
    return false
  }
  state.placeReady(e)
  return true
}

/** Lets blocked entries of a key in while it has slots (and tokens), oldest first. */
function admitWaiting(state: ModelState, g: GroupState, ks: KeyState, now: number): void {
  while (ks.waiting.length > 0 && ks.inflight < g.keyConcurrency) {
    if (ks.bucket !== null && !takeKeyToken(state, g, ks, now)) return
    const e = ks.waiting.shift()!
    g.blocked--
    ks.inflight++
    e.keyHeld = true
    place(state, e, now)
  }
  g.rateBlocked.delete(ks)
}

/** The entry no longer holds its key's slot (acked, dead-lettered, dropped): the next of its key may go. */
export function releaseKey(state: ModelState, e: QueueMessage, now: number): void {
  if (!e.keyHeld) return
  e.keyHeld = false
  const g = e.queue as GroupState
  const ks = g.keys.get(e.key!)
  if (ks === undefined) return
  ks.inflight--
  admitWaiting(state, g, ks, now)
  if (ks.inflight === 0 && ks.waiting.length === 0 && (ks.bucket === null || ks.bucket.available(now) >= ks.bucket.burst)) g.keys.delete(e.key!)
}

/** A rate-limited group's wait ended: blocked keys with tokens go on (ModelState's timer). */
export function onWake(state: ModelState, g: GroupState, now: number): void {
  for (const ks of [...g.rateBlocked]) admitWaiting(state, g, ks, now)
}

/** The entry is settled for its group (acked): gone from the group, its key slot freed. */
export function settleEntry(state: ModelState, e: QueueMessage, now: number): void {
  const g = e.queue as GroupState
  // A delivery restored after a restart may be ahead of the cursor: the cursor must not read it again.
  if (g.cursor !== null && e.seq >= g.cursor.seq) g.acked.add(e.seq)
  g.entries.delete(e)
  state.ttls.remove(e)
  e.state = "gone"
  releaseKey(state, e, now)
  state.trimSoon(g.stream)
}

/** An unplaced, unleased entry removed without being settled (a seek, a trim, a deleted group). */
function dropEntry(state: ModelState, e: QueueMessage): void {
  const g = e.queue as GroupState
  if (e.state === "blocked") {
    e.list?.remove(e)
    g.blocked--
  }
  g.entries.delete(e)
  state.ttls.remove(e)
  e.state = "gone"
  e.keyHeld = false
}

/**
 * Moves the group's cursor to `seq`: what it had not delivered or has waiting for a retry is
 * dropped and read again from there; deliveries in flight and dead letters stay as they are.
 */
export function seekGroup(state: ModelState, g: GroupState, seq: number): void {
  for (const e of [...g.entries.values()]) {
    if (e.state === "reserved" || e.state === "buried") continue
    state.unplace(e)
    dropEntry(state, e)
  }
  g.keys.clear()
  g.rateBlocked.clear()
  for (const e of g.entries.values()) {
    if (e.state !== "reserved" || e.key === undefined) continue
    let ks = g.keys.get(e.key)
    if (ks === undefined) g.keys.set(e.key, (ks = new KeyState(bucketOf(g.groupConfig.keyRate, g.groupConfig.keyBurst ?? 1, Date.now()))))
    ks.inflight++
    e.keyHeld = true
  }
  g.acked.clear()
  g.ackedRanges = []
  g.rangeAt = 0
  g.restored.clear()
  g.floor = seq
  g.cursor = findBySeq(g.stream, seq)
  state.trimSoon(g.stream)
}

/** The lowest seq the group may still deliver (its oldest entry, else its cursor). */
export function lowWater(state: ModelState, g: GroupState): number {
  let low = g.cursor === null ? state.nextSeq : g.cursor.seq
  for (const seq of g.entries.keys()) if (seq < low) low = seq
  for (const seq of g.restored.keys()) if (seq < low) low = seq
  return Math.max(g.floor, low)
}

/**
 * The seq below which a stream may drop its stored messages now, by its retention;
 * 0 if nothing is to go.
 */
export function trimPoint(state: ModelState, q: QueueState, now: number): number {
  const c = q.config
  let below = 0
  if ((c.retention ?? "acked") === "acked") {
    let low = state.nextSeq
    for (const g of q.groups.values()) low = Math.min(low, lowWater(state, g))
    below = low
  }
  // Limits, oldest first (stored ones only: a pending message at the tail is never dropped).
  let m = q.oldest
  let count = q.total
  let bytes = q.bytes
  while (m !== null && m.state === "stored") {
    const over =
      (c.maxMessages !== undefined && c.maxMessages > 0 && count > c.maxMessages) ||
      (c.maxBytes !== undefined && c.maxBytes > 0 && bytes > c.maxBytes) ||
      (c.maxAge !== undefined && c.maxAge > 0 && m.putAt + c.maxAge <= now)
    if (!over) break
    below = Math.max(below, m.seq + 1)
    count--
    bytes -= m.recordBytes
    m = m.newer
  }
  const oldest = q.oldest
  return oldest !== null && oldest.seq < below && oldest.state === "stored" ? below : 0
}

/** Drops the stream's stored messages below `below` (and groups' undelivered entries of them). Returns how many. */
export function trimStream(state: ModelState, q: QueueState, below: number): number {
  let n = 0
  for (let m = q.oldest; m !== null && m.seq < below && m.state === "stored"; m = q.oldest) {
    for (const g of q.groups.values()) if (g.cursor === m) g.cursor = m.newer
    state.unregister(m)
    n++
  }
  q.trimmed += n
  for (const g of q.groups.values()) {
    if (g.floor < below) g.floor = below
    for (const e of [...g.entries.values()]) {
      if (e.seq >= below || e.state === "reserved") continue
      state.unplace(e)
      dropEntry(state, e)
    }
    for (const seq of g.restored.keys()) if (seq < below) g.restored.delete(seq)
  }
  return n
}

/** After recovery: the group's deliveries as they stood (retries, dead letters) are placed again, oldest first. */
export function restoreEntries(state: ModelState, g: GroupState, now: number): void {
  const seqs = [...g.restored.keys()].sort((a, b) => a - b)
  for (const seq of seqs) {
    const saved = g.restored.get(seq)!
    const r = state.bySeq.get(seq)
    if (r === undefined || r.queue !== g.stream || r.state !== "stored" || seq < g.floor) continue
    const e = materialize(g, r)
    e.attempts = saved.attempts
    e.lastConsumer = saved.lastConsumer
    if (saved.buried) {
      e.buriedAt = saved.buriedAt
      e.buryReason = saved.reason
      state.placeBuried(e)
    } else {
      e.readyAt = saved.readyAt
      admit(state, g, e, now)
    }
  }
  g.restored.clear()
}

/** How a group's entry stands, for the log or a checkpoint. */
export function savedEntry(e: QueueMessage): SavedEntry {
  return {
    attempts: e.attempts,
    readyAt: e.readyAt,
    buried: e.state === "buried",
    buriedAt: e.buriedAt,
    reason: e.buryReason,
    lastConsumer: e.lastConsumer,
  }
}

/** Stored messages in [floor, cursor) the group has settled, as [from, to] seq pairs (for a checkpoint). */
export function settledRanges(state: ModelState, g: GroupState): { floor: number; ranges: number[] } {
  const floor = lowWater(state, g)
  const ranges: number[] = []
  const end = g.cursor === null ? Infinity : g.cursor.seq
  let from = -1
  let to = -1
  for (let m = findBySeq(g.stream, floor); m !== null && m.seq < end; m = m.newer) {
    const settled = g.entries.of(m) === undefined && !g.restored.has(m.seq)
    if (settled) {
      if (from < 0) from = m.seq
      to = m.seq
    } else if (from >= 0) {
      ranges.push(from, to)
      from = -1
    }
  }
  if (from >= 0) ranges.push(from, to)
  // What the group knew from before a restart and has not passed yet is still settled.
  for (const seq of g.acked) ranges.push(seq, seq)
  for (let i = g.rangeAt; i < g.ackedRanges.length; i += 2) ranges.push(g.ackedRanges[i]!, g.ackedRanges[i + 1]!)
  return { floor, ranges: sortRanges(ranges) }
}

function sortRanges(r: number[]): number[] {
  const pairs: [number, number][] = []
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!])
  pairs.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  for (const [a, b] of pairs) {
    if (out.length > 0 && a <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, b)
    else out.push(a, b)
  }
  return out
}
