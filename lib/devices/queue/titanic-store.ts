/**
 * TitanicStore: what Titanic (titanic.ts, ZeroMQ RFC 9) keeps on disk, over any QueueBackend
 * (FileBackend in production: the durable queue's store). Two queues:
 *
 * - `titanic.requests`: one message per request handed off, its UUID as the message id (and in
 *   the headers, with the service name), its body frames as the CBOR-encoded body.
 * - `titanic.replies`: one message per reply, the same UUID as its id, the reply's frames as
 *   the body.
 *
 * A queue store removes a message by acknowledging a delivery of it, and has no "delete by id":
 * so Titanic consumes both queues itself, with unbounded credit and a lease that lasts as long
 * as the process (leases are not durable: after a restart everything stored is delivered to it
 * again). Every stored request and reply is thus leased to Titanic, indexed here by UUID, and
 * removed by one ACK: `settle` (the request, once its reply is stored) and `remove` (request and
 * reply, for titanic.close; both in one ACK, one store record, so a crash keeps both or
 * neither).
 *
 * Order of durability: putRequest resolves once the request is confirmed (fsync "always": on
 * disk); putReply before settle, so a crash in between leaves a request that has a reply, which
 * is settled at the next start instead of being dispatched again. The replies queue is
 * subscribed before the requests queue, so at start-up the reply index is complete before the
 * first request is looked at.
 */
import { randomUUID } from "node:crypto"
import type { ClientHandle, DeliveredMessage, Done, NewMessage, QueueBackend, SubscriptionHandle } from "./backend.js"
import { decodeCbor, encodeCbor } from "./cbor.js"

export const REQUESTS = "titanic.requests"
export const REPLIES = "titanic.replies"

/** A request stored and not yet settled, as its delivery to Titanic says. */
export interface StoredRequest {
  readonly uuid: string
  readonly service: string
  seq: number
  attempt: number
}

interface StoredReply {
  seq: number
  attempt: number
}

/** A lease that ends with the process, not before (2^31 ms ≈ 24.8 days, the longest timer). */
const FOREVER = 2_147_000_000
const UNBOUNDED = Number.MAX_SAFE_INTEGER

/** A backend operation as a Promise. */
function call<T>(operation: (done: Done<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => operation((err, result) => (err ? reject(err) : resolve(result as T))))
}

const frames = (body: Buffer): Buffer[] => (decodeCbor(body) as Uint8Array[]).map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))

function message(uuid: string, service: string, body: readonly Buffer[]): NewMessage {
  return {
    options: { priority: 0, delay: 0, ttr: FOREVER, ttl: 0, id: uuid, retry: undefined },
    headers: encodeCbor({ uuid, service }),
    body: encodeCbor(body),
  }
}

/** The UUID a stored message carries (its id, else its headers'). */
function uuidOf(m: DeliveredMessage): { uuid: string | undefined; service: string } {
  let h: { uuid?: unknown; service?: unknown } = {}
  try {
    if (m.headers.length > 0) h = decodeCbor(m.headers) as typeof h
  } catch {
    // Not Titanic's headers: the message is left alone.
  }
  const uuid = m.id ?? (typeof h.uuid === "string" ? h.uuid : undefined)
  return { uuid, service: typeof h.service === "string" ? h.service : "" }
}

export class TitanicStore {
  private readonly requests = new Map<string, StoredRequest>()
  private readonly replies = new Map<string, StoredReply>()
  /** Replies being stored, by UUID (remove waits for them). */
  private readonly storing = new Map<string, Promise<void>>()
  private readonly client: ClientHandle
  private readonly subs: SubscriptionHandle[] = []

  /** `backend` is owned from now on: close() closes it. */
  constructor(private readonly backend: QueueBackend) {
    this.client = backend.openClient("titanic")
  }

