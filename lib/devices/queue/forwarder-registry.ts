/**
 * The durable forwarder's subscribers (durable-forwarder.ts): who a peer is (its id from the
 * handshake), what the device holds for each, and the registry that keeps their ids,
 * subscriptions and last disconnection in the store, so that a restarted device knows them.
 *
 * The registry is one store queue, `fwd/.subscribers`, with one record (a queue message) per
 * subscriber. The device leases every record for its lifetime; to change one it puts the new
 * record, then removes the old (after a crash between the two, the newer wins at load).
 */
import { createHash } from "node:crypto"
import { createDebug } from "../../debug.js"
import { Deque } from "../../pipe/deque.js"
import type { Pipe } from "../../pipe/pipe.js"
import { PrefixCounter } from "../../routing/subscription-trie.js"
import type { Metadata } from "../../wire/metadata.js"
import type { ClientHandle, DeliveredMessage, NewMessage, QueueBackend, SubscriptionHandle } from "./backend.js"
import { decodeCbor, encodeCbor } from "./cbor.js"

const debug = createDebug("omq:queue")

const NO_OPTIONS = { priority: 0, delay: 0, ttr: undefined, ttl: 0, id: undefined, retry: undefined }
const EMPTY = Buffer.alloc(0)
/** The store queue holding one record per durable subscriber. */
const REGISTRY = "fwd/.subscribers"

/** A message leased from a subscriber's queue: its place in the store and its frames. */
export interface Held {
  seq: number
  attempts: number
  frames: Buffer[]
}

interface RegistryRecord {
  id: Uint8Array
  topics: Uint8Array[]
  seen: number
}

/**
 * The id a subscriber announces in its handshake (READY's Identity, else X-Routing-Id: 1 to
 * 255 bytes), or undefined for an anonymous one.
 */
export function subscriberId(meta: Metadata | undefined): Buffer | undefined {
  for (const name of ["identity", "x-routing-id"]) {
    const v = meta?.get(name)
    if (v !== undefined && v.length > 0 && v.length <= 255) return v
  }
  return undefined
}

/** A subscriber's queue: its id in hex, or a hash of a long one (a queue name is in every record of it). */
function queueOf(id: Buffer): string {
  return id.length <= 32 ? `fwd/${id.toString("hex")}` : `fwd/h-${createHash("sha256").update(id).digest("hex").slice(0, 32)}`
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength)

export class DurableSubscriber {
  readonly key: string
  readonly queue: string
  /** Its subscriptions (a set, as XPUB keeps them per peer), by topic as latin1. */
  readonly topics = new Map<string, Buffer>()
  readonly matcher = new PrefixCounter()
  /** Its current connection. */
  pipe: Pipe | undefined
  sub: SubscriptionHandle | undefined
  /** Leased from the store, not yet written to the pipe (oldest first). */
  readonly unsent = new Deque<Held>()
  /** Written to the pipe, not yet taken by its engine: exactly what the pipe's `out` holds. */
  readonly inPipe = new Deque<Held>()
  backlog = 0
  stored = 0
  taken = 0
  dropped = 0
  /** When it was last connected (ms since the epoch). */
  seen = Date.now()
  /** Its registry record, leased by the device. */
  record: { seq: number; attempts: number } | undefined
  dirty = false
  /** Topics the current connection has not sent again yet (see durable-forwarder.ts, RESUBSCRIBE_GRACE_MS). */
  unconfirmed: Set<string> | undefined

  constructor(readonly id: Buffer) {
    this.key = id.toString("hex")
    this.queue = queueOf(id)
  }
}

export class SubscriberRegistry {
  constructor(
    private readonly backend: QueueBackend,
    private readonly client: ClientHandle,
    /** The subscriber with this key, if the device still knows it. */
    private readonly lookup: (key: string) => DurableSubscriber | undefined,
  ) {}

  /** Leases the next ready record (the backend answers at once); null when there is none. */
  private next(): DeliveredMessage | null {
    let m: DeliveredMessage | null = null
    this.backend.reserve(this.client, REGISTRY, 0, "durable-forwarder", (_err, r) => (m = r ?? null))
    return m
  }

  /** The subscribers of the previous run with their subscriptions, each with its record leased and its backlog counted. */
  load(): Array<{ subscriber: DurableSubscriber; topics: Buffer[] }> {
    const latest = new Map<string, { rec: RegistryRecord; seq: number; attempts: number }>()
    const stale: number[] = []
    for (let m = this.next(); m !== null; m = this.next()) {
      const rec = decodeCbor(m.body) as RegistryRecord
      const key = asBuffer(rec.id).toString("hex")
      const prev = latest.get(key)
      if (prev !== undefined) stale.push(prev.seq, prev.attempts)
      latest.set(key, { rec, seq: m.seq, attempts: m.attempts })
    }
    if (stale.length > 0) this.backend.ack(this.client, stale, () => {})
    const totals = new Map<string, number>()
    this.backend.stats(undefined, (_err, all) => {
      for (const [q, st] of Object.entries(all ?? {})) totals.set(q, st.total)
    })
    return [...latest.values()].map(({ rec, seq, attempts }) => {
      const s = new DurableSubscriber(Buffer.from(asBuffer(rec.id)))
      s.record = { seq, attempts }
      s.seen = rec.seen
      s.backlog = totals.get(s.queue) ?? 0
      return { subscriber: s, topics: rec.topics.map((t) => Buffer.from(asBuffer(t))) }
    })
  }

  /** Writes the subscriber's record again (soon: one write for many changes), then removes the previous one. */
  persist(s: DurableSubscriber): void {
    if (s.dirty) return
    s.dirty = true
    setImmediate(() => {
      s.dirty = false
      if (this.lookup(s.key) !== s) return
      const rec: RegistryRecord = { id: s.id, topics: [...s.topics.values()], seen: s.seen }
      const item: NewMessage = { options: NO_OPTIONS, headers: EMPTY, body: encodeCbor(rec) }
      this.backend.put(REGISTRY, item, (err) => {
        if (err) return debug("durable forwarder: registry write failed: %s", err.message)
        // Every other record is leased by the device: those ready now are ones just written.
        for (let m = this.next(); m !== null; m = this.next()) {
          const owner = this.lookup(asBuffer((decodeCbor(m.body) as RegistryRecord).id).toString("hex"))
          const old = owner?.record
          if (owner !== undefined) owner.record = { seq: m.seq, attempts: m.attempts }
          const drop = owner === undefined ? [m.seq, m.attempts] : old !== undefined ? [old.seq, old.attempts] : []
          if (drop.length > 0) this.backend.ack(this.client, drop, () => {})
        }
      })
    })
  }
}