  /**
   * Subscribes to both queues: `onRequest` is called for each request that needs dispatching,
   * the ones recovered from the store at once (in order), new ones as they are stored.
   */
  start(onRequest: (r: StoredRequest) => void): void {
    this.subs.push(
      this.backend.consume(this.client, REPLIES, UNBOUNDED, "titanic", (_q, ms) => {
        for (const m of ms) {
          const { uuid } = uuidOf(m)
          if (uuid !== undefined) this.replies.set(uuid, { seq: m.seq, attempt: m.attempts })
        }
      }),
    )
    this.subs.push(
      this.backend.consume(this.client, REQUESTS, UNBOUNDED, "titanic", (_q, ms) => {
        for (const m of ms) {
          const { uuid, service } = uuidOf(m)
          if (uuid === undefined) continue
          const known = this.requests.get(uuid)
          if (known !== undefined) {
            // The same request leased again (the process outlived its lease): only the attempt changed.
            known.seq = m.seq
            known.attempt = m.attempts
            continue
          }
          const r: StoredRequest = { uuid, service, seq: m.seq, attempt: m.attempts }
          this.requests.set(uuid, r)
          onRequest(r)
        }
      }),
    )
  }

  /** Stores a request; resolves with its new UUID once it is confirmed (durable). */
  async putRequest(service: string, body: readonly Buffer[]): Promise<string> {
    const uuid = randomUUID().replace(/-/g, "")
    await call((done) => this.backend.put(REQUESTS, message(uuid, service, body), done))
    return uuid
  }

  /** The body frames of a stored request. */
  async requestBody(r: StoredRequest): Promise<Buffer[]> {
    const [m] = await call<{ body: Buffer }[]>((done) => this.backend.peek({ by: "seq", seq: r.seq }, done))
    return m === undefined ? [] : frames(m.body)
  }

  /** "done": a reply is stored; "pending": the request is stored, no reply yet; "unknown": neither. */
  status(uuid: string): "done" | "pending" | "unknown" {
    return this.replies.has(uuid) ? "done" : this.requests.has(uuid) ? "pending" : "unknown"
  }

  /** The stored reply's frames, if there is one. */
  async reply(uuid: string): Promise<Buffer[] | undefined> {
    const r = this.replies.get(uuid)
    if (r === undefined) return undefined
    const [m] = await call<{ body: Buffer }[]>((done) => this.backend.peek({ by: "seq", seq: r.seq }, done))
    return m === undefined ? undefined : frames(m.body)
  }

  /** Stores the reply to a pending request (nothing if the request was removed meanwhile); resolves once durable. */
  async putReply(r: StoredRequest, body: readonly Buffer[]): Promise<void> {
    if (this.requests.get(r.uuid) !== r || this.replies.has(r.uuid)) return
    const stored = call((done) => this.backend.put(REPLIES, message(r.uuid, r.service, body), done)).then(() => undefined)
    this.storing.set(r.uuid, stored)
    try {
      await stored
    } finally {
      this.storing.delete(r.uuid)
    }
  }

  /** Removes a request whose reply is stored; resolves once durable. */
  async settle(r: StoredRequest): Promise<void> {
    if (this.requests.get(r.uuid) !== r || !this.replies.has(r.uuid)) return
    await call((done) => this.backend.ack(this.client, [r.seq, r.attempt], done))
    if (this.requests.get(r.uuid) === r) this.requests.delete(r.uuid)
  }

  /** Removes the request and the reply of `uuid`, whichever exist, in one durable step (a reply being stored is waited for). */
  async remove(uuid: string): Promise<void> {
    const r = this.requests.get(uuid)
    // From here the request counts as gone: no reply is stored for it after this.
    this.requests.delete(uuid)
    await this.storing.get(uuid)?.catch(() => undefined)
    const rep = this.replies.get(uuid)
    this.replies.delete(uuid)
    const pairs: number[] = []
    if (r !== undefined) pairs.push(r.seq, r.attempt)
    if (rep !== undefined) pairs.push(rep.seq, rep.attempt)
    if (pairs.length === 0) return
    try {
      await call((done) => this.backend.ack(this.client, pairs, done))
    } catch (err) {
      // Not removed: still there for a retry of the close.
      if (r !== undefined && !this.requests.has(uuid)) this.requests.set(uuid, r)
      if (rep !== undefined && !this.replies.has(uuid)) this.replies.set(uuid, rep)
      throw err
    }
  }

  /** Requests stored without a reply, and replies stored. */
  get counts(): { requests: number; replies: number } {
    let requests = 0
    for (const uuid of this.requests.keys()) if (!this.replies.has(uuid)) requests++
    return { requests, replies: this.replies.size }
  }

  /** Ends the subscriptions and closes the backend (what was accepted is finished first). */
  async close(): Promise<void> {
    for (const s of this.subs.splice(0)) this.backend.cancel(s)
    await this.backend.close()
  }
}
